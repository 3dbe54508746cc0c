// Integration: the sign-in order (password, then the second factor, then session and key safe), the lockout
// counter shared by passwords and codes, trusted devices and the re-authentication rule (issue 20 items 5, 6 and 8).
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SecondFactorChallenge,
  endpoints,
  finishLogin,
  getSession,
  listTrustedDevices,
  logout,
  revokeTrustedDevice,
  revokeUserTrustedDevices,
  sendLoginEmailCode,
  startLogin,
  unlockUser,
  verifySecondFactor,
} from '../../shared/api';
import { finishOpaqueLogin, startOpaqueLogin } from '../../shared/crypto';
import { LoginRejectedError, changePassword, login } from '../../shared/flows/account-flows';
import { SecondFactorNeededError } from '../../shared/flows/second-factor';
import { sealTotpSecret } from '../auth/factor-keys';
import { createOpaqueServer } from '../auth/opaque-server';
import { newId } from '../lib/ids';
import type { BrowserLikeClient } from '../lib/node-api-client';
import { budget } from '../test/budget';
import { testServerSetup } from '../test/make-test-app';
import { totp } from '../test/rfc6238';
import {
  createTestOrganisation,
  fast,
  type Member,
  type TestOrganisation,
} from '../test/org-fixture';
import type { Notification } from './notifications';

/** The server's clock: the wall clock moved forward by `offsetMs` (TOTP steps, expiries), or stopped at `pinnedMs` while that is set. */
const clock = { offsetMs: 0, pinnedMs: null as number | null };
const now = () => new Date(clock.pinnedMs ?? Date.now() + clock.offsetMs);
/** Stops the clock at the start of the next fixed 15-minute rate-limit window (a fresh window for every limit). */
const pinAtFreshWindow = () => {
  const window = 15 * 60_000;
  clock.pinnedMs = Math.ceil((now().getTime() + 1) / window) * window + 1000;
};
/** Lets the clock run again from where it stopped: it never goes back. */
const unpin = () => {
  if (clock.pinnedMs !== null)
    clock.offsetMs = Math.max(clock.offsetMs, clock.pinnedMs - Date.now());
  clock.pinnedMs = null;
};
/** Each TOTP code works once: a test that signs in again moves to the next 30-second step first. */
const nextTotpStep = () => {
  clock.offsetMs += 30_000;
};

let org: TestOrganisation;
let members: { client: Member; team: Member; auditor: Member; admin: Member };
/** The TOTP secrets of the members who have an authenticator app (raw bytes). */
const secrets = new Map<string, Buffer>();

/** The TOTP code at `at` from the test's own RFC 6238 implementation (server/test/rfc6238.ts, checked against the RFC's vectors), not the server's. */
const rfc6238 = (secret: Buffer, at: Date) => totp(secret, at.getTime());

const totpOf = (member: Member) => rfc6238(secrets.get(member.userId)!, now());
/** Six digits that are none of the codes the server accepts now (±1 step). */
function wrongCodeOf(member: Member): string {
  const secret = secrets.get(member.userId)!;
  const valid = new Set(
    [-30_000, 0, 30_000].map((ms) => rfc6238(secret, new Date(now().getTime() + ms))),
  );
  let code = Number(totpOf(member));
  do code = (code + 1) % 1_000_000;
  while (valid.has(String(code).padStart(6, '0')));
  return String(code).padStart(6, '0');
}

/**
 * Gives `member` an authenticator app, stored as the TOTP set-up stores it (sealed under the
 * server's 'totp-secrets' key, bound to user and factor); the set-up flow has its own tests.
 */
async function enrolTotp(member: Member): Promise<void> {
  const serverKeys = await createOpaqueServer(await testServerSetup());
  const secret = randomBytes(20);
  const id = newId();
  await org.testApp.db
    .insertInto('second_factors')
    .values({
      id,
      user_id: member.userId,
      kind: 'totp',
      name: 'Phone',
      created_at: now().toISOString(),
      last_used_at: null,
      totp_secret: sealTotpSecret(serverKeys.secretKey('totp-secrets'), secret, member.userId, id),
      totp_last_step: null,
      credential_id: null,
      public_key: null,
      sign_count: null,
      transports: null,
      prf_wrapped_user_key: null,
    })
    .execute();
  secrets.set(member.userId, secret);
}

async function enrolEmailCodes(member: Member): Promise<void> {
  await org.testApp.db
    .insertInto('second_factors')
    .values({
      id: newId(),
      user_id: member.userId,
      kind: 'email',
      name: 'E-mail',
      created_at: now().toISOString(),
      last_used_at: null,
      totp_secret: null,
      totp_last_step: null,
      credential_id: null,
      public_key: null,
      sign_count: null,
      transports: null,
      prf_wrapped_user_key: null,
    })
    .execute();
}

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor'], {
    now,
    env: { KLUIS_LOGIN_LIMIT_PER_IP: '10000' },
  });
  members = {
    client: org.members.client!,
    team: org.members.team!,
    auditor: org.members.auditor!,
    admin: org.admin,
  };
  await enrolTotp(members.client);
  await enrolTotp(members.team);
  await enrolEmailCodes(members.auditor);
}, budget(120_000));
afterAll(() => org?.close());

