// Passkeys and security keys (WebAuthn, @simplewebauthn/server): registration, assertions as a second factor, PRF unlock and passkey-only sign-in.
import {
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { AccountBundle, SecondFactor } from '../../../shared/api';
import type { SecondFactorRow, UserRow } from '../../db/database';
import { fail } from '../../errors';
import { newId } from '../../lib/ids';
import { relaxedTransaction } from '../../db/relaxed';
import { countLoginFailure, findUserById, resetExpiredLock } from '../../repositories/accounts.repository';
import {
  advancePasskeyCounter,
  findPasskeyByCredentialId,
  insertSecondFactor,
  listPasskeyRows,
  setPasskeyWrapping,
} from '../../repositories/second-factors.repository';
import { type AccountDeps, type Actor, assertRecentAuth, plusMs, requireOrganisation, throttle } from '../account-deps';
import { recordAuditEvent } from '../audit.service';
import type { AuthService } from '../auth.service';
import { mayHoldEscrow } from '../authorization';
import { isIpAllowed } from '../ip-allowlist';

/** How long a WebAuthn ceremony (its challenge) stays usable: "a few minutes". */
export const CEREMONY_TTL_MS = 5 * 60_000;
/** What the browser is told to wait for the person (the ceremony outlives it a little). */
const CEREMONY_TIMEOUT_MS = 4 * 60_000;
/** New registrations per user and window: enough for a handful of keys, not for filling the table. */
const REGISTRATION_LIMIT = { max: 20, windowMs: 5 * 60_000 } as const;
/** The window of the per-IP sign-in throttle (shared with password logins: one budget per address). */
const LOGIN_IP_WINDOW_MS = 5 * 60_000;

/** WebAuthn options as they travel to the browser (the contract keeps them loose: the library owns their shape). */
type PublicKeyOptions = { readonly challenge: string; readonly [key: string]: unknown };

/** A WebAuthn ceremony waiting for the browser's answer ('webauthn-ceremony' entries). */
type Ceremony =
  | { readonly purpose: 'registration'; readonly challenge: string; readonly userId: string }
  | { readonly purpose: 'login'; readonly challenge: string };

/** The verdict on an assertion; assignable to verifiers.ts FactorCheck. */
export type PasskeyCheck =
  | { readonly ok: true; readonly factorId: string }
  | { readonly ok: false; readonly code: 'passkey_rejected' | 'passkey_counter_regressed' };

/** Where WebAuthn runs. WARNING: from configuration (PUBLIC_ORIGIN) only, never from a request's Host or Origin header. */
export function relyingParty(publicOrigin: string): { readonly rpID: string; readonly origin: string } {
  const url = new URL(publicOrigin);
  return { rpID: url.hostname, origin: url.origin };
}

/**
 * The WebAuthn user handle of an account: its id as UTF-8 bytes (no personal data; W3C WebAuthn
 * Level 3, 14.6.1). The authenticator gives it back in discoverable sign-ins.
 */
function userHandleBytes(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId, 'utf8'));
}

function userIdFromHandle(handle: string | undefined): string | null {
  if (!handle) return null;
  return Buffer.from(handle, 'base64url').toString('utf8');
}

/** The transports stored with a passkey (a JSON array of strings), a hint for the browser. */
function transportsOf(row: SecondFactorRow): string[] | undefined {
  if (!row.transports) return undefined;
  const parsed: unknown = JSON.parse(row.transports);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : undefined;
}

/** A stored second factor as the API shows it (no secret: the credential id and public key are public values). */
export function toSecondFactor(row: SecondFactorRow): SecondFactor {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    unlocks: row.kind === 'passkey' && row.prf_wrapped_user_key !== null,
    ...(row.kind === 'passkey' && row.credential_id ? { credentialId: row.credential_id } : {}),
  };
}

/**
 * Verifies one assertion against a stored passkey: challenge, origin, RP ID, user presence and
 * verification, signature, then the counter. Used by both the second sign-in step and passkey-only
 * sign-in; the caller counts failures against the account.
 */
