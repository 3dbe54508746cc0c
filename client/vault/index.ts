// Public entry of the vault: the session (keys only inside the crypto worker) and its React binding.
export {
  VaultSession,
  VaultLockedError,
  type VaultState,
  type VaultSnapshot,
  type EngineStatus,
} from './vault-session';
export { VaultProvider, useVault, useVaultSession, type Vault } from './vault-context';