/** Starts a test from a known state: no lock, no failures, no trusted devices. */
async function resetAccount(member: Member): Promise<void> {
  await org.testApp.db
    .updateTable('users')
    .set({ failed_logins: 0, locked_until: null, lock_notified: 0 })
    .where('id', '=', member.userId)
    .execute();
  await org.testApp.db
    .updateTable('trusted_devices')
    .set({ revoked_at: now().toISOString() })
    .where('user_id', '=', member.userId)
    .where('revoked_at', 'is', null)
    .execute();
}

async function failuresOf(member: Member) {
  const row = await org.testApp.db
    .selectFrom('users')
    .select(['failed_logins', 'locked_until'])
    .where('id', '=', member.userId)
    .executeTakeFirstOrThrow();
  return {
    failures: row.failed_logins,
    locked: row.locked_until !== null && row.locked_until > now().toISOString(),
  };
}

const sent = () =>
  (org.testApp.notifier as unknown as { sent: { to: string; notification: Notification }[] }).sent;
const lockMailsTo = (member: Member) =>
  sent().filter((m) => m.to === member.email && m.notification.kind === 'account_locked').length;

async function auditOf(action: string, userId: string) {
  const rows = await org.testApp.db
    .selectFrom('audit_events')
    .select(['actor_id', 'target_id', 'details'])
    .where('action', '=', action)
    .where((eb) => eb.or([eb('target_id', '=', userId), eb('actor_id', '=', userId)]))
    .orderBy('seq')
    .execute();
  return rows.map((row) => ({
    actorId: row.actor_id,
    targetId: row.target_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
  }));
}

/** The password step alone: a right password answers with the second step (login() without a prompt throws it). */
async function passwordStep(
  member: Member,
  client: BrowserLikeClient = org.newClient(),
): Promise<SecondFactorChallenge> {
  const error: unknown = await login(client.api, member.email, member.password, fast).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecondFactorNeededError);
  return (error as SecondFactorNeededError).challenge;
}

/** A full sign-in with the member's authenticator app; `trustDevice` ticks "trust this browser". */
async function signIn(
  member: Member,
  client: BrowserLikeClient = org.newClient(),
  trustDevice = false,
): Promise<BrowserLikeClient> {
  nextTotpStep();
  await login(client.api, member.email, member.password, {
    ...fast,
    secondFactor: () => Promise.resolve({ method: 'totp', code: totpOf(member), trustDevice }),
  });
  return client;
}

/** OPAQUE start now, finish later: lets other attempts run in between. */
async function beginLogin(client: BrowserLikeClient, member: Member) {
  const attempt = await startOpaqueLogin(member.password);
  const started = await client.api(startLogin, {
    body: { email: member.email, startLoginRequest: attempt.request },
  });
  return async () => {
    const finished = await finishOpaqueLogin(
      attempt.state,
      started.loginResponse,
      member.password,
      fast.keyStretching,
    );
    return client.api(finishLogin, {
      body: { loginId: started.loginId, finishLoginRequest: finished.finishRequest },
    });
  };
}

async function wrongPassword(member: Member): Promise<void> {
  await expect(
    login(org.newClient().api, member.email, `${member.password}-wrong`, fast),
  ).rejects.toBeInstanceOf(LoginRejectedError);
}

const answer = (
  client: BrowserLikeClient,
  challengeId: string,
  code: string,
  trustDevice = false,
) => client.api(verifySecondFactor, { body: { challengeId, method: 'totp', code, trustDevice } });

/** The error code a call failed with (fails the test when it did not). */
async function codeOf(call: Promise<unknown>): Promise<string> {
  const error = (await call.then(
    () => ({ code: 'no error' }),
    (e: unknown) => e,
  )) as { code: string };
  return error.code;
}

const sessionsOf = (member: Member) =>
  org.testApp.db.selectFrom('sessions').select('id').where('user_id', '=', member.userId).execute();

