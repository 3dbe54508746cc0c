// RSA-OAEP-4096/SHA-256 key pairs: generation, private keys wrapped under a symmetric key, keys sealed to a recipient.
import { type Bytes, concatBytes, constantTimeEqual, lengthPrefixed, toHex, utf8, wipe } from './bytes';
import { DecryptionError, IntegrityError, UnsupportedVersionError } from './errors';
import { sha256 } from './hash';
import { type KeyPurpose, type SecretKey, SECRET_KEY_BYTES, importSecretKey } from './keys';
import { decryptRecord, encryptRecord } from './record';
import type { KeyContext } from './wrap';

const RSA_OAEP: RsaHashedKeyGenParams = {
  name: 'RSA-OAEP',
  modulusLength: 4096,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};
const RSA_MODULUS_BYTES = 512;
const PRIVATE_KEY_TYPE = 'private-key/rsa-oaep-4096';

/** A recipient's public key with its SPKI encoding and SHA-256 fingerprint. */
export interface PublicKey {
  readonly key: CryptoKey;
  /** DER SubjectPublicKeyInfo bytes, the form stored and pinned. */
  readonly spki: Bytes;
  /** SHA-256 of the SPKI (32 bytes). */
  readonly fingerprint: Bytes;
}

/** A non-extractable private key together with the public key computed from it (never from a server field). */
export interface PrivateKey {
  readonly key: CryptoKey;
  readonly publicKey: PublicKey;
}

export interface GeneratedKeyPair {
  readonly publicKey: PublicKey;
  readonly privateKey: PrivateKey;
  /** PKCS#8 private key encrypted under the wrapping key (record type "private-key/rsa-oaep-4096"). */
  readonly wrappedPrivateKey: Bytes;
}

/** Fingerprint for people to compare: 64 hex digits in groups of four. */
export function formatFingerprint(fingerprint: Uint8Array): string {
  return (toHex(fingerprint).match(/.{4}/g) ?? []).join(' ');
}

async function publicKeyFromSpki(spki: Bytes): Promise<PublicKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('spki', spki, { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['encrypt']);
  } catch {
    throw new IntegrityError('malformed');
  }
  // The shape of WebCrypto's RsaHashedKeyAlgorithm (a DOM-library name; shared/ is compiled without the DOM library).
  const algorithm = key.algorithm as KeyAlgorithm & { readonly modulusLength: number; readonly publicExponent: Uint8Array };
  const exponent = toHex(algorithm.publicExponent);
  // WARNING: accept only the exact parameters we generate; a weaker modulus would be a downgrade.
  if (algorithm.modulusLength !== RSA_OAEP.modulusLength || !/^0*10001$/.test(exponent)) {
    throw new UnsupportedVersionError('rsa-public-key', algorithm.modulusLength);
  }
  return { key, spki, fingerprint: await sha256(spki) };
}

/** Imports a DER SPKI public key; refuses anything but RSA-OAEP-4096 with e = 65537. */
export function importPublicKey(spki: Uint8Array): Promise<PublicKey> {
  return publicKeyFromSpki(new Uint8Array(spki));
}

