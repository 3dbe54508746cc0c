// Integration: password reset through escrow (issue 21, SECURITY.md 5.8) with the real browser flows
// over real HTTP and a real SQLite file: the hierarchy, recent login, the link and the code, four eyes,
// what a reset ends and what it must keep byte for byte, and escrow transparency.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  approveReset,
  cancelReset,
  createReset,
  getMyEscrow,
  getSession,
  listResets,
  listSpaces,
  getSpace,
  listUsers,
  updateSettings,
  getSettings,
  openReset,
  startResetPassword,
} from '../../shared/api';
import { type CallApi, isApiError } from '../../shared/api/client';
import { fromBase64Url, importSigningPublicKey, keyCommitment, toHex } from '../../shared/crypto';
import {
  certifiedIdentity,
  grantEscrowAccess,
  invite,
  login,
  LoginRejectedError,
  openProfile,
  signup,
} from '../../shared/flows/account-flows';
import {
  ResetWrapRejectedError,
  completeEscrowReset,
  openEscrowReset,
  parseResetFragment,
  resetSecrets,
  startEscrowReset,
  verifyEscrowUse,
  type StartedEscrowReset,
} from '../../shared/flows/escrow-reset';
import { recordDigest } from '../../shared/flows/space-history';
import type { Role } from '../../shared/api';
import { createOpaqueServer, generateOpaqueServerSetup } from '../auth/opaque-server';
import { createRecordingNotifier, type Notification, type Notifier } from './notifications';
import { verifyAuditChain } from './audit.service';
import { PROOF_IP_LIMIT } from './resets.service';
import { budget } from '../test/budget';
import { openSpace } from '../test/space-fixture';
import { newId } from '../lib/ids';
import { insertFirstAccessOnce } from '../repositories/escrow-uses.repository';
import { createTestOrganisation, fast, invitationLinkFor, parseInvitationLink, type Member, type TestOrganisation } from '../test/org-fixture';

const recording = createRecordingNotifier();
/** Set to make every e-mail fail (the "nothing half-done" cases). */
let mailDown = false;
const notifier: Notifier & { readonly sent: typeof recording.sent } = {
  sent: recording.sent,
  send: (to, language, notification) => (mailDown ? Promise.reject(new Error('smtp down')) : recording.send(to, language, notification)),
};
/** The server's clock, moved by tests (link expiry). */
let clockOffsetMs = 0;
const HOUR = 3_600_000;

function mailsTo(to: string, kind: Notification['kind']) {
  return recording.sent.filter((m) => m.to === to && m.notification.kind === kind).map((m) => m.notification);
}

/** The reset link last e-mailed to `email`, parsed from its fragment. */
function resetLinkOf(email: string): { resetId: string; linkSecret: string } {
  const last = mailsTo(email, 'password_reset').at(-1);
  if (!last || last.kind !== 'password_reset') throw new Error(`no reset link was sent to ${email}`);
  const parsed = parseResetFragment(new URL(last.link).hash);
  if (!parsed) throw new Error('reset link without id or secret');
  return parsed;
}

/** The listed person (`listUsers` item) as the resetter's browser sees them. */
async function listed(resetter: Member, userId: string) {
  const { users } = await resetter.client.api(listUsers, {});
  const person = users.find((u) => u.id === userId);
  if (!person) throw new Error(`${resetter.email} does not see ${userId}`);
  return person;
}

async function startReset(resetter: Member, person: Member, options = { liftLockout: false, removeSecondFactors: false }): Promise<StartedEscrowReset> {
  return startEscrowReset(resetter.client.api, resetter.vault, await listed(resetter, person.userId), options);
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isApiError(error)) return error.code;
    if (error instanceof Error) return error.name;
    throw error;
  }
  return 'ok';
}

/** Everything of a person's that a reset must leave byte for byte: keys, escrow copy, profile. */
async function keyColumns(org: TestOrganisation, userId: string) {
  return org.testApp.db
    .selectFrom('users')
    .select(['key_safe', 'public_key', 'wrapped_private_key', 'signing_public_key', 'wrapped_signing_key', 'escrow_user_key', 'escrow_fingerprint', 'profile', 'escrow_copy_statement'])
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
}

/** The columns a reset replaces. */
async function credentialColumns(org: TestOrganisation, userId: string) {
  return org.testApp.db.selectFrom('users').select(['opaque_record', 'wrapped_user_key', 'password_changed_at', 'locked_until']).where('id', '=', userId).executeTakeFirstOrThrow();
}

