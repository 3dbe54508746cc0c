// Symmetric keys of the key hierarchy: branded by purpose, derived subkeys cached, raw bytes kept only when needed.
import { type Bytes, concatBytes, copyBytes, lengthPrefixed, randomBytes, utf8, wipe } from './bytes';
import { HKDF_LABEL, hkdfAesGcmKey, hkdfBytes, importHkdfKey } from './kdf';

/**
 * What a symmetric key is for. WARNING: the purpose is mixed into every subkey derivation, so a key
 * of one purpose can never decrypt data made for another (key separation).
 */
export type KeyPurpose =
  | 'user' // the user's key safe: wraps the private key and the user's own records
  | 'keysafe' // derived from the OPAQUE export key: wraps the user key
  | 'passkey' // derived from a passkey's PRF output: wraps the user key ("unlock with passkey")
  | 'recovery' // derived from the organisation recovery secret: wraps the escrow key E (which wraps the escrow private key)
  | 'reset' // derived from an escrow reset's link secret and recovery code: wraps one person's user key (issue 21)
  | 'escrow' // wraps the organisation escrow private key for its holders
  | 'space' // a client space: wraps file keys, encrypts names and messages
  | 'file' // one document version's content
  | 'profile'; // unused: profile fields are records under the user key (SECURITY.md 4.8)

export const SECRET_KEY_BYTES = 32;

const emptySalt = new Uint8Array(0);
const constructionToken = Symbol('SecretKey');

interface RecordSubkeys {
  readonly aead: CryptoKey;
  /** 32-byte commitment to the key, carried in every record envelope (key-committing encryption). */
  readonly commitment: Bytes;
}

/**
 * A 256-bit symmetric key. Holds a non-extractable HKDF base key; the raw bytes are retained only
 * for keys created `extractable` because they must later be wrapped for someone else.
 */
export class SecretKey<P extends KeyPurpose = KeyPurpose> {
  readonly #raw: Bytes | undefined;
  #record: Promise<RecordSubkeys> | undefined;

  /** @internal use generateSecretKey, importSecretKey or an unwrap/derive function. */
  constructor(
    token: symbol,
    readonly purpose: P,
    readonly base: CryptoKey,
    raw: Bytes | undefined,
  ) {
    if (token !== constructionToken) throw new TypeError('SecretKey cannot be constructed directly');
    this.#raw = raw;
  }

  get extractable(): boolean {
    return this.#raw !== undefined;
  }

  /** @internal raw bytes for wrapping; throws for non-extractable keys. */
  rawBytes(): Bytes {
    if (!this.#raw) throw new TypeError(`this ${this.purpose} key is not extractable`);
    return copyBytes(this.#raw);
  }

  /** @internal subkeys for record encryption, derived once per key. */
  recordSubkeys(): Promise<RecordSubkeys> {
    this.#record ??= (async () => ({
      aead: await hkdfAesGcmKey(this.base, emptySalt, HKDF_LABEL.recordAead + this.purpose),
      commitment: await hkdfBytes(this.base, emptySalt, HKDF_LABEL.recordCommit + this.purpose, 32),
    }))();
    return this.#record;
  }
}

/**
 * Imports 32 raw key bytes. The input buffer is wiped unless `extractable`, in which case a private
 * copy is kept for later wrapping.
 */
export async function importSecretKey<P extends KeyPurpose>(
  purpose: P,
  raw: Uint8Array,
  options: { extractable?: boolean } = {},
): Promise<SecretKey<P>> {
  if (raw.length !== SECRET_KEY_BYTES) throw new TypeError(`a secret key has ${SECRET_KEY_BYTES} bytes`);
  const material = copyBytes(raw);
  const base = await importHkdfKey(material);
  if (options.extractable) return new SecretKey(constructionToken, purpose, base, material);
  wipe(material);
  return new SecretKey(constructionToken, purpose, base, undefined);
}

/** A fresh random 256-bit key. Extractable by default, because a new key must be wrapped to be stored. */
export function generateSecretKey<P extends KeyPurpose>(
  purpose: P,
  options: { extractable?: boolean } = { extractable: true },
): Promise<SecretKey<P>> {
  return importSecretKey(purpose, randomBytes(SECRET_KEY_BYTES), options);
}

/**
 * The key that wraps the user's key safe, from OPAQUE's export key (RFC 9807 section 6.4.4):
 * HKDF-SHA-256(ikm = exportKey, salt = empty, info = "kluis/v1/keysafe-wrap", L = 32).
 * WARNING: never use the export key directly for anything else.
 * @param exportKey OPAQUE export key bytes (64 bytes for ristretto255/SHA-512)
 */
export async function deriveKeySafeKey(exportKey: Uint8Array): Promise<SecretKey<'keysafe'>> {
  const base = await importHkdfKey(copyBytes(exportKey));
  const raw = await hkdfBytes(base, emptySalt, utf8(HKDF_LABEL.keySafeWrap), SECRET_KEY_BYTES);
  return importSecretKey('keysafe', raw);
}

/** A WebAuthn PRF output is 32 bytes (the hmac-secret output, W3C WebAuthn Level 3, 10.1.4). */
export const PRF_OUTPUT_BYTES = 32;

/**
 * The key that wraps the user key for "unlock with passkey", from the passkey's PRF output:
 * HKDF-SHA-256(ikm = prfOutput, salt = empty,
 *              info = "kluis/v1/passkey-unlock" || lp(userId) || lp(credentialId), L = 32),
 * where lp(x) is the 32-bit big-endian byte length of x's UTF-8 followed by those bytes.
 * WARNING: the user id and credential id are bound into the key, so a wrapping made for another
 * account or another passkey never opens under this one (it fails as a wrong key).
 * @param prfOutput the 32-byte PRF output ("first") of this credential for the unlock salt
 * @param userId the account's id (as in the session)
 * @param credentialId the WebAuthn credential id, base64url, as the browser reported it
 */
export async function derivePasskeyUnlockKey(prfOutput: Uint8Array, userId: string, credentialId: string): Promise<SecretKey<'passkey'>> {
  if (prfOutput.length !== PRF_OUTPUT_BYTES) throw new TypeError(`a PRF output has ${PRF_OUTPUT_BYTES} bytes`);
  const base = await importHkdfKey(copyBytes(prfOutput));
  const info = concatBytes(utf8(HKDF_LABEL.passkeyUnlock), lengthPrefixed(userId), lengthPrefixed(credentialId));
  const raw = await hkdfBytes(base, emptySalt, info, SECRET_KEY_BYTES);
  return importSecretKey('passkey', raw);
}
