// An authenticator app for the tests: RFC 6238 TOTP written from the RFCs with node:crypto, sharing no code with Kluis or otpauth.
import { createHmac } from 'node:crypto';
import { expect } from '@playwright/test';
import { budget } from '../../server/test/budget';

/** RFC 4648 section 6 alphabet. */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decodes base32 (RFC 4648 section 6) as authenticator apps accept it: any case, spaces and padding ignored. */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index === -1) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** HOTP (RFC 4226 section 5.3): HMAC-SHA-1 over the 8-byte big-endian counter, dynamic truncation, `digits` decimal digits. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The RFC 6238 time step of `timeMs` (Unix epoch in milliseconds, T0 = 0, X = 30 s). */
export function timeStep(timeMs: number): number {
  return Math.floor(timeMs / 1000 / 30);
}

/** TOTP (RFC 6238 section 4): HOTP with the time step as counter. */
export function totp(key: Buffer, timeMs: number, digits = 6): string {
  return hotp(key, timeStep(timeMs), digits);
}

/**
 * A phone with an authenticator app holding one secret. Like a person, it never types a code twice:
 * each `nextCode()` is for a later time step than the one before, waiting for the clock to reach it
 * (Kluis refuses a code of a step at or before the last one it accepted, RFC 6238 section 5.2).
 */
export interface Authenticator {
  /** The raw secret (for the zero-knowledge checks). */
  readonly key: Buffer;
  /** A code for a time step later than every code handed out before (waits for the next 30 s step when needed). */
  nextCode(): Promise<string>;
  /** The code handed out last (to try it again: a replay). */
  lastCode(): string;
}

export function authenticator(secretBase32: string): Authenticator {
  const key = base32Decode(secretBase32);
  let last: { step: number; code: string } | null = null;
  return {
    key,
    async nextCode() {
      if (last) {
        const after = last.step;
        // Polls the clock: up to one 30 s step, as on a quiet machine, scaled for the load.
        await expect
          .poll(() => timeStep(Date.now()), {
            message: 'waiting for the next TOTP time step',
            timeout: budget(35_000),
            intervals: [250],
          })
          .toBeGreaterThan(after);
      }
      const now = Date.now();
      last = { step: timeStep(now), code: totp(key, now) };
      return last.code;
    },
    lastCode() {
      if (!last) throw new Error('no code handed out yet');
      return last.code;
    },
  };
}