/** A space's stored keys and signed history, which a reset must not touch. */
async function spaceRows(org: TestOrganisation, spaceId: string) {
  const space = await org.testApp.db.selectFrom('spaces').selectAll().where('id', '=', spaceId).executeTakeFirstOrThrow();
  const entries = await org.testApp.db.selectFrom('space_entries').selectAll().where('space_id', '=', spaceId).orderBy('seq').execute();
  return { space, entries };
}

async function resetRow(org: TestOrganisation, id: string) {
  return org.testApp.db.selectFrom('password_resets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function auditActions(org: TestOrganisation, resetId: string): Promise<string[]> {
  const rows = await org.testApp.db.selectFrom('audit_events').select(['action', 'details']).where('action', 'like', 'escrow.reset_%').orderBy('seq').execute();
  return rows.filter((r) => r.details.includes(resetId)).map((r) => r.action);
}

describe('password reset through escrow', () => {
  let org: TestOrganisation;
  let admin: Member;
  let team: Member;
  let client: Member;
  let auditor: Member;
  let admin2: Member;
  let team2: Member;
  let client2: Member;

  /** Invites and signs up one more member (Administrators and Team Members get the escrow key). */
  async function addMember(role: Role, email: string, password: string): Promise<Member> {
    const inviter = role === 'client' ? team : admin;
    await invite(inviter.client.api, inviter.vault, { email, role, language: 'en' });
    const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
    const memberClient = org.newClient();
    const { userId } = await signup(memberClient.api, { token, fragment, name: `${role} Twee`, password, language: 'en' }, fast);
    const { vault } = await login(memberClient.api, email, password, fast);
    const member: Member = { role, email, password, userId, client: memberClient, vault };
    if (role === 'admin' || role === 'team') {
      await grantEscrowAccess(admin.client.api, admin.vault, await certifiedIdentity(admin.client.api, admin.vault, userId));
      await org.relogin(member);
    }
    return member;
  }

  beforeAll(async () => {
    org = await createTestOrganisation(['team', 'client', 'auditor'], { notifier, now: () => new Date(Date.now() + clockOffsetMs) });
    admin = org.admin;
    team = org.members.team!;
    client = org.members.client!;
    auditor = org.members.auditor!;
    admin2 = await addMember('admin', 'admin2@kluis.test', 'witte-wolken-boven-het-meer');
    team2 = await addMember('team', 'team2@kluis.test', 'oude-molen-in-de-polder');
    client2 = await addMember('client', 'client2@kluis.test', 'zilveren-maan-boven-zee');
  }, budget(180_000));
  afterAll(() => org?.close());

  it('lets a Team Member reset a client: link by e-mail, code by phone, same keys, new password', async () => {
    const spaceId = await openSpace(client);
    const spaceBefore = await spaceRows(org, spaceId);
    const keysBefore = await keyColumns(org, client.userId);
    const credentialsBefore = await credentialColumns(org, client.userId);
    const commitmentBefore = await keyCommitment(client.vault.userKey);
    const oldSession = client.client;

    const { reset, code } = await startReset(team, client);
    expect(reset).toMatchObject({ userId: client.userId, createdBy: team.userId, status: 'sent', failedAttempts: 0, approvedBy: null });
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    // Sent: the link secret left the database with the e-mail.
    const stored = await resetRow(org, reset.id);
    expect(stored.link_secret_sealed).toBeNull();
    expect(stored.sent_at).not.toBeNull();
    const link = resetLinkOf(client.email);
    expect(link.resetId).toBe(reset.id);
    expect(mailsTo(client.email, 'escrow_used').at(-1)).toMatchObject({ use: 'reset', actorRole: 'team' });
    // The resetter's browser never sent the code, in any form.
    const bodies = team.client.sent.map((r) => r.body).join('\n');
    expect(bodies).not.toContain(code);
    expect(bodies).not.toContain(code.replace(/-/g, ''));
    expect(bodies).toContain(link.linkSecret);

    const newPassword = 'nieuwe-lente-in-het-bos';
    const personClient = org.newClient();
    expect(await completeEscrowReset(personClient.api, { ...link, code: code.toLowerCase().replace(/-/g, ' '), newPassword }, fast)).toEqual({ userId: client.userId, email: client.email });
    // Neither the code nor the reset key left the person's browser: only the proof.
    const personBodies = personClient.sent.map((r) => r.body).join('\n');
    expect(personBodies).not.toContain(code.replace(/-/g, ''));
    expect(personBodies).not.toContain(link.linkSecret);

    // Every key byte-identical; only the password's OPAQUE record and its wrap of the user key changed.
    expect(await keyColumns(org, client.userId)).toEqual(keysBefore);
    expect(await spaceRows(org, spaceId)).toEqual(spaceBefore);
    const credentialsAfter = await credentialColumns(org, client.userId);
    expect(credentialsAfter.opaque_record).not.toBe(credentialsBefore.opaque_record);
    expect(credentialsAfter.wrapped_user_key).not.toBe(credentialsBefore.wrapped_user_key);
    expect(await resetRow(org, reset.id)).toMatchObject({ status: 'used', finished_by: client.userId });

    // The old password is gone, the new one opens the same user key.
    await expect(login(org.newClient().api, client.email, client.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
    client.password = newPassword;
    await org.relogin(client);
    expect(await keyCommitment(client.vault.userKey)).toBe(commitmentBefore);
    expect(await openProfile(client.vault, { id: client.userId, profile: keysBefore.profile, escrowUserKey: '' })).toEqual({ name: 'client Persoon' });
    // The session from before the reset ended.
    expect(await errorCode(oldSession.api(getSession, {}))).toBe('unauthenticated');
    expect(mailsTo(client.email, 'password_changed').length).toBeGreaterThan(0);
    expect(await auditActions(org, reset.id)).toEqual(['escrow.reset_started', 'escrow.reset_sent', 'escrow.reset_opened', 'escrow.reset_completed']);
    expect(await verifyAuditChain(org.testApp.db)).toMatchObject({ ok: true });
    // Every Administrator heard of the start and the completion.
    for (const a of [admin, admin2]) {
      const events = mailsTo(a.email, 'admin_security_event').map((n) => (n.kind === 'admin_security_event' ? n.event : null));
      expect(events).toEqual(expect.arrayContaining(['reset_started', 'reset_completed']));
    }
  }, budget(60_000));

  it('follows the hierarchy table, server side', async () => {
    // By hand (SECURITY.md 5.8): who may reset whom. 'ok' = the server accepted the reset.
    const table: [string, () => Member, () => Member, string][] = [
      ['admin → admin', () => admin, () => admin2, 'ok'],
      ['admin → team', () => admin, () => team2, 'ok'],
      ['admin → auditor', () => admin, () => auditor, 'ok'],
      ['admin → client', () => admin, () => client2, 'ok'],
      ['admin → self', () => admin, () => admin, 'reset_not_allowed'],
      ['team → client', () => team, () => client2, 'ok'],
      ['team → admin', () => team, () => admin2, 'reset_not_allowed'],
      ['team → team', () => team, () => team2, 'reset_not_allowed'],
      ['team → auditor', () => team, () => auditor, 'reset_not_allowed'],
      ['team → self', () => team, () => team, 'reset_not_allowed'],
    ];
    const outcomes: [string, string][] = [];
    for (const [name, resetter, person] of table) {
      // Team Members do not list staff: the browser gets the escrow copy as an Administrator would.
      const target = await listed(admin, person().userId);
      const before = await org.testApp.db.selectFrom('password_resets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const outcome = await errorCode(startEscrowReset(resetter().client.api, resetter().vault, target, { liftLockout: false, removeSecondFactors: false }));
      const after = await org.testApp.db.selectFrom('password_resets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      // A refused reset leaves no row behind.
      expect([name, Number(after.n) - Number(before.n)]).toEqual([name, outcome === 'ok' ? 1 : 0]);
      outcomes.push([name, outcome]);
    }
    expect(outcomes).toEqual(table.map(([name, , , expected]) => [name, expected]));
  }, budget(60_000));

  it('refuses clients and auditors at the door, and the same body from someone without the escrow key', async () => {
    // A real request body, captured from a Team Member's browser and replayed by others.
    type CreateResetInput = { params: { id: string }; body: z.output<NonNullable<typeof createReset.body>> };
    let captured: CreateResetInput | undefined;
    const capture = (async (endpoint: unknown, input: unknown) => {
      if (endpoint === createReset) {
        captured = input as CreateResetInput;
        throw new Error('captured');
      }
      return team.client.api(endpoint as never, input as never);
    }) as CallApi;
    await expect(startEscrowReset(capture, team.vault, await listed(team, client2.userId), { liftLockout: false, removeSecondFactors: false })).rejects.toThrow('captured');
    const input = captured!;
    expect(await errorCode(client.client.api(createReset, input))).toBe('forbidden');
    expect(await errorCode(auditor.client.api(createReset, input))).toBe('forbidden');
    // Another Team Member cannot present someone else's statement as theirs.
    expect(await errorCode(team2.client.api(createReset, input))).toBe('validation_failed');
    // A wrap the statement does not name is refused.
    expect(await errorCode(team.client.api(createReset, { ...input, body: { ...input.body, wrappedUserKey: (await listed(team, client2.userId)).escrowUserKey } }))).toBe('validation_failed');
    expect(await org.testApp.db.selectFrom('password_resets').selectAll().where('id', '=', input.body.resetId).executeTakeFirst()).toBeUndefined();
    // A Team Member whose escrow grant is gone is refused even with a well-formed request.
    const grant = await org.testApp.db.selectFrom('escrow_grants').selectAll().where('user_id', '=', team2.userId).executeTakeFirstOrThrow();
    await org.testApp.db.deleteFrom('escrow_grants').where('user_id', '=', team2.userId).execute();
    try {
      expect(await errorCode(startReset(team2, client2))).toBe('reset_not_allowed');
    } finally {
      await org.testApp.db.insertInto('escrow_grants').values(grant).execute();
    }
  }, budget(60_000));

  it('needs a recent login: a wrong password does not give one, and an old login is refused', async () => {
    await expect(login(org.newClient().api, team.email, 'not-the-team-password', fast)).rejects.toBeInstanceOf(LoginRejectedError);
    // The session is 20 minutes old (the window is 15).
    const twentyMinutesAgo = new Date(Date.now() + clockOffsetMs - 20 * 60_000).toISOString();
    const session = await team.client.api(getSession, {});
    await org.testApp.db.updateTable('sessions').set({ authenticated_at: twentyMinutesAgo }).where('user_id', '=', team.userId).execute();
    const before = await org.testApp.db.selectFrom('password_resets').selectAll().where('user_id', '=', client2.userId).execute();
    expect(await errorCode(startReset(team, client2))).toBe('reauthentication_required');
    expect(await org.testApp.db.selectFrom('password_resets').selectAll().where('user_id', '=', client2.userId).execute()).toEqual(before);
    expect(session.user.email).toBe(team.email);
    await org.relogin(team);
    expect((await startReset(team, client2)).reset.status).toBe('sent');
  }, budget(60_000));

  it('counts wrong codes; the fifth voids the reset, and then even the right code is refused', async () => {
    const { reset, code } = await startReset(team, client2);
    const link = resetLinkOf(client2.email);
    const credentialsBefore = await credentialColumns(org, client2.userId);
    const wrong = code.startsWith('0') ? `1${code.slice(1)}` : `0${code.slice(1)}`;
    const api = org.newClient().api;
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i += 1) outcomes.push(await errorCode(openEscrowReset(api, { ...link, code: wrong })));
    expect(outcomes).toEqual(['reset_code_invalid', 'reset_code_invalid', 'reset_code_invalid', 'reset_code_invalid', 'reset_failed']);
    expect(await resetRow(org, reset.id)).toMatchObject({ status: 'failed', failed_attempts: 5 });
    expect(await errorCode(completeEscrowReset(api, { ...link, code, newPassword: 'late-maar-goed-gekozen' }, fast))).toBe('reset_failed');
    expect(await credentialColumns(org, client2.userId)).toEqual(credentialsBefore);
    expect(await auditActions(org, reset.id)).toEqual([
      'escrow.reset_started',
      'escrow.reset_sent',
      'escrow.reset_code_rejected',
      'escrow.reset_code_rejected',
      'escrow.reset_code_rejected',
      'escrow.reset_code_rejected',
      'escrow.reset_failed',
    ]);
    // A malformed code never reaches the server.
    expect(await errorCode(openEscrowReset(api, { ...link, code: '1234' }))).toBe('ResetCodeFormatError');
  }, budget(60_000));

  it('works once; another link or a swapped wrap opens nothing and registers nothing', async () => {
    const first = await startReset(team, client2);
    const firstLink = resetLinkOf(client2.email);
    const second = await startReset(admin, client2);
    const secondLink = resetLinkOf(client2.email);
    // A new reset cancels the older open one.
    expect((await resetRow(org, first.reset.id)).status).toBe('cancelled');
    expect(await errorCode(openEscrowReset(org.newClient().api, { ...firstLink, code: first.code }))).toBe('reset_invalid');
    // Another reset's secret with this reset's id: a wrong proof (counted), not a way in.
    expect(await errorCode(openEscrowReset(org.newClient().api, { resetId: secondLink.resetId, linkSecret: firstLink.linkSecret, code: second.code }))).toBe('reset_code_invalid');

    // The server swaps in the wrap of another reset (made for another person): the browser refuses it.
    const other = await startReset(team, client);
    const credentialsBefore = await credentialColumns(org, client2.userId);
    const original = (await resetRow(org, second.reset.id)).wrapped_user_key;
    await org.testApp.db.updateTable('password_resets').set({ wrapped_user_key: (await resetRow(org, other.reset.id)).wrapped_user_key }).where('id', '=', second.reset.id).execute();
    const swappedApi = org.newClient();
    expect(await errorCode(completeEscrowReset(swappedApi.api, { ...secondLink, code: second.code, newPassword: 'verwisselde-sleutel-hier' }, fast))).toBe('ResetWrapRejectedError');
    expect(swappedApi.sent.map((r) => new URL(r.url).pathname)).toEqual(['/api/reset/open']);
    expect(await credentialColumns(org, client2.userId)).toEqual(credentialsBefore);
    await org.testApp.db.updateTable('password_resets').set({ wrapped_user_key: original }).where('id', '=', second.reset.id).execute();

    const newPassword = 'tweede-kans-bij-de-haven';
    await completeEscrowReset(org.newClient().api, { ...secondLink, code: second.code, newPassword }, fast);
    expect(await errorCode(completeEscrowReset(org.newClient().api, { ...secondLink, code: second.code, newPassword: 'nog-een-keer-proberen' }, fast))).toBe('reset_used');
    client2.password = newPassword;
    await org.relogin(client2);
    expect(ResetWrapRejectedError).toBeDefined();
  }, budget(60_000));

  it('refuses a new registration under another OPAQUE server key than the key safe pins (a malicious server)', async () => {
    const { code } = await startReset(team, client2);
    const link = resetLinkOf(client2.email);
    const credentialsBefore = await credentialColumns(org, client2.userId);
    // The server answers the registration from an OPAQUE key of its own choosing.
    const impostor = await createOpaqueServer(await generateOpaqueServerSetup());
    const honest = org.newClient();
    const evil = (async (endpoint: unknown, input: unknown) => {
      const answer = await honest.api(endpoint as never, input as never);
      if (endpoint !== startResetPassword) return answer;
      const { registrationRequest } = (input as { body: { registrationRequest: string } }).body;
      return { ...(answer as object), registrationResponse: impostor.createRegistrationResponse(client2.userId, registrationRequest) };
    }) as CallApi;
    expect(await errorCode(completeEscrowReset(evil, { ...link, code, newPassword: 'valse-sleutel-van-de-server' }, fast))).toBe('PinMismatchError');
    expect(honest.sent.map((r) => new URL(r.url).pathname)).toEqual(['/api/reset/open', '/api/reset/password/start']);
    expect(await credentialColumns(org, client2.userId)).toEqual(credentialsBefore);
  }, budget(60_000));

  it('leaves nothing half-done when the last step fails, or when the e-mail cannot be sent', async () => {
    const { reset, code } = await startReset(team, client2);
    const link = resetLinkOf(client2.email);
    const { resetKey, proof } = await resetSecrets(link.resetId, link.linkSecret, code);
    expect(resetKey).toBeDefined();
    const api = org.newClient().api;
    const credentialsBefore = await credentialColumns(org, client2.userId);
    // A registration id the server never issued.
    const opened = await api(openReset, { body: { resetId: reset.id, proof } });
    expect(opened.userId).toBe(client2.userId);
    const finishBody = { resetId: reset.id, proof, registrationId: 'AAAAAAAAAAAAAAAAAAAAAA', registrationRecord: 'A'.repeat(256), wrappedUserKey: opened.wrappedUserKey };
    expect(await errorCode(api((await import('../../shared/api')).finishResetPassword, { body: finishBody }))).not.toBe('ok');
    expect(await credentialColumns(org, client2.userId)).toEqual(credentialsBefore);
    expect((await resetRow(org, reset.id)).status).toBe('sent');

    mailDown = true;
    try {
      expect(await errorCode(startReset(team, client2))).toBe('service_unavailable');
    } finally {
      mailDown = false;
    }
    const rows = await org.testApp.db.selectFrom('password_resets').selectAll().where('user_id', '=', client2.userId).orderBy('created_at', 'desc').execute();
    expect(rows[0]).toMatchObject({ status: 'cancelled', link_secret_sealed: null, sent_at: null });
  }, budget(60_000));

  it('lifts the lockout when asked, removes second factors on completion, and ends sessions and trusted devices', async () => {
    const now = () => new Date(Date.now() + clockOffsetMs);
    const lockedUntil = new Date(now().getTime() + HOUR).toISOString();
    await org.testApp.db.updateTable('users').set({ failed_logins: 10, locked_until: lockedUntil }).where('id', '=', team2.userId).execute();
    await org.testApp.db
      .insertInto('second_factors')
      .values({ id: 'F'.repeat(22), user_id: team2.userId, kind: 'email', name: 'mail', created_at: now().toISOString(), last_used_at: null, totp_secret: null, totp_last_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
      .execute();
    await org.testApp.db.insertInto('backup_codes').values({ user_id: team2.userId, code_hash: 'ab'.repeat(32), created_at: now().toISOString(), used_at: null }).execute();
    await org.testApp.db
      .insertInto('trusted_devices')
      .values({ id: 'T'.repeat(22), user_id: team2.userId, token_hash: 'cd'.repeat(32), created_at: now().toISOString(), expires_at: new Date(now().getTime() + 24 * HOUR).toISOString(), last_used_at: null, user_agent: null, ip: null, revoked_at: null })
      .execute();
    const keysBefore = await keyColumns(org, team2.userId);

    const { reset, code } = await startReset(admin, team2, { liftLockout: true, removeSecondFactors: true });
    // lists open resets only to those who may reset the person: Administrators, not Team Members, for staff.
    expect((await admin2.client.api(listResets, {})).resets.map((r) => r.id)).toContain(reset.id);
    expect((await team.client.api(listResets, {})).resets.map((r) => r.id)).not.toContain(reset.id);
    expect((await team2.client.api(listResets, {})).resets.map((r) => r.id)).not.toContain(reset.id);
    // The lock is lifted as the link goes out; the factors stay until the person completes.
    expect(await credentialColumns(org, team2.userId)).toMatchObject({ locked_until: null });
    expect(await org.testApp.db.selectFrom('second_factors').select('id').where('user_id', '=', team2.userId).execute()).toHaveLength(1);

    const oldSession = team2.client;
    const link = resetLinkOf(team2.email);
    const newPassword = 'groene-heuvels-na-regen';
    await completeEscrowReset(org.newClient().api, { ...link, code, newPassword }, fast);
    expect(await org.testApp.db.selectFrom('second_factors').select('id').where('user_id', '=', team2.userId).execute()).toEqual([]);
    expect(await org.testApp.db.selectFrom('backup_codes').select('code_hash').where('user_id', '=', team2.userId).execute()).toEqual([]);
    const device = await org.testApp.db.selectFrom('trusted_devices').select('revoked_at').where('id', '=', 'T'.repeat(22)).executeTakeFirstOrThrow();
    expect(device.revoked_at).not.toBeNull();
    expect(await errorCode(oldSession.api(getSession, {}))).toBe('unauthenticated');
    expect(await keyColumns(org, team2.userId)).toEqual(keysBefore);
    team2.password = newPassword;
    await org.relogin(team2);
    // Still an escrow holder with the same grant: the user key did not change.
    expect(team2.vault.escrow).toBeDefined();
    const completed = await org.testApp.db.selectFrom('audit_events').select('details').where('action', '=', 'escrow.reset_completed').where('target_id', '=', team2.userId).executeTakeFirstOrThrow();
    expect(JSON.parse(completed.details)).toMatchObject({ resetId: reset.id, secondFactorsRemoved: 1, backupCodesRemoved: 1, trustedDevicesRevoked: 1 });
  }, budget(60_000));

  it('four eyes: the link goes out only after another person who may reset approves', async () => {
    const settings = await admin.client.api(getSettings, {});
    await org.relogin(admin);
    await admin.client.api(updateSettings, { body: { ...settings, resetNeedsApproval: true } });
    try {
      const mailsBefore = mailsTo(client2.email, 'password_reset').length;
      const { reset, code } = await startReset(team, client2);
      expect(reset.status).toBe('awaiting_approval');
      expect(mailsTo(client2.email, 'password_reset')).toHaveLength(mailsBefore);
      expect((await resetRow(org, reset.id)).link_secret_sealed).toMatch(/^v1\./);
      // The approvers were asked: the other Team Member and both Administrators, not the resetter.
      expect(mailsTo(team2.email, 'reset_approval_requested').length).toBeGreaterThan(0);
      expect(mailsTo(team.email, 'reset_approval_requested')).toHaveLength(0);
      expect((await team2.client.api(listResets, {})).resets.map((r) => r.id)).toContain(reset.id);

      expect(await errorCode(team.client.api(approveReset, { params: { id: reset.id } }))).toBe('reset_approval_own');
      expect(await errorCode(client2.client.api(approveReset, { params: { id: reset.id } }))).toBe('forbidden');
      await org.relogin(auditor);
      expect(await errorCode(auditor.client.api(approveReset, { params: { id: reset.id } }))).toBe('forbidden');
      await org.relogin(team2);
      const approved = await team2.client.api(approveReset, { params: { id: reset.id } });
      expect(approved.reset).toMatchObject({ status: 'sent', approvedBy: team2.userId });
      expect(await errorCode(admin.client.api(approveReset, { params: { id: reset.id } }))).toBe('reset_state');
      expect((await resetRow(org, reset.id)).link_secret_sealed).toBeNull();
      const link = resetLinkOf(client2.email);
      expect(link.resetId).toBe(reset.id);
      const opened = await openEscrowReset(org.newClient().api, { ...link, code });
      expect(opened.userId).toBe(client2.userId);
      expect(await auditActions(org, reset.id)).toEqual(['escrow.reset_started', 'escrow.reset_approved', 'escrow.reset_sent', 'escrow.reset_opened']);

      // Declined: the approver cancels; the link stops working.
      const declined = await startReset(team, client2);
      expect(await errorCode(openEscrowReset(org.newClient().api, { ...resetLinkOf(client2.email), code: declined.code }))).not.toBe('ok');
      expect((await team2.client.api(cancelReset, { params: { id: declined.reset.id } })).reset.status).toBe('cancelled');
      // A declined reset is a change to a reset: every Administrator hears of it.
      for (const a of [admin, admin2]) {
        const events = mailsTo(a.email, 'admin_security_event').map((n) => (n.kind === 'admin_security_event' ? n.event : null));
        expect(events).toContain('reset_cancelled');
      }
      expect(await errorCode(team2.client.api(approveReset, { params: { id: declined.reset.id } }))).toBe('reset_state');
      expect(await errorCode(client2.client.api(cancelReset, { params: { id: declined.reset.id } }))).toBe('forbidden');
    } finally {
      await admin.client.api(updateSettings, { body: settings });
    }
  }, budget(60_000));

  it('records a staff member\'s first access to a client\'s space once, audits it and tells the client', async () => {
    await openSpace(client);
    await org.relogin(team2);
    const firstAccesses = () => org.testApp.db.selectFrom('escrow_uses').selectAll().where('kind', '=', 'first-access').where('user_id', '=', client.userId).execute();
    const mailsBefore = mailsTo(client.email, 'escrow_used').length;
    expect(await firstAccesses()).toEqual([]);
    // The listing serves every client space's escrow seal to staff.
    const { spaces } = await team2.client.api(listSpaces, {});
    const space = spaces.find((s) => s.clientId === client.userId)!;
    expect(space.sealedKey).not.toBeNull();
    expect((await firstAccesses()).map((u) => u.actor_id)).toEqual([team2.userId]);
    expect(mailsTo(client.email, 'escrow_used').slice(mailsBefore)).toMatchObject([{ use: 'first-access', actorRole: 'team' }]);
    // Once: listing again and opening the space record nothing new.
    await team2.client.api(listSpaces, {});
    await team2.client.api(getSpace, { params: { spaceId: space.id } });
    expect(await firstAccesses()).toHaveLength(1);
    expect(mailsTo(client.email, 'escrow_used')).toHaveLength(mailsBefore + 1);
    // Two requests at once both pass the "known already" read: the unique index decides, and says so.
    const again = { id: newId(), user_id: client.userId, kind: 'first-access' as const, actor_id: team2.userId, occurred_at: new Date().toISOString(), subject_id: null };
    expect(await insertFirstAccessOnce(org.testApp.db, again)).toBe(false);
    expect(await firstAccesses()).toHaveLength(1);
    // Another holder's first look is theirs to record; a client's own look is no escrow use.
    await org.relogin(admin);
    await admin.client.api(getSpace, { params: { spaceId: space.id } });
    expect((await firstAccesses()).map((u) => u.actor_id).sort()).toEqual([team2.userId, admin.userId].sort());
    await client.client.api(listSpaces, {});
    expect(await firstAccesses()).toHaveLength(2);
    const audited = await org.testApp.db.selectFrom('audit_events').select(['actor_id']).where('action', '=', 'escrow.first_access').where('target_id', '=', client.userId).execute();
    expect(audited.map((a) => a.actor_id).sort()).toEqual([team2.userId, admin.userId].sort());
    const mine = await client.client.api(getMyEscrow, {});
    expect(mine.uses.filter((u) => u.kind === 'first-access').map((u) => [u.actorId, u.statement, u.subjectId])).toEqual(
      expect.arrayContaining([[team2.userId, null, null], [admin.userId, null, null]]),
    );
  }, budget(60_000));

  it('shows the person every use of escrow, with a statement that verifies under the resetter\'s key', async () => {
    await org.relogin(client);
    const mine = await client.client.api(getMyEscrow, {});
    expect(mine.fourEyes).toBe(false);
    expect(mine.holders.length).toBeGreaterThanOrEqual(2);
    const resets = mine.uses.filter((u) => u.kind === 'reset');
    expect(resets.length).toBeGreaterThan(0);
    const use = resets.at(-1)!;
    expect(use).toMatchObject({ actorId: team.userId, actorEmail: team.email });
    const stored = await resetRow(org, use.subjectId!);
    const teamRow = await org.testApp.db.selectFrom('users').select('signing_public_key').where('id', '=', team.userId).executeTakeFirstOrThrow();
    const signer = await importSigningPublicKey(fromBase64Url(teamRow.signing_public_key!));
    const verified = await verifyEscrowUse(use.statement!, signer, { user: client.userId, reset: use.subjectId!, wrap: await recordDigest(stored.wrapped_user_key) });
    expect(verified).toMatchObject({ by: team.userId, user: client.userId, byKey: toHex(signer.fingerprint) });
    // Nobody else's uses.
    const theirs = await client2.client.api(getMyEscrow, {});
    expect(theirs.uses.map((u) => u.id)).not.toEqual(expect.arrayContaining(mine.uses.map((u) => u.id)));
  }, budget(60_000));

  it('expires the link after the organisation\'s lifetime', async () => {
    await org.relogin(team);
    const { reset, code } = await startReset(team, client2);
    const link = resetLinkOf(client2.email);
    expect(new Date(reset.expiresAt).getTime() - new Date(reset.createdAt).getTime()).toBe(72 * HOUR);
    clockOffsetMs += 72 * HOUR + 60_000;
    expect(await errorCode(openEscrowReset(org.newClient().api, { ...link, code }))).toBe('reset_expired');
    expect((await org.relogin(team)) && (await team.client.api(listResets, {})).resets.map((r) => r.id)).not.toContain(reset.id);
  }, budget(60_000));

  it('throttles proofs per address, whichever reset they name (last: it spends this address\'s budget)', async () => {
    const api = org.newClient().api;
    const body = { resetId: 'R'.repeat(22), proof: 'A'.repeat(43) };
    // Earlier tests spent part of this window already: at most `max` answers before the refusal.
    const outcomes: string[] = [];
    while (outcomes.length <= PROOF_IP_LIMIT.max && outcomes.at(-1) !== 'rate_limited') outcomes.push(await errorCode(api(openReset, { body })));
    expect(outcomes.at(-1)).toBe('rate_limited');
    expect(new Set(outcomes.slice(0, -1))).toEqual(new Set(outcomes.length > 1 ? ['reset_invalid'] : []));
    expect(await errorCode(api(openReset, { body }))).toBe('rate_limited');
  }, budget(60_000));
});
