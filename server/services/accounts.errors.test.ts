// Integration: every account error code, lockout races, the per-IP throttle, enumeration resistance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  endpoints,
  finishLogin,
  finishSetup,
  getSession,
  listUsers,
  lookupInvitation,
  startLogin,
  startPasswordChange,
  startRecovery,
  startSetup,
  startSignup,
  unlockUser,
  updateSettings,
  type Role,
} from '../../shared/api';
import { startOpaqueLogin, startOpaqueRegistration } from '../../shared/crypto';
import { invite, login, LoginRejectedError } from '../../shared/flows/account-flows';
import { createTestOrganisation, fast, invitationLinkFor, parseInvitationLink, type TestOrganisation } from '../test/org-fixture';
import { LOGIN_IP_WINDOW_MS } from './auth.service';
import type { Notification } from './notifications';
import { budget } from '../test/budget';

/** The server's clock: the wall clock moved by `offsetMs`, or stopped at `pinnedMs` while that is set. */
const clock = { offsetMs: 0, pinnedMs: null as number | null };
const now = () => new Date(clock.pinnedMs ?? Date.now() + clock.offsetMs);

let org: TestOrganisation;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor'], { now, env: { KLUIS_LOGIN_LIMIT_PER_IP: '200' } });
}, budget(120_000));
afterAll(() => org?.close());