/** Imports PKCS#8 as non-extractable and computes the matching public key from the private material. */
async function privateKeyFromPkcs8(pkcs8: Bytes): Promise<PrivateKey> {
  let jwkSource: CryptoKey;
  try {
    jwkSource = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['decrypt']);
  } catch {
    throw new IntegrityError('malformed');
  }
  const jwk = await crypto.subtle.exportKey('jwk', jwkSource);
  if (!jwk.n || !jwk.e) throw new IntegrityError('malformed');
  const publicJwk = await crypto.subtle.importKey(
    'jwk',
    { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RSA-OAEP-256', ext: true },
    { name: 'RSA-OAEP', hash: 'SHA-256' },
    true,
    ['encrypt'],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', publicJwk));
  const publicKey = await publicKeyFromSpki(spki);
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
  return { key, publicKey };
}

/**
 * Generates an RSA-OAEP-4096/SHA-256 key pair and wraps its PKCS#8 private key under `wrapping`.
 * The returned private key is non-extractable; the PKCS#8 bytes exist only inside this function.
 */
export async function generateKeyPair(wrapping: SecretKey, ctx: KeyContext): Promise<GeneratedKeyPair> {
  const pair = await crypto.subtle.generateKey(RSA_OAEP, true, ['encrypt', 'decrypt']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  try {
    const wrappedPrivateKey = await encryptRecord(wrapping, pkcs8, { type: PRIVATE_KEY_TYPE, ...ctx });
    const privateKey = await privateKeyFromPkcs8(pkcs8);
    return { publicKey: privateKey.publicKey, privateKey, wrappedPrivateKey };
  } finally {
    wipe(pkcs8);
  }
}

/** Unwraps a private key made by generateKeyPair (or re-wrapped by rewrapPrivateKey). */
export async function unwrapPrivateKey(wrapping: SecretKey, wrapped: Uint8Array, ctx: KeyContext): Promise<PrivateKey> {
  const pkcs8 = await decryptRecord(wrapping, wrapped, { type: PRIVATE_KEY_TYPE, ...ctx });
  try {
    return await privateKeyFromPkcs8(pkcs8);
  } finally {
    wipe(pkcs8);
  }
}

/** Moves a wrapped private key from one wrapping key to another without the key leaving this function. */
export async function rewrapPrivateKey(
  from: SecretKey,
  to: SecretKey,
  wrapped: Uint8Array,
  fromCtx: KeyContext,
  toCtx: KeyContext = fromCtx,
): Promise<Bytes> {
  const pkcs8 = await decryptRecord(from, wrapped, { type: PRIVATE_KEY_TYPE, ...fromCtx });
  try {
    await privateKeyFromPkcs8(pkcs8); // refuse to re-wrap something that is not a valid key
    return await encryptRecord(to, pkcs8, { type: PRIVATE_KEY_TYPE, ...toCtx });
  } finally {
    wipe(pkcs8);
  }
}

/**
 * Sealed key, version 1: 0x01 || SHA-256(recipient SPKI) (32) || RSA-OAEP ciphertext (512).
 * The OAEP label binds purpose and context: "kluis/v1/sealed-key" || lp(purpose) || lp(id) || lp(owner).
 * The fingerprint only tells "not for this key" apart from "damaged"; it is not trusted for anything else.
 */
const SEALED_VERSION = 1;
const SEALED_BYTES = 1 + 32 + RSA_MODULUS_BYTES;

function sealLabel(purpose: KeyPurpose, ctx: KeyContext): Bytes {
  return concatBytes(utf8('kluis/v1/sealed-key'), lengthPrefixed(purpose), lengthPrefixed(ctx.id), lengthPrefixed(ctx.owner));
}

/**
 * Encrypts a symmetric key to a recipient's public key (RSA-OAEP-4096, SHA-256, label = context).
 * WARNING: only seal to public keys whose fingerprint the caller has pinned or verified; a public
 * key handed out by the server is not trusted by itself.
 */
export async function sealSecretKey(recipient: PublicKey, key: SecretKey, ctx: KeyContext): Promise<Bytes> {
  const raw = key.rawBytes();
  try {
    const sealed = await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: sealLabel(key.purpose, ctx) }, recipient.key, raw);
    return concatBytes(Uint8Array.of(SEALED_VERSION), recipient.fingerprint, new Uint8Array(sealed));
  } finally {
    wipe(raw);
  }
}

/** Opens a key sealed by sealSecretKey with the matching private key. */
export async function openSealedSecretKey<P extends KeyPurpose>(
  privateKey: PrivateKey,
  sealed: Uint8Array,
  purpose: P,
  ctx: KeyContext,
  options: { extractable?: boolean } = {},
): Promise<SecretKey<P>> {
  if (sealed.length === 0) throw new IntegrityError('malformed');
  if (sealed[0] !== SEALED_VERSION) throw new UnsupportedVersionError('sealed-key', sealed[0]!);
  if (sealed.length !== SEALED_BYTES) throw new IntegrityError(sealed.length < SEALED_BYTES ? 'truncated' : 'trailing_data');
  if (!constantTimeEqual(sealed.subarray(1, 33), privateKey.publicKey.fingerprint)) throw new DecryptionError();
  let raw: Bytes;
  try {
    raw = new Uint8Array(
      await crypto.subtle.decrypt({ name: 'RSA-OAEP', label: sealLabel(purpose, ctx) }, privateKey.key, sealed.slice(33)),
    );
  } catch {
    throw new IntegrityError('authentication_failed');
  }
  if (raw.length !== SECRET_KEY_BYTES) throw new IntegrityError('malformed');
  return importSecretKey(purpose, raw, options);
}
