// The second-factor checks the sign-in step calls: TOTP codes, e-mail codes and backup codes (passkeys: passkeys.ts).
import type { UserRow } from '../../db/database';
import { fail } from '../../errors';
import {
  claimTotpStep,
  hasBackupCodes,
  listSecondFactorsOfKind,
  touchSecondFactor,
  useBackupCode,
} from '../../repositories/second-factors.repository';
import { type AccountDeps, requireOrganisation, throttle } from '../account-deps';
import { backupCodeDigest, emailCodeDigest, equalDigests, matchingTotpSteps, newEmailCode, openTotpSecret, TotpSealError } from '../../auth/factor-keys';

/**
 * The answer of every verifier. `factorId`: the factor that passed (null for a backup code).
 * Failures name the reason with the API error code the sign-in step answers.
 */
export type FactorCheck =
  | { readonly ok: true; readonly factorId: string | null }
  | {
      readonly ok: false;
      readonly code: 'second_factor_invalid' | 'second_factor_reused' | 'second_factor_unavailable' | 'passkey_rejected' | 'passkey_counter_regressed';
    };

/** What an e-mail code is for: signing in, or turning e-mail codes on. A code for one is no good for the other. */
export type EmailCodePurpose = 'login' | 'setup';

/** E-mail codes work for 10 minutes. */
export const EMAIL_CODE_TTL_MS = 10 * 60_000;
/** Wrong tries that void an e-mail code (a new one must be sent); the right code after them is refused. */
export const EMAIL_CODE_MAX_TRIES = 5;
/** Codes e-mailed to one person (for either purpose) per fixed 15-minute window. */
export const EMAIL_CODE_SEND_LIMIT = { max: 5, windowMs: 15 * 60_000 } as const;

/** A pending e-mail code in the ephemeral store ('email-code', `<purpose>:<userId>`): only its HMAC. */
interface EmailCodeEntry {
  readonly hash: string;
  readonly tries: number;
  readonly expiresAt: number;
  /** Set once the code was used: a second use answers second_factor_reused until it expires. */
  readonly used: boolean;
}

const ok = (factorId: string | null): FactorCheck => ({ ok: true, factorId });
const no = (code: Exclude<FactorCheck, { ok: true }>['code']): FactorCheck => ({ ok: false, code });

