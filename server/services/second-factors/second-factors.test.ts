// Integration: TOTP, e-mail codes and backup codes (set-up over HTTP, the checks the sign-in step calls), own factors, managers' removal by hierarchy, audit.
// TOTP codes come from the test's own RFC 6238 implementation (server/test/rfc6238.ts), e-mail codes from a real SMTP server.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  confirmEmailFactorSetup,
  confirmTotpSetup,
  createBackupCodes,
  getUserSecurity,
  listSecondFactors,
  listUsers,
  removeSecondFactor,
  removeUserSecondFactor,
  renameSecondFactor,
  startEmailFactorSetup,
  startTotpSetup,
  type Role,
} from '../../../shared/api';
import { invite, login, signup } from '../../../shared/flows/account-flows';
import { createMemoryStore, type EphemeralStore } from '../../auth/ephemeral-store';
import { sealTotpSecret } from '../../auth/factor-keys';
import { createOpaqueServer } from '../../auth/opaque-server';
import { createMailNotifier } from '../../mail/notifier';
import { findUserById } from '../../repositories/accounts.repository';
import { insertTrustedDevice } from '../../repositories/trusted-devices.repository';
import { budget } from '../../test/budget';
import { testServerSetup } from '../../test/make-test-app';
import { createTestOrganisation, fast, invitationLinkFor, parseInvitationLink, type Member, type TestOrganisation } from '../../test/org-fixture';
import { decodeBase32, totp, totpStep } from '../../test/rfc6238';
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../test/smtp-server';
import { createRecordingNotifier, type Notifier } from '../notifications';
import { EMAIL_CODE_MAX_TRIES, EMAIL_CODE_SEND_LIMIT } from './verifiers';

/** The server's clock: the wall clock moved by `offsetMs`, or stopped at `pinnedMs` while that is set. */
const clock = { offsetMs: 0, pinnedMs: null as number | null };
const now = () => new Date(clock.pinnedMs ?? Date.now() + clock.offsetMs);

/**
 * The server's ephemeral store, with rate-limit windows of their own per test (`epoch` moves on after
 * each), so the limits one test reaches do not hold back the next.
 */
let epoch = 0;
const baseStore = createMemoryStore();
const store: EphemeralStore = { ...baseStore, hit: (key, windowMs, at) => baseStore.hit(`${epoch}:${key}`, windowMs, at) };

let smtp: TestSmtpServer;
let org: TestOrganisation;
/** A second Administrator (Administrators manage Administrators, never themselves). */
let admin2: Member;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  // Every notice goes through the real mailer to the SMTP server, and is recorded (the fixture reads invitation links there).
  const recording = createRecordingNotifier();
  const mailer = createMailNotifier({ mail: { smtpUrl: smtp.url, from: 'Kluis <noreply@kluis.test>', outboxDir: '/nonexistent' } }, pino({ level: 'silent' }));
  const notifier: Notifier & { sent: typeof recording.sent } = {
    sent: recording.sent,
    async send(to, language, notification) {
      await recording.send(to, language, notification);
      await mailer.send(to, language, notification);
    },
  };
  org = await createTestOrganisation(['team', 'client', 'auditor'], { now, notifier, store, env: { KLUIS_LOGIN_LIMIT_PER_IP: '1000' } });
  const email = 'beheer2@kluis.test';
  const password = 'oranje-kano-op-de-vaart';
  await invite(org.admin.client.api, org.admin.vault, { email, role: 'admin', language: 'en' });
  const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
  const client = org.newClient();
  const { userId } = await signup(client.api, { token, fragment, name: 'Bea Beheer', password, language: 'en' }, fast);
  const { vault } = await login(client.api, email, password, fast);
  admin2 = { role: 'admin', email, password, userId, client, vault };
}, budget(180_000));

afterAll(async () => {
  await org?.close();
  await smtp?.close();
});

// Every test starts with nobody having a second factor, backup codes or trusted devices, at wall-clock time, with fresh rate limits.
afterEach(async () => {
  epoch++;
  clock.offsetMs = 0;
  clock.pinnedMs = null;
  await org.testApp.db.deleteFrom('second_factors').execute();
  await org.testApp.db.deleteFrom('backup_codes').execute();
  await org.testApp.db.deleteFrom('trusted_devices').execute();
});

const member = (who: Role | 'admin2'): Member => (who === 'admin2' ? admin2 : who === 'admin' ? org.admin : org.members[who]!);
/** Signs `who` in again (a recent login), before any of their factors exist (the sign-in would ask for one). */
const fresh = (who: Role | 'admin2') => org.relogin(member(who));
const codes = () => org.testApp.services.codeFactors;

/** Stops the clock in the middle of the current 30-second step (so ±1 step is unambiguous), `steps` steps on. */
function pinMidStep(steps = 0): number {
  clock.pinnedMs = (totpStep(Date.now()) * 30 + 15 + steps * 30) * 1000;
  return clock.pinnedMs;
}

