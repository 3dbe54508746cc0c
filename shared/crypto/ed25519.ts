// Ed25519 verification of the audit log's signed tree heads and checkpoints (RFC 8032 via WebCrypto).
import type { Bytes } from './bytes';

/** Imports an Ed25519 public key from its DER SubjectPublicKeyInfo, for verification only. */
export function importEd25519PublicKey(spki: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, false, ['verify']);
}

/** True when `signature` (64 bytes) is `key`'s Ed25519 signature of `message`. */
export function verifyEd25519Signature(key: CryptoKey, signature: Bytes, message: Bytes): Promise<boolean> {
  return crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
}
