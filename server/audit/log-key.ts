// The audit log's Ed25519 signing key: derived from the server secret (kept outside the database,
// like the OPAQUE secret), so a stolen database or backup cannot sign a tree head.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { logKeyId, type LogKey } from '../../shared/audit/tree-head';
import type { OpaqueServer } from '../auth/opaque-server';

/** PKCS #8 DER of an Ed25519 private key is this 16-byte prefix followed by the 32-byte seed (RFC 8410 7). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface AuditLogKey {
  /** The public half as published (SPKI DER base64url, keyId = SHA-256 of the SPKI, hex). */
  readonly logKey: LogKey;
  /** Ed25519 signature of `message`, base64url (64 bytes). */
  sign(message: Uint8Array): string;
}

/** The log key of this server: seed = secretKey('audit-log') (HMAC-SHA-256 of the server secret, 32 bytes). */
export async function createAuditLogKey(opaque: Pick<OpaqueServer, 'secretKey'>): Promise<AuditLogKey> {
  const seed = opaque.secretKey('audit-log');
  if (seed.length !== 32) throw new TypeError('the audit log key seed must be 32 bytes');
  const privateKey: KeyObject = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  const logKey: LogKey = { algorithm: 'Ed25519', spki: Buffer.from(spki).toString('base64url'), keyId: await logKeyId(spki) };
  return {
    logKey,
    sign: (message) => sign(null, message, privateKey).toString('base64url'),
  };
}
