// Integration: the account life-cycle over real HTTP with real sessions (issue 21): who may deactivate,
// reactivate, delete, restore and change roles (a hand-written table), oneself, the last
// Administrator, the last escrow holder, recent login, sign-in refusals, the 30-day purge with a
// clock (keys and blobs destroyed, `user.purged`), and the Administrator notices for every change.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  changeRole,
  deactivateUser,
  deleteUser,
  getSession,
  getSettings,
  listSpaces,
  listUsers,
  reactivateUser,
  removeUserSecondFactor,
  restoreUser,
  unlockUser,
  updateSettings,
  type Role,
} from '../../shared/api';
import { toHex } from '../../shared/crypto';
import { signCertificate } from '../../shared/flows/certificates';
import { certifiedIdentity, grantEscrowAccess, login, LoginRejectedError } from '../../shared/flows/account-flows';
import { BlobNotFoundError } from '../blobs/blob-store';
import { createLocalDiskBlobStore } from '../blobs/local-disk-blob-store';
import type { AdminSecurityEvent } from '../mail/templates';
import type { Notification } from './notifications';
import { budget } from '../test/budget';
import { createTestOrganisation, fast, type Member, type TestOrganisation } from '../test/org-fixture';
import { addDocument, addMember, openSpace } from '../test/space-fixture';
import type { Actor } from './account-deps';

const DAY = 24 * 3_600_000;
const MINUTE = 60_000;

/** The server's clock: tests move it instead of sleeping. */
let shift = 0;
const clock = () => new Date(Date.now() + shift);

let org: TestOrganisation;
let admin: Member;
/** A second Administrator, without the escrow key. */
let admin2: Member;
/** The fixture's Team Member: holds the escrow key. */
let team: Member;
/** A second Team Member, without the escrow key. */
let team2: Member;
let client: Member;
let client2: Member;
let auditor: Member;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor'], { now: clock, env: { KLUIS_LOGIN_LIMIT_PER_IP: '1000' } });
  admin = org.admin;
  team = org.members.team!;
  client = org.members.client!;
  auditor = org.members.auditor!;
  admin2 = await addMember(org, 'admin', 'admin2@kluis.test');
  team2 = await addMember(org, 'team', 'team2@kluis.test');
  client2 = await addMember(org, 'client', 'client2@kluis.test');
}, budget(180_000));
afterAll(() => org?.close());

const byRole = (): Record<string, Member> => ({ admin, admin2, team, team2, client, client2, auditor });

async function statusOf(userId: string) {
  return (await org.testApp.db.selectFrom('users').select(['status', 'role']).where('id', '=', userId).executeTakeFirstOrThrow()).status;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { code?: string; name?: string }).code ?? (error as Error).name;
  }
}

const sent = () => (org.testApp.notifier as unknown as { sent: { to: string; notification: Notification }[] }).sent;

/** Recipients of admin notices of `event` about `targetEmail`, sent after mark `from`. */
function noticesOf(from: number, event: AdminSecurityEvent, targetEmail: string | null) {
  return sent()
    .slice(from)
    .flatMap((m) => (m.notification.kind === 'admin_security_event' && m.notification.event === event && m.notification.targetEmail === targetEmail ? [m] : []));
}

async function auditRows(action: string, targetId: string) {
  const rows = await org.testApp.db.selectFrom('audit_events').select(['actor_id', 'details']).where('action', '=', action).where('target_id', '=', targetId).orderBy('seq').execute();
  return rows.map((r) => ({ actorId: r.actor_id, details: JSON.parse(r.details) as Record<string, unknown> }));
}

/** A fresh session for each member an action may have signed out. */
async function fresh(...members: Member[]): Promise<void> {
  for (const member of members) await org.relogin(member);
}