describe('the sign-in order: password, then the second factor, then the session and the key safe', () => {
  it('answers a right password with the second step only: no cookie, no session, no key safe', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const sessionsBefore = (await sessionsOf(client)).length;
    const challenge = await passwordStep(client, browser);

    expect(challenge.challengeId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge.methods).toEqual(['totp']);
    expect(challenge).not.toHaveProperty('trustedDevice');
    expect(new Date(challenge.expiresAt).getTime() - now().getTime()).toBeGreaterThan(4 * 60_000);
    expect(new Date(challenge.expiresAt).getTime() - now().getTime()).toBeLessThanOrEqual(
      5 * 60_000,
    );
    expect(browser.setCookies).toEqual([]);
    expect(browser.cookies.size).toBe(0);
    expect((await sessionsOf(client)).length).toBe(sessionsBefore);
    // The right password is not counted: startLogin's count was taken back.
    expect(await failuresOf(client)).toEqual({ failures: 0, locked: false });
    await expect(browser.api(getSession, {})).rejects.toMatchObject({
      status: 401,
      code: 'unauthenticated',
    });
  });

  it('lets a half-signed-in browser do nothing else: every session endpoint answers unauthenticated, the step id is no session token', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    const registered = new Set(org.testApp.app.routes.map((r) => `${r.method} ${r.path}`));
    const sessionOnly = Object.values(endpoints).filter(
      (e) => e.access !== 'public' && registered.has(`${e.method.toUpperCase()} ${e.path}`),
    );
    expect(sessionOnly.length).toBeGreaterThan(40);
    for (const cookie of [undefined, `kluis_session=${challenge.challengeId}`]) {
      for (const endpoint of sessionOnly) {
        const path = endpoint.path.replace(/:[A-Za-z]+/g, (param) =>
          param === ':n' ? '0' : 'AAAAAAAAAAAAAAAAAAAAAA',
        );
        const response = await fetch(org.server.baseUrl + path, {
          method: endpoint.method.toUpperCase(),
          headers: {
            Origin: org.testApp.config.publicOrigin,
            'Content-Type': 'application/json',
            ...(cookie ? { Cookie: cookie } : {}),
          },
          ...(endpoint.method === 'get' ? {} : { body: '{}' }),
        });
        const body = (await response.json()) as { error?: { code: string } };
        expect(
          [response.status, body.error?.code],
          `${endpoint.operationId} with ${cookie ?? 'no cookie'}`,
        ).toEqual([401, 'unauthenticated']);
      }
    }
    // The step itself still works afterwards.
    nextTotpStep();
    await answer(browser, challenge.challengeId, totpOf(client));
    await expect(browser.api(getSession, {})).resolves.toMatchObject({
      user: { id: client.userId },
    });
  });

  it('opens the session with a right code: the session cookie, the key safe, and the audit trail', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    nextTotpStep();
    const bundle = await answer(browser, challenge.challengeId, totpOf(client));
    expect(bundle.session.user.id).toBe(client.userId);
    expect(bundle.keys.keySafe).toBeTruthy();
    expect([...browser.cookies.keys()]).toEqual(['kluis_session']);
    await expect(browser.api(getSession, {})).resolves.toMatchObject({
      user: { id: client.userId },
    });

    const factorId = (
      await org.testApp.db
        .selectFrom('second_factors')
        .select('id')
        .where('user_id', '=', client.userId)
        .where('kind', '=', 'totp')
        .executeTakeFirstOrThrow()
    ).id;
    expect((await auditOf('auth.second_factor_used', client.userId)).at(-1)).toEqual({
      actorId: client.userId,
      targetId: client.userId,
      details: { method: 'totp', factorId },
    });
    expect((await auditOf('auth.login_succeeded', client.userId)).at(-1)?.details).toEqual({
      method: 'second_factor',
      factor: 'totp',
    });
    // The step works once.
    nextTotpStep();
    expect(await codeOf(answer(org.newClient(), challenge.challengeId, totpOf(client)))).toBe(
      'second_factor_expired',
    );
  });

  it('refuses a second step without the password step (a made-up step id): second_factor_expired, nothing counted', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const made = randomBytes(32).toString('base64url');
    expect(await codeOf(answer(browser, made, totpOf(client)))).toBe('second_factor_expired');
    expect(await codeOf(browser.api(sendLoginEmailCode, { body: { challengeId: made } }))).toBe(
      'second_factor_expired',
    );
    expect(await failuresOf(client)).toEqual({ failures: 0, locked: false });
    expect(browser.cookies.size).toBe(0);
  });

  it('refuses a step answered after five minutes: second_factor_expired, nothing counted, no session', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    clock.offsetMs += 5 * 60_000 + 1000;
    expect(await codeOf(answer(browser, challenge.challengeId, totpOf(client)))).toBe(
      'second_factor_expired',
    );
    expect(await failuresOf(client)).toEqual({ failures: 0, locked: false });
    expect(browser.cookies.size).toBe(0);
  });

  it('refuses a method the account does not have with second_factor_unavailable, counting nothing', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    const refused = browser.api(verifySecondFactor, {
      body: {
        challengeId: challenge.challengeId,
        method: 'backup',
        code: 'ABCDE-FGHJK',
        trustDevice: false,
      },
    });
    await expect(refused).rejects.toMatchObject({ status: 409, code: 'second_factor_unavailable' });
    expect(
      await codeOf(
        browser.api(sendLoginEmailCode, { body: { challengeId: challenge.challengeId } }),
      ),
    ).toBe('second_factor_unavailable');
    expect(await failuresOf(client)).toEqual({ failures: 0, locked: false });
  });

  it("refuses a code of another account on this account's step", async () => {
    const { client, team } = members;
    await resetAccount(client);
    const challenge = await passwordStep(client);
    nextTotpStep();
    expect(await codeOf(answer(org.newClient(), challenge.challengeId, totpOf(team)))).toBe(
      'second_factor_invalid',
    );
    expect((await failuresOf(client)).failures).toBe(1);
  });
});

