// ECDSA P-256 signing keys: Administrators sign who holds the escrow key; browsers verify.
import { type Bytes, concatBytes, lengthPrefixed, utf8, wipe } from './bytes';
import { IntegrityError, UnsupportedVersionError } from './errors';
import { sha256 } from './hash';
import type { SecretKey } from './keys';
import { decryptRecord, encryptRecord } from './record';
import type { KeyContext } from './wrap';

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_PARAMS = { name: 'ECDSA', hash: 'SHA-256' } as const;
const PRIVATE_KEY_TYPE = 'private-key/ecdsa-p256';
/** IEEE P1363 r || s for P-256. */
export const SIGNATURE_BYTES = 64;

export interface SigningPublicKey {
  readonly key: CryptoKey;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Bytes;
  /** SHA-256 of the SPKI (32 bytes). */
  readonly fingerprint: Bytes;
}

export interface SigningPrivateKey {
  readonly key: CryptoKey;
  readonly publicKey: SigningPublicKey;
}

/**
 * The signed message: "kluis/v1/signature" || lp(context) || payload. The context names the kind of
 * statement, so a signature on one kind can never be replayed as another (domain separation).
 */
function signedMessage(context: string, payload: Uint8Array): Bytes {
  return concatBytes(utf8('kluis/v1/signature'), lengthPrefixed(context), payload);
}

async function publicFromSpki(spki: Bytes): Promise<SigningPublicKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('spki', spki, ECDSA, true, ['verify']);
  } catch {
    throw new IntegrityError('malformed');
  }
  if ((key.algorithm as KeyAlgorithm & { readonly namedCurve: string }).namedCurve !== 'P-256') throw new UnsupportedVersionError('signing-key', 0);
  return { key, spki, fingerprint: await sha256(spki) };
}

/** Imports a pinned or stored signing public key (ECDSA P-256 only). */
export function importSigningPublicKey(spki: Uint8Array): Promise<SigningPublicKey> {
  return publicFromSpki(new Uint8Array(spki));
}

async function privateFromPkcs8(pkcs8: Bytes): Promise<SigningPrivateKey> {
  let exportable: CryptoKey;
  try {
    exportable = await crypto.subtle.importKey('pkcs8', pkcs8, ECDSA, true, ['sign']);
  } catch {
    throw new IntegrityError('malformed');
  }
  const jwk = await crypto.subtle.exportKey('jwk', exportable);
  if (!jwk.x || !jwk.y) throw new IntegrityError('malformed');
  const publicJwk = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ext: true }, ECDSA, true, [
    'verify',
  ]);
  const publicKey = await publicFromSpki(new Uint8Array(await crypto.subtle.exportKey('spki', publicJwk)));
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, ECDSA, false, ['sign']);
  return { key, publicKey };
}

/** Generates a signing key pair; the PKCS#8 private key is returned only wrapped under `wrapping`. */
export async function generateSigningKeyPair(wrapping: SecretKey, ctx: KeyContext) {
  const pair = await crypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  try {
    const wrappedPrivateKey = await encryptRecord(wrapping, pkcs8, { type: PRIVATE_KEY_TYPE, ...ctx });
    const privateKey = await privateFromPkcs8(pkcs8);
    return { publicKey: privateKey.publicKey, privateKey, wrappedPrivateKey };
  } finally {
    wipe(pkcs8);
  }
}

export async function unwrapSigningKey(wrapping: SecretKey, wrapped: Uint8Array, ctx: KeyContext): Promise<SigningPrivateKey> {
  const pkcs8 = await decryptRecord(wrapping, wrapped, { type: PRIVATE_KEY_TYPE, ...ctx });
  try {
    return await privateFromPkcs8(pkcs8);
  } finally {
    wipe(pkcs8);
  }
}

/** Signs `payload` under a statement context. @returns 64-byte P1363 signature */
export async function signStatement(privateKey: SigningPrivateKey, context: string, payload: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.sign(SIGN_PARAMS, privateKey.key, signedMessage(context, payload)));
}

/** Verifies a statement signature; false for any mismatch of key, context, payload or signature. */
export async function verifyStatement(
  publicKey: SigningPublicKey,
  context: string,
  payload: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (signature.length !== SIGNATURE_BYTES) return false;
  return crypto.subtle.verify(SIGN_PARAMS, publicKey.key, signature as Bytes, signedMessage(context, payload));
}