// prettier-ignore
/** Who may deactivate (then reactivate) and delete (then an Administrator restores) whom: by hand from issue 21. */
const hierarchy: readonly (readonly [actor: string, target: string, expected: string])[] = [
  ['admin',   'admin2',  'ok'],
  ['admin',   'team2',   'ok'],
  ['admin',   'auditor', 'ok'],
  ['admin',   'client',  'ok'],
  ['admin',   'admin',   'cannot_change_self'],
  ['team',    'client',  'ok'],
  ['team',    'client2', 'ok'],
  ['team',    'admin',   'forbidden'],
  ['team',    'team2',   'forbidden'],
  ['team',    'auditor', 'forbidden'],
  ['team',    'team',    'cannot_change_self'],
  ['client',  'client2', 'forbidden'],
  ['auditor', 'client',  'forbidden'],
];

describe('who may deactivate, reactivate, delete and restore whom', () => {
  it.each(hierarchy)('%s deactivates %s: %s', async (actorName, targetName, expected) => {
    const actor = byRole()[actorName]!;
    const target = byRole()[targetName]!;
    await fresh(actor);
    const before = await statusOf(target.userId);
    expect(before).toBe('active');
    expect(await codeOf(actor.client.api(deactivateUser, { params: { id: target.userId } }))).toBe(expected);
    if (expected !== 'ok') {
      expect(await statusOf(target.userId)).toBe('active');
      return;
    }
    expect(await statusOf(target.userId)).toBe('deactivated');
    expect(await codeOf(actor.client.api(reactivateUser, { params: { id: target.userId } }))).toBe('ok');
    expect(await statusOf(target.userId)).toBe('active');
  });

  it.each(hierarchy)('%s deletes %s: %s (an Administrator restores it, deactivated)', async (actorName, targetName, expected) => {
    const actor = byRole()[actorName]!;
    const target = byRole()[targetName]!;
    await fresh(actor, admin);
    expect(await codeOf(actor.client.api(deleteUser, { params: { id: target.userId } }))).toBe(expected);
    if (expected !== 'ok') {
      expect(await statusOf(target.userId)).toBe('active');
      return;
    }
    expect(await statusOf(target.userId)).toBe('deleted');
    // Only Administrators restore.
    if (actor.role !== 'admin') expect(await codeOf(actor.client.api(restoreUser, { params: { id: target.userId } }))).toBe('forbidden');
    await admin.client.api(restoreUser, { params: { id: target.userId } });
    expect(await statusOf(target.userId)).toBe('deactivated');
    await admin.client.api(reactivateUser, { params: { id: target.userId } });
    expect(await statusOf(target.userId)).toBe('active');
  });

  it('answers account_state for the wrong starting state, and not_found for nobody', async () => {
    await fresh(admin);
    expect(await codeOf(admin.client.api(reactivateUser, { params: { id: client.userId } }))).toBe('account_state');
    expect(await codeOf(admin.client.api(restoreUser, { params: { id: client.userId } }))).toBe('account_state');
    expect(await codeOf(admin.client.api(deactivateUser, { params: { id: 'AAAAAAAAAAAAAAAAAAAAAA' } }))).toBe('not_found');
    await admin.client.api(deactivateUser, { params: { id: client.userId } });
    expect(await codeOf(admin.client.api(deactivateUser, { params: { id: client.userId } }))).toBe('account_state');
    await admin.client.api(reactivateUser, { params: { id: client.userId } });
  });
});

