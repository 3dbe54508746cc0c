// The server-side crypto of second factors: TOTP (RFC 6238) secrets, their URI, sealing at rest and matching; e-mail and backup codes and their HMACs.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';

/** RFC 6238 parameters every authenticator app understands: HMAC-SHA-1, six digits, 30-second steps. */
export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_S = 30;
/** Steps accepted on either side of the server's (RFC 6238 section 5.2: one step of clock drift). */
export const TOTP_WINDOW = 1;
/** 160 bits (RFC 4226 section 4 recommends 160), 32 base32 characters. */
export const TOTP_SECRET_BYTES = 20;

const SEAL_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A fresh secret: `bytes` (20 raw bytes) and its base32 form (32 characters, no padding). */
export function newTotpSecret(): { readonly bytes: Buffer; readonly base32: string } {
  const bytes = randomBytes(TOTP_SECRET_BYTES);
  return { bytes, base32: new Secret({ buffer: toArrayBuffer(bytes) }).base32 };
}

/** The otpauth:// URI an authenticator app reads from the QR code (Key URI Format). */
export function totpUri(secret: Buffer, issuer: string, label: string): string {
  return new TOTP({ issuer, label, secret: new Secret({ buffer: toArrayBuffer(secret) }), algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, period: TOTP_PERIOD_S }).toString();
}

/** The RFC 6238 time step of `now` (T = floor(unix seconds / 30)). */
export function totpStepAt(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_S);
}

/**
 * The time steps within ±TOTP_WINDOW of `now` whose code is `code` (usually none or one), oldest
 * first. Every candidate is computed and compared in constant time, whichever matches.
 */
export function matchingTotpSteps(secret: Buffer, code: string, now: Date): number[] {
  const current = totpStepAt(now);
  const wanted = Buffer.from(code, 'utf8');
  const key = new Secret({ buffer: toArrayBuffer(secret) });
  const matches: number[] = [];
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const candidate = Buffer.from(HOTP.generate({ secret: key, algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, counter: step }), 'utf8');
    if (candidate.length === wanted.length && timingSafeEqual(candidate, wanted)) matches.push(step);
  }
  return matches;
}

/** What the sealed secret is bound to: a sealed secret moved to another factor or user does not open. */
function sealContext(userId: string, factorId: string): Buffer {
  return Buffer.from(`kluis/v1/totp-secret\u0000${userId}\u0000${factorId}`, 'utf8');
}

/**
 * Seals a TOTP secret for the database: AES-256-GCM under `key` (the server's 'totp-secrets' key,
 * kept with the OPAQUE secret outside the database), a fresh random 96-bit IV, the user and factor
 * ids as associated data. Returns "v1.<iv>.<ciphertext and tag>" (base64url).
 */
export function sealTotpSecret(key: Buffer, secret: Buffer, userId: string, factorId: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(sealContext(userId, factorId));
  const sealed = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
  return `${SEAL_VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

export class TotpSealError extends Error {
  override readonly name = 'TotpSealError';
}

/**
 * Opens a sealed TOTP secret. Throws TotpSealError (a fixed message, nothing secret) for an unknown
 * version, a malformed value, a wrong key, or a secret sealed for another user or factor.
 */
export function openTotpSecret(key: Buffer, sealed: string, userId: string, factorId: string): Buffer {
  const [version, ivText, bodyText, ...rest] = sealed.split('.');
  if (version !== SEAL_VERSION || ivText === undefined || bodyText === undefined || rest.length > 0) throw new TotpSealError('unsupported or malformed sealed TOTP secret');
  const iv = Buffer.from(ivText, 'base64url');
  const body = Buffer.from(bodyText, 'base64url');
  if (iv.length !== IV_BYTES || body.length !== TOTP_SECRET_BYTES + TAG_BYTES) throw new TotpSealError('malformed sealed TOTP secret');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(sealContext(userId, factorId));
    decipher.setAuthTag(body.subarray(TOTP_SECRET_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, TOTP_SECRET_BYTES)), decipher.final()]);
  } catch {
    throw new TotpSealError('the sealed TOTP secret does not open under this key and context');
  }
}

/** Whether two hex digests are equal, compared in constant time. */
export function equalDigests(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Six decimal digits, uniform from a CSPRNG (randomInt rejects the biased tail). */
export function newEmailCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/**
 * HMAC-SHA-256 (hex) of an e-mailed code bound to its purpose and user, under `key` (the server's
 * 'email-codes' key): what the ephemeral store keeps instead of the code.
 */
export function emailCodeDigest(key: Buffer, purpose: string, userId: string, code: string): string {
  return createHmac('sha256', key).update(`kluis/v1/email-code\u0000${purpose}\u0000${userId}\u0000${code}`).digest('hex');
}

/** Backup codes: ten characters of Crockford base32 (50 bits), shown as "ABCDE-FGHJK". */
export const BACKUP_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const BACKUP_CODE_LENGTH = 10;
export const BACKUP_CODES_PER_SET = 10;

/** The canonical form of a backup code as typed: upper case, without dashes or spaces. */
export function normaliseBackupCode(code: string): string {
  return code.toUpperCase().replace(/[-\s]/g, '');
}

/** A fresh set of backup codes, "ABCDE-FGHJK" (50 bits each, uniform from a CSPRNG), all different. */
export function newBackupCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < BACKUP_CODES_PER_SET) {
    let code = '';
    for (let i = 0; i < BACKUP_CODE_LENGTH; i++) code += BACKUP_CODE_ALPHABET[randomInt(BACKUP_CODE_ALPHABET.length)]!;
    codes.add(`${code.slice(0, 5)}-${code.slice(5)}`);
  }
  return [...codes];
}

/**
 * HMAC-SHA-256 (hex) of a backup code's canonical form under `key` (the server's 'backup-codes'
 * key, outside the database): a stolen database cannot test guesses against it offline.
 */
export function backupCodeDigest(key: Buffer, code: string): string {
  return createHmac('sha256', key).update(`kluis/v1/backup-code\u0000${normaliseBackupCode(code)}`).digest('hex');
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
