// The unlocked vault: a user's keys in memory after login. Lives only inside the crypto worker (or a Node test).
import {
  type KeyContext,
  type KeyPurpose,
  type PrivateKey,
  type PublicKey,
  type SecretKey,
  type SigningPrivateKey,
  DecryptionError,
  KluisCryptoError,
  deriveKeySafeKey,
  fromBase64Url,
  importPublicKey,
  openSealedSecretKey,
  toHex,
  unwrapPrivateKey,
  unwrapSecretKey,
  unwrapSigningKey,
} from '../crypto';
import type { AccountBundle, Role } from '../api';
import { type KeySafe, openKeySafe } from './key-safe';

export interface EscrowAccess {
  /** E: the key that wraps the escrow private key (extractable, to grant it to others). */
  readonly escrowKey: SecretKey<'escrow'>;
  readonly privateKey: PrivateKey;
  readonly publicKey: PublicKey;
}

export interface UnlockedVault {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  /** Extractable: a password change re-wraps it. */
  readonly userKey: SecretKey<'user'>;
  readonly privateKey: PrivateKey;
  readonly keySafe: KeySafe;
  /** The server's revision of the key safe when it was read (compare-and-swap, shared/flows/key-safe.ts). */
  readonly keySafeRevision: number;
  readonly signingKey?: SigningPrivateKey;
  readonly escrow?: EscrowAccess;
  /**
   * While an escrow rotation runs (issue 21, SECURITY.md 5.10): the previous escrow key pair, to open
   * items not re-sealed yet. Set only when its fingerprint is the pin or the `from` of a verified rotation.
   */
  readonly escrowPrevious?: EscrowAccess;
  /**
   * Escrow keys the bundle opened whose fingerprint is not the pin (the organisation rotated its
   * escrow key). WARNING: never used as they are: followEscrowChain (shared/flows/escrow-chain.ts)
   * moves them to `escrow`/`escrowPrevious` only after a signed rotation chain leads there.
   */
  readonly escrowUnverified?: {
    readonly current: EscrowAccess | null;
    readonly previous: EscrowAccess | null;
    /** The current grant was still sealed (accepted once the chain verified). */
    readonly grantSealed: boolean;
  };
  /** The escrow grant was still sealed and should be re-wrapped under the user key. */
  readonly escrowGrantNeedsAccept: boolean;
}

/** Thrown when a server-supplied value contradicts what the key safe pinned: stop and warn. */
export class PinMismatchError extends Error {
  constructor(readonly pin: 'opaque-server-key' | 'escrow-key') {
    super(
      pin === 'opaque-server-key'
        ? 'The server identified itself with a different key than the one this account trusts.'
        : 'The escrow key offered by the server is not the organisation key this account trusts.',
    );
    this.name = 'PinMismatchError';
  }
}

export const keyContext = (userId: string) => ({ id: userId, owner: userId });
export const escrowGrantContext = (userId: string) => ({ id: 'escrow-grant', owner: userId });
export const escrowPrivateKeyContext = { id: 'escrow', owner: 'organisation' } as const;
export const escrowUserKeyContext = (userId: string) => ({ id: userId, owner: 'escrow' });
export const recoveryContext = { id: 'escrow', owner: 'recovery-kit' } as const;

/** Opens the escrow private key with E and checks it is the pinned organisation key. */
export async function openEscrow(escrowKey: SecretKey<'escrow'>, wrappedPrivateKey: string, pinnedFingerprint: string): Promise<EscrowAccess> {
  const privateKey = await unwrapPrivateKey(escrowKey, fromBase64Url(wrappedPrivateKey), escrowPrivateKeyContext);
  // WARNING: the escrow public key is recomputed from the private key we could open, never taken
  // from a server field, and must equal the pin (MEGA/Nextcloud/Bitwarden key substitution).
  if (toHex(privateKey.publicKey.fingerprint) !== pinnedFingerprint) throw new PinMismatchError('escrow-key');
  return { escrowKey, privateKey, publicKey: privateKey.publicKey };
}

/**
 * Opens everything an account bundle holds with the OPAQUE export key.
 * @throws PinMismatchError when the server's OPAQUE key or the escrow key differs from the pins.
 */
export async function openVault(bundle: AccountBundle, exportKey: Uint8Array, serverStaticPublicKey: string): Promise<UnlockedVault> {
  const userId = bundle.session.user.id;
  const keySafeKey = await deriveKeySafeKey(exportKey);
  const userKey = await unwrapSecretKey(keySafeKey, fromBase64Url(bundle.keys.wrappedUserKey), 'user', keyContext(userId), {
    extractable: true,
  });
  return openVaultContents(bundle, userKey, serverStaticPublicKey);
}

/**
 * Opens an account bundle with a user key the browser unwrapped itself from a wrapping it could
 * authenticate (a passkey's PRF wrapping: shared/flows/passkey-unlock.ts), instead of the OPAQUE
 * export key. WARNING: the user key must never come from the server's word; `userKey` is bound to
 * `bundle.session.user.id` by the key safe's context, so a bundle of another account fails here.
 * No OPAQUE ran, so there is no server key to compare with the pin; every other pin is checked.
 * @throws PinMismatchError when the escrow key differs from the pin
 */
