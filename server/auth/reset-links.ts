// The link secret of an escrow reset at rest (issue 21, SECURITY.md 5.8): sealed until its e-mail went out.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const SEAL_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The link secret is 32 random bytes (RESET_LINK_SECRET_BYTES in shared/crypto). */
const LINK_SECRET_BYTES = 32;

/** What a sealed link secret is bound to: moved to another reset or person, it does not open. */
function sealContext(resetId: string, userId: string): Buffer {
  return Buffer.from(`kluis/v1/reset-link-secret\u0000${resetId}\u0000${userId}`, 'utf8');
}

/**
 * Seals a reset's link secret (base64url, as the browser sent it) for the database while the reset
 * waits for four-eyes approval: AES-256-GCM under `key` (the server's 'reset-links' key, derived from
 * the OPAQUE secret outside the database), a fresh 96-bit IV, the reset and user ids as associated
 * data. Returns "v1.<iv>.<ciphertext and tag>" (base64url). A database dump alone yields no link.
 */
export function sealLinkSecret(key: Buffer, linkSecret: string, resetId: string, userId: string): string {
  const secret = Buffer.from(linkSecret, 'base64url');
  if (secret.length !== LINK_SECRET_BYTES) throw new LinkSecretSealError('a link secret is 32 bytes');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(sealContext(resetId, userId));
  const sealed = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
  return `${SEAL_VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

export class LinkSecretSealError extends Error {
  override readonly name = 'LinkSecretSealError';
}

/**
 * Opens a sealed link secret (base64url). Throws LinkSecretSealError (a fixed message, nothing
 * secret) for an unknown version, a malformed value, a wrong key, or a seal of another reset or person.
 */
export function openLinkSecret(key: Buffer, sealed: string, resetId: string, userId: string): string {
  const [version, ivText, bodyText, ...rest] = sealed.split('.');
  if (version !== SEAL_VERSION || ivText === undefined || bodyText === undefined || rest.length > 0) throw new LinkSecretSealError('unsupported or malformed sealed link secret');
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== IV_BYTES || body.length !== LINK_SECRET_BYTES + TAG_BYTES) throw new LinkSecretSealError('malformed sealed link secret');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(sealContext(resetId, userId));
    decipher.setAuthTag(body.subarray(LINK_SECRET_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, LINK_SECRET_BYTES)), decipher.final()]).toString('base64url');
  } catch {
    throw new LinkSecretSealError('the sealed link secret does not open under this key and context');
  }
}
