// Test helper: a Trust over the real key directory (GET /api/directory, verifyDirectory against the pinned root), with remembered heads kept per person like a key safe.
import { getDirectory } from '../../../shared/api';
import { toHex } from '../../../shared/crypto';
import { type VerifiedDirectory, verifyDirectory } from '../../../shared/flows/certificates';
import type { HistoryHead } from '../../../shared/flows/space-history';
import type { CallApi } from '../../api/call-api';
import type { HeldAccount } from '../account-operations';
import type { Trust } from '../trust';

/**
 * What a key safe keeps across sign-ins: the newest verified head per space, per person. A test keeps
 * one per member so that a second engine (a new sign-in) still notices a rollback.
 */
export type RememberedHeads = Map<string, HistoryHead>;

/**
 * WARNING: test double of the acc engineer's createTrust, built on the same rules with real keys and
 * real certificates: a certified key when a verified certificate vouches for exactly that key; for a
 * person nobody has certified yet, the signing key the directory lists when its fingerprint matches
 * (trust on first use, `certified: false`). Nothing else is accepted.
 */
export function directoryTrust(api: CallApi, account: HeldAccount, heads: RememberedHeads = new Map()): Trust {
  let directory: Promise<VerifiedDirectory> | null = null;
  const load = () => {
    directory ??= api(getDirectory, {}).then(({ entries }) =>
      verifyDirectory(entries, { adminRootFingerprint: account.vault.keySafe.adminRootFingerprint }),
    );
    return directory;
  };
  return {
    async authorKey(userId, keyFingerprint) {
      const { identities, unverified } = await load();
      const identity = identities.get(userId);
      if (identity) {
        return toHex(identity.signingKey.fingerprint) === keyFingerprint ? { key: identity.signingKey, role: identity.role, certified: true } : null;
      }
      const person = unverified.get(userId);
      if (person?.signingKey && toHex(person.signingKey.fingerprint) === keyFingerprint) {
        return { key: person.signingKey, role: person.serverRole, certified: false };
      }
      return null;
    },
    async identity(userId) {
      return (await load()).identities.get(userId) ?? null;
    },
    rememberedHead: (spaceId) => heads.get(spaceId) ?? null,
    rememberHead(spaceId, head) {
      const known = heads.get(spaceId);
      if (!known || head.seq > known.seq) heads.set(spaceId, head);
      return Promise.resolve();
    },
    refresh() {
      directory = null;
    },
  };
}
