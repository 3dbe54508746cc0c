// Ed25519 verification (RFC 8032) for signatures the SERVER makes: the audit log's tree heads and
// retention checkpoints (shared/audit/tree-head.ts). People sign with ECDSA P-256 (signing.ts).
import type { Bytes } from './bytes';

export const ED25519_SIGNATURE_BYTES = 64;

/** An Ed25519 public key from SubjectPublicKeyInfo DER. Throws if the bytes are not one. */
export function importEd25519PublicKey(spki: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey('spki', spki, { name: 'Ed25519' }, false, ['verify']);
}

/** True when `signature` (64 bytes) is `key`'s signature over `message`. */
export async function verifyEd25519(key: CryptoKey, signature: Bytes, message: Bytes): Promise<boolean> {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  return crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
}