/** Adds an authenticator app over HTTP, confirmed with a code from the independent implementation. */
async function addTotp(who: Member, name = 'Telefoon') {
  const setup = await who.client.api(startTotpSetup, { body: {} });
  const secret = decodeBase32(setup.secret);
  const factor = await who.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: totp(secret, now().getTime()), name } });
  return { setup, secret, factor };
}

/** Mails received from now on. */
function mailbox() {
  const before = smtp.messages().length;
  return {
    /** The next message to `address` after this point. */
    next: (address: string) => smtp.waitForMessage((mail) => smtp.messages().indexOf(mail) >= before && mail.envelope.to.includes(address), budget(10_000)),
    count: (address: string) => smtp.messages().slice(before).filter((mail) => mail.envelope.to.includes(address)).length,
  };
}

/** The six-digit code on a line of its own in a code e-mail. */
function codeIn(mail: ReceivedMail): string {
  const line = (mail.text ?? '').split('\n').find((l) => /^[0-9]{6}$/.test(l));
  if (!line) throw new Error(`no code in "${mail.subject}"`);
  return line;
}

/** Adds e-mail codes over HTTP with the code from the SMTP server. */
async function addEmailFactor(who: Member) {
  const box = mailbox();
  const { setupId } = await who.client.api(startEmailFactorSetup, { body: {} });
  return who.client.api(confirmEmailFactorSetup, { body: { setupId, code: codeIn(await box.next(who.email)) } });
}

async function userRow(who: Member) {
  const row = await findUserById(org.testApp.db, who.userId);
  if (!row) throw new Error('no such user');
  return row;
}

/** The audit events of `action`, oldest first, details parsed. */
async function eventsOf(action: string) {
  const rows = await org.testApp.db.selectFrom('audit_events').select(['actor_id', 'target_type', 'target_id', 'details']).where('action', '=', action).orderBy('seq').execute();
  return rows.map((row) => ({ ...row, details: JSON.parse(row.details) as unknown }));
}

/** A raw request with `who`'s session cookie (for bodies the typed client would not send). */
async function raw(who: Member, method: string, path: string, body?: unknown) {
  const response = await fetch(org.server.baseUrl + path, {
    method,
    headers: {
      Origin: org.testApp.config.publicOrigin,
      Cookie: [...who.client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, code: text ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined };
}

describe('adding an authenticator app (TOTP set-up over HTTP)', () => {
  it('hands out a 160-bit secret and its otpauth URI (issuer Kluis, the organisation), confirmed by the first code, whose step counts as used', async () => {
    const admin = await fresh('admin');
    const at = pinMidStep();
    const setup = await admin.client.api(startTotpSetup, { body: {} });
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    const secret = decodeBase32(setup.secret);
    expect(secret).toHaveLength(20);
    const uri = new URL(setup.uri);
    expect([uri.protocol, uri.host]).toEqual(['otpauth:', 'totp']);
    expect(decodeURIComponent(uri.pathname)).toBe('/Kluis:Kantoor De Vries (admin@kluis.test)');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ issuer: 'Kluis', secret: setup.secret, algorithm: 'SHA1', digits: '6', period: '30' });

    const factor = await admin.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: totp(secret, at), name: '  Telefoon  ' } });
    expect(factor).toMatchObject({ kind: 'totp', name: 'Telefoon', unlocks: false, createdAt: new Date(at).toISOString() });
    expect((await admin.client.api(listSecondFactors, {})).factors).toEqual([factor]);
    const row = await org.testApp.db.selectFrom('second_factors').selectAll().where('id', '=', factor.id).executeTakeFirstOrThrow();
    expect(row.totp_last_step).toBe(totpStep(at));
    // The confirming code is used: the sign-in step refuses it.
    expect(await codes().verifyTotp(admin.userId, totp(secret, at))).toEqual({ ok: false, code: 'second_factor_reused' });
    expect(await eventsOf('second_factor.added')).toContainEqual({ actor_id: admin.userId, target_type: 'user', target_id: admin.userId, details: { kind: 'totp', factorId: factor.id } });
  });

  it('refuses a wrong first code (second_factor_invalid) and lets the right one through afterwards; the fifth wrong code voids the set-up', async () => {
    const client = await fresh('client');
    const at = pinMidStep();
    const setup = await client.client.api(startTotpSetup, { body: {} });
    const secret = decodeBase32(setup.secret);
    const wrong = totp(secret, at, 5);
    await expect(client.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: wrong, name: 'x' } })).rejects.toMatchObject({ status: 401, code: 'second_factor_invalid' });
    await expect(client.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: totp(secret, at), name: 'Telefoon' } })).resolves.toMatchObject({ kind: 'totp' });

    const second = await client.client.api(startTotpSetup, { body: {} });
    const secondSecret = decodeBase32(second.secret);
    for (let i = 0; i < 5; i++) {
      await expect(client.client.api(confirmTotpSetup, { body: { setupId: second.setupId, code: totp(secondSecret, at, 7 + i), name: 'x' } })).rejects.toMatchObject({ code: 'second_factor_invalid' });
    }
    await expect(client.client.api(confirmTotpSetup, { body: { setupId: second.setupId, code: totp(secondSecret, at), name: 'x' } })).rejects.toMatchObject({ status: 410, code: 'factor_setup_expired' });
    expect((await client.client.api(listSecondFactors, {})).factors).toHaveLength(1);
  });

  it('refuses someone else\'s set-up and a set-up older than 10 minutes (factor_setup_expired)', async () => {
    const client = await fresh('client');
    const admin = await fresh('admin');
    const setup = await client.client.api(startTotpSetup, { body: {} });
    const secret = decodeBase32(setup.secret);
    await expect(admin.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: totp(secret, now().getTime()), name: 'x' } })).rejects.toMatchObject({ status: 410, code: 'factor_setup_expired' });
    expect((await admin.client.api(listSecondFactors, {})).factors).toEqual([]);

    const late = await client.client.api(startTotpSetup, { body: {} });
    clock.offsetMs = 10 * 60_000 + 1_000;
    await expect(client.client.api(confirmTotpSetup, { body: { setupId: late.setupId, code: totp(decodeBase32(late.secret), now().getTime()), name: 'x' } })).rejects.toMatchObject({ code: 'factor_setup_expired' });
    clock.offsetMs = 9 * 60_000;
    // The first one is still within its 10 minutes.
    await expect(client.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: totp(secret, now().getTime()), name: 'x' } })).resolves.toMatchObject({ kind: 'totp' });
  });

  it.each([['12345'], ['1234567'], ['12345a'], [' 123456'], ['123 456'], [''], [123456], ['１２３４５６']])('refuses the malformed code %j with validation_failed', async (code) => {
    const client = await fresh('client');
    const setup = await client.client.api(startTotpSetup, { body: {} });
    expect(await raw(client, 'POST', '/api/account/second-factors/totp/confirm', { setupId: setup.setupId, code, name: 'x' })).toEqual({ status: 400, code: 'validation_failed' });
  });

  it('needs a login from the last 15 minutes to start and to confirm', async () => {
    const team = await fresh('team');
    const setup = await team.client.api(startTotpSetup, { body: {} });
    clock.offsetMs = 16 * 60_000;
    await expect(team.client.api(startTotpSetup, { body: {} })).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
    await expect(team.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: totp(decodeBase32(setup.secret), now().getTime()), name: 'x' } })).rejects.toMatchObject({
      code: 'reauthentication_required',
    });
  });
});

