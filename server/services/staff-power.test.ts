// Integration (issue 19, items 2-4): invitations do not reveal who has an account; an IP allowlist cannot lock out the
// Administrator saving it, and the operator has a way back; every action that grants or restores staff power needs a
// login less than 15 minutes old.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, getSettings, listInvitations, unlockUser, updateSettings, type OrganisationSettings, type Role } from '../../shared/api';
import { toBase64Url } from '../../shared/crypto';
import { certifiedIdentity, grantEscrowAccess, invite, login, signup } from '../../shared/flows/account-flows';
import type { VerifiedIdentity } from '../../shared/flows/certificates';
import { pinsToFragment } from '../../shared/flows/key-safe';
import { createApp, createServices } from '../app';
import { secretFilePath } from '../auth/server-secret';
import { loadConfig } from '../env';
import { browserLikeClient, listen } from '../lib/node-api-client';
import { prepareInstance } from '../startup';
import { testServerSetup } from '../test/make-test-app';
import { createTestOrganisation, fast, invitationLinkFor, parseInvitationLink, type Member, type TestOrganisation } from '../test/org-fixture';
import { createRecordingNotifier, type Notification } from './notifications';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { budget } from '../test/budget';

const clock = { offsetMs: 0 };
const now = () => new Date(Date.now() + clock.offsetMs);
const SIXTEEN_MINUTES = 16 * 60_000;

let org: TestOrganisation;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor'], { now, env: { KLUIS_LOGIN_LIMIT_PER_IP: '500' } });
}, budget(180_000));
afterAll(() => org?.close());

const sent = () => (org.testApp.notifier as unknown as { sent: { to: string; language: string; notification: Notification }[] }).sent;
const cookieOf = (member: Member) => [...member.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const newInvitationId = () => toBase64Url(crypto.getRandomValues(new Uint8Array(16)));

/** POST /api/invitations as the member's browser sends it; the raw answer (status, content type, body). */
async function rawInvite(member: Member, email: string, role: Role) {
  const id = newInvitationId();
  const response = await fetch(`${org.server.baseUrl}/api/invitations`, {
    method: 'POST',
    headers: { Origin: org.testApp.config.publicOrigin, 'Content-Type': 'application/json', Cookie: cookieOf(member) },
    body: JSON.stringify({ id, email, role, language: 'nl', fragment: pinsToFragment(member.vault.keySafe) }),
  });
  return { id, status: response.status, contentType: response.headers.get('Content-Type'), body: (await response.json()) as Record<string, unknown> };
}

describe('inviting an address that already has an account (item 2)', () => {
  it('answers a Team Member exactly as for a new address, lists it alike, and sends the account holder a notice instead of a link', async () => {
    const team = await org.relogin(org.members.team!);
    const before = sent().length;
    const fresh = await rawInvite(team, 'nieuwe-klant@kluis.test', 'client');
    const probe = await rawInvite(team, org.admin.email, 'client');

    // Same status, content type and body shape; the body holds what the caller sent and the usual 7 days.
    for (const [answer, email] of [
      [fresh, 'nieuwe-klant@kluis.test'],
      [probe, org.admin.email],
    ] as const) {
      expect(answer.status).toBe(201);
      expect(answer.contentType).toBe('application/json');
      expect(Object.keys(answer.body)).toEqual(['invitation']);
      const invitation = answer.body.invitation as Record<string, string>;
      expect(Object.keys(invitation).sort()).toEqual(['createdAt', 'email', 'expiresAt', 'id', 'invitedBy', 'role']);
      expect(invitation).toMatchObject({ id: answer.id, email, role: 'client', invitedBy: team.userId });
      expect(new Date(invitation.expiresAt!).getTime() - new Date(invitation.createdAt!).getTime()).toBe(7 * 24 * 3_600_000);
    }
    // Both are open invitations in the Team Member's list.
    const listed = (await team.client.api(listInvitations, {})).invitations.map((i) => i.id);
    expect(listed).toEqual(expect.arrayContaining([fresh.id, probe.id]));

    // The new address got its invitation link; the Administrator got the notice in their own language ('en', not the
    // 'nl' the inviter chose) with a sign-in link, and no invitation link.
    const mails = sent().slice(before);
    expect(mails.map((m) => [m.to, m.language, m.notification.kind])).toEqual([
      ['nieuwe-klant@kluis.test', 'nl', 'invitation'],
      [org.admin.email, 'en', 'invitation_existing_account'],
    ]);
    expect(mails[1]!.notification).toMatchObject({ link: `${org.testApp.config.publicOrigin}/login`, organisationName: 'Kantoor De Vries' });

    // The audit log says what happened, for the Administrators.
    const audit = await org.testApp.db.selectFrom('audit_events').select(['action', 'details']).where('target_id', '=', probe.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.action).toBe('invitation.created');
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ role: 'client', existingAccount: org.admin.userId });
  });

  it('treats an Administrator\'s invitation of an auditor\'s address alike (201, notice, no link)', async () => {
    const admin = await org.relogin(org.admin);
    const auditor = org.members.auditor!;
    const before = sent().length;
    const answer = await rawInvite(admin, auditor.email, 'team');
    expect(answer.status).toBe(201);
    expect(sent().slice(before).map((m) => [m.to, m.language, m.notification.kind])).toEqual([[auditor.email, 'nl', 'invitation_existing_account']]);
  });

  it('keeps replacing a pending invitation: a second invitation to the same new address is answered alike and only the newest is open', async () => {
    const team = await org.relogin(org.members.team!);
    const first = await rawInvite(team, 'twee-keer@kluis.test', 'client');
    const second = await rawInvite(team, 'twee-keer@kluis.test', 'client');
    expect([first.status, second.status]).toEqual([201, 201]);
    const open = (await team.client.api(listInvitations, {})).invitations.filter((i) => i.email === 'twee-keer@kluis.test');
    expect(open.map((i) => i.id)).toEqual([second.id]);
  });
});

