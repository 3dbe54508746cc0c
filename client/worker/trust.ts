// What the crypto worker trusts, and where it remembers it: verified identities from the key directory,
// and the newest verified head of each space's history (kept in the key safe, so rollbacks are noticed).
import { type DirectoryEntry, getEscrowChain } from '../../shared/api';
import type { CallApi } from '../../shared/api/client';
import { type SigningPublicKey, toHex } from '../../shared/crypto';
import { certifyByBinding, certifyFirstUse, loadDirectory } from '../../shared/flows/account-flows';
import type { CertificateBasis, UnverifiedPerson, VerifiedDirectory, VerifiedIdentity } from '../../shared/flows/certificates';
import { verifiedPreviousFingerprints } from '../../shared/flows/escrow-chain';
import type { HistoryHead } from '../../shared/flows/space-history';
import type { UnlockedVault } from '../../shared/flows/vault';
import type { KeySafeKeeper } from './key-safe-keeper';
import { NotSignedInError } from './outcome';

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

/** A problem with someone's keys the page must show as a security warning. */
export interface TrustWarning {
  /**
   * escrow-copy-failed: the organisation's copy of a certified person's user key is not the one they
   * signed for (the server offered a key of its choosing; their profile is not shown).
   */
  readonly kind: 'keys-changed' | 'binding-failed' | 'certificate-mismatch' | 'root-missing' | 'escrow-copy-failed';
  readonly userId: string | null;
  readonly email: string | null;
}

/** How the People page shows a person's keys. */
export type KeyStatus =
  | { readonly state: 'verified'; readonly basis: CertificateBasis }
  | { readonly state: 'unverified'; readonly enc: string | null; readonly sig: string | null }
  | { readonly state: 'changed' };

/** What a trusting worker needs of the unlocked account. */
export interface TrustAccount {
  readonly vault: UnlockedVault;
  readonly keySafe: KeySafeKeeper;
}

export interface DirectoryTrust extends Trust {
  /** The verified directory, with the entries as served (fetched once, until refresh). */
  directory(): Promise<VerifiedDirectory & { entries: readonly DirectoryEntry[] }>;
  /** Each listed person's key status, for the People page. */
  keyStatuses(): Promise<ReadonlyMap<string, KeyStatus>>;
  /** A staff member checked the fingerprints by hand: issues a first-use certificate. */
  confirmKeys(userId: string, shown: { enc: string; sig: string }): Promise<void>;
  /** Security warnings met so far for this account. */
  warnings(): readonly TrustWarning[];
  /**
   * The escrow fingerprints a verified rotation chain leads from to the pinned one (issue 21): items
   * signed for them are vouched for by their key commitment after being re-sealed. Cached like the directory.
   */
  escrowHistory(): Promise<{ readonly previousFingerprints: readonly string[] }>;
}

/**
 * The Trust of the signed-in account in `account`: the key directory verified against the root
 * pinned in the key safe; escrow-holding staff certify people whose invitation binding verifies;
 * uncertified people are trusted on first use (their fingerprints kept in the key safe's `seen`)
 * and a change is a security warning; history heads are remembered in the key safe.
 */