describe('wrong codes count on the same counter as wrong passwords', () => {
  it('locks the account after three wrong codes, with one lock e-mail, and drops the step', async () => {
    const { client } = members;
    await resetAccount(client);
    const mailsBefore = lockMailsTo(client);
    const failedBefore = (await auditOf('auth.second_factor_failed', client.userId)).length;
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    await expect(answer(browser, challenge.challengeId, wrongCodeOf(client))).rejects.toMatchObject(
      { status: 401, code: 'second_factor_invalid' },
    );
    expect(await failuresOf(client)).toEqual({ failures: 1, locked: false });
    await expect(answer(browser, challenge.challengeId, wrongCodeOf(client))).rejects.toMatchObject(
      { status: 401, code: 'second_factor_invalid' },
    );
    expect(await failuresOf(client)).toEqual({ failures: 2, locked: false });
    await expect(answer(browser, challenge.challengeId, wrongCodeOf(client))).rejects.toMatchObject(
      { status: 423, code: 'account_locked' },
    );
    expect(await failuresOf(client)).toEqual({ failures: 3, locked: true });
    expect(lockMailsTo(client) - mailsBefore).toBe(1);
    expect(
      (await auditOf('auth.second_factor_failed', client.userId))
        .slice(failedBefore)
        .map((e) => e.details),
    ).toEqual(Array(3).fill({ method: 'totp', reason: 'second_factor_invalid' }));
    expect((await auditOf('auth.account_locked', client.userId)).at(-1)?.details).toMatchObject({
      failures: 3,
    });
    // The step is gone: even the right code does not open it now, and the password gets a locked account's fake answer.
    nextTotpStep();
    expect(await codeOf(answer(browser, challenge.challengeId, totpOf(client)))).toBe(
      'second_factor_expired',
    );
    await expect(
      login(org.newClient().api, client.email, client.password, fast),
    ).rejects.toBeInstanceOf(LoginRejectedError);
    expect(browser.cookies.size).toBe(0);
  });

  it('counts a wrong password, a right password and wrong codes exactly as three wrong passwords', async () => {
    const { client } = members;
    await resetAccount(client);
    const mailsBefore = lockMailsTo(client);
    await wrongPassword(client);
    expect(await failuresOf(client)).toEqual({ failures: 1, locked: false });
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    expect(await failuresOf(client)).toEqual({ failures: 1, locked: false });
    expect(await codeOf(answer(browser, challenge.challengeId, wrongCodeOf(client)))).toBe(
      'second_factor_invalid',
    );
    expect(await codeOf(answer(browser, challenge.challengeId, wrongCodeOf(client)))).toBe(
      'account_locked',
    );
    expect(await failuresOf(client)).toEqual({ failures: 3, locked: true });
    expect(lockMailsTo(client) - mailsBefore).toBe(1);
  });

  it('resets the counter when a right code follows wrong ones', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    expect(await codeOf(answer(browser, challenge.challengeId, wrongCodeOf(client)))).toBe(
      'second_factor_invalid',
    );
    expect(await codeOf(answer(browser, challenge.challengeId, wrongCodeOf(client)))).toBe(
      'second_factor_invalid',
    );
    nextTotpStep();
    await answer(browser, challenge.challengeId, totpOf(client));
    expect(await failuresOf(client)).toEqual({ failures: 0, locked: false });
  });

  it('checks no more than three of many parallel wrong codes: the count is taken before the check', async () => {
    const { team } = members;
    await resetAccount(team);
    const mailsBefore = lockMailsTo(team);
    const failedBefore = (await auditOf('auth.second_factor_failed', team.userId)).length;
    const browser = org.newClient();
    const challenge = await passwordStep(team, browser);
    const codes = await Promise.all(
      Array.from({ length: 12 }, () =>
        codeOf(answer(browser, challenge.challengeId, wrongCodeOf(team))),
      ),
    );
    expect(codes.filter((c) => c === 'second_factor_invalid')).toHaveLength(2);
    expect(codes).toContain('account_locked');
    expect(
      codes.filter(
        (c) => !['second_factor_invalid', 'account_locked', 'second_factor_expired'].includes(c),
      ),
    ).toEqual([]);
    expect(await failuresOf(team)).toEqual({ failures: 3, locked: true });
    expect((await auditOf('auth.second_factor_failed', team.userId)).length - failedBefore).toBe(3);
    expect(lockMailsTo(team) - mailsBefore).toBe(1);
    expect(browser.cookies.size).toBe(0);
  });

  it('lets no right code through a burst of wrong ones: each answer is counted before it is checked', async () => {
    // This in-process server finishes one request before it reads the next, so HTTP alone cannot
    // interleave them; calling the service directly starts all twelve before the first is counted.
    const { team } = members;
    await resetAccount(team);
    const failedBefore = (await auditOf('auth.second_factor_failed', team.userId)).length;
    const sessionsBefore = (await sessionsOf(team)).length;
    const challenge = await passwordStep(team);
    nextTotpStep();
    const auth = org.testApp.services.auth;
    const guesses = [...Array.from({ length: 11 }, () => wrongCodeOf(team)), totpOf(team)];
    const codes = await Promise.all(
      guesses.map((code) => codeOf(auth.verifySecondFactor({ challengeId: challenge.challengeId, method: 'totp', code, trustDevice: false }, '127.0.0.1', null))),
    );
    expect(codes.filter((c) => c === 'second_factor_invalid')).toHaveLength(2);
    expect(codes.filter((c) => c === 'account_locked')).toHaveLength(10);
    // The right code came last: the account was locked before it was looked at.
    expect(codes.at(-1)).toBe('account_locked');
    expect((await auditOf('auth.second_factor_failed', team.userId)).length - failedBefore).toBe(3);
    expect(await failuresOf(team)).toEqual({ failures: 3, locked: true });
    expect((await sessionsOf(team)).length).toBe(sessionsBefore);
  });

  it("takes back a right password's count and the lock that count set (two wrong passwords, then the right one)", async () => {
    const { client } = members;
    await resetAccount(client);
    const mailsBefore = lockMailsTo(client);
    await wrongPassword(client);
    await wrongPassword(client);
    const browser = org.newClient();
    const finish = await beginLogin(browser, client);
    // This attempt's own count is the third: it locked the account until the password proves right.
    expect(await failuresOf(client)).toEqual({ failures: 3, locked: true });
    const outcome = await finish();
    expect(outcome).toHaveProperty('secondFactor');
    expect(await failuresOf(client)).toEqual({ failures: 2, locked: false });
    expect(lockMailsTo(client) - mailsBefore).toBe(0);
    // One wrong code now locks, as a third wrong password would.
    const { challengeId } = (outcome as { secondFactor: SecondFactorChallenge }).secondFactor;
    expect(await codeOf(answer(browser, challengeId, wrongCodeOf(client)))).toBe('account_locked');
    expect(await failuresOf(client)).toEqual({ failures: 3, locked: true });
    expect(lockMailsTo(client) - mailsBefore).toBe(1);
  });

  it('never lifts a lock that other attempts set while the right password was on its way, and tells the user once', async () => {
    const { client } = members;
    await resetAccount(client);
    const mailsBefore = lockMailsTo(client);
    const browser = org.newClient();
    const finish = await beginLogin(browser, client);
    await wrongPassword(client);
    await wrongPassword(client);
    expect(await failuresOf(client)).toEqual({ failures: 3, locked: true });
    // The lock e-mail waits while an attempt is open (it might have been the owner's).
    expect(lockMailsTo(client) - mailsBefore).toBe(0);
    const outcome = await finish();
    expect(await failuresOf(client)).toEqual({ failures: 2, locked: true });
    expect(lockMailsTo(client) - mailsBefore).toBe(1);
    const { challengeId } = (outcome as { secondFactor: SecondFactorChallenge }).secondFactor;
    nextTotpStep();
    expect(await codeOf(answer(browser, challengeId, totpOf(client)))).toBe('account_locked');
    expect(browser.cookies.size).toBe(0);
    expect(await codeOf(answer(browser, challengeId, totpOf(client)))).toBe(
      'second_factor_expired',
    );
  });
  it('lifts only its own lock: a lock set again by others after an unlock stays', async () => {
    const { client, admin } = members;
    await resetAccount(client);
    await wrongPassword(client);
    await wrongPassword(client);
    const browser = org.newClient();
    const finish = await beginLogin(browser, client);
    expect(await failuresOf(client)).toEqual({ failures: 3, locked: true });
    // Someone lifts that lock; three wrong passwords a moment later lock the account again.
    await (await org.relogin(admin)).client.api(unlockUser, { params: { id: client.userId } });
    nextTotpStep();
    for (let i = 0; i < 3; i++) await wrongPassword(client);
    expect(await failuresOf(client)).toEqual({ failures: 3, locked: true });
    const outcome = await finish();
    expect(outcome).toHaveProperty('secondFactor');
    expect(await failuresOf(client)).toEqual({ failures: 2, locked: true });
  });
  it('never takes the counter below 0 (an unlock while the right password was on its way)', async () => {
    const { client, admin } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const finish = await beginLogin(browser, client);
    expect(await failuresOf(client)).toEqual({ failures: 1, locked: false });
    await (await org.relogin(admin)).client.api(unlockUser, { params: { id: client.userId } });
    expect(await finish()).toHaveProperty('secondFactor');
    expect(await failuresOf(client)).toEqual({ failures: 0, locked: false });
  });

  it('counts nothing when the factor went away after the step was made: second_factor_unavailable', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = org.newClient();
    const challenge = await passwordStep(client, browser);
    const secret = secrets.get(client.userId)!;
    await org.testApp.db.deleteFrom('second_factors').where('user_id', '=', client.userId).execute();
    try {
      nextTotpStep();
      await expect(answer(browser, challenge.challengeId, rfc6238(secret, now()))).rejects.toMatchObject({ status: 409, code: 'second_factor_unavailable' });
      expect(await failuresOf(client)).toEqual({ failures: 0, locked: false });
      expect(browser.cookies.size).toBe(0);
    } finally {
      await enrolTotp(client);
    }
  });
});