export function createCodeFactors(deps: AccountDeps) {
  const { db, logger } = deps;
  const totpKey = () => deps.opaque.secretKey('totp-secrets');
  const emailCodeKey = () => deps.opaque.secretKey('email-codes');
  const backupCodeKey = () => deps.opaque.secretKey('backup-codes');

  const emailCodeId = (purpose: EmailCodePurpose, userId: string) => `${purpose}:${userId}`;
  /** HMAC-SHA-256 (hex) binding the code to its user and purpose, under a key outside the database and the store. */
  const hashEmailCode = (purpose: EmailCodePurpose, userId: string, code: string) => emailCodeDigest(emailCodeKey(), purpose, userId, code);

  /**
   * A TOTP code of one of `userId`'s authenticator apps, at most one step (30 s) off the server's
   * clock. WARNING: each code works once, even within its window (RFC 6238 section 5.2): the
   * accepted step is stored and only a later step passes, claimed with a conditional UPDATE so
   * two parallel uses of one code cannot both pass.
   */
  async function verifyTotp(userId: string, code: string): Promise<FactorCheck> {
    const now = deps.now();
    const factors = await listSecondFactorsOfKind(db, userId, 'totp');
    let usable = 0;
    let replayed = false;
    for (const factor of factors) {
      if (factor.totp_secret === null) continue;
      let secret: Buffer;
      try {
        secret = openTotpSecret(totpKey(), factor.totp_secret, userId, factor.id);
      } catch (error) {
        // A secret sealed under a lost server secret (recovery mode) or tampered with: unusable, never fatal.
        if (!(error instanceof TotpSealError)) throw error;
        logger.error({ factorId: factor.id }, 'a TOTP secret does not open: the factor cannot be used');
        continue;
      }
      usable++;
      for (const step of matchingTotpSteps(secret, code, now)) {
        if (factor.totp_last_step !== null && step <= factor.totp_last_step) {
          replayed = true;
          continue;
        }
        if (await claimTotpStep(db, factor.id, step, now.toISOString())) return ok(factor.id);
        replayed = true;
      }
    }
    if (usable === 0) return no('second_factor_unavailable');
    return no(replayed ? 'second_factor_reused' : 'second_factor_invalid');
  }

  /**
   * E-mails a fresh six-digit code (CSPRNG) to the user in their language, valid for 10 minutes
   * and once; it replaces any earlier code for the same purpose. Rate-limited per person
   * (rate_limited). A sign-in code needs an e-mail factor (second_factor_unavailable).
   */
  async function sendEmailCode(user: UserRow, purpose: EmailCodePurpose): Promise<void> {
    if (purpose === 'login' && (await listSecondFactorsOfKind(db, user.id, 'email')).length === 0) {
      throw fail('second_factor_unavailable', 'E-mail codes are not set up for this account.');
    }
    await throttle(deps, `email-code-send:${user.id}`, EMAIL_CODE_SEND_LIMIT, 'Too many codes were sent to this address. Wait a few minutes and try again.');
    const now = deps.now();
    const code = newEmailCode();
    const expiresAt = now.getTime() + EMAIL_CODE_TTL_MS;
    const entry: EmailCodeEntry = { hash: hashEmailCode(purpose, user.id, code), tries: 0, expiresAt, used: false };
    await deps.store.putEntry('email-code', emailCodeId(purpose, user.id), entry, expiresAt);
    const { organisation } = await requireOrganisation(db);
    try {
      await deps.notifier.send(user.email, user.language, {
        kind: 'second_factor_code',
        organisationName: organisation.name,
        code,
        purpose,
        expiresAt: new Date(expiresAt).toISOString(),
      });
    } catch (error) {
      await deps.store.deleteEntry('email-code', emailCodeId(purpose, user.id));
      logger.error({ err: error }, 'could not send a second-factor code');
      throw fail('service_unavailable', 'The e-mail with your code could not be sent. Try again later.');
    }
  }

  /** A sign-in code e-mailed to `userId` (sendEmailCode 'login'). */
  async function verifyEmailCode(userId: string, code: string): Promise<FactorCheck> {
    const [factor] = await listSecondFactorsOfKind(db, userId, 'email');
    if (!factor) return no('second_factor_unavailable');
    const check = await checkEmailCode(userId, 'login', code);
    if (!check.ok) return check;
    await touchSecondFactor(db, factor.id, deps.now().toISOString());
    return ok(factor.id);
  }

  /**
   * Checks and uses an e-mailed code of `purpose`: second_factor_invalid when wrong, expired or
   * never sent (EMAIL_CODE_MAX_TRIES wrong tries void it), second_factor_reused when it was used already.
   */
  async function checkEmailCode(userId: string, purpose: EmailCodePurpose, code: string): Promise<FactorCheck> {
    const id = emailCodeId(purpose, userId);
    const now = deps.now().getTime();
    const entry = await deps.store.getEntry<EmailCodeEntry>('email-code', id, now);
    if (!entry) return no('second_factor_invalid');
    const right = equalDigests(entry.hash, hashEmailCode(purpose, userId, code));
    if (right && entry.used) return no('second_factor_reused');
    if (entry.used) return no('second_factor_invalid');
    // WARNING: take, then put back: whoever takes the entry owns it, so a correct code passes once
    // even when used twice in parallel, and a wrong try cannot bring back a code just used.
    const taken = await deps.store.takeEntry<EmailCodeEntry>('email-code', id, now);
    if (!taken || taken.hash !== entry.hash || taken.used) return no(right ? 'second_factor_reused' : 'second_factor_invalid');
    if (right) {
      await deps.store.putEntry<EmailCodeEntry>('email-code', id, { ...taken, used: true }, taken.expiresAt);
      return ok(null);
    }
    const tries = taken.tries + 1;
    if (tries < EMAIL_CODE_MAX_TRIES) await deps.store.putEntry<EmailCodeEntry>('email-code', id, { ...taken, tries }, taken.expiresAt);
    return no('second_factor_invalid');
  }

  /** A backup code of `userId` ("ABCDE-FGHJK", any case, dash optional): used -> second_factor_reused. */
  async function verifyBackupCode(userId: string, code: string): Promise<FactorCheck> {
    if (!(await hasBackupCodes(db, userId))) return no('second_factor_unavailable');
    const result = await useBackupCode(db, userId, hashBackupCode(code), deps.now().toISOString());
    if (result === 'used') return ok(null);
    return no(result === 'reused' ? 'second_factor_reused' : 'second_factor_invalid');
  }

  /** The stored form of a backup code: HMAC-SHA-256 under the server's backup-code key (outside the database). */
  function hashBackupCode(code: string): string {
    return backupCodeDigest(backupCodeKey(), code);
  }

  return { verifyTotp, sendEmailCode, verifyEmailCode, checkEmailCode, verifyBackupCode, hashBackupCode };
}

export type CodeFactors = ReturnType<typeof createCodeFactors>;