describe('TOTP codes at sign-in (verifyTotp, which the sign-in step calls)', () => {
  it('accepts the codes one step before, at and after the server\'s time, each once', async () => {
    const admin = await fresh('admin');
    const at = pinMidStep();
    const { secret, factor } = await addTotp(admin);
    pinMidStep(10);
    const later = now().getTime();
    for (const offset of [-1, 0, 1]) expect(await codes().verifyTotp(admin.userId, totp(secret, later, offset))).toEqual({ ok: true, factorId: factor.id });
    for (const offset of [-1, 0, 1]) expect(await codes().verifyTotp(admin.userId, totp(secret, later, offset))).toEqual({ ok: false, code: 'second_factor_reused' });
    const row = await org.testApp.db.selectFrom('second_factors').select(['totp_last_step', 'last_used_at']).where('id', '=', factor.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ totp_last_step: totpStep(at) + 11, last_used_at: new Date(later).toISOString() });
  });

  it.each([-3, -2, 2, 3, 20])('refuses the code %i steps away (too old, or from the future)', async (offset) => {
    const admin = await fresh('admin');
    pinMidStep();
    const { secret } = await addTotp(admin);
    const at = pinMidStep(10);
    expect(await codes().verifyTotp(admin.userId, totp(secret, at, offset))).toEqual({ ok: false, code: 'second_factor_invalid' });
    // The same secret's current code passes: the refusal was about the step.
    expect(await codes().verifyTotp(admin.userId, totp(secret, at))).toMatchObject({ ok: true });
  });

  it('refuses a replayed code, and an older code once a later one was used', async () => {
    const team = await fresh('team');
    pinMidStep();
    const { secret } = await addTotp(team);
    const at = pinMidStep(4);
    expect(await codes().verifyTotp(team.userId, totp(secret, at))).toMatchObject({ ok: true });
    expect(await codes().verifyTotp(team.userId, totp(secret, at))).toEqual({ ok: false, code: 'second_factor_reused' });
    // Still inside its window, but older than the step just used.
    expect(await codes().verifyTotp(team.userId, totp(secret, at, -1))).toEqual({ ok: false, code: 'second_factor_reused' });
    pinMidStep(5);
    expect(await codes().verifyTotp(team.userId, totp(secret, at))).toEqual({ ok: false, code: 'second_factor_reused' });
  });

  it('lets exactly one of several parallel uses of one code pass', async () => {
    const client = await fresh('client');
    pinMidStep();
    const { secret, factor } = await addTotp(client);
    const at = pinMidStep(3);
    const code = totp(secret, at);
    const results = await Promise.all(Array.from({ length: 6 }, () => codes().verifyTotp(client.userId, code)));
    expect(results.filter((r) => r.ok)).toEqual([{ ok: true, factorId: factor.id }]);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, code: 'second_factor_reused' })));
  });

  it('refuses a code of another person\'s app; a person without an app gets second_factor_unavailable', async () => {
    const client = await fresh('client');
    const admin = await fresh('admin');
    pinMidStep();
    const theirs = await addTotp(client);
    await addTotp(admin);
    pinMidStep(2);
    const code = totp(theirs.secret, now().getTime());
    expect(await codes().verifyTotp(admin.userId, code)).toEqual({ ok: false, code: 'second_factor_invalid' });
    expect(await codes().verifyTotp(org.members.auditor!.userId, code)).toEqual({ ok: false, code: 'second_factor_unavailable' });
    expect(await codes().verifyTotp(client.userId, code)).toEqual({ ok: true, factorId: theirs.factor.id });
  });

  it('tries every app of the person, and names the one that passed', async () => {
    const team = await fresh('team');
    pinMidStep();
    const phone = await addTotp(team, 'Phone');
    const tablet = await addTotp(team, 'Tablet');
    const at = pinMidStep(2);
    expect(await codes().verifyTotp(team.userId, totp(tablet.secret, at))).toEqual({ ok: true, factorId: tablet.factor.id });
    expect(await codes().verifyTotp(team.userId, totp(phone.secret, at))).toEqual({ ok: true, factorId: phone.factor.id });
  });

  it('treats a secret that does not open (sealed under another server key, or for another factor) as unavailable, not as an error', async () => {
    const auditor = await fresh('auditor');
    pinMidStep();
    const { secret, factor } = await addTotp(auditor);
    const at = pinMidStep(2);
    const serverKey = (await createOpaqueServer(await testServerSetup())).secretKey('totp-secrets');
    const reseal = (key: Buffer, factorId: string) =>
      org.testApp.db.updateTable('second_factors').set({ totp_secret: sealTotpSecret(key, secret, auditor.userId, factorId) }).where('id', '=', factor.id).execute();
    await reseal(Buffer.alloc(32, 7), factor.id);
    expect(await codes().verifyTotp(auditor.userId, totp(secret, at))).toEqual({ ok: false, code: 'second_factor_unavailable' });
    await reseal(serverKey, 'another-factor');
    expect(await codes().verifyTotp(auditor.userId, totp(secret, at))).toEqual({ ok: false, code: 'second_factor_unavailable' });
    // Sealed as the server does, it opens: the refusals above were about key and context.
    await reseal(serverKey, factor.id);
    expect(await codes().verifyTotp(auditor.userId, totp(secret, at))).toEqual({ ok: true, factorId: factor.id });
  });
});