describe('sign-in codes by e-mail', () => {
  const codeMailsTo = (member: Member) =>
    sent().flatMap((m) =>
      m.to === member.email && m.notification.kind === 'second_factor_code' ? [m.notification] : [],
    );

  it('sends a code for the pending step, signs in with it, and limits how many are sent', async () => {
    const { auditor } = members;
    await resetAccount(auditor);
    pinAtFreshWindow();
    try {
      const browser = org.newClient();
      const challenge = await passwordStep(auditor, browser);
      expect(challenge.methods).toEqual(['email']);
      const before = codeMailsTo(auditor).length;
      await browser.api(sendLoginEmailCode, { body: { challengeId: challenge.challengeId } });
      const mails = codeMailsTo(auditor);
      expect(mails).toHaveLength(before + 1);
      const code = (mails.at(-1) as { code: string }).code;
      expect(code).toMatch(/^[0-9]{6}$/);
      await browser.api(verifySecondFactor, {
        body: { challengeId: challenge.challengeId, method: 'email', code, trustDevice: false },
      });
      await expect(browser.api(getSession, {})).resolves.toMatchObject({
        user: { id: auditor.userId },
      });

      // Per step: three sends, then rate_limited.
      const step = await passwordStep(auditor);
      for (let i = 0; i < 3; i++)
        await org.newClient().api(sendLoginEmailCode, { body: { challengeId: step.challengeId } });
      await expect(
        org.newClient().api(sendLoginEmailCode, { body: { challengeId: step.challengeId } }),
      ).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
      // Per person across steps: the code sender's own limit (five per 15 minutes), four used above.
      const other = await passwordStep(auditor);
      await org.newClient().api(sendLoginEmailCode, { body: { challengeId: other.challengeId } });
      await expect(
        org.newClient().api(sendLoginEmailCode, { body: { challengeId: other.challengeId } }),
      ).rejects.toMatchObject({ status: 429, code: 'rate_limited' });
      expect(codeMailsTo(auditor)).toHaveLength(before + 5);
    } finally {
      unpin();
    }
  });
});

