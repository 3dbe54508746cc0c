// The second sign-in step (issue 20): the challenge after a right password, checking a factor against the lockout counter (SECURITY.md 5.1.1).
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { AccountBundle, SecondFactorChallenge, SecondFactorMethod } from '../../shared/api';
import type { AuditResult } from '../../shared/audit';
import type { UserRow } from '../db/database';
import { fail } from '../errors';
import { newToken } from '../lib/ids';
import { chargeLoginAttempt, findUserById, refundLoginCharge, resetExpiredLock } from '../repositories/accounts.repository';
import { countUnusedBackupCodes, listSecondFactorRows } from '../repositories/second-factors.repository';
import { relaxedTransaction } from '../db/relaxed';
import { recordAuditEvent } from './audit.service';
import { notifyQuietly } from './notifications';
import { type AccountDeps, plusMs, requireOrganisation, throttle } from './account-deps';
import type { PasskeyFactors } from './second-factors/passkeys';
import type { CodeFactors, FactorCheck } from './second-factors/verifiers';
import type { TrustedDeviceProblem, TrustedDevicesService } from './trusted-devices.service';

/** How long the second step waits for its answer. */
export const LOGIN_CHALLENGE_TTL_MS = 5 * 60_000;
/** Second-step answers per client IP per window (the same size as the login throttle's, its own count). */
const ANSWER_IP_WINDOW_MS = 5 * 60_000;
/** Sign-in e-mail codes per pending step (per person across steps: sendEmailCode's own limit). */
const EMAIL_PER_CHALLENGE = { max: 3, windowMs: LOGIN_CHALLENGE_TTL_MS } as const;

/** The verifiers the step dispatches to: codes (second-factors/verifiers.ts) and passkeys (second-factors/passkeys.ts). */
export interface LoginFactors {
  readonly codes: Pick<CodeFactors, 'verifyTotp' | 'sendEmailCode' | 'verifyEmailCode' | 'verifyBackupCode'>;
  readonly passkeys: Pick<PasskeyFactors, 'requestOptions' | 'verifyAssertion'>;
}

/** The pending second step, kept in the ephemeral store under a 256-bit id that only the browser holds. */
interface LoginChallenge {
  readonly userId: string;
  readonly methods: readonly SecondFactorMethod[];
  /** The WebAuthn challenge the passkey assertion must sign (when the account has passkeys). */
  readonly expectedChallenge: string | null;
  /** When the right password made it (ISO): the time the abandoned-step e-mail names. */
  readonly startedAt: string;
}

export type SecondFactorAnswer =
  | { readonly challengeId: string; readonly method: 'totp' | 'email' | 'backup'; readonly code: string; readonly trustDevice: boolean }
  | { readonly challengeId: string; readonly method: 'passkey'; readonly response: AuthenticationResponseJSON; readonly trustDevice: boolean };

export interface OpenedSession {
  readonly token: string;
  readonly bundle: AccountBundle;
  readonly expiresAt: string;
}

/** What the step needs of the auth service (it is built inside it). */
interface SessionOpener {
  openSession(user: UserRow, ip: string | null, details: { readonly method: 'second_factor'; readonly [key: string]: string | number | boolean }): Promise<OpenedSession>;
  notifyLocks(): Promise<void>;
  /** Refuses (with ip_not_allowed, audited) staff outside the team IP allowlist; true when the operator lifted it for this login. */
  assertIpAllowed(user: UserRow, ip: string | null): Promise<boolean>;
}

/** In the order the sign-in page offers them. */
const METHOD_ORDER: readonly SecondFactorMethod[] = ['passkey', 'totp', 'email', 'backup'];

const FAILURE_MESSAGES: Record<Exclude<FactorCheck, { ok: true }>['code'], string> = {
  second_factor_invalid: 'That code is not correct.',
  second_factor_reused: 'That code was used already. Wait for a new one, or use another method.',
  second_factor_unavailable: 'This way of signing in is not set up for your account.',
  passkey_rejected: 'The passkey could not be verified.',
  passkey_counter_regressed: 'This passkey looks cloned: its signature counter went backwards. Use another method and tell your office.',
};