async function checkAssertion(
  deps: AccountDeps,
  row: SecondFactorRow,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  ip: string | null,
): Promise<PasskeyCheck> {
  const { rpID, origin } = relyingParty(deps.config.publicOrigin);
  if (!row.credential_id || !row.public_key) return { ok: false, code: 'passkey_rejected' };
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      // The UV flag: possession plus PIN or biometrics, which is what lets a passkey alone sign in.
      requireUserVerification: true,
      credential: {
        id: row.credential_id,
        publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
        // WARNING: 0 on purpose. The library compares counters before it checks the signature; the
        // counter is compared below, after the signature verified and atomically in the database, so
        // only a genuine assertion can count as evidence of a cloned authenticator.
        counter: 0,
        transports: transportsOf(row),
      },
    });
  } catch {
    // Wrong challenge, origin, RP ID or type, user not verified, malformed data: all the same to the caller.
    return { ok: false, code: 'passkey_rejected' };
  }
  if (!verification.verified) return { ok: false, code: 'passkey_rejected' };
  const received = verification.authenticationInfo.newCounter;
  if (await advancePasskeyCounter(deps.db, row.id, received, deps.now().toISOString())) return { ok: true, factorId: row.id };
  // A counter that did not move forward on an authenticator that counts: a cloned authenticator or
  // a replayed assertion (W3C WebAuthn Level 3, 6.1.1 "Signature Counter Considerations").
  await deps.db.transaction().execute((trx) =>
    recordAuditEvent(trx, {
      action: 'passkey.counter_regressed',
      result: 'failure',
      actorId: null,
      targetType: 'user',
      targetId: row.user_id,
      ip,
      details: { factorId: row.id, stored: row.sign_count ?? 0, received },
    }),
  );
  return { ok: false, code: 'passkey_counter_regressed' };
}

/**
 * The passkey part of the second sign-in step (interface in the issue 20 brief): request options
 * for an account's passkeys, and the verification of the answer. The login step stores
 * `expectedChallenge` in its own pending entry and counts failures.
 */
export function createPasskeyFactors(deps: AccountDeps) {
  return {
    async requestOptions(userId: string): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; expectedChallenge: string }> {
      const { rpID } = relyingParty(deps.config.publicOrigin);
      const rows = await listPasskeyRows(deps.db, userId);
      const options = await generateAuthenticationOptions({
        rpID,
        allowCredentials: rows.flatMap((row) => (row.credential_id ? [{ id: row.credential_id, transports: transportsOf(row) }] : [])),
        userVerification: 'required',
        timeout: CEREMONY_TIMEOUT_MS,
      });
      return { options, expectedChallenge: options.challenge };
    },

    /** The answer must come from one of `userId`'s own passkeys. */
    async verifyAssertion(userId: string, response: AuthenticationResponseJSON, expectedChallenge: string, ip: string | null = null): Promise<PasskeyCheck> {
      const row = await findPasskeyByCredentialId(deps.db, response.id);
      if (!row || row.user_id !== userId) return { ok: false, code: 'passkey_rejected' };
      return checkAssertion(deps, row, response, expectedChallenge, ip);
    },
  };
}

export type PasskeyFactors = ReturnType<typeof createPasskeyFactors>;

/** A passkey sign-in's answer: the key safe, and the user key wrapped under this passkey's PRF-derived key. */
export interface PasskeySignIn {
  readonly token: string;
  readonly expiresAt: string;
  readonly bundle: AccountBundle & { readonly unlock: { readonly credentialId: string; readonly factorId: string; readonly wrappedUserKey: string } };
}