describe('trusted devices', () => {
  const deviceRows = (member: Member) =>
    org.testApp.db
      .selectFrom('trusted_devices')
      .selectAll()
      .where('user_id', '=', member.userId)
      .orderBy('created_at')
      .execute();
  const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

  /** Signs in trusting the browser, then signs out (the trusted-device cookie stays). */
  async function trustedBrowser(member: Member): Promise<BrowserLikeClient> {
    const browser = await signIn(member, org.newClient(), true);
    await browser.api(logout, {});
    expect(browser.cookies.has('kluis_session')).toBe(false);
    return browser;
  }

  it('sets an HttpOnly, SameSite=Strict cookie of 256 bits for 30 days, stored only as its hash with its user', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = await signIn(client, org.newClient(), true);
    const line = browser.setCookies.find((l) => l.startsWith('kluis_trusted='))!;
    expect(line).toMatch(/; HttpOnly/i);
    expect(line).toMatch(/; SameSite=Strict/i);
    expect(line).toMatch(/; Path=\//i);
    const expires = new Date(/Expires=([^;]+)/i.exec(line)![1]!).getTime();
    expect(Math.abs(expires - (now().getTime() + 30 * 24 * 3_600_000))).toBeLessThan(60_000);
    const token = browser.cookies.get('kluis_trusted')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = (await deviceRows(client)).filter((r) => r.revoked_at === null);
    expect(row).toMatchObject({ user_id: client.userId, token_hash: sha256(token) });
    expect(JSON.stringify(await deviceRows(client))).not.toContain(token);
    expect((await auditOf('auth.trusted_device_added', client.userId)).at(-1)).toMatchObject({
      actorId: client.userId,
      targetId: row!.id,
    });
  });

  it('skips the second factor in the trusted browser only, and lists it as the current one', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = await trustedBrowser(client);
    const { bundle } = await login(browser.api, client.email, client.password, fast);
    expect(bundle.session.user.id).toBe(client.userId);
    const [device] = (await deviceRows(client)).filter((r) => r.revoked_at === null);
    expect(device!.last_used_at).not.toBeNull();
    expect((await auditOf('auth.login_succeeded', client.userId)).at(-1)?.details).toEqual({
      method: 'trusted_device',
      deviceId: device!.id,
    });
    expect(await browser.api(listTrustedDevices, {})).toMatchObject({
      devices: [{ id: device!.id, current: true }],
    });
    // Another browser is asked, and is not the current device.
    const other = await signIn(client);
    expect(await other.api(listTrustedDevices, {})).toMatchObject({
      devices: [{ id: device!.id, current: false }],
    });
  });

  it('ignores a forged cookie: the step says "invalid", and no session is opened', async () => {
    const { client } = members;
    await resetAccount(client);
    for (const forged of [randomBytes(32).toString('base64url'), 'not-a-token']) {
      const browser = org.newClient();
      browser.cookies.set('kluis_trusted', forged);
      const challenge = await passwordStep(client, browser);
      expect(challenge.trustedDevice).toBe('invalid');
      expect(browser.cookies.has('kluis_session')).toBe(false);
    }
  });

  it('ignores another account\'s trusted device: "other_account", and that device still works for its own account', async () => {
    const { client, team } = members;
    await resetAccount(client);
    await resetAccount(team);
    const teamBrowser = await trustedBrowser(team);
    const browser = org.newClient();
    browser.cookies.set('kluis_trusted', teamBrowser.cookies.get('kluis_trusted')!);
    const challenge = await passwordStep(client, browser);
    expect(challenge.trustedDevice).toBe('other_account');
    expect(browser.cookies.has('kluis_session')).toBe(false);
    await login(teamBrowser.api, team.email, team.password, fast);
  });

  it('ignores a revoked device ("revoked") and an expired one ("expired")', async () => {
    const { client } = members;
    await resetAccount(client);
    const revoked = await trustedBrowser(client);
    const session = await signIn(client);
    const { devices } = await session.api(listTrustedDevices, {});
    await session.api(revokeTrustedDevice, { params: { id: devices[0]!.id } });
    expect((await auditOf('auth.trusted_device_revoked', client.userId)).at(-1)).toMatchObject({
      targetId: devices[0]!.id,
      details: { by: 'self' },
    });
    expect((await passwordStep(client, revoked)).trustedDevice).toBe('revoked');
    expect(revoked.cookies.has('kluis_session')).toBe(false);

    const expired = await trustedBrowser(client);
    clock.offsetMs += 30 * 24 * 3_600_000 + 60_000;
    expect((await passwordStep(client, expired)).trustedDevice).toBe('expired');
    expect(expired.cookies.has('kluis_session')).toBe(false);
  });

  it("revokes only one's own trusted devices: another person's device id is not_found and keeps working", async () => {
    const { client, team } = members;
    await resetAccount(client);
    await resetAccount(team);
    const teamBrowser = await trustedBrowser(team);
    const [teamDevice] = (await deviceRows(team)).filter((r) => r.revoked_at === null);
    const clientSession = await signIn(client);
    await expect(
      clientSession.api(revokeTrustedDevice, { params: { id: teamDevice!.id } }),
    ).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await login(teamBrowser.api, team.email, team.password, fast);
  });

  it('revokes every trusted device when the password changes', async () => {
    const { client } = members;
    await resetAccount(client);
    const trusted = await trustedBrowser(client);
    const session = await signIn(client);
    const newPassword = 'zilveren-maan-boven-het-ijsselmeer';
    // Changing the password signs in again first: in this browser's live session (re-authentication).
    await changePassword(
      session.api,
      (await login(session.api, client.email, client.password, fast)).vault,
      client.password,
      newPassword,
      fast,
    );
    client.password = newPassword;
    expect((await deviceRows(client)).filter((r) => r.revoked_at === null)).toEqual([]);
    expect((await auditOf('auth.trusted_device_revoked', client.userId)).at(-1)).toMatchObject({
      details: { by: 'password_change', devices: 1 },
    });
    expect((await passwordStep(client, trusted)).trustedDevice).toBe('revoked');
  });

  describe("a manager stops trusting someone's browsers", () => {
    it('as the role hierarchy allows, with a recent login, never for oneself; the person is e-mailed', async () => {
      const { client, team, admin } = members;
      await resetAccount(client);
      await resetAccount(team);
      const trusted = await trustedBrowser(client);
      const adminBrowser = (await org.relogin(admin)).client;
      const teamTrusted = await trustedBrowser(team);

      // A Team Member manages clients only; nobody uses this for themselves.
      const teamSession = await signIn(team);
      await expect(
        teamSession.api(revokeUserTrustedDevices, { params: { id: admin.userId } }),
      ).rejects.toMatchObject({ status: 403, code: 'forbidden' });
      await expect(
        adminBrowser.api(revokeUserTrustedDevices, { params: { id: admin.userId } }),
      ).rejects.toMatchObject({ status: 403, code: 'forbidden' });
      await expect(
        adminBrowser.api(revokeUserTrustedDevices, { params: { id: 'AAAAAAAAAAAAAAAAAAAAAA' } }),
      ).rejects.toMatchObject({ status: 404, code: 'not_found' });
      // An old login is not enough.
      clock.offsetMs += 16 * 60_000;
      await expect(
        adminBrowser.api(revokeUserTrustedDevices, { params: { id: client.userId } }),
      ).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
      expect((await deviceRows(client)).filter((r) => r.revoked_at === null)).toHaveLength(1);

      const mailsBefore = sent().filter(
        (m) => m.to === client.email && m.notification.kind === 'trusted_devices_revoked',
      ).length;
      const freshAdmin = (await org.relogin(admin)).client;
      await freshAdmin.api(revokeUserTrustedDevices, { params: { id: client.userId } });
      expect((await deviceRows(client)).filter((r) => r.revoked_at === null)).toEqual([]);
      expect(
        sent().filter(
          (m) => m.to === client.email && m.notification.kind === 'trusted_devices_revoked',
        ),
      ).toHaveLength(mailsBefore + 1);
      expect((await auditOf('auth.trusted_device_revoked', client.userId)).at(-1)).toEqual({
        actorId: admin.userId,
        targetId: client.userId,
        details: { by: 'manager', devices: 1 },
      });
      expect((await passwordStep(client, trusted)).trustedDevice).toBe('revoked');

      // A Team Member may for a client; the Administrator for a Team Member.
      const team2 = await signIn(team);
      await team2.api(revokeUserTrustedDevices, { params: { id: client.userId } });
      await freshAdmin.api(revokeUserTrustedDevices, { params: { id: team.userId } });
      expect((await passwordStep(team, teamTrusted)).trustedDevice).toBe('revoked');
    });
  });
});

