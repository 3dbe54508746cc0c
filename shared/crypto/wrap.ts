// Key wrapping: symmetric keys under symmetric keys (AEAD records) and the recovery-secret key.
import { type Bytes, lengthPrefixed, utf8 } from './bytes';
import { sha256 } from './hash';
import { decryptRecord, encryptRecord } from './record';
import { type KeyPurpose, SecretKey, SECRET_KEY_BYTES, importSecretKey } from './keys';
import { ARGON2ID_DEFAULT, type Argon2idParams, HKDF_LABEL, deriveArgon2id, hkdfBytes, importHkdfKey } from './kdf';
import { IntegrityError } from './errors';

/** Where a wrapped key belongs (bound into the associated data together with the key's purpose). */
export interface KeyContext {
  readonly id: string;
  readonly owner: string;
}

const wrappedKeyType = (purpose: KeyPurpose) => `wrapped-key/${purpose}`;

/**
 * Wraps `key` under `wrapping` as a record envelope of type "wrapped-key/<purpose>".
 * WARNING: authenticated wrapping only (AES-256-GCM); never unauthenticated modes like AES-ECB/CBC.
 */
export async function wrapSecretKey(wrapping: SecretKey, key: SecretKey, ctx: KeyContext): Promise<Bytes> {
  return encryptRecord(wrapping, key.rawBytes(), { type: wrappedKeyType(key.purpose), ...ctx });
}

/**
 * Unwraps a key made by wrapSecretKey. The expected purpose is part of the associated data, so a
 * wrapped key of another purpose fails with IntegrityError.
 */
export async function unwrapSecretKey<P extends KeyPurpose>(
  wrapping: SecretKey,
  wrapped: Uint8Array,
  purpose: P,
  ctx: KeyContext,
  options: { extractable?: boolean } = {},
): Promise<SecretKey<P>> {
  const raw = await decryptRecord(wrapping, wrapped, { type: wrappedKeyType(purpose), ...ctx });
  if (raw.length !== SECRET_KEY_BYTES) throw new IntegrityError('malformed');
  return importSecretKey(purpose, raw, options);
}

/**
 * The key that a recovery secret opens:
 * HKDF-SHA-256(ikm = Argon2id(NFKC(secret), salt, params), salt = empty, info = "kluis/v1/recovery-wrap").
 * @param salt 16 random bytes stored beside the wrapped data
 */
export async function deriveRecoveryKey(
  secret: string,
  salt: Uint8Array,
  params: Argon2idParams = ARGON2ID_DEFAULT,
): Promise<SecretKey<'recovery'>> {
  const stretched = await deriveArgon2id(secret, salt, params, 32);
  const base = await importHkdfKey(stretched);
  stretched.fill(0);
  const raw = await hkdfBytes(base, new Uint8Array(0), utf8(HKDF_LABEL.recoveryWrap), SECRET_KEY_BYTES);
  return importSecretKey('recovery', raw);
}

/** The length of an escrow reset's link secret (in the link's #fragment). */
export const RESET_LINK_SECRET_BYTES = 32;

/**
 * An escrow reset's one-time key and proof (SECURITY.md 5.8), from the recovery code the resetter
 * passes on by phone or in person and the link secret the e-mail carries. Neither alone suffices:
 * ```
 * salt     = SHA-256("kluis/v1/reset-salt" || lp(resetId) || lp(linkSecret))[0..16]
 * a        = Argon2id(code, salt, m = 64 MiB, t = 3, p = 1, 32 bytes)   (client constants, never the server's)
 * ikm      = a || linkSecret
 * resetKey = HKDF-SHA-256(ikm, salt = empty, info = "kluis/v1/reset-wrap", 32)          (purpose 'reset')
 * proof    = HKDF-SHA-256(ikm, salt = empty, info = "kluis/v1/reset-proof" || lp(resetId), 32)
 * ```
 * The server stores SHA-256(proof) and hands the wrapped user key only to a matching proof, so it
 * counts wrong codes; the proof reveals nothing about resetKey (independent HKDF outputs).
 * @param code the canonical recovery code (shared/flows/escrow-reset.ts parseResetCode)
 */
export async function deriveResetKeys(
  resetId: string,
  linkSecret: Uint8Array,
  code: string,
  params: Argon2idParams = ARGON2ID_DEFAULT,
): Promise<{ resetKey: SecretKey<'reset'>; proof: Bytes }> {
  if (linkSecret.length !== RESET_LINK_SECRET_BYTES) throw new IntegrityError('malformed');
  const saltInput = new Uint8Array([...utf8(HKDF_LABEL.resetSalt), ...lengthPrefixed(resetId), ...lengthPrefixed(linkSecret)]);
  const salt = (await sha256(saltInput)).slice(0, 16);
  const stretched = await deriveArgon2id(code, salt, params, 32);
  const ikm = new Uint8Array([...stretched, ...linkSecret]);
  stretched.fill(0);
  const base = await importHkdfKey(ikm);
  ikm.fill(0);
  const raw = await hkdfBytes(base, new Uint8Array(0), utf8(HKDF_LABEL.resetWrap), SECRET_KEY_BYTES);
  const proof = await hkdfBytes(base, new Uint8Array(0), new Uint8Array([...utf8(HKDF_LABEL.resetProof), ...lengthPrefixed(resetId)]), 32);
  return { resetKey: await importSecretKey('reset', raw), proof };
}

export { SecretKey };