export function createTrust(deps: {
  readonly api: CallApi;
  readonly account: { readonly current: TrustAccount | null };
  readonly onWarning?: (warning: TrustWarning) => void;
}): DirectoryTrust {
  let cached: { vault: UnlockedVault; directory: ReturnType<DirectoryTrust['directory']> } | null = null;
  let history: { vault: UnlockedVault; pin: string; value: ReturnType<DirectoryTrust['escrowHistory']> } | null = null;
  const warned: TrustWarning[] = [];
  /**
   * People whose invitation binding this browser checked and found failing: the keys the directory
   * lists for them are not the ones made with their invitation link, so nothing of theirs is trusted,
   * not even on first use.
   */
  const bindingFailed = new Set<string>();

  const held = (): TrustAccount => {
    const account = deps.account.current;
    if (!account) throw new NotSignedInError();
    return account;
  };
  const warn = (warning: TrustWarning) => {
    if (warned.some((w) => w.kind === warning.kind && w.userId === warning.userId)) return;
    warned.push(warning);
    deps.onWarning?.(warning);
  };
  const emailOf = (entries: readonly DirectoryEntry[], userId: string) => entries.find((e) => e.id === userId)?.email ?? null;

  async function load(vault: UnlockedVault) {
    let directory = await loadDirectory(deps.api, vault);
    const result = await certifyByBinding(deps.api, vault, directory);
    for (const userId of result.bindingFailed) {
      bindingFailed.add(userId);
      warn({ kind: 'binding-failed', userId, email: emailOf(directory.entries, userId) });
    }
    if (result.certified.length > 0) directory = await loadDirectory(deps.api, vault);
    if (!directory.rootFound) warn({ kind: 'root-missing', userId: null, email: null });
    for (const person of directory.unverified.values()) {
      if (person.reason === 'certificate-mismatch') warn({ kind: 'certificate-mismatch', userId: person.userId, email: person.email });
    }
    return directory;
  }

  const directory: DirectoryTrust['directory'] = () => {
    const { vault } = held();
    if (!cached || cached.vault !== vault) {
      const loading = load(vault);
      cached = { vault, directory: loading };
      loading.catch(() => {
        if (cached?.directory === loading) cached = null;
      });
    }
    return cached.directory;
  };

  /** Trust on first use: the listed keys of an uncertified person, when they match what was seen before. */
  function firstUse(person: UnverifiedPerson): boolean {
    if (!person.encryptionKey || !person.signingKey) return false;
    const keys = { enc: toHex(person.encryptionKey.fingerprint), sig: toHex(person.signingKey.fingerprint) };
    const { keySafe } = held();
    const seen = keySafe.current().seen[person.userId];
    if (!seen) {
      keySafe.update((safe) => (safe.seen[person.userId] ? safe : { ...safe, seen: { ...safe.seen, [person.userId]: keys } }));
      return true;
    }
    if (seen.enc === keys.enc && seen.sig === keys.sig) return true;
    warn({ kind: 'keys-changed', userId: person.userId, email: person.email });
    return false;
  }

  return {
    directory,

    async authorKey(userId, keyFingerprint) {
      const verified = await directory();
      const identity = verified.identities.get(userId);
      if (identity) {
        return toHex(identity.signingKey.fingerprint) === keyFingerprint ? { key: identity.signingKey, role: identity.role, certified: true } : null;
      }
      const person = verified.unverified.get(userId);
      if (!person?.signingKey || toHex(person.signingKey.fingerprint) !== keyFingerprint) return null;
      if (person.reason === 'certificate-mismatch' || bindingFailed.has(userId) || !firstUse(person)) return null;
      return { key: person.signingKey, role: person.serverRole, certified: false };
    },

    async identity(userId) {
      return (await directory()).identities.get(userId) ?? null;
    },

    rememberedHead(spaceId) {
      return held().keySafe.current().heads[spaceId] ?? null;
    },

    async rememberHead(spaceId, head) {
      const { keySafe } = held();
      const current = keySafe.current().heads[spaceId];
      if (current && current.seq >= head.seq) return;
      keySafe.update((safe) => {
        const stored = safe.heads[spaceId];
        return stored && stored.seq >= head.seq ? safe : { ...safe, heads: { ...safe.heads, [spaceId]: { seq: head.seq, hash: head.hash } } };
      });
      return Promise.resolve();
    },

    refresh() {
      cached = null;
      history = null;
    },

    escrowHistory() {
      const { vault, keySafe } = held();
      const pin = keySafe.current().escrowFingerprint;
      if (!history || history.vault !== vault || history.pin !== pin) {
        const loading = (async () => ({
          previousFingerprints: await verifiedPreviousFingerprints(await deps.api(getEscrowChain, {}), pin, await directory()),
        }))();
        history = { vault, pin, value: loading };
        loading.catch(() => {
          if (history?.value === loading) history = null;
        });
      }
      return history.value;
    },

    async keyStatuses() {
      const verified = await directory();
      const statuses = new Map<string, KeyStatus>();
      for (const [userId, identity] of verified.identities) statuses.set(userId, { state: 'verified', basis: identity.basis });
      for (const [userId, person] of verified.unverified) {
        const enc = person.encryptionKey ? toHex(person.encryptionKey.fingerprint) : null;
        const sig = person.signingKey ? toHex(person.signingKey.fingerprint) : null;
        const seen = held().keySafe.current().seen[userId];
        const changed =
          person.reason === 'certificate-mismatch' || bindingFailed.has(userId) || (seen !== undefined && (seen.enc !== enc || seen.sig !== sig));
        statuses.set(userId, changed ? { state: 'changed' } : { state: 'unverified', enc, sig });
      }
      return statuses;
    },

    async confirmKeys(userId, shown) {
      const { vault } = held();
      await certifyFirstUse(deps.api, vault, await directory(), userId, shown);
      cached = null;
    },

    warnings: () => warned,
  };
}