describe('re-authentication in a signed-in browser', () => {
  it('asks no second factor of a browser holding a live session of the same user, and replaces that session', async () => {
    const { client } = members;
    await resetAccount(client);
    const browser = await signIn(client);
    const before = browser.cookies.get('kluis_session');
    const { bundle } = await login(browser.api, client.email, client.password, fast);
    expect(bundle.session.user.id).toBe(client.userId);
    expect(browser.cookies.get('kluis_session')).not.toBe(before);
    expect((await auditOf('auth.login_succeeded', client.userId)).at(-1)?.details).toEqual({
      method: 'password',
      reauthentication: true,
    });
    // The replaced session is over.
    const old = await fetch(`${org.server.baseUrl}/api/auth/session`, {
      headers: { Cookie: `kluis_session=${before}` },
    });
    expect(old.status).toBe(401);
  });

  it("asks it of a browser holding another user's session, or an ended one", async () => {
    const { client, team } = members;
    await resetAccount(client);
    const teamBrowser = await signIn(team);
    await passwordStep(client, teamBrowser);
    // The team member's session is left alone by the half-finished sign-in.
    await expect(teamBrowser.api(getSession, {})).resolves.toMatchObject({
      user: { id: team.userId },
    });

    const ended = await signIn(client);
    const token = ended.cookies.get('kluis_session')!;
    await ended.api(logout, {});
    ended.cookies.set('kluis_session', token);
    await passwordStep(client, ended);
  });
});