describe('TOTP secrets at rest', () => {
  it('are nowhere in the SQLite files in clear (base32, raw, hex or base64), while the factor\'s name is', async () => {
    const team = await fresh('team');
    const name = `Telefoon-${Date.now()}`;
    const added = [await addTotp(team, name), await addTotp(team, name)];
    const files = await Promise.all(['kluis.db', 'kluis.db-wal'].map((file) => readFile(join(org.testApp.dataDir, file)).catch(() => Buffer.alloc(0))));
    const bytes = Buffer.concat(files);
    // The search sees what the rows hold: the plaintext name is there.
    expect(bytes.includes(Buffer.from(name, 'utf8'))).toBe(true);
    for (const { setup, secret } of added) {
      for (const form of [Buffer.from(setup.secret, 'ascii'), Buffer.from(setup.secret.toLowerCase(), 'ascii'), secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('base64')), Buffer.from(secret.toString('base64url'))]) {
        expect(bytes.includes(form)).toBe(false);
      }
    }
    const rows = await org.testApp.db.selectFrom('second_factors').select('totp_secret').where('user_id', '=', team.userId).execute();
    expect(rows.map((row) => row.totp_secret)).toEqual([expect.stringMatching(/^v1\./), expect.stringMatching(/^v1\./)]);
  });
});