describe('the team IP allowlist cannot lock out the Administrator saving it (item 3)', () => {
  it('refuses a list without the requester\'s address with allowlist_excludes_you, and keeps the settings', async () => {
    const admin = await org.relogin(org.admin);
    const settings = await admin.client.api(getSettings, {});
    try {
      await expect(admin.client.api(updateSettings, { body: { ...settings, teamIpAllowlist: ['10.0.0.0/8', '2001:db8::/32'] } })).rejects.toMatchObject({
        status: 422,
        code: 'allowlist_excludes_you',
      });
      expect(await admin.client.api(getSettings, {})).toEqual(settings);
    } finally {
      // Should the list have been saved after all, the other tests are not locked out with it.
      await org.testApp.db.updateTable('organisation').set({ settings: JSON.stringify(settings) }).execute();
    }
  });

  it('accepts a list that includes the requester (the test server sees 127.0.0.1)', async () => {
    const admin = await org.relogin(org.admin);
    const settings = await admin.client.api(getSettings, {});
    try {
      const saved = await admin.client.api(updateSettings, { body: { ...settings, teamIpAllowlist: ['10.0.0.0/8', '127.0.0.0/8'] } });
      expect(saved.teamIpAllowlist).toEqual(['10.0.0.0/8', '127.0.0.0/8']);
      await admin.client.api(endpoints.getSession, {});
    } finally {
      await admin.client.api(updateSettings, { body: settings });
    }
  });

  it('with KLUIS_IGNORE_IP_ALLOWLIST=true, a locked-out Administrator gets in and corrects the list; the start and the login are warned about', async () => {
    // How staff get locked out anyway: the list was right when saved, then the office's address changed.
    const original = await org.testApp.db.selectFrom('organisation').select('settings').executeTakeFirstOrThrow();
    const locked: OrganisationSettings = { ...(JSON.parse(original.settings) as OrganisationSettings), teamIpAllowlist: ['10.0.0.0/8'] };
    await org.testApp.db.updateTable('organisation').set({ settings: JSON.stringify(locked) }).execute();
    const secretFile = secretFilePath(org.testApp.secretsDir);
    await mkdir(dirname(secretFile), { recursive: true });
    await writeFile(secretFile, `${await testServerSetup()}\n`, { mode: 0o600 });

    /** A start of the server on the organisation's data directory, as index.ts does it; its warnings kept. */
    async function start(env: Record<string, string>) {
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
      const config = loadConfig({ KLUIS_DATA_DIR: org.testApp.dataDir, KLUIS_SECRETS_DIR: org.testApp.secretsDir, ...env });
      const prepared = await prepareInstance(config, org.testApp.db, logger);
      const deps = { config, db: org.testApp.db, logger, opaque: prepared.opaque, notifier: createRecordingNotifier() };
      const server = await listen({ app: createApp(deps, createServices(deps)) });
      const warnings = () => lines.map((line) => JSON.parse(line) as { msg: string; ip?: string; userId?: string });
      return { server, warnings, newClient: () => browserLikeClient(server.baseUrl, config.publicOrigin) };
    }

    try {
      const plain = await start({});
      try {
        await expect(login(plain.newClient().api, org.admin.email, org.admin.password, fast)).rejects.toMatchObject({ code: 'ip_not_allowed' });
        expect(plain.warnings()).toEqual([]);
      } finally {
        await plain.server.close();
      }

      const rescue = await start({ KLUIS_IGNORE_IP_ALLOWLIST: 'true' });
      try {
        expect(rescue.warnings()).toEqual([expect.objectContaining({ level: 40, msg: expect.stringContaining('KLUIS_IGNORE_IP_ALLOWLIST is set: the team IP allowlist is NOT enforced') as string })]);
        const client = rescue.newClient();
        await login(client.api, org.admin.email, org.admin.password, fast);
        expect(rescue.warnings()[1]).toMatchObject({ level: 40, userId: org.admin.userId, ip: '127.0.0.1', msg: expect.stringContaining('let in a staff login from outside the team IP allowlist') as string });
        const audited = await org.testApp.db.selectFrom('audit_events').select('details').where('action', '=', 'auth.login_succeeded').where('actor_id', '=', org.admin.userId).orderBy('seq', 'desc').executeTakeFirstOrThrow();
        expect(JSON.parse(audited.details)).toEqual({ method: 'password', ipAllowlistIgnored: true });
        // The flag does not let the Administrator save another list without their own address.
        await expect(client.api(updateSettings, { body: { ...locked, teamIpAllowlist: ['10.0.0.0/8', '192.0.2.0/24'] } })).rejects.toMatchObject({ code: 'allowlist_excludes_you' });
        await client.api(updateSettings, { body: { ...locked, teamIpAllowlist: ['10.0.0.0/8', '127.0.0.1'] } });
      } finally {
        await rescue.server.close();
      }

      // Started without the flag again: the corrected list lets the Administrator in, with nothing to warn about.
      const after = await start({});
      try {
        await login(after.newClient().api, org.admin.email, org.admin.password, fast);
        expect(after.warnings()).toEqual([]);
      } finally {
        await after.server.close();
      }
    } finally {
      await org.testApp.db.updateTable('organisation').set({ settings: original.settings }).execute();
    }
  }, budget(60_000));
});