/** Registration, "unlock with passkey", and signing in with a passkey alone. */
export function createPasskeysService(deps: AccountDeps, auth: Pick<AuthService, 'openSession' | 'notifyLocks' | 'refuseInactive'>) {
  const { db } = deps;
  const factors = createPasskeyFactors(deps);

  async function takeCeremony(id: string): Promise<Ceremony | undefined> {
    return deps.store.takeEntry<Ceremony>('webauthn-ceremony', id, deps.now().getTime());
  }

  async function putCeremony(ceremony: Ceremony): Promise<string> {
    const id = newId();
    await deps.store.putEntry<Ceremony>('webauthn-ceremony', id, ceremony, deps.now().getTime() + CEREMONY_TTL_MS);
    return id;
  }

  /** Counts a failed passkey sign-in like a wrong password (the same atomic counter and lock e-mail). */
  async function countFailure(user: UserRow, ip: string | null, reason: string): Promise<void> {
    const now = deps.now();
    const { settings } = await requireOrganisation(db);
    const lockedUntil = plusMs(now, settings.lockout.durationMinutes * 60_000);
    await relaxedTransaction(db, async (trx) => {
      await resetExpiredLock(trx, user.id, now.toISOString());
      await countLoginFailure(trx, user.id, now.toISOString(), settings.lockout.maxFailures, lockedUntil);
      await recordAuditEvent(trx, { action: 'auth.login_failed', actorId: null, targetType: 'user', targetId: user.id, ip, result: 'failure', details: { step: 'passkey', reason } });
    });
    await auth.notifyLocks();
  }

  return {
    ...factors,

    /** WebAuthn creation options for a new passkey of the signed-in user (recent login). */
    async startRegistration(actor: Actor): Promise<{ ceremonyId: string; options: PublicKeyOptions }> {
      assertRecentAuth(actor, deps.now());
      await throttle(deps, `passkey-registration:${actor.userId}`, REGISTRATION_LIMIT);
      const user = await findUserById(db, actor.userId);
      if (!user) throw fail('unauthenticated', 'Sign in first.');
      const { organisation } = await requireOrganisation(db);
      const { rpID } = relyingParty(deps.config.publicOrigin);
      const existing = await listPasskeyRows(db, actor.userId);
      const options = await generateRegistrationOptions({
        rpName: organisation.name,
        rpID,
        userName: user.email,
        userDisplayName: user.email,
        userID: userHandleBytes(user.id),
        timeout: CEREMONY_TIMEOUT_MS,
        attestationType: 'none',
        // The same authenticator twice is refused by the browser itself.
        excludeCredentials: existing.flatMap((row) => (row.credential_id ? [{ id: row.credential_id, transports: transportsOf(row) }] : [])),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
        // Asks whether the authenticator can derive PRF secrets ("unlock with passkey", W3C WebAuthn Level 3, 10.1.4).
        extensions: { prf: {} },
      });
      const ceremonyId = await putCeremony({ purpose: 'registration', challenge: options.challenge, userId: actor.userId });
      return { ceremonyId, options: { ...options } };
    },

    /** Verifies the attestation of a new passkey and stores it (recent login). */
    async finishRegistration(actor: Actor, input: { ceremonyId: string; name: string; response: RegistrationResponseJSON }): Promise<SecondFactor> {
      assertRecentAuth(actor, deps.now());
      const ceremony = await takeCeremony(input.ceremonyId);
      if (!ceremony || ceremony.purpose !== 'registration' || ceremony.userId !== actor.userId) {
        throw fail('factor_setup_expired', 'Adding this passkey took too long. Start again.');
      }
      const { rpID, origin } = relyingParty(deps.config.publicOrigin);
      let verification;
      try {
        verification = await verifyRegistrationResponse({
          response: input.response,
          expectedChallenge: ceremony.challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserPresence: true,
          requireUserVerification: true,
        });
      } catch {
        throw fail('passkey_rejected', 'The passkey\'s answer could not be verified. Try again.');
      }
      if (!verification.verified) {
        throw fail('passkey_rejected', 'The passkey\'s answer could not be verified. Try again.');
      }
      const { credential } = verification.registrationInfo;
      if (await findPasskeyByCredentialId(db, credential.id)) throw fail('conflict', 'This passkey is already registered.');
      const now = deps.now().toISOString();
      const row: SecondFactorRow = {
        id: newId(),
        user_id: actor.userId,
        kind: 'passkey',
        name: input.name,
        created_at: now,
        last_used_at: null,
        totp_secret: null,
        totp_last_step: null,
        credential_id: credential.id,
        public_key: Buffer.from(credential.publicKey).toString('base64url'),
        sign_count: credential.counter,
        transports: credential.transports ? JSON.stringify(credential.transports) : null,
        prf_wrapped_user_key: null,
      };
      await db.transaction().execute(async (trx) => {
        await insertSecondFactor(trx, row);
        await recordAuditEvent(trx, {
          action: 'second_factor.added',
          actorId: actor.userId,
          targetType: 'user',
          targetId: actor.userId,
          ip: actor.ip,
          details: { kind: 'passkey', factorId: row.id },
        });
      });
      return toSecondFactor(row);
    },

    /**
     * Stores the user key wrapped under this passkey's PRF-derived key (made in the browser:
     * shared/flows/passkey-unlock.ts). The server cannot check or open it (recent login).
     */
    async setUnlock(actor: Actor, factorId: string, wrappedUserKey: string): Promise<void> {
      assertRecentAuth(actor, deps.now());
      await db.transaction().execute(async (trx) => {
        if (!(await setPasskeyWrapping(trx, actor.userId, factorId, wrappedUserKey))) throw fail('not_found', 'There is no such passkey.');
        await recordAuditEvent(trx, { action: 'passkey.unlock_set', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { factorId } });
      });
    },

    /** Drops this passkey's wrapping: it stays a second factor but cannot unlock any more (recent login). */
    async removeUnlock(actor: Actor, factorId: string): Promise<void> {
      assertRecentAuth(actor, deps.now());
      await db.transaction().execute(async (trx) => {
        if (!(await setPasskeyWrapping(trx, actor.userId, factorId, null))) throw fail('not_found', 'There is no such passkey.');
        await recordAuditEvent(trx, { action: 'passkey.unlock_removed', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { factorId } });
      });
    },

    /** Request options for signing in with a passkey alone: discoverable credentials, user verification (per-IP throttle). */
    async startLogin(ip: string | null): Promise<{ ceremonyId: string; options: PublicKeyOptions }> {
      await throttle(deps, `login-ip:${ip ?? 'unknown'}`, { max: deps.config.loginLimitPerIp, windowMs: LOGIN_IP_WINDOW_MS });
      const { rpID } = relyingParty(deps.config.publicOrigin);
      // No allowCredentials: the authenticator offers its passkeys for this RP ID (W3C WebAuthn Level 3, 5.1.4.1).
      // No PRF salt either: the browser adds its own fixed one (shared/flows/passkey-unlock.ts), so
      // the server cannot choose what the authenticator derives.
      const options = await generateAuthenticationOptions({ rpID, userVerification: 'required', timeout: CEREMONY_TIMEOUT_MS });
      const ceremonyId = await putCeremony({ purpose: 'login', challenge: options.challenge });
      return { ceremonyId, options: { ...options } };
    },

    /**
     * Signs in with a passkey alone: the assertion (user verification: possession plus PIN or
     * biometrics) stands for both password and second factor. Only a passkey with a PRF wrapping can
     * do this: without it the browser could not open the key safe.
     */
    async finishLogin(ceremonyId: string, response: AuthenticationResponseJSON, ip: string | null): Promise<PasskeySignIn> {
      const now = deps.now();
      const ceremony = await takeCeremony(ceremonyId);
      if (!ceremony || ceremony.purpose !== 'login') throw fail('second_factor_expired', 'This passkey sign-in took too long. Start again.');
      const row = await findPasskeyByCredentialId(db, response.id);
      const handleUserId = userIdFromHandle(response.response.userHandle);
      // The user handle names the account; the credential must be one of its passkeys.
      const user = row && handleUserId === row.user_id ? await findUserById(db, row.user_id) : undefined;
      // A deleted account's passkeys are unknown, like its address at the password step.
      if (!row || !user || user.status === 'deleted' || user.status === 'purged') throw fail('passkey_rejected', 'This passkey is not registered with this Kluis.');
      if (user.needs_reset) throw fail('passkey_unlock_unavailable', 'This account must set a new password first. Sign in with your e-mail address and password.');
      if (user.locked_until !== null && user.locked_until > now.toISOString()) {
        await db.transaction().execute((trx) =>
          recordAuditEvent(trx, { action: 'auth.login_refused', actorId: user.id, targetType: 'user', targetId: user.id, ip, result: 'denied', details: { reason: 'account_locked', step: 'passkey' } }),
        );
        throw fail('account_locked', 'This account is locked after too many failed sign-ins. Try again later or ask your office.', { audited: true });
      }
      const check = await checkAssertion(deps, row, response, ceremony.challenge, ip);
      if (!check.ok) {
        await countFailure(user, ip, check.code);
        throw check.code === 'passkey_counter_regressed'
          ? fail('passkey_counter_regressed', 'This passkey\'s answer looks copied or replayed. Sign in with your password and check your passkeys.')
          : fail('passkey_rejected', 'The passkey\'s answer could not be verified. Try again.');
      }
      // WARNING: only after the assertion verified: a deactivated account is not told apart before.
      if (user.status !== 'active') await auth.refuseInactive(user, ip, null);
      if (!row.prf_wrapped_user_key) {
        throw fail('passkey_unlock_unavailable', 'This passkey cannot unlock your account. Sign in with your password, then turn on "unlock with passkey".');
      }
      const { settings } = await requireOrganisation(db);
      const outsideAllowlist = mayHoldEscrow(user.role) && !isIpAllowed(ip, settings.teamIpAllowlist);
      if (outsideAllowlist && !deps.config.ignoreIpAllowlist) {
        await db.transaction().execute((trx) =>
          recordAuditEvent(trx, { action: 'auth.login_refused', actorId: user.id, targetType: 'user', targetId: user.id, ip, result: 'denied', details: { reason: 'ip_not_allowed' } }),
        );
        throw fail('ip_not_allowed', 'Team accounts can only sign in from the organisation\'s network.', { audited: true });
      }
      if (outsideAllowlist) deps.logger.warn({ userId: user.id, ip }, 'KLUIS_IGNORE_IP_ALLOWLIST is set: let in a staff passkey sign-in from outside the team IP allowlist');
      const opened = await auth.openSession(user, ip, { method: 'passkey', factorId: row.id, ...(outsideAllowlist ? { ipAllowlistIgnored: true } : {}) });
      return {
        token: opened.token,
        expiresAt: opened.expiresAt,
        bundle: { ...opened.bundle, unlock: { credentialId: response.id, factorId: row.id, wrappedUserKey: row.prf_wrapped_user_key } },
      };
    },
  };
}

export type PasskeysService = ReturnType<typeof createPasskeysService>;