describe('e-mail codes', () => {
  it('set-up mails a first code to one\'s own address in one\'s language; the code turns e-mail codes on; a second set-up is a conflict', async () => {
    const client = await fresh('client');
    const box = mailbox();
    const { setupId } = await client.client.api(startEmailFactorSetup, { body: {} });
    const mail = await box.next(client.email);
    expect(mail.subject).toBe('Uw code om e-mailcodes aan te zetten in Kluis (Kantoor De Vries)');
    const code = codeIn(mail);
    const wrong = code === '000000' ? '000001' : '000000';
    await expect(client.client.api(confirmEmailFactorSetup, { body: { setupId, code: wrong } })).rejects.toMatchObject({ status: 401, code: 'second_factor_invalid' });
    const factor = await client.client.api(confirmEmailFactorSetup, { body: { setupId, code } });
    expect(factor).toMatchObject({ kind: 'email', name: 'E-mail', unlocks: false });
    expect(await eventsOf('second_factor.added')).toContainEqual({ actor_id: client.userId, target_type: 'user', target_id: client.userId, details: { kind: 'email', factorId: factor.id } });
    await expect(client.client.api(startEmailFactorSetup, { body: {} })).rejects.toMatchObject({ status: 409, code: 'conflict' });
    await expect(client.client.api(confirmEmailFactorSetup, { body: { setupId, code } })).rejects.toMatchObject({ code: 'factor_setup_expired' });
    expect(box.count(client.email)).toBe(1);
  });

  it('sign-in codes go out in the person\'s language, work once, and a wrong one or a set-up code does not pass', async () => {
    const admin = await fresh('admin');
    const factor = await addEmailFactor(admin);
    const user = await userRow(admin);
    const box = mailbox();
    await codes().sendEmailCode(user, 'login');
    const mail = await box.next(admin.email);
    expect(mail.subject).toBe('Your sign-in code for Kluis (Kantoor De Vries)');
    const code = codeIn(mail);
    expect(await codes().verifyEmailCode(admin.userId, code === '999999' ? '999998' : '999999')).toEqual({ ok: false, code: 'second_factor_invalid' });
    expect(await codes().verifyEmailCode(admin.userId, code)).toEqual({ ok: true, factorId: factor.id });
    expect(await codes().verifyEmailCode(admin.userId, code)).toEqual({ ok: false, code: 'second_factor_reused' });
    expect(await codes().verifyEmailCode(org.members.team!.userId, code)).toEqual({ ok: false, code: 'second_factor_unavailable' });

    // A code sent to set e-mail codes up is no sign-in code.
    const setupBox = mailbox();
    await codes().sendEmailCode(user, 'setup');
    const setupCode = codeIn(await setupBox.next(admin.email));
    expect(await codes().verifyEmailCode(admin.userId, setupCode)).toEqual({ ok: false, code: setupCode === code ? 'second_factor_reused' : 'second_factor_invalid' });
  });

  it('two parallel uses of one code: exactly one passes', async () => {
    const team = await fresh('team');
    await addEmailFactor(team);
    const box = mailbox();
    await codes().sendEmailCode(await userRow(team), 'login');
    const code = codeIn(await box.next(team.email));
    const results = await Promise.all(Array.from({ length: 5 }, () => codes().verifyEmailCode(team.userId, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 4 }, () => ({ ok: false, code: 'second_factor_reused' })));
  });

  it('expire after 10 minutes (the clock moved on)', async () => {
    const team = await fresh('team');
    await addEmailFactor(team);
    const start = pinMidStep();
    const box = mailbox();
    await codes().sendEmailCode(await userRow(team), 'login');
    const first = codeIn(await box.next(team.email));
    clock.pinnedMs = start + 10 * 60_000 - 1_000;
    expect(await codes().verifyEmailCode(team.userId, first)).toMatchObject({ ok: true });

    clock.pinnedMs = start;
    const again = mailbox();
    await codes().sendEmailCode(await userRow(team), 'login');
    const second = codeIn(await again.next(team.email));
    clock.pinnedMs = start + 10 * 60_000;
    expect(await codes().verifyEmailCode(team.userId, second)).toEqual({ ok: false, code: 'second_factor_invalid' });
  });

  it(`are void after ${EMAIL_CODE_MAX_TRIES} wrong tries, and a new code replaces the old one`, async () => {
    const auditor = await fresh('auditor');
    await addEmailFactor(auditor);
    const box = mailbox();
    await codes().sendEmailCode(await userRow(auditor), 'login');
    const code = codeIn(await box.next(auditor.email));
    const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < EMAIL_CODE_MAX_TRIES; i++) expect(await codes().verifyEmailCode(auditor.userId, wrong(i))).toEqual({ ok: false, code: 'second_factor_invalid' });
    expect(await codes().verifyEmailCode(auditor.userId, code)).toEqual({ ok: false, code: 'second_factor_invalid' });

    const next = mailbox();
    await codes().sendEmailCode(await userRow(auditor), 'login');
    const newer = codeIn(await next.next(auditor.email));
    const last = mailbox();
    await codes().sendEmailCode(await userRow(auditor), 'login');
    const newest = codeIn(await last.next(auditor.email));
    // (One in a million: the new code is the old one.)
    if (newer !== newest) expect(await codes().verifyEmailCode(auditor.userId, newer)).toEqual({ ok: false, code: 'second_factor_invalid' });
    expect(await codes().verifyEmailCode(auditor.userId, newest)).toMatchObject({ ok: true });
  });

  it(`are sent at most ${EMAIL_CODE_SEND_LIMIT.max} times per person in ${EMAIL_CODE_SEND_LIMIT.windowMs / 60_000} minutes (rate_limited), over HTTP too`, async () => {
    const auditor = await fresh('auditor');
    // The start of the current window: the clock stands still inside it, whatever the wall clock does.
    clock.pinnedMs = Math.floor(Date.now() / EMAIL_CODE_SEND_LIMIT.windowMs) * EMAIL_CODE_SEND_LIMIT.windowMs + 1_000;
    const box = mailbox();
    const answers = [];
    for (let i = 0; i < EMAIL_CODE_SEND_LIMIT.max + 1; i++) answers.push(await raw(auditor, 'POST', '/api/account/second-factors/email', {}));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(answers.at(-1)!.code).toBe('rate_limited');
    expect(box.count(auditor.email)).toBe(EMAIL_CODE_SEND_LIMIT.max);
    // Another person is not held back.
    const admin = await fresh('admin');
    await expect(admin.client.api(startEmailFactorSetup, { body: {} })).resolves.toMatchObject({ setupId: expect.any(String) as unknown });
    // The next window lets the person ask again.
    clock.pinnedMs += EMAIL_CODE_SEND_LIMIT.windowMs;
    await expect(codes().sendEmailCode(await userRow(auditor), 'setup')).resolves.toBeUndefined();
  });
});

