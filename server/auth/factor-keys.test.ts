// Unit: the second-factor crypto against an independent RFC 6238 implementation (itself checked against the RFC's vectors), sealing negatives, code formats.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backupCodeSchema } from '../../shared/api';
import { decodeBase32, hotp, totp, totpStep } from '../test/rfc6238';
import {
  backupCodeDigest,
  emailCodeDigest,
  matchingTotpSteps,
  newBackupCodes,
  newEmailCode,
  newTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  TotpSealError,
  totpUri,
} from './factor-keys';

describe('the test\'s own RFC 6238 implementation', () => {
  // RFC 6238 Appendix B, SHA-1 rows: the seed is the ASCII string "12345678901234567890", 8 digits.
  const seed = Buffer.from('12345678901234567890', 'ascii');
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('T = %i s gives %s', (seconds, expected) => {
    expect(totp(seed, seconds * 1000, 0, 8)).toBe(expected);
  });

  it('decodes base32 per RFC 4648 section 10', () => {
    expect(decodeBase32('MZXW6YTBOI======').toString('ascii')).toBe('foobar');
    expect(decodeBase32('MZXW6YQ').toString('ascii')).toBe('foob');
  });
});

describe('TOTP matching (server) against the independent implementation', () => {
  const secret = randomBytes(20);
  // The middle of a step, so ±1 step is unambiguous.
  const at = new Date((totpStep(Date.now()) * 30 + 15) * 1000);
  const step = totpStep(at.getTime());

  it.each([-1, 0, 1])('accepts the code %i step(s) away, naming that step', (offset) => {
    expect(matchingTotpSteps(secret, totp(secret, at.getTime(), offset), at)).toEqual([step + offset]);
  });

  it.each([-3, -2, 2, 3])('refuses the code %i steps away', (offset) => {
    const code = totp(secret, at.getTime(), offset);
    // A collision with a code inside the window is possible (1 in 10^6 per step): then this case proves nothing.
    const inWindow = [-1, 0, 1].map((o) => totp(secret, at.getTime(), o));
    if (!inWindow.includes(code)) expect(matchingTotpSteps(secret, code, at)).toEqual([]);
  });

  it('refuses another secret\'s code', () => {
    const other = randomBytes(20);
    const code = totp(other, at.getTime());
    if (![-1, 0, 1].some((o) => totp(secret, at.getTime(), o) === code)) expect(matchingTotpSteps(secret, code, at)).toEqual([]);
  });

  it('makes 160-bit secrets whose base32 and otpauth:// URI say the same, with SHA-1, 6 digits and 30 s', () => {
    const fresh = newTotpSecret();
    expect(fresh.bytes).toHaveLength(20);
    expect(fresh.base32).toMatch(/^[A-Z2-7]{32}$/);
    expect(decodeBase32(fresh.base32).equals(fresh.bytes)).toBe(true);
    const uri = new URL(totpUri(fresh.bytes, 'Kluis', 'Kantoor De Vries (anna@kluis.test)'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Kluis:Kantoor De Vries (anna@kluis.test)');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ issuer: 'Kluis', secret: fresh.base32, algorithm: 'SHA1', digits: '6', period: '30' });
    expect(hotp(decodeBase32(uri.searchParams.get('secret')!), step)).toBe(totp(fresh.bytes, at.getTime()));
  });
});

describe('sealing TOTP secrets (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const secret = randomBytes(20);
  const sealed = sealTotpSecret(key, secret, 'user-1', 'factor-1');

  it('opens under the same key, user and factor, and never contains the secret', () => {
    expect(openTotpSecret(key, sealed, 'user-1', 'factor-1').equals(secret)).toBe(true);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{48}$/);
    for (const form of [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')]) expect(sealed).not.toContain(form);
    expect(Buffer.from(sealed.split('.')[2]!, 'base64url').includes(secret)).toBe(false);
  });

  it('uses a fresh IV each time', () => {
    expect(sealTotpSecret(key, secret, 'user-1', 'factor-1')).not.toBe(sealed);
  });

  it.each([
    ['another key', () => openTotpSecret(randomBytes(32), sealed, 'user-1', 'factor-1')],
    ['another user', () => openTotpSecret(key, sealed, 'user-2', 'factor-1')],
    ['another factor', () => openTotpSecret(key, sealed, 'user-1', 'factor-2')],
    ['a flipped bit', () => {
      const body = Buffer.from(sealed.split('.')[2]!, 'base64url');
      body[3]! ^= 1;
      return openTotpSecret(key, `v1.${sealed.split('.')[1]}.${body.toString('base64url')}`, 'user-1', 'factor-1');
    }],
    ['a truncated value', () => openTotpSecret(key, sealed.slice(0, -4), 'user-1', 'factor-1')],
    ['an unknown version', () => openTotpSecret(key, sealed.replace(/^v1/, 'v2'), 'user-1', 'factor-1')],
    ['extra parts', () => openTotpSecret(key, `${sealed}.AAAA`, 'user-1', 'factor-1')],
  ])('refuses %s with TotpSealError', (_case, open) => {
    expect(open).toThrow(TotpSealError);
  });
});

describe('e-mail and backup codes', () => {
  it('makes six-digit e-mail codes, all digits used', () => {
    const codes = Array.from({ length: 2000 }, () => newEmailCode());
    for (const code of codes) expect(code).toMatch(/^[0-9]{6}$/);
    for (const digit of '0123456789') expect(codes.join('')).toContain(digit);
    expect(new Set(codes).size).toBeGreaterThan(1990);
  });

  it('binds an e-mail code\'s digest to key, purpose, user and code', () => {
    const key = randomBytes(32);
    const digest = emailCodeDigest(key, 'login', 'u1', '123456');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(emailCodeDigest(key, 'login', 'u1', '123456')).toBe(digest);
    for (const other of [
      emailCodeDigest(randomBytes(32), 'login', 'u1', '123456'),
      emailCodeDigest(key, 'setup', 'u1', '123456'),
      emailCodeDigest(key, 'login', 'u2', '123456'),
      emailCodeDigest(key, 'login', 'u1', '123457'),
    ]) {
      expect(other).not.toBe(digest);
    }
  });

  it('makes ten different backup codes of 10 Crockford base32 characters, in the shape the API accepts', () => {
    const codes = newBackupCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}$/);
      expect(backupCodeSchema.parse(code)).toBe(code.replace('-', ''));
    }
    // 50 bits each: over many sets, every one of the 32 characters turns up in every position.
    const many = Array.from({ length: 100 }, () => newBackupCodes()).flat().map((c) => c.replace('-', ''));
    for (let position = 0; position < 10; position++) expect(new Set(many.map((c) => c[position])).size).toBe(32);
  });

  it('hashes a backup code by its canonical form (case and dash do not matter) under its key', () => {
    const key = randomBytes(32);
    const digest = backupCodeDigest(key, 'ABCDE-FGHJK');
    expect(backupCodeDigest(key, 'abcdefghjk')).toBe(digest);
    expect(backupCodeDigest(key, ' abcde fghjk')).toBe(digest);
    expect(backupCodeDigest(randomBytes(32), 'ABCDE-FGHJK')).not.toBe(digest);
    expect(backupCodeDigest(key, 'ABCDE-FGHJM')).not.toBe(digest);
  });
});