describe('a second step left unanswered', () => {
  /** The abandoned-step e-mails to `member` about the step the password made at `challenge` (its start: five minutes before it expires). */
  const abandonedMails = (member: Member, challenge: SecondFactorChallenge) => {
    const startedAt = new Date(Date.parse(challenge.expiresAt) - 5 * 60_000).toISOString();
    return sent().filter(
      (m) => m.to === member.email && m.notification.kind === 'login_second_step_abandoned' && m.notification.at === startedAt,
    );
  };

  it('tells the person once, when it expires, that their right password was used; not after a right answer or a lock', async () => {
    const { team } = members;
    await resetAccount(team);
    // Left after a wrong answer.
    const leftBrowser = org.newClient();
    const left = await passwordStep(team, leftBrowser);
    nextTotpStep();
    await expect(answer(leftBrowser, left.challengeId, wrongCodeOf(team))).rejects.toMatchObject({ code: 'second_factor_invalid' });
    // Answered right.
    nextTotpStep();
    const rightBrowser = org.newClient();
    const right = await passwordStep(team, rightBrowser);
    await answer(rightBrowser, right.challengeId, totpOf(team));
    // Ended by a lock (its own e-mail).
    nextTotpStep();
    await resetAccount(team);
    const lockedBrowser = org.newClient();
    const locked = await passwordStep(team, lockedBrowser);
    for (const expected of ['second_factor_invalid', 'second_factor_invalid', 'account_locked']) {
      expect(await codeOf(answer(lockedBrowser, locked.challengeId, wrongCodeOf(team)))).toBe(expected);
    }

    await org.testApp.services.auth.notifyLocks();
    expect(abandonedMails(team, left)).toEqual([]);
    clock.offsetMs += 5 * 60_000 + 1000;
    // Reading the expired step (a late answer) does not hide it from the notice.
    expect(await codeOf(answer(leftBrowser, left.challengeId, totpOf(team)))).toBe('second_factor_expired');
    await Promise.all([org.testApp.services.auth.notifyLocks(), org.testApp.services.auth.notifyLocks()]);
    await org.testApp.services.auth.notifyLocks();

    expect(abandonedMails(team, left).map((m) => m.notification)).toEqual([
      { kind: 'login_second_step_abandoned', organisationName: 'Kantoor De Vries', at: new Date(Date.parse(left.expiresAt) - 5 * 60_000).toISOString() },
    ]);
    expect(abandonedMails(team, right)).toEqual([]);
    expect(abandonedMails(team, locked)).toEqual([]);
    expect((await auditOf('auth.second_factor_abandoned', team.userId)).map((e) => e.details)).toContainEqual({
      startedAt: new Date(Date.parse(left.expiresAt) - 5 * 60_000).toISOString(),
    });
    await resetAccount(team);
  });
});
