// The organisation recovery secret: 160 random bits as 32 Crockford base32 characters in groups of four.
import { randomBytes } from '../crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_SECRET_BITS = 160;

/** A fresh recovery secret, e.g. "7Q2M-XV4D-9P3K-HH6T-0WZR-5N8C-AB12-CD34". */
export function generateRecoverySecret(): string {
  const bytes = randomBytes(RECOVERY_SECRET_BITS / 8);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >> bits) & 31]!;
    }
  }
  return formatRecoverySecret(out);
}

export function formatRecoverySecret(canonical: string): string {
  return (canonical.match(/.{1,4}/g) ?? []).join('-');
}

/**
 * Canonical form of what a person typed: upper case, separators dropped, the look-alikes of
 * Crockford base32 mapped (O→0, I/L→1). Returns null when it cannot be a recovery secret.
 */
export function parseRecoverySecret(typed: string): string | null {
  const canonical = typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (canonical.length !== RECOVERY_SECRET_BITS / 5 || [...canonical].some((c) => !ALPHABET.includes(c))) return null;
  return formatRecoverySecret(canonical);
}