export function createSecondFactorStep(deps: AccountDeps, factors: LoginFactors, trustedDevices: TrustedDevicesService, opener: SessionOpener) {
  const { db } = deps;

  /** Every caller records the refusal or the failure that set the lock first. */
  const lockedError = () => fail('account_locked', 'Too many wrong attempts: this account is locked for a while. Try again later or ask your office.', { audited: true });
  const expiredError = () => fail('second_factor_expired', 'This sign-in step is not valid any more. Sign in again.');

  async function audit(action: string, userId: string, ip: string | null | undefined, details: Record<string, string>, result: AuditResult = 'success'): Promise<void> {
    await relaxedTransaction(db, (trx) => recordAuditEvent(trx, { action, actorId: userId, targetType: 'user', targetId: userId, ip, result, details }).then(() => undefined));
  }

  function check(answer: SecondFactorAnswer, userId: string, challenge: LoginChallenge, ip: string | null): Promise<FactorCheck> {
    switch (answer.method) {
      case 'totp':
        return factors.codes.verifyTotp(userId, answer.code);
      case 'email':
        return factors.codes.verifyEmailCode(userId, answer.code);
      case 'backup':
        return factors.codes.verifyBackupCode(userId, answer.code);
      case 'passkey':
        // The challenge was made with the methods; a passkey method always has its WebAuthn challenge.
        if (challenge.expectedChallenge === null) return Promise.resolve({ ok: false, code: 'second_factor_unavailable' });
        return factors.passkeys.verifyAssertion(userId, answer.response, challenge.expectedChallenge, ip);
    }
  }

  return {
    /**
     * Makes the second step for `user`, whose password was right. Nothing in the answer works
     * anywhere else: no cookie, no session, no key safe; only this id, for five minutes.
     */
    async challenge(user: UserRow, trustedDevice: TrustedDeviceProblem | null): Promise<SecondFactorChallenge> {
      const now = deps.now();
      const kinds = new Set<SecondFactorMethod>((await listSecondFactorRows(db, user.id)).map((row) => row.kind));
      if ((await countUnusedBackupCodes(db, user.id)) > 0) kinds.add('backup');
      const methods = METHOD_ORDER.filter((method) => kinds.has(method));
      const passkey = kinds.has('passkey') ? await factors.passkeys.requestOptions(user.id) : null;
      const challengeId = newToken();
      const expiresAt = now.getTime() + LOGIN_CHALLENGE_TTL_MS;
      const entry: LoginChallenge = { userId: user.id, methods, expectedChallenge: passkey?.expectedChallenge ?? null, startedAt: now.toISOString() };
      await deps.store.putEntry('login-challenge', challengeId, entry, expiresAt);
      return {
        challengeId,
        expiresAt: new Date(expiresAt).toISOString(),
        methods,
        ...(passkey ? { passkeyOptions: { ...passkey.options } } : {}),
        ...(trustedDevice ? { trustedDevice } : {}),
      };
    },

    /**
     * Checks the answer to a second step. WARNING: every answer is counted on the account's
     * lockout counter BEFORE it is checked (as startLogin counts a password guess before answering):
     * checking first would let a burst of parallel guesses all pass the lock check. A right answer
     * opens the session, which resets the counter; a wrong one stays counted.
     */
    async verify(answer: SecondFactorAnswer, ip: string | null, userAgent: string | null): Promise<OpenedSession & { trusted: { token: string; expiresAt: string } | null }> {
      await throttle(deps, `second-factor-ip:${ip ?? 'unknown'}`, { max: deps.config.loginLimitPerIp, windowMs: ANSWER_IP_WINDOW_MS });
      const now = deps.now();
      const challenge = await deps.store.getEntry<LoginChallenge>('login-challenge', answer.challengeId, now.getTime());
      if (!challenge) throw expiredError();
      const user = await findUserById(db, challenge.userId);
      // An account deactivated or deleted since the password step: the step is over.
      if (!user || user.needs_reset || user.status !== 'active') {
        await deps.store.deleteEntry('login-challenge', answer.challengeId);
        throw expiredError();
      }
      if (!challenge.methods.includes(answer.method)) throw fail('second_factor_unavailable', FAILURE_MESSAGES.second_factor_unavailable);
      const ipAllowlistIgnored = await opener.assertIpAllowed(user, ip);

      const { settings } = await requireOrganisation(db);
      const lockedUntil = plusMs(now, settings.lockout.durationMinutes * 60_000);
      // Relaxed commit like startLogin's count (SECURITY.md 5.5); one conditional statement all the same.
      const charge = await relaxedTransaction(db, async (trx) => {
        await resetExpiredLock(trx, user.id, now.toISOString());
        return chargeLoginAttempt(trx, user.id, now.toISOString(), settings.lockout.maxFailures, lockedUntil);
      });
      if (!charge.counted) {
        await deps.store.deleteEntry('login-challenge', answer.challengeId);
        await audit('auth.login_refused', user.id, ip, { reason: 'account_locked', method: answer.method }, 'denied');
        await opener.notifyLocks();
        throw lockedError();
      }

      const result = await check(answer, user.id, challenge, ip);
      if (!result.ok) {
        // Nothing was guessed when the factor went away meanwhile: that attempt is not a failure.
        if (result.code === 'second_factor_unavailable') {
          await refundLoginCharge(db, user.id, charge.locked ? lockedUntil : null);
          throw fail(result.code, FAILURE_MESSAGES[result.code]);
        }
        await audit('auth.second_factor_failed', user.id, ip, { method: answer.method, reason: result.code }, 'failure');
        if (charge.locked) {
          await deps.store.deleteEntry('login-challenge', answer.challengeId);
          await opener.notifyLocks();
          // Recorded just above, as the failure that set the lock.
          throw lockedError();
        }
        throw fail(result.code, FAILURE_MESSAGES[result.code]);
      }

      // One session per step: of two right answers sent at once, only one opens it.
      if (!(await deps.store.takeEntry<LoginChallenge>('login-challenge', answer.challengeId, deps.now().getTime()))) throw expiredError();
      await audit('auth.second_factor_used', user.id, ip, { method: answer.method, ...(result.factorId ? { factorId: result.factorId } : {}) });
      const trusted = answer.trustDevice ? await trustedDevices.trust(user.id, ip, userAgent) : null;
      const opened = await opener.openSession(user, ip, { method: 'second_factor', factor: answer.method, ...(ipAllowlistIgnored ? { ipAllowlistIgnored } : {}) });
      return { ...opened, trusted };
    },

    /**
     * Tells the people whose second step expired unanswered or after wrong answers (never taken by
     * a right answer, never dropped at a lock, which has its own e-mail) that their right password
     * was used: someone may know it (template login_second_step_abandoned). Runs with the lock sweep.
     */
    async notifyAbandoned(): Promise<void> {
      const abandoned = await deps.store.takeExpiredEntries<LoginChallenge>('login-challenge', deps.now().getTime());
      if (abandoned.length === 0) return;
      const { organisation } = await requireOrganisation(db);
      for (const challenge of abandoned) {
        const user = await findUserById(db, challenge.userId);
        if (!user) continue;
        await audit('auth.second_factor_abandoned', user.id, null, { startedAt: challenge.startedAt }, 'failure');
        await notifyQuietly(deps.notifier, deps.logger, user.email, user.language, {
          kind: 'login_second_step_abandoned',
          organisationName: organisation.name,
          at: challenge.startedAt,
        });
      }
    },

    /** E-mails a sign-in code for a pending step (rate-limited per step here, per person in sendEmailCode). */
    async sendEmailCode(challengeId: string): Promise<void> {
      const now = deps.now();
      const challenge = await deps.store.getEntry<LoginChallenge>('login-challenge', challengeId, now.getTime());
      if (!challenge) throw expiredError();
      if (!challenge.methods.includes('email')) throw fail('second_factor_unavailable', 'E-mail codes are not set up for this account.');
      await throttle(deps, `login-email-code:${challengeId}`, EMAIL_PER_CHALLENGE, 'Three codes were sent for this sign-in already. Use the newest one, or wait a few minutes.');
      const user = await findUserById(db, challenge.userId);
      if (!user || user.needs_reset) throw expiredError();
      await factors.codes.sendEmailCode(user, 'login');
      await audit('auth.login_code_sent', user.id, undefined, { method: 'email' });
    },
  };
}

export type SecondFactorStep = ReturnType<typeof createSecondFactorStep>;
