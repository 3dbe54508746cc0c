// What the crypto worker trusts, and where it remembers it: verified identities from the key directory,
// and the newest verified head of each space's history (kept in the key safe, so rollbacks are noticed).
import type { SigningPublicKey } from '../../shared/crypto';
import type { VerifiedIdentity } from '../../shared/flows/certificates';
import type { HistoryHead } from '../../shared/flows/space-history';

/**
 * WARNING: the only way space code learns whose key is whose. Implementations verify the key
 * directory against the root pinned in the key safe (shared/flows/certificates.ts) and never fall
 * back to a bare server field.
 */
export interface Trust {
  /**
   * The signing key and role a history entry's author may use: the certified key of that person
   * when its fingerprint matches; for a person nobody has certified yet, the key the directory lists
   * when it matches `keyFingerprint` and whatever this account saw before (trust on first use),
   * marked `certified: false` so the page can say so. Null when nothing vouches for the key.
   */
  authorKey(userId: string, keyFingerprint: string): Promise<{ key: SigningPublicKey; role: string; certified: boolean } | null>;
  /** A certified identity (encryption and signing keys), or null. */
  identity(userId: string): Promise<VerifiedIdentity | null>;
  /** The newest head of the space's history this account has verified (from the key safe), or null. */
  rememberedHead(spaceId: string): HistoryHead | null;
  /** Records a newer verified head (persisted in the key safe; never moves backwards). */
  rememberHead(spaceId: string, head: HistoryHead): Promise<void>;
  /** Drops cached directory answers (after a certificate was issued, or on a security warning). */
  refresh(): void;
}