describe('signing in', () => {
  it('a deactivated account is refused after a correct password only, its sessions are over, and it may sign in again once reactivated', async () => {
    await fresh(admin, client);
    const oldSession = client.client;
    await admin.client.api(deactivateUser, { params: { id: client.userId } });
    // The session it had is over.
    expect(await codeOf(oldSession.api(getSession, {}))).toBe('unauthenticated');
    // Right password: told why. Wrong password: the same answer as for anyone (no enumeration).
    expect(await codeOf(login(org.newClient().api, client.email, client.password, fast))).toBe('account_deactivated');
    expect(await codeOf(login(org.newClient().api, client.email, 'niet-het-goede-wachtwoord', fast))).toBe('LoginRejectedError');
    expect((await auditRows('auth.login_refused', client.userId)).map((r) => r.details)).toContainEqual({ reason: 'account_deactivated' });
    // A refusal is not a guess: the failure counter is back where it was.
    const { failed_logins } = await org.testApp.db.selectFrom('users').select('failed_logins').where('id', '=', client.userId).executeTakeFirstOrThrow();
    expect(failed_logins).toBe(1);
    await admin.client.api(reactivateUser, { params: { id: client.userId } });
    await fresh(client);
    await expect(client.client.api(getSession, {})).resolves.toMatchObject({ user: { id: client.userId } });
  });

  it('a session does not outlive its account: one stored after the deactivation ended the others (a sign-in in flight) stops working', async () => {
    await fresh(client);
    // As if the deactivation's revocation ran just before this session was stored: only the status says no.
    const setStatus = (status: 'active' | 'deactivated') => org.testApp.db.updateTable('users').set({ status }).where('id', '=', client.userId).execute();
    await setStatus('deactivated');
    try {
      expect(await codeOf(client.client.api(getSession, {}))).toBe('unauthenticated');
    } finally {
      await setStatus('active');
    }
    await expect(client.client.api(getSession, {})).resolves.toMatchObject({ user: { id: client.userId } });
  });

  it('a deleted account answers like an unknown address, even with the right password', async () => {
    await fresh(admin);
    await admin.client.api(deleteUser, { params: { id: client2.userId } });
    await expect(login(org.newClient().api, client2.email, client2.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
    await expect(login(org.newClient().api, 'nobody@kluis.test', client2.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
    // Nothing was counted against the account: it was never asked.
    const { failed_logins } = await org.testApp.db.selectFrom('users').select('failed_logins').where('id', '=', client2.userId).executeTakeFirstOrThrow();
    expect(failed_logins).toBe(0);
    await admin.client.api(restoreUser, { params: { id: client2.userId } });
    await admin.client.api(reactivateUser, { params: { id: client2.userId } });
    await fresh(client2);
  });
});

describe('the organisation keeps an Administrator and an escrow holder', () => {
  it('two Administrators deactivating each other at once: one wins, the other is told last_administrator', async () => {
    const now = clock().toISOString();
    const actorOf = (m: Member): Actor => ({ userId: m.userId, role: 'admin', sessionId: 'direct', authenticatedAt: now, ip: '203.0.113.9' });
    const { lifecycle } = org.testApp.services;
    const outcomes = await Promise.all([
      codeOf(lifecycle.deactivateUser(actorOf(admin), admin2.userId)),
      codeOf(lifecycle.deactivateUser(actorOf(admin2), admin.userId)),
    ]);
    expect([...outcomes].sort()).toEqual(['last_administrator', 'ok']);
    const active = await org.testApp.db.selectFrom('users').select('id').where('role', '=', 'admin').where('status', '=', 'active').execute();
    expect(active).toHaveLength(1);
    // Back to both active (whoever won reactivates the other).
    const winner = outcomes[0] === 'ok' ? admin : admin2;
    const loser = winner === admin ? admin2 : admin;
    await lifecycle.reactivateUser(actorOf(winner), loser.userId);
    await fresh(admin, admin2);
  });

  it('the last escrow holder cannot be deactivated, deleted or demoted; a holder who is not the last loses the grant, with a revocation row', async () => {
    await fresh(admin, admin2);
    // The Team Member holds the key besides the Administrator: deactivating them removes their grant.
    await admin.client.api(deactivateUser, { params: { id: team.userId } });
    expect(await org.testApp.db.selectFrom('escrow_grants').select('user_id').where('user_id', '=', team.userId).execute()).toEqual([]);
    expect(await org.testApp.db.selectFrom('escrow_revocations').select(['user_id', 'revoked_by', 'reason']).where('user_id', '=', team.userId).execute()).toEqual([
      { user_id: team.userId, revoked_by: admin.userId, reason: 'deactivated' },
    ]);
    expect((await auditRows('escrow.grant_revoked', team.userId)).map((r) => r.details)).toEqual([{ reason: 'deactivated' }]);
    // Reactivating gives no grant back.
    await admin.client.api(reactivateUser, { params: { id: team.userId } });
    expect(await org.testApp.db.selectFrom('escrow_grants').select('user_id').where('user_id', '=', team.userId).execute()).toEqual([]);

    // Now the founding Administrator is the only holder: admin2 (no key) may not remove them.
    expect(await codeOf(admin2.client.api(deactivateUser, { params: { id: admin.userId } }))).toBe('last_escrow_holder');
    expect(await codeOf(admin2.client.api(deleteUser, { params: { id: admin.userId } }))).toBe('last_escrow_holder');
    const cert = await certificateFor(admin2, admin, 'team');
    expect(await codeOf(admin2.client.api(changeRole, { params: { id: admin.userId }, body: { role: 'team', certificate: cert } }))).toBe('last_escrow_holder');
    expect(await statusOf(admin.userId)).toBe('active');
    expect(await org.testApp.db.selectFrom('users').select('role').where('id', '=', admin.userId).executeTakeFirstOrThrow()).toEqual({ role: 'admin' });

    // The Team Member is granted the key again (through the real flow): a holder once more.
    await fresh(admin);
    await grantEscrowAccess(admin.client.api, admin.vault, await certifiedIdentity(admin.client.api, admin.vault, team.userId));
    await fresh(team);
    expect(await org.testApp.db.selectFrom('escrow_grants').select('kind').where('user_id', '=', team.userId).execute()).toEqual([{ kind: 'wrapped' }]);
  });
});

/** A certificate `issuer`'s browser signs for `subject` in `role`. */
async function certificateFor(issuer: Member, subject: Member, role: Role) {
  const identity = await certifiedIdentity(issuer.client.api, issuer.vault, subject.userId);
  if (!identity) throw new Error(`${subject.email} is not certified`);
  return signCertificate(
    { userId: issuer.userId, signingKey: issuer.vault.signingKey! },
    { userId: subject.userId, email: subject.email, role, encKey: toHex(identity.encryptionKey.fingerprint), sigKey: toHex(identity.signingKey.fingerprint) },
    'invitation',
  );
}

describe('changing roles', () => {
  it('promotes a Team Member with a certificate for the new role, and demotes them again: sessions end, the grant goes', async () => {
    await fresh(admin, team2);
    const mark = sent().length;
    await admin.client.api(changeRole, { params: { id: team2.userId }, body: { role: 'admin', certificate: await certificateFor(admin, team2, 'admin') } });
    expect(await org.testApp.db.selectFrom('users').select('role').where('id', '=', team2.userId).executeTakeFirstOrThrow()).toEqual({ role: 'admin' });
    // Promotion keeps the person signed in, now as an Administrator.
    await expect(team2.client.api(getSession, {})).resolves.toMatchObject({ user: { role: 'admin' } });
    const [event] = await auditRows('user.role_changed', team2.userId);
    expect(event).toMatchObject({ actorId: admin.userId, details: { from: 'team', to: 'admin', sessions: 0, grantRevoked: false } });
    const stored = await org.testApp.db.selectFrom('certificates').select(['issuer_id']).where('id', '=', String(event!.details.certificate)).execute();
    expect(stored).toEqual([{ issuer_id: admin.userId }]);
    // Every active Administrator is told, the new one included.
    expect(noticesOf(mark, 'role_changed', team2.email).map((m) => m.to).sort()).toEqual([admin.email, admin2.email, team2.email].sort());

    // The new Administrator is granted the key, then demoted: it goes.
    await grantEscrowAccess(admin.client.api, admin.vault, await certifiedIdentity(admin.client.api, admin.vault, team2.userId));
    await fresh(team2);
    const old = team2.client;
    await admin.client.api(changeRole, { params: { id: team2.userId }, body: { role: 'team', certificate: await certificateFor(admin, team2, 'team') } });
    expect(await codeOf(old.api(getSession, {}))).toBe('unauthenticated');
    expect(await org.testApp.db.selectFrom('escrow_grants').select('user_id').where('user_id', '=', team2.userId).execute()).toEqual([]);
    expect(await org.testApp.db.selectFrom('escrow_revocations').select('reason').where('user_id', '=', team2.userId).execute()).toEqual([{ reason: 'demoted' }]);
    expect(noticesOf(mark, 'escrow_revoked', team2.email).map((m) => m.to).sort()).toEqual([admin.email, admin2.email].sort());
  });

  it('refuses roles outside Administrator ↔ Team Member, oneself, a certificate for another role or person, and a Team Member caller', async () => {
    await fresh(admin, admin2, team);
    const change = (who: Member, target: Member, role: Role, certificate: Awaited<ReturnType<typeof certificateFor>>) =>
      codeOf(who.client.api(changeRole, { params: { id: target.userId }, body: { role, certificate } }));
    expect(await change(admin, client, 'team', await certificateFor(admin, client, 'team'))).toBe('role_change_not_allowed');
    expect(await change(admin, auditor, 'admin', await certificateFor(admin, auditor, 'admin'))).toBe('role_change_not_allowed');
    expect(await change(admin, team2, 'team', await certificateFor(admin, team2, 'team'))).toBe('role_change_not_allowed');
    expect(await change(admin, team2, 'client', await certificateFor(admin, team2, 'client'))).toBe('role_change_not_allowed');
    expect(await change(admin, admin, 'team', await certificateFor(admin2, admin, 'team'))).toBe('cannot_change_self');
    expect(await change(admin, team2, 'admin', await certificateFor(admin, team2, 'team'))).toBe('certificate_invalid');
    expect(await change(admin, team2, 'admin', await certificateFor(admin, team, 'admin'))).toBe('certificate_invalid');
    // Signed by someone else than the caller.
    expect(await change(admin, team2, 'admin', await certificateFor(admin2, team2, 'admin'))).toBe('certificate_invalid');
    expect(await change(team, team2, 'admin', await certificateFor(admin, team2, 'admin'))).toBe('forbidden');
    expect(await org.testApp.db.selectFrom('users').select('role').where('id', 'in', [team2.userId, client.userId, auditor.userId]).orderBy('role').execute()).toEqual([
      { role: 'auditor' },
      { role: 'client' },
      { role: 'team' },
    ]);
  });
});

describe('recent login', () => {
  it('is needed to act on staff and auditors and to change roles, not for a Team Member deactivating a client', async () => {
    await fresh(admin, team);
    const cert = await certificateFor(admin, team2, 'admin');
    shift += 16 * MINUTE;
    try {
      expect(await codeOf(admin.client.api(deactivateUser, { params: { id: team2.userId } }))).toBe('reauthentication_required');
      expect(await codeOf(admin.client.api(deleteUser, { params: { id: auditor.userId } }))).toBe('reauthentication_required');
      expect(await codeOf(admin.client.api(changeRole, { params: { id: team2.userId }, body: { role: 'admin', certificate: cert } }))).toBe('reauthentication_required');
      expect(await statusOf(team2.userId)).toBe('active');
      expect(await statusOf(auditor.userId)).toBe('active');
      expect(await codeOf(team.client.api(deactivateUser, { params: { id: client.userId } }))).toBe('ok');
      expect(await codeOf(team.client.api(reactivateUser, { params: { id: client.userId } }))).toBe('ok');
    } finally {
      shift -= 16 * MINUTE;
    }
    await fresh(client);
  });
});

describe('Administrator notices', () => {
  const adminEmails = () => [admin.email, admin2.email].sort();

  it('every life-cycle action e-mails every active Administrator who did it, to whom, and from where', async () => {
    await fresh(admin, admin2, team);
    const mark = sent().length;
    await team.client.api(deactivateUser, { params: { id: client.userId } });
    await team.client.api(reactivateUser, { params: { id: client.userId } });
    await team.client.api(deleteUser, { params: { id: client.userId } });
    await admin2.client.api(restoreUser, { params: { id: client.userId } });
    await admin2.client.api(reactivateUser, { params: { id: client.userId } });
    for (const [event, actor] of [
      ['account_deactivated', team],
      ['account_reactivated', team],
      ['account_deleted', team],
      ['account_restored', admin2],
      ['account_reactivated', admin2],
    ] as const) {
      const mails = noticesOf(mark, event, client.email).filter((m) => m.notification.kind === 'admin_security_event' && m.notification.actorEmail === actor.email);
      expect(mails.map((m) => m.to).sort(), event).toEqual(adminEmails());
      for (const m of mails) expect(m.notification.kind === 'admin_security_event' ? m.notification.ip : null).toMatch(/127\.0\.0\.1|::1/);
    }
    await fresh(client);
  });

  it('the existing security actions tell every Administrator too: settings, escrow grant, lifting a lock, a manager removing a second factor', async () => {
    await fresh(admin);
    const mark = sent().length;
    const settings = await admin.client.api(getSettings, {});
    await admin.client.api(updateSettings, { body: { ...settings, resetLinkHours: settings.resetLinkHours + 1 } });
    expect(noticesOf(mark, 'settings_changed', null).map((m) => m.to).sort()).toEqual(adminEmails());
    // Saving the same settings again changes nothing: no notice.
    await admin.client.api(updateSettings, { body: { ...settings, resetLinkHours: settings.resetLinkHours + 1 } });
    expect(noticesOf(mark, 'settings_changed', null)).toHaveLength(2);

    await grantEscrowAccess(admin.client.api, admin.vault, await certifiedIdentity(admin.client.api, admin.vault, admin2.userId));
    expect(noticesOf(mark, 'escrow_granted', admin2.email).map((m) => m.to).sort()).toEqual(adminEmails());

    await org.testApp.db.updateTable('users').set({ locked_until: new Date(clock().getTime() + 10 * MINUTE).toISOString(), failed_logins: 5 }).where('id', '=', client.userId).execute();
    await admin.client.api(unlockUser, { params: { id: client.userId } });
    expect(noticesOf(mark, 'lock_lifted', client.email).map((m) => m.to).sort()).toEqual(adminEmails());

    // A second factor stands in as a row (its set-up is tested elsewhere); the removal is the real route.
    const factorId = 'BBBBBBBBBBBBBBBBBBBBBB';
    await org.testApp.db.insertInto('second_factors').values({ id: factorId, user_id: client.userId, kind: 'email', name: 'e-mail', created_at: clock().toISOString(), last_used_at: null, totp_secret: null, totp_last_step: null, credential_id: null, public_key: null, sign_count: null, transports: null, prf_wrapped_user_key: null }).execute();
    await admin.client.api(removeUserSecondFactor, { params: { id: client.userId, factorId } });
    expect(noticesOf(mark, 'second_factor_removed', client.email).map((m) => m.to).sort()).toEqual(adminEmails());
  });
});

describe('deletion, restore and the purge after 30 days', () => {
  it('restores within 30 days; afterwards refuses (account_purged) and the sweep destroys keys and blobs, audited as user.purged', async () => {
    await fresh(admin, client2);
    const blobStore = createLocalDiskBlobStore({ root: org.testApp.config.blobDir, capacityBytes: org.testApp.config.blobCapacityBytes });
    const spaceId = await openSpace(client2);
    await addDocument(org, client2, spaceId, { bytes: randomBytes(700) });
    await addDocument(org, client2, spaceId, { bytes: randomBytes(300) });
    const blobIds = (await org.testApp.db.selectFrom('document_versions as v').innerJoin('documents as d', 'd.id', 'v.document_id').select('v.blob_id').where('d.space_id', '=', spaceId).execute()).map((r) => r.blob_id);
    expect(blobIds).toHaveLength(2);
    for (const id of blobIds) expect(await blobStore.size(id)).toBeGreaterThan(0);

    // Deleted now: purged after exactly 30 days.
    const deletedAt = clock();
    const { purgeAfter } = await admin.client.api(deleteUser, { params: { id: client2.userId } });
    expect(Date.parse(purgeAfter) - deletedAt.getTime()).toBeGreaterThanOrEqual(30 * DAY);
    expect(Date.parse(purgeAfter) - deletedAt.getTime()).toBeLessThan(30 * DAY + MINUTE);
    const listed = (await admin.client.api(listUsers, {})).users.find((u) => u.id === client2.userId);
    expect(listed).toMatchObject({ status: 'deleted', purgeAfter });

    // 29 days on: the sweep leaves it; an Administrator restores it.
    shift += 29 * DAY;
    try {
      expect(await org.testApp.services.lifecycle.purgeDueAccounts()).toEqual([]);
      await fresh(admin);
      await admin.client.api(restoreUser, { params: { id: client2.userId } });
      expect(await statusOf(client2.userId)).toBe('deactivated');
      // Deleted again; 30 days and a minute later it cannot be restored, even before the sweep ran.
      await admin.client.api(deleteUser, { params: { id: client2.userId } });
      shift += 30 * DAY + MINUTE;
      await fresh(admin);
      const mark = sent().length;
      expect(await codeOf(admin.client.api(restoreUser, { params: { id: client2.userId } }))).toBe('account_purged');
      expect(await statusOf(client2.userId)).toBe('deleted');

      const purgedNow = await org.testApp.services.lifecycle.purgeDueAccounts();
      expect(purgedNow).toEqual([client2.userId]);
      // A second sweep finds nothing left to do.
      expect(await org.testApp.services.lifecycle.purgeDueAccounts()).toEqual([]);

      const row = await org.testApp.db.selectFrom('users').selectAll().where('id', '=', client2.userId).executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        status: 'purged',
        opaque_record: '',
        wrapped_user_key: '',
        key_safe: '',
        wrapped_private_key: '',
        wrapped_signing_key: null,
        escrow_user_key: '',
        profile: '',
        email: client2.email,
      });
      const space = await org.testApp.db.selectFrom('spaces').selectAll().where('id', '=', spaceId).executeTakeFirstOrThrow();
      expect(space).toMatchObject({ wrapped_for_client: '', sealed_for_client: null, sealed_for_escrow: '', escrow_fingerprint: null });
      for (const id of blobIds) await expect(blobStore.size(id)).rejects.toBeInstanceOf(BlobNotFoundError);
      // The history stays: the version rows are append-only, now unreadable.
      expect(await org.testApp.db.selectFrom('document_versions').select('blob_id').where('blob_id', 'in', blobIds).execute()).toHaveLength(2);
      for (const table of ['sessions', 'trusted_devices', 'second_factors', 'backup_codes', 'escrow_grants', 'password_resets'] as const) {
        expect(await org.testApp.db.selectFrom(table).select('user_id').where('user_id', '=', client2.userId).execute(), table).toEqual([]);
      }
      const [purgedEvent] = await auditRows('user.purged', client2.userId);
      expect(purgedEvent).toMatchObject({ actorId: null, details: { role: 'client', deletedBy: admin.userId, spaceKeys: 1, blobs: 2 } });
      expect(noticesOf(mark, 'account_purged', client2.email).map((m) => m.to).sort()).toEqual([admin.email, admin2.email].sort());

      // Gone from the people list and the spaces; signing in is like an unknown address.
      expect((await admin.client.api(listUsers, {})).users.map((u) => u.id)).not.toContain(client2.userId);
      expect((await admin.client.api(listSpaces, {})).spaces.map((s) => s.id)).not.toContain(spaceId);
      await expect(login(org.newClient().api, client2.email, client2.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
      expect(await codeOf(admin.client.api(restoreUser, { params: { id: client2.userId } }))).toBe('account_purged');
    } finally {
      shift = 0;
    }
  });
});