/** Locks `member`'s account as N wrong passwords would. */
async function lock(member: Member) {
  await org.testApp.db.updateTable('users').set({ failed_logins: 3, locked_until: new Date(now().getTime() + 3_600_000).toISOString(), lock_notified: 1 }).where('id', '=', member.userId).execute();
}

async function isLocked(member: Member): Promise<boolean> {
  const row = await org.testApp.db.selectFrom('users').select('locked_until').where('id', '=', member.userId).executeTakeFirstOrThrow();
  return row.locked_until !== null;
}

let inviteCount = 0;
const newAddress = (role: Role) => `${role}-${++inviteCount}@kluis.test`;

/** A Team Member invited, signed up and signed in, not granted the organisation key; certified by the Administrator. */
async function ungrantedTeamMember(admin: Member) {
  const email = newAddress('team');
  await invite(admin.client.api, admin.vault, { email, role: 'team', language: 'nl' });
  const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
  const client = org.newClient();
  const { userId } = await signup(client.api, { token, fragment, name: 'Tweede Teamlid', password: 'blauwe-fiets-bij-het-station', language: 'nl' }, fast);
  await login(client.api, email, 'blauwe-fiets-bij-het-station', fast);
  return certifiedIdentity(admin.client.api, admin.vault, userId);
}

interface PowerAction {
  /** Who acts: the Administrator, or the Team Member for the controls. */
  readonly actor: 'admin' | 'team';
  /** Runs before the session is aged (with a fresh login); returns what `act` needs. */
  readonly prepare?: (actor: Member) => Promise<unknown>;
  readonly act: (actor: Member, prepared: unknown) => Promise<unknown>;
  /** Whether the action took effect (checked after a refusal too: it must not have). */
  readonly done: (prepared: unknown) => Promise<boolean>;
}