export async function openVaultWithUserKey(bundle: AccountBundle, userKey: SecretKey<'user'>): Promise<UnlockedVault> {
  if (!userKey.extractable) throw new TypeError('the vault needs an extractable user key (a password change re-wraps it)');
  return openVaultContents(bundle, userKey, null);
}

/** Everything after the user key: key safe (and its OPAQUE pin, unless null), private keys, escrow. */
async function openVaultContents(bundle: AccountBundle, userKey: SecretKey<'user'>, serverStaticPublicKey: string | null): Promise<UnlockedVault> {
  const userId = bundle.session.user.id;
  const keySafe = await openKeySafe(userKey, userId, fromBase64Url(bundle.keys.keySafe));
  if (serverStaticPublicKey !== null && keySafe.opaqueServerPublicKey !== serverStaticPublicKey) throw new PinMismatchError('opaque-server-key');
  const privateKey = await unwrapPrivateKey(userKey, fromBase64Url(bundle.keys.wrappedPrivateKey), keyContext(userId));
  const signingKey = bundle.keys.signing
    ? await unwrapSigningKey(userKey, fromBase64Url(bundle.keys.signing.wrappedPrivateKey), keyContext(userId))
    : undefined;

  let escrow: EscrowAccess | undefined;
  let escrowPrevious: EscrowAccess | undefined;
  let escrowUnverified: UnlockedVault['escrowUnverified'];
  let escrowGrantNeedsAccept = false;
  if (bundle.escrow) {
    const pin = keySafe.escrowFingerprint;
    const current = await openEscrowGrant(userKey, privateKey, userId, bundle.escrow);
    const previous = bundle.escrow.previous ? await openEscrowGrant(userKey, privateKey, userId, bundle.escrow.previous) : null;
    const pinned = (access: EscrowAccess | null) => access !== null && toHex(access.publicKey.fingerprint) === pin;
    // WARNING: only the key pair that recomputes to the pin is trusted here; another one (a rotation,
    // or a key the server chose) waits for the signed chain (followEscrowChain).
    if (pinned(current)) {
      escrow = current;
      escrowGrantNeedsAccept = bundle.escrow.grant.kind === 'sealed';
      if (previous) escrowUnverified = { current: null, previous, grantSealed: false };
    } else {
      if (pinned(previous)) escrowPrevious = previous ?? undefined;
      escrowUnverified = { current, previous: pinned(previous) ? null : previous, grantSealed: bundle.escrow.grant.kind === 'sealed' };
    }
  }
  return {
    userId,
    email: bundle.session.user.email,
    role: bundle.session.user.role,
    userKey,
    privateKey,
    keySafe,
    keySafeRevision: bundle.keys.keySafeRevision,
    signingKey,
    escrow,
    ...(escrowPrevious && { escrowPrevious }),
    ...(escrowUnverified && { escrowUnverified }),
    escrowGrantNeedsAccept,
  };
}

type EscrowGrant = { readonly kind: 'wrapped' | 'sealed'; readonly value: string };

/** Opens E from a holder's grant (wrapped under the user key, or sealed to their key) and the escrow private key with it. Nothing checked against a pin yet. */
async function openEscrowGrant(
  userKey: SecretKey<'user'>,
  privateKey: PrivateKey,
  userId: string,
  held: { readonly wrappedPrivateKey: string; readonly grant: EscrowGrant },
): Promise<EscrowAccess> {
  const { grant } = held;
  const escrowKey =
    grant.kind === 'wrapped'
      ? await unwrapSecretKey(userKey, fromBase64Url(grant.value), 'escrow', escrowGrantContext(userId), { extractable: true })
      : await openSealedSecretKey(privateKey, fromBase64Url(grant.value), 'escrow', escrowGrantContext(userId), { extractable: true });
  const escrowPrivateKey = await unwrapPrivateKey(escrowKey, fromBase64Url(held.wrappedPrivateKey), escrowPrivateKeyContext);
  return { escrowKey, privateKey: escrowPrivateKey, publicKey: escrowPrivateKey.publicKey };
}

/**
 * Opens a key sealed to the organisation escrow key with the current escrow private key, or (while
 * a rotation runs and the item is not re-sealed yet) the verified previous one. What it opens is
 * checked by the caller against a commitment, as for any escrow seal.
 * @throws the current key's error when neither opens it
 */
export async function openEscrowSealed<P extends KeyPurpose>(
  vault: Pick<UnlockedVault, 'escrow' | 'escrowPrevious'>,
  sealed: Uint8Array,
  purpose: P,
  context: KeyContext,
  options: { extractable?: boolean } = {},
): Promise<SecretKey<P>> {
  if (!vault.escrow) throw new DecryptionError();
  try {
    return await openSealedSecretKey(vault.escrow.privateKey, sealed, purpose, context, options);
  } catch (error) {
    if (!vault.escrowPrevious || !(error instanceof KluisCryptoError)) throw error;
    return openSealedSecretKey(vault.escrowPrevious.privateKey, sealed, purpose, context, options);
  }
}

/** Imports an escrow public key handed out by the server only if it matches the pinned fingerprint. */
export async function importPinnedEscrowKey(spki: string, pinnedFingerprint: string): Promise<PublicKey> {
  const key = await importPublicKey(fromBase64Url(spki));
  if (toHex(key.fingerprint) !== pinnedFingerprint) throw new PinMismatchError('escrow-key');
  return key;
}

export { DecryptionError };
