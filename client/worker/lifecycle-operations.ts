// The account life-cycle operations that need keys (issue 21): a role change signs the new certificate here.
import type { CallApi } from '../../shared/api/client';
import { KeyNotVerifiedError } from '../../shared/flows/account-flows';
import { type ChangeableRole, changeRole as changeRoleFlow } from '../../shared/flows/role-change';
import type { AccountSlot } from './account-operations';
import { NotSignedInError } from './outcome';
import type { DirectoryTrust } from './trust';

/**
 * WARNING: runs only inside the crypto worker; the signing key never leaves it. The person's keys
 * come from the directory as verified against the pinned root (trust.identity), never from
 * /api/users: a server that swapped someone's key would otherwise get the swap certified.
 */
export function createLifecycleOperations(deps: { readonly api: CallApi; readonly account: AccountSlot; readonly trust: DirectoryTrust }) {
  return {
    /**
     * Promotes a Team Member to Administrator or demotes an Administrator to Team Member: certifies
     * the person's verified keys under the new role and sends the change with that certificate.
     * @throws KeyNotVerifiedError (key_not_verified) when this Administrator has no certified signing key
     *   or the person's keys are not verified (verify them on the People page first)
     */
    async changeRole(userId: string, role: ChangeableRole): Promise<void> {
      const held = deps.account.current;
      if (!held) throw new NotSignedInError();
      const { vault } = held;
      if (!vault.signingKey) throw new KeyNotVerifiedError();
      // A fresh directory: the role and keys as certified now, not when the page was opened.
      deps.trust.refresh();
      const [subject, self] = await Promise.all([deps.trust.identity(userId), deps.trust.identity(vault.userId)]);
      // Only a verified Administrator's certificate makes anyone an Administrator in other browsers.
      if (!subject || self?.role !== 'admin') throw new KeyNotVerifiedError();
      try {
        await changeRoleFlow(deps.api, { userId: vault.userId, signingKey: vault.signingKey }, subject, role);
      } finally {
        // The directory now holds (or, after a refusal, may hold) other certificates.
        deps.trust.refresh();
      }
    },
  };
}

export type LifecycleOperations = ReturnType<typeof createLifecycleOperations>;
