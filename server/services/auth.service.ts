// Login with OPAQUE, the second factor, lockout, throttling and sessions (SECURITY.md 5.1, 5.1.1 and 5.5).
import { isPasswordExpired } from '../../shared/accounts/password-rules';
import type { AccountBundle, OrganisationSettings, Role, SecondFactorChallenge } from '../../shared/api';
import { fail } from '../errors';
import { hashToken, newId, newToken } from '../lib/ids';
import type { PendingLogin } from '../auth/ephemeral-store';
import {
  chargeLoginAttempt,
  findEscrowGrant,
  findUnnotifiedLocks,
  claimLockNotice,
  findUserByEmail,
  findUserById,
  refundLoginCharge,
  resetExpiredLock,
  updateUser,
} from '../repositories/accounts.repository';
import { relaxedTransaction } from '../db/relaxed';
import {
  findLiveSession,
  insertSession,
  listLiveSessions,
  revokeOwnSession,
  revokeSession,
  revokeUserSessions,
  touchSession,
} from '../repositories/sessions.repository';
import type { UserRow } from '../db/database';
import { hasSecondFactor } from '../repositories/second-factors.repository';
import { findPreviousGrant } from '../repositories/rotation.repository';
import { recordAuditEvent } from './audit.service';
import { type AccountDeps, type Actor, LOGIN_TTL_MS, assertRecentAuth, plusMs, requireOrganisation, throttle } from './account-deps';
import { mayHoldEscrow } from './authorization';
import { isIpAllowed } from './ip-allowlist';
import { notifyQuietly } from './notifications';
import { type LoginFactors, type OpenedSession, type SecondFactorAnswer, createSecondFactorStep } from './second-factor-login.service';
import { createTrustedDevicesService } from './trusted-devices.service';

/** The window of the per-IP login throttle (its size is the setting KLUIS_LOGIN_LIMIT_PER_IP). */
export const LOGIN_IP_WINDOW_MS = 5 * 60_000;
/** last_seen_at is written at most this often (it is only for idle timeouts). */
const TOUCH_INTERVAL_MS = 60_000;

function actorOfSession(session: SessionContext, ip: string | null): Actor {
  return { userId: session.userId, role: session.role, sessionId: session.id, authenticatedAt: session.authenticatedAt, ip };
}

export interface SessionContext {
  readonly id: string;
  readonly userId: string;
  readonly role: Role;
  readonly email: string;
  readonly language: 'en' | 'nl';
  readonly authenticatedAt: string;
  readonly expiresAt: string;
  readonly passwordExpired: boolean;
  /** The organisation requires a second factor for this role and the user has none yet. */
  readonly secondFactorMissing: boolean;
  /** Staff outside the organisation's IP allowlist: every request is refused. */
  readonly ipBlocked: boolean;
}

/** What finishLogin knows of the browser besides the OPAQUE message. */
export interface LoginContext {
  readonly ip: string | null;
  /** The browser's live session, if it has one (signing in again to confirm a sensitive action). */
  readonly session: SessionContext | null;
  /** The browser's trusted-device cookie, if it sent one. */
  readonly trustedDeviceToken: string | null;
}

/** A finished login: a full session, or the second step it must pass first. */
export type LoginOutcome = { readonly session: OpenedSession } | { readonly secondFactor: SecondFactorChallenge };

/** Staff (who may hold the escrow key) outside the organisation's team IP allowlist. */
function outsideTeamAllowlist(role: Role, ip: string | null, settings: OrganisationSettings): boolean {
  return mayHoldEscrow(role) && !isIpAllowed(ip, settings.teamIpAllowlist);
}

