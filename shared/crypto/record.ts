// Record encryption (names, messages, profile fields, wrapped keys): key-committing AES-256-GCM envelopes.
import { type Bytes, constantTimeEqual, fromUtf8, randomBytes, utf8 } from './bytes';
import {
  type RecordContext,
  RECORD_IV_BYTES,
  encodeRecordEnvelope,
  parseRecordEnvelope,
  recordAad,
} from './envelope';
import { DecryptionError, IntegrityError } from './errors';
import type { SecretKey } from './keys';

/**
 * Encrypts one record under `key`, bound to `ctx`.
 * WARNING: the IV is always fresh random here; no caller can supply one.
 * @param plaintext bytes, or a string (encoded as UTF-8)
 * @returns the version-1 record envelope (bytes)
 */
export async function encryptRecord(key: SecretKey, plaintext: Uint8Array | string, ctx: RecordContext): Promise<Bytes> {
  const { aead, commitment } = await key.recordSubkeys();
  const iv = randomBytes(RECORD_IV_BYTES);
  const data = typeof plaintext === 'string' ? utf8(plaintext) : plaintext;
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: recordAad(ctx), tagLength: 128 },
    aead,
    data as Bytes,
  );
  return encodeRecordEnvelope({ commitment, iv, ciphertext: new Uint8Array(ciphertext) });
}

/**
 * Decrypts a record envelope.
 * @throws UnsupportedVersionError for an unknown version, DecryptionError when `key` is not the key
 *   the record was made with, IntegrityError when the record was altered or belongs to another context.
 */
export async function decryptRecord(key: SecretKey, envelope: Uint8Array, ctx: RecordContext): Promise<Bytes> {
  const parsed = parseRecordEnvelope(envelope);
  const { aead, commitment } = await key.recordSubkeys();
  if (!constantTimeEqual(parsed.commitment, commitment)) throw new DecryptionError();
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: parsed.iv, additionalData: recordAad(ctx), tagLength: 128 },
      aead,
      parsed.ciphertext,
    );
    return new Uint8Array(plaintext);
  } catch {
    throw new IntegrityError('authentication_failed');
  }
}

/** decryptRecord for UTF-8 text; invalid UTF-8 after a valid tag cannot happen unless we wrote it. */
export async function decryptRecordText(key: SecretKey, envelope: Uint8Array, ctx: RecordContext): Promise<string> {
  return fromUtf8(await decryptRecord(key, envelope, ctx));
}
