// Test helper: an independent TOTP (RFC 6238 over RFC 4226 HOTP) and base32 (RFC 4648) with node:crypto, to compute expected codes outside the server's code path.
import { createHmac } from 'node:crypto';

/** RFC 4648 section 6 base32 (upper case, padding optional) to bytes; throws on any other character. */
export function decodeBase32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/=+$/, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 section 5.3: HMAC over the 8-byte big-endian counter, dynamic truncation, modulo 10^digits. */
export function hotp(secret: Buffer, counter: number, digits = 6, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 section 4: T = floor((unix time - T0) / X), T0 = 0, X = 30 seconds. */
export function totpStep(unixMs: number): number {
  return Math.floor(unixMs / 1000 / 30);
}

/** The TOTP code at `unixMs`, `stepOffset` steps away (30 s each). */
export function totp(secret: Buffer, unixMs: number, stepOffset = 0, digits = 6): string {
  return hotp(secret, totpStep(unixMs) + stepOffset, digits);
}