/** A raw request as a browser on our origin would send it, with the member's cookie if given. */
async function raw(method: string, path: string, options: { body?: string; cookie?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(org.server.baseUrl + path, {
    method,
    headers: {
      Origin: org.testApp.config.publicOrigin,
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(options.cookie ? { Cookie: options.cookie } : {}),
      ...options.headers,
    },
    body: options.body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as { error?: { code: string; message: string } }) : null };
}

async function countLoginFailures(userId: string): Promise<number> {
  const rows = await org.testApp.db.selectFrom('audit_events').select('id').where('action', '=', 'auth.login_failed').where('target_id', '=', userId).execute();
  return rows.length;
}

const cookieOf = (role: Role) => {
  const member = role === 'admin' ? org.admin : org.members[role]!;
  return [...member.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
};

// Which role may call which route: the hand-written table in server/routes/permissions.test.ts.
describe('authorisation: who invites and unlocks whom', () => {
  it('lets Team Members invite clients only, and lift locks of clients only', async () => {
    const team = org.members.team!;
    await expect(invite(team.client.api, team.vault, { email: 'x@kluis.test', role: 'team', language: 'en' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(team.client.api(unlockUser, { params: { id: org.admin.userId } })).rejects.toMatchObject({ code: 'forbidden' });
    const { users } = await team.client.api(listUsers, {});
    expect(users.map((u) => u.role)).not.toContain('admin');
  });
});

describe('bad input', () => {
  it('rejects unknown fields, malformed JSON and oversized bodies with specific codes', async () => {
    const unknown = await raw('POST', '/api/auth/login/start', { body: JSON.stringify({ email: 'a@b.nl', startLoginRequest: 'AAAA', extra: 1 }) });
    expect([unknown.status, unknown.body?.error?.code]).toEqual([400, 'validation_failed']);
    const malformed = await raw('POST', '/api/auth/login/start', { body: '{"email":' });
    expect([malformed.status, malformed.body?.error?.code]).toEqual([400, 'malformed_json']);
    const huge = await raw('POST', '/api/auth/login/start', { body: JSON.stringify({ email: 'a@b.nl', startLoginRequest: 'A'.repeat(2 * 1024 * 1024) }) });
    expect([huge.status, huge.body?.error?.code]).toEqual([413, 'payload_too_large']);
  });

  it('answers malformed OPAQUE messages with bad_request, changing nothing', async () => {
    const api = org.newClient().api;
    await expect(api(startLogin, { body: { email: org.members.client!.email, startLoginRequest: 'AAAA' } })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    // Right length, but not a valid group element: the OPAQUE library refuses it.
    await expect(api(startLogin, { body: { email: org.members.client!.email, startLoginRequest: '_'.repeat(128) } })).rejects.toMatchObject({ status: 400, code: 'bad_request' });
    const row = await org.testApp.db.selectFrom('users').select('failed_logins').where('id', '=', org.members.client!.userId).executeTakeFirstOrThrow();
    expect(row.failed_logins).toBe(0);
  });

  it('refuses a finish without a start, a replayed finish and an expired one', async () => {
    const api = org.newClient().api;
    await expect(api(finishLogin, { body: { loginId: 'AAAAAAAAAAAAAAAAAAAAAA', finishLoginRequest: 'A'.repeat(86) } })).rejects.toMatchObject({ status: 410, code: 'login_expired' });

    const member = org.members.auditor!;
    const client = org.newClient();
    await login(client.api, member.email, member.password, fast);
    const replayOf = client.sent.find((r) => r.url.endsWith('/api/auth/login/finish'))!;
    const replay = await raw('POST', '/api/auth/login/finish', { body: replayOf.body });
    expect([replay.status, replay.body?.error?.code]).toEqual([410, 'login_expired']);

    const attempt = await startOpaqueLogin(member.password);
    const started = await api(startLogin, { body: { email: member.email, startLoginRequest: attempt.request } });
    clock.offsetMs = 4 * 60_000;
    try {
      await expect(api(finishLogin, { body: { loginId: started.loginId, finishLoginRequest: 'A'.repeat(86) } })).rejects.toMatchObject({ code: 'login_expired' });
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('refuses an invalid or reused setup token and a second setup', async () => {
    const api = org.newClient().api;
    const registration = await startOpaqueRegistration('whatever-password');
    await expect(api(startSetup, { body: { setupToken: 'A'.repeat(43), email: 'x@y.nl', registrationRequest: registration.request } })).rejects.toMatchObject({
      code: 'already_set_up',
    });
    const fresh = await org.testApp.services.setup.issueSetupToken();
    await expect(api(startSetup, { body: { setupToken: fresh, email: 'x@y.nl', registrationRequest: registration.request } })).rejects.toMatchObject({
      status: 409,
      code: 'already_set_up',
    });
  });

  it('tells invalid, used and expired invitations apart', async () => {
    const api = org.newClient().api;
    await expect(api(lookupInvitation, { body: { token: 'B'.repeat(43) } })).rejects.toMatchObject({ status: 404, code: 'invitation_invalid' });
    const usedLink = invitationLinkFor(org.testApp, org.members.client!.email);
    await expect(api(lookupInvitation, { body: { token: parseInvitationLink(usedLink).token } })).rejects.toMatchObject({ status: 410, code: 'invitation_used' });
    const team = org.members.team!;
    await invite(team.client.api, team.vault, { email: 'late@kluis.test', role: 'client', language: 'en' });
    const { token } = parseInvitationLink(invitationLinkFor(org.testApp, 'late@kluis.test'));
    clock.offsetMs = 8 * 24 * 3_600_000;
    try {
      const registration = await startOpaqueRegistration('x-password-long');
      await expect(api(startSignup, { body: { token, registrationRequest: registration.request } })).rejects.toMatchObject({ status: 410, code: 'invitation_expired' });
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('refuses invitations outside the allowed e-mail domains', async () => {
    const admin = await org.relogin(org.admin);
    const settings = await admin.client.api(endpoints.getSettings, {});
    await admin.client.api(updateSettings, { body: { ...settings, invitationDomainAllowlist: ['kantoor.nl'] } });
    try {
      await expect(invite(admin.client.api, admin.vault, { email: 'someone@elders.nl', role: 'client', language: 'en' })).rejects.toMatchObject({
        status: 422,
        code: 'email_domain_not_allowed',
      });
    } finally {
      await admin.client.api(updateSettings, { body: settings });
    }
    // An address with an account is answered like any other (server/services/staff-power.test.ts).
  });

  it('asks for the password again for sensitive actions after 15 minutes', async () => {
    const admin = await org.relogin(org.admin);
    const settings = await admin.client.api(endpoints.getSettings, {});
    clock.offsetMs = 16 * 60_000;
    try {
      await expect(admin.client.api(updateSettings, { body: settings })).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
      const registration = await startOpaqueRegistration('nieuw-wachtwoord-x');
      await expect(admin.client.api(startPasswordChange, { body: { registrationRequest: registration.request } })).rejects.toMatchObject({
        code: 'reauthentication_required',
      });
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('ends sessions after their absolute lifetime even when active', async () => {
    const member = await org.relogin(org.members.auditor!);
    for (let minutes = 25; minutes <= 12 * 60; minutes += 25) {
      clock.offsetMs = minutes * 60_000;
      await member.client.api(getSession, {});
    }
    clock.offsetMs = 12 * 60 * 60_000 + 60_000;
    try {
      await expect(member.client.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('ends idle sessions and refuses a recovery link that was never issued', async () => {
    const member = await org.relogin(org.members.auditor!);
    clock.offsetMs = 31 * 60_000;
    try {
      await expect(member.client.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });
    } finally {
      clock.offsetMs = 0;
    }
    const registration = await startOpaqueRegistration('nieuw-wachtwoord-x');
    await expect(
      org.newClient().api(startRecovery, { body: { recoveryToken: 'C'.repeat(43), email: org.admin.email, registrationRequest: registration.request } }),
    ).rejects.toMatchObject({ status: 403, code: 'recovery_token_invalid' });
  });

  it('refuses a setup finish with an unknown registration', async () => {
    const fresh = await org.testApp.services.setup.issueSetupToken();
    const response = await raw('POST', finishSetup.path, { body: JSON.stringify({ setupToken: fresh, registrationId: 'AAAAAAAAAAAAAAAAAAAAAA' }) });
    expect([response.status, response.body?.error?.code]).toEqual([400, 'validation_failed']);
  });

  it('rejects cross-site requests (CSRF) even to public endpoints', async () => {
    const evil = await raw('POST', '/api/auth/login/start', { body: '{}', headers: { Origin: 'https://evil.example' } });
    expect([evil.status, evil.body?.error?.code]).toEqual([403, 'csrf_rejected']);
    const site = await raw('POST', '/api/auth/logout', { cookie: cookieOf('client'), headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect([site.status, site.body?.error?.code]).toEqual([403, 'csrf_rejected']);
  });
});

describe('enumeration resistance', () => {
  it('answers starts for known and unknown addresses with the same shape and size', async () => {
    const api = org.newClient().api;
    const known = await startOpaqueLogin('a-guess');
    const unknown = await startOpaqueLogin('a-guess');
    const a = await api(startLogin, { body: { email: org.members.auditor!.email, startLoginRequest: known.request } });
    const b = await api(startLogin, { body: { email: 'nobody-here@kluis.test', startLoginRequest: unknown.request } });
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    expect(a.loginId.length).toBe(b.loginId.length);
    expect(a.loginResponse.length).toBe(b.loginResponse.length);
    await org.testApp.db.updateTable('users').set({ failed_logins: 0 }).execute();
  });
});

describe('lockout', () => {
  it('50 parallel wrong guesses count exactly N failures, lock the account, and e-mail the user once', async () => {
    const victim = org.members.client!;
    await org.testApp.db.updateTable('users').set({ failed_logins: 0, locked_until: null, lock_notified: 0 }).where('id', '=', victim.userId).execute();
    const failuresBefore = await countLoginFailures(victim.userId);
    const guesses = Array.from({ length: 50 }, (_, i) => login(org.newClient().api, victim.email, `wrong-guess-${i}`, fast));
    const results = await Promise.allSettled(guesses);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof LoginRejectedError)).toBe(true);

    const row = await org.testApp.db.selectFrom('users').selectAll().where('id', '=', victim.userId).executeTakeFirstOrThrow();
    expect(row.failed_logins).toBe(3);
    expect(row.locked_until).not.toBeNull();
    expect((await countLoginFailures(victim.userId)) - failuresBefore).toBe(3);

    // Locked: even the right password is refused, exactly like a wrong one.
    await expect(login(org.newClient().api, victim.email, victim.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);

    // Sweeps run after every failed attempt, in parallel: still one e-mail per lock.
    await Promise.all([org.testApp.services.auth.notifyLocks(), org.testApp.services.auth.notifyLocks()]);
    await org.testApp.services.auth.notifyLocks();
    const sent = (org.testApp.notifier as unknown as { sent: { to: string; notification: Notification }[] }).sent;
    const lockMails = sent.filter((m) => m.to === victim.email && m.notification.kind === 'account_locked');
    expect(lockMails).toHaveLength(1);
    expect(lockMails[0]!.notification).toMatchObject({ failures: 3 });

    // A Team Member lifts the lock; the right password works again.
    const team = await org.relogin(org.members.team!);
    await team.client.api(unlockUser, { params: { id: victim.userId } });
    await expect(login(org.newClient().api, victim.email, victim.password, fast)).resolves.toMatchObject({ vault: { userId: victim.userId } });
  }, budget(60_000));

  it('lets a lock run out after its duration', async () => {
    const victim = org.members.auditor!;
    for (let i = 0; i < 3; i++) await expect(login(org.newClient().api, victim.email, `nope-${i}`, fast)).rejects.toBeInstanceOf(LoginRejectedError);
    await expect(login(org.newClient().api, victim.email, victim.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
    clock.offsetMs = 61 * 60_000;
    try {
      await expect(login(org.newClient().api, victim.email, victim.password, fast)).resolves.toMatchObject({ vault: { userId: victim.userId } });
    } finally {
      clock.offsetMs = 0;
    }
  });

  /** Throttle windows are aligned to the epoch; these days are far from the wall clock and from every other test's offsets. */
  const quietDay = Date.UTC(2100, 0, 1);
  const otherQuietDay = Date.UTC(2100, 0, 2);

  /** `count` login starts for unknown addresses from this test's IP, in order; each outcome 'ok' or the error code. */
  async function loginStarts(count: number): Promise<string[]> {
    const api = org.newClient().api;
    const request = (await startOpaqueLogin('x')).request;
    const outcomes: string[] = [];
    for (let i = 0; i < count; i++) {
      outcomes.push(await api(startLogin, { body: { email: `throttle-${i}@kluis.test`, startLoginRequest: request } }).then(() => 'ok', (e: { code: string }) => e.code));
    }
    return outcomes;
  }

  /** One more login start from this test's IP, sent raw: the answer's status and Retry-After header. */
  async function rawLoginStart(): Promise<[number, string | null]> {
    const response = await fetch(org.server.baseUrl + startLogin.path, {
      method: 'POST',
      headers: { Origin: org.testApp.config.publicOrigin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'throttle-raw@kluis.test', startLoginRequest: (await startOpaqueLogin('x')).request }),
    });
    return [response.status, response.headers.get('Retry-After')];
  }

  it('throttles login starts per IP address across accounts', async () => {
    const limit = org.testApp.config.loginLimitPerIp;
    // The clock stands still inside one window, whatever the wall clock does meanwhile.
    clock.pinnedMs = quietDay + 60_000;
    try {
      const outcomes = await loginStarts(limit + 2);
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(limit);
      expect(outcomes.slice(limit)).toEqual(['rate_limited', 'rate_limited']);
      // One minute into its 5-minute window: the refusal says four minutes.
      expect(await rawLoginStart()).toEqual([429, '240']);
    } finally {
      clock.pinnedMs = null;
    }
  });

  it('starts counting again exactly at the next 5-minute boundary, not a millisecond before', async () => {
    const limit = org.testApp.config.loginLimitPerIp;
    const boundary = otherQuietDay + 7 * LOGIN_IP_WINDOW_MS;
    try {
      clock.pinnedMs = boundary - 1;
      expect(await loginStarts(limit)).toEqual(Array.from({ length: limit }, () => 'ok'));
      expect(await loginStarts(1)).toEqual(['rate_limited']);
      // A millisecond before the boundary is still a whole second by Retry-After's clock.
      expect(await rawLoginStart()).toEqual([429, '1']);
      clock.pinnedMs = boundary;
      expect(await loginStarts(2)).toEqual(['ok', 'ok']);
    } finally {
      clock.pinnedMs = null;
    }
  });
});

describe('IP allowlist for staff', () => {
  it('refuses staff logins and sessions outside the allowlist, not clients', async () => {
    const admin = await org.relogin(org.admin);
    const settings = await admin.client.api(endpoints.getSettings, {});
    // Written directly: saving a list without one's own address is refused (allowlist_excludes_you, staff-power.test.ts),
    // but the office's address can still change under a saved list.
    await org.testApp.db.updateTable('organisation').set({ settings: JSON.stringify({ ...settings, teamIpAllowlist: ['10.0.0.0/8'] }) }).execute();
    try {
      await expect(admin.client.api(getSession, {})).rejects.toMatchObject({ status: 403, code: 'ip_not_allowed' });
      const team = org.members.team!;
      await expect(login(org.newClient().api, team.email, team.password, fast)).rejects.toMatchObject({ code: 'ip_not_allowed' });
      await expect(login(org.newClient().api, org.members.auditor!.email, org.members.auditor!.password, fast)).resolves.toBeDefined();
    } finally {
      await org.testApp.db.updateTable('organisation').set({ settings: JSON.stringify(settings) }).execute();
    }
  });

  it('forces a password change when the password is older than the maximum age', async () => {
    const member = await org.relogin(org.members.auditor!);
    const admin = await org.relogin(org.admin);
    const settings = await admin.client.api(endpoints.getSettings, {});
    await admin.client.api(updateSettings, { body: { ...settings, passwordRules: { ...settings.passwordRules, maxAgeDays: 30 } } });
    clock.offsetMs = 31 * 86_400_000;
    try {
      const relogged = await org.relogin(member);
      await expect(relogged.client.api(listUsers, {})).rejects.toMatchObject({ code: 'forbidden' });
      await expect(relogged.client.api(endpoints.listEscrowHolders, {})).rejects.toMatchObject({ code: 'forbidden' });
      const session = await relogged.client.api(getSession, {});
      expect(session.passwordExpired).toBe(true);
      const team = await org.relogin(org.members.team!);
      await expect(team.client.api(listUsers, {})).rejects.toMatchObject({ status: 403, code: 'password_expired' });
    } finally {
      clock.offsetMs = 0;
      await org.testApp.db.updateTable('organisation').set({ settings: JSON.stringify(settings) }).execute();
    }
  });
});