describe('backup codes', () => {
  it('ten codes shown once, stored as HMACs only; each works once (any case, dash optional); unknown codes are invalid', async () => {
    const client = await fresh('client');
    const { codes: set, createdAt } = await client.client.api(createBackupCodes, { body: {} });
    expect(set).toHaveLength(10);
    expect(new Set(set).size).toBe(10);
    for (const code of set) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    const rows = await org.testApp.db.selectFrom('backup_codes').selectAll().where('user_id', '=', client.userId).execute();
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row).toMatchObject({ code_hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, created_at: createdAt, used_at: null });
    const bytes = Buffer.concat(await Promise.all(['kluis.db', 'kluis.db-wal'].map((f) => readFile(join(org.testApp.dataDir, f)).catch(() => Buffer.alloc(0)))));
    for (const code of set) for (const form of [code, code.replace('-', '')]) expect(bytes.includes(Buffer.from(form))).toBe(false);

    expect(await codes().verifyBackupCode(client.userId, set[0]!)).toEqual({ ok: true, factorId: null });
    expect(await codes().verifyBackupCode(client.userId, set[0]!)).toEqual({ ok: false, code: 'second_factor_reused' });
    expect(await codes().verifyBackupCode(client.userId, set[1]!.replace('-', '').toLowerCase())).toEqual({ ok: true, factorId: null });
    expect(await codes().verifyBackupCode(client.userId, set[1]!)).toEqual({ ok: false, code: 'second_factor_reused' });
    expect(await codes().verifyBackupCode(client.userId, '00000-00000')).toEqual({ ok: false, code: 'second_factor_invalid' });
    // Another person's code is not this person's.
    expect(await codes().verifyBackupCode(org.admin.userId, set[2]!)).toEqual({ ok: false, code: 'second_factor_unavailable' });
    expect(await client.client.api(listSecondFactors, {})).toEqual({ factors: [], backupCodesLeft: 8, backupCodesCreatedAt: createdAt });
    expect(await eventsOf('second_factor.backup_codes_created')).toContainEqual({ actor_id: client.userId, target_type: 'user', target_id: client.userId, details: { count: 10 } });
  });

  it('a new set voids the old one, used and unused codes alike', async () => {
    const team = await fresh('team');
    const old = (await team.client.api(createBackupCodes, { body: {} })).codes;
    expect(await codes().verifyBackupCode(team.userId, old[0]!)).toMatchObject({ ok: true });
    const fresher = (await team.client.api(createBackupCodes, { body: {} })).codes;
    for (const code of old) expect(await codes().verifyBackupCode(team.userId, code)).toEqual({ ok: false, code: 'second_factor_invalid' });
    expect(await codes().verifyBackupCode(team.userId, fresher[0]!)).toMatchObject({ ok: true });
    expect((await team.client.api(listSecondFactors, {})).backupCodesLeft).toBe(9);
  });

  it('lets exactly one of several parallel uses of one code pass', async () => {
    const auditor = await fresh('auditor');
    const [code] = (await auditor.client.api(createBackupCodes, { body: {} })).codes;
    const results = await Promise.all(Array.from({ length: 5 }, () => codes().verifyBackupCode(auditor.userId, code!)));
    expect(results.filter((r) => r.ok)).toEqual([{ ok: true, factorId: null }]);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 4 }, () => ({ ok: false, code: 'second_factor_reused' })));
  });

  it('need a login from the last 15 minutes', async () => {
    const admin = await fresh('admin');
    clock.offsetMs = 16 * 60_000;
    await expect(admin.client.api(createBackupCodes, { body: {} })).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
    expect((await admin.client.api(listSecondFactors, {})).backupCodesLeft).toBe(0);
  });
});