/** `actor` invites someone new with `role`. */
function inviting(role: Role, actor: PowerAction['actor'] = 'admin'): PowerAction {
  return {
    actor,
    prepare: () => Promise.resolve(newAddress(role)),
    act: (a, email) => invite(a.client.api, a.vault, { email: email as string, role, language: 'nl' }),
    done: async (email) => (await org.testApp.db.selectFrom('invitations').select('id').where('email', '=', email as string).where('revoked_at', 'is', null).execute()).length === 1,
  };
}

/** `actor` lifts the lockout of `target()`. */
function liftingLockOf(target: () => Member, actor: PowerAction['actor'] = 'admin'): PowerAction {
  return {
    actor,
    prepare: () => lock(target()),
    act: (a) => a.client.api(unlockUser, { params: { id: target().userId } }),
    done: async () => !(await isLocked(target())),
  };
}

/**
 * Every action that grants or restores staff power, written out by hand (issue 19 item 4): each must answer
 * reauthentication_required with a 16-minute-old login and work right after a new login.
 */
const grantsStaffPower: Readonly<Record<string, PowerAction>> = {
  'invite an Administrator': inviting('admin'),
  'invite a Team Member': inviting('team'),
  'invite an auditor': inviting('auditor'),
  'lift a Team Member\'s lockout': liftingLockOf(() => org.members.team!),
  'lift an auditor\'s lockout': liftingLockOf(() => org.members.auditor!),
  'grant the organisation key to a Team Member': {
    actor: 'admin',
    prepare: (a) => ungrantedTeamMember(a),
    act: (a, holder) => grantEscrowAccess(a.client.api, a.vault, holder as VerifiedIdentity),
    done: async (holder) => (await org.testApp.db.selectFrom('escrow_grants').select('user_id').where('user_id', '=', (holder as VerifiedIdentity).userId).execute()).length === 1,
  },
  'change the security settings (the team IP allowlist)': {
    actor: 'admin',
    prepare: async () => {
      const { settings } = await org.testApp.db.selectFrom('organisation').select('settings').executeTakeFirstOrThrow();
      await org.testApp.db.updateTable('organisation').set({ settings: JSON.stringify({ ...(JSON.parse(settings) as OrganisationSettings), teamIpAllowlist: [] }) }).execute();
    },
    act: async (a) => {
      const settings = await a.client.api(getSettings, {});
      await a.client.api(updateSettings, { body: { ...settings, teamIpAllowlist: ['127.0.0.0/8'] } });
    },
    done: async () => (await org.testApp.db.selectFrom('organisation').select('settings').executeTakeFirstOrThrow()).settings.includes('127.0.0.0/8'),
  },
};

/** Everyday actions that grant no staff power: they keep working with an older login (the line is drawn on purpose). */
const everyday: Readonly<Record<string, PowerAction>> = {
  'a Team Member invites a client': inviting('client', 'team'),
  'a Team Member lifts a client\'s lockout': liftingLockOf(() => org.members.client!, 'team'),
};

describe('a login in the last 15 minutes for every action that grants or restores staff power (item 4)', () => {
  const member = (actor: 'admin' | 'team') => (actor === 'admin' ? org.admin : org.members.team!);

  /** Signs the actor in, prepares, then moves the clock 16 minutes on; the clock is reset after `then`. */
  async function sixteenMinutesAfterLogin(action: PowerAction, then: (stale: Member, prepared: unknown) => Promise<void>) {
    clock.offsetMs = 0;
    try {
      const stale = await org.relogin(member(action.actor));
      const prepared = await action.prepare?.(stale);
      clock.offsetMs = SIXTEEN_MINUTES;
      await then(stale, prepared);
    } finally {
      clock.offsetMs = 0;
    }
  }

  it.each(Object.entries(grantsStaffPower))('%s: refused 16 minutes after login, done after a new login', (_name, action) =>
    sixteenMinutesAfterLogin(action, async (stale, prepared) => {
      await expect(action.act(stale, prepared)).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
      expect(await action.done(prepared)).toBe(false);
      const again = await org.relogin(member(action.actor));
      await action.act(again, prepared);
      expect(await action.done(prepared)).toBe(true);
    }),
  budget(60_000));

  it.each(Object.entries(everyday))('%s: still works 16 minutes after login', (_name, action) =>
    sixteenMinutesAfterLogin(action, async (stale, prepared) => {
      await action.act(stale, prepared);
      expect(await action.done(prepared)).toBe(true);
    }),
  );
});
