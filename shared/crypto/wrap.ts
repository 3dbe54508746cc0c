// Key wrapping: symmetric keys under symmetric keys (AEAD records) and the recovery-secret key.
import { type Bytes, utf8 } from './bytes';
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

export { SecretKey };