export function createAuthService(deps: AccountDeps, factors: LoginFactors) {
  const { db, opaque, logger } = deps;
  const trustedDevices = createTrustedDevicesService(deps);

  async function buildBundle(user: UserRow, session: SessionContext): Promise<AccountBundle> {
    const { organisation, settings } = await requireOrganisation(db);
    const grant = mayHoldEscrow(user.role) ? await findEscrowGrant(db, user.id) : undefined;
    // While an escrow rotation runs: the old key pair and this holder's grant for it (issue 21).
    const previousGrant =
      grant && organisation.previous_escrow_public_key && organisation.previous_escrow_wrapped_private_key ? await findPreviousGrant(db, user.id) : undefined;
    return {
      session: sessionInfo(session, organisation.name, settings),
      keys: {
        wrappedUserKey: user.wrapped_user_key,
        keySafe: user.key_safe,
        publicKey: user.public_key,
        wrappedPrivateKey: user.wrapped_private_key,
        profile: user.profile,
        ...(user.signing_public_key && user.wrapped_signing_key
          ? { signing: { publicKey: user.signing_public_key, wrappedPrivateKey: user.wrapped_signing_key } }
          : {}),
        keySafeRevision: user.key_safe_revision,
        escrowCopySigned: user.escrow_copy_statement !== null,
        escrowUserKey: user.escrow_user_key,
      },
      ...(grant
        ? {
            escrow: {
              publicKey: organisation.escrow_public_key,
              wrappedPrivateKey: organisation.escrow_wrapped_private_key,
              grant: { kind: grant.kind, value: grant.value },
              ...(previousGrant && organisation.previous_escrow_public_key && organisation.previous_escrow_wrapped_private_key
                ? {
                    previous: {
                      publicKey: organisation.previous_escrow_public_key,
                      wrappedPrivateKey: organisation.previous_escrow_wrapped_private_key,
                      grant: { kind: previousGrant.kind, value: previousGrant.value },
                    },
                  }
                : {}),
            },
          }
        : {}),
    };
  }

  /**
   * Audits a failed login in its own relaxed transaction. A fake attempt (unknown, locked or
   * reset-pending address) runs the same transaction and reads the same audit chain head, but has
   * nobody to record it against: its time must not tell it from a real one (SECURITY.md 5.1).
   */
  async function recordLoginFailure(attempt: PendingLogin, ip: string | null, step: 'finish' | 'password'): Promise<void> {
    const { userId } = attempt;
    await relaxedTransaction(db, async (trx) => {
      // The fake records the same event with nobody named: the same work, and an auditor still sees the guess.
      await recordAuditEvent(trx, { action: 'auth.login_failed', actorId: null, targetType: 'user', targetId: userId, ip, result: 'failure', details: { step } });
    });
  }

  /**
   * Opens a full session for a user who passed every sign-in step (password and, where needed, a
   * second factor; or a passkey alone): resets the failure counter, audits, and returns the cookie
   * token and the key safe. `details.method` says how they signed in.
   */
  async function openSession(
    user: UserRow,
    ip: string | null,
    details: { readonly method: 'password' | 'second_factor' | 'passkey' | 'trusted_device'; readonly [key: string]: string | number | boolean },
  ): Promise<OpenedSession> {
    const now = deps.now();
    const { settings } = await requireOrganisation(db);
    const token = newToken();
    const sessionId = newId();
    const expiresAt = plusMs(now, settings.session.absoluteHours * 3_600_000);
    // Relaxed commit: after a power cut the worst case is signing in again (SECURITY.md 5.5).
    await relaxedTransaction(db, async (trx) => {
      await updateUser(trx, user.id, { failed_logins: 0, locked_until: null, lock_notified: 0, last_login_at: now.toISOString() });
      await insertSession(trx, {
        id: sessionId,
        token_hash: hashToken(token),
        user_id: user.id,
        created_at: now.toISOString(),
        last_seen_at: now.toISOString(),
        authenticated_at: now.toISOString(),
        expires_at: expiresAt,
        ip,
        revoked_at: null,
      });
      await recordAuditEvent(trx, { action: 'auth.login_succeeded', actorId: user.id, targetType: 'session', targetId: sessionId, ip, details });
    });
    const session: SessionContext = {
      id: sessionId,
      userId: user.id,
      role: user.role,
      email: user.email,
      language: user.language,
      authenticatedAt: now.toISOString(),
      expiresAt,
      passwordExpired: isPasswordExpired(new Date(user.password_changed_at), settings.passwordRules, now),
      secondFactorMissing: settings.secondFactorRoles.includes(user.role) && !(await hasSecondFactor(db, user.id)),
      ipBlocked: false,
    };
    return { token, bundle: await buildBundle(user, session), expiresAt };
  }

  /** Tells newly locked users (once per lock, after their last attempt ended) and audits the lock. */
  async function notifyLocks(): Promise<void> {
    const now = deps.now();
    // Before the sweep drops expired entries: second steps left unanswered are told about first.
    await secondStep.notifyAbandoned();
    await deps.store.sweep(now.getTime());
    const candidates = await findUnnotifiedLocks(db, now.toISOString());
    const locked = [];
    // Told only once the last attempt is over: the attempt that set the lock may still succeed.
    for (const user of candidates) if (!(await deps.store.hasOpenLogin(user.id, now.getTime()))) locked.push(user);
    if (locked.length === 0) return;
    const { organisation } = await requireOrganisation(db);
    for (const user of locked) {
      // WARNING: sweeps run after every failed attempt, in parallel: only the one that claims the lock tells the user.
      const claimed = await db.transaction().execute(async (trx) => {
        if (!(await claimLockNotice(trx, user.id))) return false;
        await recordAuditEvent(trx, {
          action: 'auth.account_locked',
          result: 'failure',
          targetType: 'user',
          targetId: user.id,
          details: { failures: user.failed_logins, lockedUntil: user.locked_until ?? '' },
        });
        return true;
      });
      if (!claimed) continue;
      await notifyQuietly(deps.notifier, logger, user.email, user.language, {
        kind: 'account_locked',
        organisationName: organisation.name,
        failures: user.failed_logins,
        lockedUntil: user.locked_until ?? '',
      });
    }
  }

  /** Refuses staff outside the team IP allowlist (audited), unless the operator lifted it (KLUIS_IGNORE_IP_ALLOWLIST). */
  async function assertIpAllowed(user: UserRow, ip: string | null): Promise<boolean> {
    const { settings } = await requireOrganisation(db);
    const outsideAllowlist = outsideTeamAllowlist(user.role, ip, settings);
    if (outsideAllowlist && !deps.config.ignoreIpAllowlist) {
      await db.transaction().execute((trx) =>
        recordAuditEvent(trx, { action: 'auth.login_refused', actorId: user.id, targetType: 'user', targetId: user.id, ip, result: 'denied', details: { reason: 'ip_not_allowed' } }),
      );
      throw fail('ip_not_allowed', 'Team accounts can only sign in from the organisation\'s network.', { audited: true });
    }
    if (outsideAllowlist) logger.warn({ userId: user.id, ip }, 'KLUIS_IGNORE_IP_ALLOWLIST is set: let in a staff login from outside the team IP allowlist');
    return outsideAllowlist;
  }

  /**
   * Refuses a sign-in of an account that is not active (its password or passkey was right): audited;
   * a password attempt's count is taken back (`charged`: a right answer is not a guess). Deleted
   * accounts never get here from the password step: they answer like unknown addresses.
   */
  async function refuseInactive(user: UserRow, ip: string | null, charged: { readonly ownLock: string | null } | null): Promise<never> {
    if (charged) await refundLoginCharge(db, user.id, charged.ownLock);
    await db.transaction().execute((trx) =>
      recordAuditEvent(trx, { action: 'auth.login_refused', actorId: user.id, targetType: 'user', targetId: user.id, ip, result: 'denied', details: { reason: 'account_deactivated' } }),
    );
    throw fail('account_deactivated', 'This account is deactivated. Ask your office to reactivate it.');
  }

  const secondStep = createSecondFactorStep(deps, factors, trustedDevices, { openSession, notifyLocks, assertIpAllowed });

  function sessionInfo(session: SessionContext, organisationName: string, settings: OrganisationSettings) {
    return {
      user: { id: session.userId, email: session.email, role: session.role, language: session.language },
      organisation: { name: organisationName },
      authenticatedAt: session.authenticatedAt,
      expiresAt: session.expiresAt,
      passwordExpired: session.passwordExpired,
      secondFactorMissing: session.secondFactorMissing,
      autoLockMinutes: settings.autoLockMinutes,
      passwordRules: settings.passwordRules,
    };
  }

  return {
    /**
     * OPAQUE login step 1. Counts the attempt against the account before a real answer leaves, so
     * every online guess is paid for; locked, unknown and reset-pending accounts get a fake answer.
     * Every address does the same work (SECURITY.md 5.1): one lookup, one OPAQUE evaluation that
     * also checks the message before anything is written, one counting transaction, one pending login.
     */
    async startLogin(email: string, startLoginRequest: string, ip: string | null) {
      await throttle(deps, `login-ip:${ip ?? 'unknown'}`, { max: deps.config.loginLimitPerIp, windowMs: LOGIN_IP_WINDOW_MS });
      const now = deps.now();
      const { settings } = await requireOrganisation(db);
      const user = await findUserByEmail(db, email);
      // Unknown, reset-pending and deleted addresses are counted against their pseudonym, which has
      // no row. WARNING: a deleted (or purged) account answers exactly like an unknown address.
      const account = user && !user.needs_reset && (user.status === 'active' || user.status === 'deactivated') ? user : undefined;
      const subject = account?.id ?? opaque.fakeUserId(email);
      // WARNING: a locked account must not get a real OPRF evaluation: OPAQUE lets the browser tell
      // locally whether its password was right, so a real answer would keep the guessing oracle open.
      const evaluate = (real: boolean) =>
        account && real ? opaque.startLogin(account.id, account.opaque_record, startLoginRequest) : opaque.startLogin(subject, null, startLoginRequest);
      // Throws bad_request for a malformed message: before any write, so nothing is counted for anyone.
      const expectReal = account !== undefined && !(account.locked_until !== null && account.locked_until > now.toISOString());
      let evaluated = evaluate(expectReal);
      const lockedUntil = plusMs(now, settings.lockout.durationMinutes * 60_000);
      // Relaxed commit: a counter nobody is told is saved (SECURITY.md 5.5); atomic all the same.
      const charge = await relaxedTransaction(db, async (trx) => {
        await resetExpiredLock(trx, subject, now.toISOString());
        return chargeLoginAttempt(trx, subject, now.toISOString(), settings.lockout.maxFailures, lockedUntil);
      });
      // A real answer leaves only after its count committed: a parallel guess that lost the race to
      // the lock gets a fake one instead (and a guess that won it after all, a real one).
      const real = account !== undefined && charge.counted;
      if (real !== expectReal) evaluated = evaluate(real);
      const { state, response } = evaluated;
      const loginId = newId();
      await deps.store.putLogin(loginId, {
        userId: real ? subject : null,
        subject,
        state,
        expiresAt: now.getTime() + LOGIN_TTL_MS,
        ownLock: real && charge.locked ? lockedUntil : null,
      });
      return { loginId, loginResponse: response };
    },

    /**
     * OPAQUE login step 3: verify; then open a session and hand out the key safe, or ask for the
     * second factor first (SECURITY.md 5.1.1).
     */
    async finishLogin(loginId: string, finishLoginRequest: string, context: LoginContext): Promise<LoginOutcome> {
      const { ip } = context;
      const now = deps.now();
      const attempt = await deps.store.takeLogin(loginId);
      if (!attempt) throw fail('login_expired', 'This sign-in attempt is not valid any more. Start again.');
      if (attempt.expiresAt <= now.getTime()) throw fail('login_expired', 'This sign-in attempt took too long. Start again.');
      const verified = opaque.finishLogin(attempt.state, finishLoginRequest);
      // The same read for a fake attempt (its subject: a pseudonym without a row, or a locked account).
      const row = await findUserById(db, attempt.userId ?? attempt.subject);
      const user = attempt.userId ? row : undefined;
      if (!verified || !user) {
        await recordLoginFailure(attempt, ip, 'finish');
        await notifyLocks();
        throw fail('invalid_credentials', 'The e-mail address or password is not correct.');
      }
      // WARNING: a deactivated account learns so only after a correct password (no enumeration),
      // and before any second step, trusted browser or re-authentication pass.
      if (user.status !== 'active') await refuseInactive(user, ip, { ownLock: attempt.ownLock ?? null });
      const ipAllowlistIgnored = await assertIpAllowed(user, ip);
      const flags: Readonly<Record<string, boolean>> = ipAllowlistIgnored ? { ipAllowlistIgnored: true } : {};

      // WARNING: re-authentication. A browser that holds a live full session of this same user
      // passed the second factor (or needed none) when that session opened; asking again to confirm
      // a sensitive action would add nothing an attacker in that browser does not already have.
      // Another user's session, or none, gets no such pass.
      if (context.session && context.session.userId === user.id) {
        return { session: await openSession(user, ip, { method: 'password', reauthentication: true, ...flags }) };
      }
      if (!(await hasSecondFactor(db, user.id))) return { session: await openSession(user, ip, { method: 'password', ...flags }) };

      const trusted = context.trustedDeviceToken === null ? null : await trustedDevices.check(context.trustedDeviceToken, user.id);
      if (trusted?.ok) {
        await trustedDevices.touch(trusted.deviceId);
        return { session: await openSession(user, ip, { method: 'trusted_device', deviceId: trusted.deviceId, ...flags }) };
      }
      // The password was right: take its count back (startLogin counted it before answering), so
      // that only wrong answers count and three wrong codes lock, as three wrong passwords do.
      await refundLoginCharge(db, user.id, attempt.ownLock ?? null);
      await relaxedTransaction(db, (trx) =>
        recordAuditEvent(trx, { action: 'auth.password_verified', actorId: user.id, targetType: 'user', targetId: user.id, ip, details: { secondFactorAsked: true } }),
      );
      // A lock that stands after the refund was set by other attempts: tell the user now (it waited for this one).
      await notifyLocks();
      return { secondFactor: await secondStep.challenge(user, trusted && !trusted.ok ? trusted.problem : null) };
    },

    /** The second sign-in step: a factor's answer opens the session (and may trust this browser). */
    verifySecondFactor(answer: SecondFactorAnswer, ip: string | null, userAgent: string | null) {
      return secondStep.verify(answer, ip, userAgent);
    },

    /** E-mails a sign-in code for a pending second step. */
    sendLoginEmailCode(challengeId: string): Promise<void> {
      return secondStep.sendEmailCode(challengeId);
    },

    trustedDevices,

    /** The browser found the password wrong: close the attempt (it was already counted) and tell a locked user. */
    async abortLogin(loginId: string, ip: string | null): Promise<void> {
      const attempt = await deps.store.takeLogin(loginId);
      if (!attempt) return;
      await recordLoginFailure(attempt, ip, 'password');
      await notifyLocks();
    },

    notifyLocks,

    /** The session behind a cookie token, or null. Applies the idle timeout and the staff IP allowlist. */
    async resolveSession(token: string, ip: string | null): Promise<SessionContext | null> {
      const now = deps.now();
      const row = await findLiveSession(db, hashToken(token), now.toISOString());
      if (!row) return null;
      const { settings } = await requireOrganisation(db);
      if (now.getTime() - new Date(row.last_seen_at).getTime() > settings.session.idleMinutes * 60_000) {
        await revokeSession(db, row.id, now.toISOString());
        return null;
      }
      if (now.getTime() - new Date(row.last_seen_at).getTime() > TOUCH_INTERVAL_MS) await touchSession(db, row.id, now.toISOString());
      return {
        id: row.id,
        userId: row.user_id,
        role: row.role,
        email: row.email,
        language: row.language,
        authenticatedAt: row.authenticated_at,
        expiresAt: row.expires_at,
        passwordExpired: isPasswordExpired(new Date(row.password_changed_at), settings.passwordRules, now),
        secondFactorMissing: settings.secondFactorRoles.includes(row.role) && !(await hasSecondFactor(db, row.user_id)),
        ipBlocked: outsideTeamAllowlist(row.role, ip, settings) && !deps.config.ignoreIpAllowlist,
      };
    },

    async getSessionInfo(session: SessionContext) {
      const { organisation, settings } = await requireOrganisation(db);
      return sessionInfo(session, organisation.name, settings);
    },

    async logout(session: SessionContext, ip: string | null): Promise<void> {
      const now = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await revokeSession(trx, session.id, now);
        await recordAuditEvent(trx, { action: 'auth.logout', actorId: session.userId, targetType: 'session', targetId: session.id, ip });
      });
    },

    async logoutEverywhere(session: SessionContext, ip: string | null): Promise<void> {
      assertRecentAuth(actorOfSession(session, ip), deps.now());
      const now = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const ended = await revokeUserSessions(trx, session.userId, now);
        await recordAuditEvent(trx, { action: 'auth.logout_everywhere', actorId: session.userId, targetType: 'user', targetId: session.userId, ip, details: { sessions: ended } });
      });
    },

    async listSessions(session: SessionContext) {
      const rows = await listLiveSessions(db, session.userId, deps.now().toISOString());
      return {
        sessions: rows.map((r) => ({ id: r.id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at, ip: r.ip, current: r.id === session.id })),
      };
    },

    async endSession(session: SessionContext, id: string, ip: string | null): Promise<void> {
      assertRecentAuth(actorOfSession(session, ip), deps.now());
      await db.transaction().execute(async (trx) => {
        if (!(await revokeOwnSession(trx, session.userId, id, deps.now().toISOString()))) throw fail('not_found', 'There is no such session.');
        await recordAuditEvent(trx, { action: 'auth.session_ended', actorId: session.userId, targetType: 'session', targetId: id, ip });
      });
    },

    /** Ends a session without an audit event (replaced by a new login in the same browser). */
    openSession,

    refuseInactive,

    async revokeQuietly(sessionId: string): Promise<void> {
      await revokeSession(db, sessionId, deps.now().toISOString());
    },

  };
}

export type AuthService = ReturnType<typeof createAuthService>;
