// Public entry of the account state: provider, hooks and the idle auto-lock.
export {
  AccountProvider,
  useAccount,
  useSignedIn,
  unwrapOutcome,
  type Account,
  type AccountState,
  type LockReason,
  type SignOutNotice,
} from './account-context';
export { useIdleLock } from './use-idle-lock';