describe('one\'s own factors', () => {
  it('renames and removes only one\'s own factors: another person\'s factor id is not_found and stays', async () => {
    const team = await fresh('team');
    const client = await fresh('client');
    const mine = (await addTotp(team, 'Phone')).factor;
    const theirs = (await addTotp(client, 'Telefoon')).factor;
    await expect(team.client.api(renameSecondFactor, { params: { id: theirs.id }, body: { name: 'Mine now' } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(team.client.api(removeSecondFactor, { params: { id: theirs.id } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await client.client.api(listSecondFactors, {})).factors).toEqual([theirs]);

    const renamed = await team.client.api(renameSecondFactor, { params: { id: mine.id }, body: { name: 'Work phone' } });
    expect(renamed).toEqual({ ...mine, name: 'Work phone' });
    expect(await eventsOf('second_factor.renamed')).toContainEqual({ actor_id: team.userId, target_type: 'user', target_id: team.userId, details: { kind: 'totp', factorId: mine.id } });
    await team.client.api(removeSecondFactor, { params: { id: mine.id } });
    expect((await team.client.api(listSecondFactors, {})).factors).toEqual([]);
    expect(await eventsOf('second_factor.removed')).toContainEqual({ actor_id: team.userId, target_type: 'user', target_id: team.userId, details: { kind: 'totp', factorId: mine.id, by: 'self' } });
  });

  it('removing one\'s own factor needs a login from the last 15 minutes', async () => {
    const auditor = await fresh('auditor');
    const { factor } = await addTotp(auditor);
    clock.offsetMs = 16 * 60_000;
    await expect(auditor.client.api(removeSecondFactor, { params: { id: factor.id } })).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
    expect((await auditor.client.api(listSecondFactors, {})).factors).toEqual([factor]);
  });

  it('refuses a name that is empty or longer than 60 characters', async () => {
    const admin = await fresh('admin');
    const { factor } = await addTotp(admin);
    for (const name of ['', '   ', 'x'.repeat(61)]) expect(await raw(admin, 'PATCH', `/api/account/second-factors/${factor.id}`, { name })).toEqual({ status: 400, code: 'validation_failed' });
  });
});

describe('managers: who may see and remove whose second factors', () => {
  // Written by hand from the issue: Administrators for Team Members, Auditors and Administrators (and
  // clients, as Team Members themselves); Team Members for Clients; nobody through these endpoints for
  // themselves; clients and auditors for nobody.
  // prettier-ignore
  const table: readonly (readonly [actor: Role | 'admin2', target: Role | 'admin2', allowed: boolean])[] = [
    ['admin',   'admin2',  true],
    ['admin',   'team',    true],
    ['admin',   'auditor', true],
    ['admin',   'client',  true],
    ['admin',   'admin',   false],
    ['team',    'admin',   false],
    ['team',    'admin2',  false],
    ['team',    'auditor', false],
    ['team',    'team',    false],
    ['team',    'client',  true],
    ['client',  'team',    false],
    ['client',  'client',  false],
    ['auditor', 'client',  false],
    ['auditor', 'team',    false],
  ];

  it.each(table)('%s removing a factor of %s: allowed %s', async (actorName, targetName, allowed) => {
    const target = await fresh(targetName);
    const { factor } = await addTotp(target);
    const actor = actorName === targetName ? target : await fresh(actorName);
    const box = mailbox();
    const security = await raw(actor, 'GET', `/api/users/${target.userId}/security`);
    const removal = await raw(actor, 'DELETE', `/api/users/${target.userId}/second-factors/${factor.id}`);
    const left = (await target.client.api(listSecondFactors, {})).factors;
    if (allowed) {
      expect([security.status, removal.status]).toEqual([200, 204]);
      expect(left).toEqual([]);
      const mail = await box.next(target.email);
      expect(mail.subject).toBe(
        target.role === 'admin' ? 'A second factor was removed from your Kluis account at Kantoor De Vries' : 'Er is een tweede factor verwijderd van uw Kluis-account bij Kantoor De Vries',
      );
      expect(mail.text).toContain(target.role === 'admin' ? 'removed your authenticator app' : 'uw authenticator-app verwijderd');
      expect(await eventsOf('second_factor.removed')).toContainEqual({ actor_id: actor.userId, target_type: 'user', target_id: target.userId, details: { kind: 'totp', factorId: factor.id, by: 'manager' } });
    } else {
      expect([security, removal]).toEqual([
        { status: 403, code: 'forbidden' },
        { status: 403, code: 'forbidden' },
      ]);
      expect(left).toEqual([factor]);
      expect(box.count(target.email)).toBe(0);
    }
  });

  it('removal needs the manager\'s login from the last 15 minutes; unknown factors and another person\'s factor are not_found', async () => {
    const admin = await fresh('admin');
    const team = await fresh('team');
    const client = await fresh('client');
    const teamFactor = (await addTotp(team)).factor;
    const clientFactor = (await addTotp(client)).factor;
    clock.offsetMs = 16 * 60_000;
    await expect(admin.client.api(removeUserSecondFactor, { params: { id: team.userId, factorId: teamFactor.id } })).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
    clock.offsetMs = 0;
    await expect(admin.client.api(removeUserSecondFactor, { params: { id: team.userId, factorId: clientFactor.id } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(admin.client.api(removeUserSecondFactor, { params: { id: team.userId, factorId: 'AAAAAAAAAAAAAAAAAAAAAA' } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(admin.client.api(getUserSecurity, { params: { id: 'AAAAAAAAAAAAAAAAAAAAAA' } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await team.client.api(listSecondFactors, {})).factors).toEqual([teamFactor]);
    expect((await client.client.api(listSecondFactors, {})).factors).toEqual([clientFactor]);
  });

  it('shows a manager the person\'s factors (no secrets), unused backup codes and trusted browsers', async () => {
    const admin = await fresh('admin');
    const team = await fresh('team');
    const { factor } = await addTotp(team, 'Phone');
    const email = await addEmailFactor(team);
    await team.client.api(createBackupCodes, { body: {} });
    const at = now().toISOString();
    await insertTrustedDevice(org.testApp.db, {
      id: 'DeviceDeviceDeviceDev1',
      user_id: team.userId,
      token_hash: 'a'.repeat(64),
      created_at: at,
      expires_at: new Date(now().getTime() + 30 * 86_400_000).toISOString(),
      last_used_at: null,
      user_agent: 'Firefox',
      ip: '127.0.0.1',
      revoked_at: null,
    });
    const security = await admin.client.api(getUserSecurity, { params: { id: team.userId } });
    expect(security).toEqual({
      factors: [factor, email],
      backupCodesLeft: 10,
      devices: [{ id: 'DeviceDeviceDeviceDev1', createdAt: at, expiresAt: expect.any(String) as unknown, lastUsedAt: null, userAgent: 'Firefox', ip: '127.0.0.1', current: false }],
    });
  });
});

describe('People shows who has which second factor', () => {
  it('lists the kinds each person has, in a fixed order, and nothing for people without', async () => {
    const admin = await fresh('admin');
    const client = await fresh('client');
    await addEmailFactor(client);
    await addTotp(client);
    await addTotp(client);
    const { users } = await admin.client.api(listUsers, {});
    const kinds = Object.fromEntries(users.map((u) => [u.id, u.secondFactors]));
    expect(kinds[client.userId]).toEqual(['totp', 'email']);
    expect(kinds[org.members.team!.userId]).toEqual([]);
    expect(kinds[admin.userId]).toEqual([]);
    // A Team Member sees clients only, with the same information.
    const team = await fresh('team');
    expect((await team.client.api(listUsers, {})).users.find((u) => u.id === client.userId)?.secondFactors).toEqual(['totp', 'email']);
  });
});

describe('secrets stay out of the audit log and the server log', () => {
  it('has no TOTP secret, e-mail code, backup code or address in any audit event or log line', async () => {
    const auditor = await fresh('auditor');
    const { setup, secret } = await addTotp(auditor);
    const box = mailbox();
    const { setupId } = await auditor.client.api(startEmailFactorSetup, { body: {} });
    const emailCode = codeIn(await box.next(auditor.email));
    await auditor.client.api(confirmEmailFactorSetup, { body: { setupId, code: emailCode } });
    const backup = (await auditor.client.api(createBackupCodes, { body: {} })).codes;
    await codes().verifyBackupCode(auditor.userId, backup[0]!);
    const events = await org.testApp.db.selectFrom('audit_events').select(['action', 'details']).execute();
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['second_factor.added', 'second_factor.backup_codes_created']));
    const logged = JSON.stringify(events) + JSON.stringify(org.testApp.logs());
    for (const value of [setup.secret, setup.secret.toLowerCase(), secret.toString('hex'), secret.toString('base64url'), emailCode, ...backup, ...backup.map((c) => c.replace('-', ''))]) {
      expect(logged).not.toContain(value);
    }
    expect(JSON.stringify(events.filter((e) => e.action.startsWith('second_factor.')))).not.toContain('@');
  });
});
