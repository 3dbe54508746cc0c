// Issue 21, password reset through escrow, in real Chromium against the real server with the SMTP test server:
// journey 1 (a client forgets their password; a Team Member resets it), journey 2 (an Administrator resets a Team
// Member), the zero-knowledge checks (no request carries the recovery code, the reset key, a user key or a private
// key), and the malicious-server case "a reset link whose wrapped key was swapped" (e2e/support/evil-proxy.ts).
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from '@playwright/test';
import { budgetedStep, expect, testWithMail } from './fixtures';
import { evilTest } from './support/evil-fixture';
import { expectNoKeyMaterial } from './support/key-material';
import { findSecretLeaks, type CapturedRequest, type Secret } from './support/requests';
import { listUsers } from '../shared/api';
import type { CallApi } from '../shared/api/client';
import {
  ARGON2ID_DEFAULT,
  HKDF_LABEL,
  deriveArgon2id,
  fromBase64Url,
  openSealedSecretKey,
  utf8,
} from '../shared/crypto';
import { login } from '../shared/flows/account-flows';
import { parseResetCode, startEscrowReset } from '../shared/flows/escrow-reset';
import { escrowUserKeyContext, type UnlockedVault } from '../shared/flows/vault';
import { browserLikeClient } from '../server/lib/node-api-client';
import { seedOrganisation, type SeededMember, type SeededOrganisation } from '../server/test/seed-organisation';
import type { TestSmtpServer } from '../server/test/smtp-server';
import { budget } from '../server/test/budget';

const test = testWithMail;
test.use({ mailServerFor: 'escrow-reset' });
// A loaded 2-core machine: seeding and every sign-in run the production key stretching.
test.describe.configure({ timeout: budget(300_000) });

const step = <T>(name: string, body: () => Promise<T>): Promise<T> => budgetedStep(name, 60_000, body);

// --- helpers ---------------------------------------------------------------------------------

interface TestFile {
  readonly name: string;
  readonly path: string;
  readonly sha256: string;
}

/** A file of random bytes with a recognisable name (its content is checked by hash after download). */
async function randomFile(dir: string, label: string): Promise<TestFile> {
  const name = `${label} ${randomBytes(4).toString('hex')}.bin`;
  const content = randomBytes(96 * 1024);
  const path = join(dir, name);
  await writeFile(path, content);
  return { name, path, sha256: createHash('sha256').update(content).digest('hex') };
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toHaveCount(0, { timeout: budget(90_000) });
}

function documentRow(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

async function upload(page: Page, file: TestFile): Promise<void> {
  await page.getByLabel('Upload files').setInputFiles(file.path);
  await expect(documentRow(page, file.name)).toBeVisible({ timeout: budget(120_000) });
}

/** Downloads `file` from the open space and checks it is byte-identical to what was uploaded. */
async function expectDownloadIdentical(page: Page, file: TestFile, dir: string): Promise<void> {
  const row = documentRow(page, file.name);
  await expect(row).toBeVisible({ timeout: budget(60_000) });
  const started = page.waitForEvent('download', { timeout: budget(120_000) });
  await row.getByRole('button', { name: 'Download' }).click();
  const download: Download = await started;
  expect(await download.failure()).toBeNull();
  const saved = join(dir, `downloaded-${file.sha256}`);
  await download.saveAs(saved);
  expect(createHash('sha256').update(await readFile(saved)).digest('hex')).toBe(file.sha256);
}

/** Staff open a client's space from the Clients list. */
async function openClientSpace(page: Page, client: SeededMember): Promise<void> {
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Clients' }).click();
  await page.getByRole('row').filter({ hasText: client.email }).getByRole('link').first().click();
  await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: budget(60_000) });
}

/**
 * People → the person's "Reset password" → the dialog's reset; returns the recovery code shown.
 * (The row, or its action menu, offers the action as "Reset the password of <name or e-mail>".)
 */
async function resetThroughPeople(page: Page, person: SeededMember): Promise<string> {
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'People' }).click();
  const row = page.getByRole('row').filter({ hasText: person.email });
  await expect(row).toBeVisible({ timeout: budget(60_000) });
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const action = new RegExp(`^Reset the password of (${escape(person.name)}|${escape(person.email)})$`);
  // The Administrator console puts the action in the row's menu (cli-admin); open it when there is one.
  const menu = row.getByRole('button', { name: /^Actions for / });
  if ((await menu.count()) > 0) await menu.click();
  await row.getByRole('button', { name: action }).click();
  const dialog = page.getByRole('dialog', { name: action });
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Reset the password', exact: true }).click();
  const code = dialog.locator('#reset-code');
  await expect(code).toBeVisible({ timeout: budget(90_000) });
  await expect(dialog).toContainText(`The reset link was e-mailed to ${person.email}`);
  await expect(dialog).toContainText(/by phone or in person — never by e-mail/);
  const text = (await code.textContent()) ?? '';
  const canonical = parseResetCode(text);
  expect(canonical, `a recovery code is shown (${text})`).not.toBeNull();
  await dialog.getByRole('button', { name: 'I passed on the code' }).click();
  await expect(dialog).toHaveCount(0);
  return canonical ?? '';
}

interface ResetMail {
  /** Path and fragment of the link (/reset#r=…&s=…). */
  readonly path: string;
  readonly resetId: string;
  readonly linkSecret: string;
}

async function resetMail(smtp: TestSmtpServer, email: string): Promise<ResetMail> {
  const mail = await smtp.waitForMessage(
    (m) => m.envelope.to.includes(email) && /Choose a new password/.test(m.subject ?? ''),
    budget(60_000),
  );
  // The code is not in the e-mail: the link alone must not be enough.
  expect(mail.text ?? '').not.toMatch(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
  const found = /https?:\/\/[^/\s]+(\/reset#r=([A-Za-z0-9_-]{22})&s=([A-Za-z0-9_-]{43}))/.exec(mail.text ?? '');
  if (!found?.[1] || !found[2] || !found[3]) throw new Error(`no reset link in the e-mail to ${email}`);
  return { path: found[1], resetId: found[2], linkSecret: found[3] };
}

/** A well-formed code that is not `code` (one character changed). */
function wrongCode(code: string): string {
  const first = code[0] === 'A' ? 'B' : 'A';
  return `${first}${code.slice(1)}`;
}

/**
 * The person's side in the browser: opens the link, checks the address bar no longer shows the
 * secret, types a wrong code once (refused, counted), then the right one, and a new password.
 */
async function completeResetInBrowser(page: Page, mail: ResetMail, code: string, newPassword: string): Promise<void> {
  await page.goto(mail.path);
  await expect(page.getByRole('heading', { level: 1, name: 'Choose a new password' })).toBeVisible();
  // The secret left the address bar (history, screenshots) as soon as the page read it.
  await expect.poll(() => page.evaluate(() => window.location.hash)).toBe('');
  await page.getByLabel('Recovery code').fill(wrongCode(code));
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByText(/That recovery code is not right/)).toBeVisible({ timeout: budget(60_000) });
  // Typed the way people type it: small letters, spaces instead of dashes.
  await page.getByLabel('Recovery code').fill(code.toLowerCase().replaceAll('-', ' '));
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Your new password' })).toBeVisible({ timeout: budget(60_000) });
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByRole('button', { name: 'Save the new password and sign in' }).click();
  await expect(page).toHaveURL(/\/app/, { timeout: budget(120_000) });
}

/** The escrow use listed under Account, signed by the resetter (verified in the browser). */
async function expectEscrowUseListed(page: Page, resetter: SeededMember): Promise<void> {
  // Through the menu: a page load would drop the keys (they live only in the crypto worker).
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Account' }).click();
  const section = page.getByRole('region', { name: 'Escrow: who can open your key safe' });
  await expect(section).toBeVisible({ timeout: budget(60_000) });
  const use = section.getByRole('listitem').filter({ hasText: `Password reset by ${resetter.email}` });
  await expect(use).toBeVisible({ timeout: budget(60_000) });
  await expect(use).toContainText('signed');
  await expect(use).not.toContainText('not valid');
  await expect(section.getByRole('alert')).toHaveCount(0);
}

async function expectEscrowUseMailed(smtp: TestSmtpServer, email: string): Promise<void> {
  await smtp.waitForMessage(
    (m) => m.envelope.to.includes(email) && /was opened by your office/.test(m.subject ?? ''),
    budget(60_000),
  );
}

/**
 * The reset key and proof recomputed here, outside the code under test, from the link and the code
 * (SECURITY.md 5.8: Argon2id over the code, salted by the reset id and link secret, then HKDF).
 */
async function resetKeyAndProof(mail: ResetMail, code: string): Promise<{ resetKey: Uint8Array; proof: Uint8Array }> {
  const linkSecret = fromBase64Url(mail.linkSecret);
  const prefixed = (bytes: Uint8Array) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const salt = createHash('sha256')
    .update(Buffer.concat([Buffer.from(HKDF_LABEL.resetSalt, 'utf8'), prefixed(utf8(mail.resetId)), prefixed(linkSecret)]))
    .digest()
    .subarray(0, 16);
  const stretched = await deriveArgon2id(code, salt, ARGON2ID_DEFAULT, 32);
  const ikm = Buffer.concat([stretched, linkSecret]);
  const resetKey = new Uint8Array(hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.from(HKDF_LABEL.resetWrap, 'utf8'), 32));
  const proof = new Uint8Array(
    hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.concat([Buffer.from(HKDF_LABEL.resetProof, 'utf8'), prefixed(utf8(mail.resetId))]), 32),
  );
  return { resetKey, proof };
}

/** The person's user key as raw bytes, opened in Node through escrow by a holder (never from the browser). */
async function userKeyBytes(holder: SeededMember, personId: string): Promise<Uint8Array> {
  const escrow = holder.vault.escrow;
  if (!escrow) throw new Error(`${holder.email} holds no escrow key`);
  const { users } = await holder.client.api(listUsers, {});
  const person = users.find((user) => user.id === personId);
  if (!person) throw new Error('person not listed');
  const key = await openSealedSecretKey(escrow.privateKey, fromBase64Url(person.escrowUserKey), 'user', escrowUserKeyContext(personId), {
    extractable: true,
  });
  return key.rawBytes();
}

function leakLines(requests: readonly CapturedRequest[], secrets: readonly Secret[]): string[] {
  return findSecretLeaks(requests, secrets).map(
    (leak) => `${leak.request.method} ${leak.request.url}: ${leak.secret} as ${leak.encoding} in the ${leak.where}`,
  );
}

/**
 * The zero-knowledge check of one reset: the code (every way it was typed or shown), the reset key
 * and the person's user key occur in no request; no request carries private-key structure or an
 * unexplained raw-key-length value; the proof the browser sent is the one derived from link and code
 * (so the recomputed reset key above is the real one, and the check could fail).
 */
async function expectZeroKnowledge(
  requests: readonly CapturedRequest[],
  mail: ResetMail,
  code: string,
  userKey: Uint8Array,
  passwords: readonly string[],
): Promise<void> {
  const { resetKey, proof } = await resetKeyAndProof(mail, code);
  const opened = requests.filter((request) => request.method === 'POST' && request.url.endsWith('/api/reset/open'));
  expect(opened.length).toBeGreaterThan(0);
  expect(leakLines(opened, [proof]).length, 'the proof recomputed here is the one the browser sent').toBeGreaterThan(0);
  expect(leakLines(requests, [userKey]).length).toBe(0);
  const canonical = code.replaceAll('-', '');
  expect(
    leakLines(requests, [code, canonical, canonical.toLowerCase(), code.toLowerCase().replaceAll('-', ' '), wrongCode(code), resetKey, userKey, ...passwords]),
    'the recovery code, the reset key, the user key or a password in a request',
  ).toEqual([]);
  expectNoKeyMaterial(requests);
}

// --- journeys 1 and 2: one organisation for both (its setup link works once) --------------------

test.describe.serial('password reset through escrow', () => {
  let org: SeededOrganisation;
  let dir: string;

  test.beforeAll(async ({ kluisServer, smtp }) => {
    test.setTimeout(budget(300_000));
    org = await seedOrganisation(kluisServer, smtp, ['Carla Client']);
    dir = await mkdtemp(join(tmpdir(), 'kluis-e2e-reset-'));
  });

  test.afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('journey 1: a client forgets their password, a Team Member resets it, and the client reads everything again', async ({
    page,
    newPage,
    smtp,
    requests,
  }) => {
    const client = org.clients[0]!;
    const file = await randomFile(dir, 'Jaarrekening');
    const newPassword = 'groene-appels-in-de-herfstzon';

    await step('the client uploads a file before forgetting the password', async () => {
      await signIn(page, client.email, client.password);
      await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: budget(90_000) });
      await upload(page, file);
      await page.context().clearCookies();
    });

    const teamPage = await newPage();
    const code = await step('the Team Member resets the password and is shown the code', async () => {
      await signIn(teamPage, org.team.email, org.team.password);
      return resetThroughPeople(teamPage, client);
    });

    const mail = await step('the link arrives by e-mail, without the code', () => resetMail(smtp, client.email));

    await step('the client types the code and a new password, and is signed in', async () => {
      await completeResetInBrowser(page, mail, code, newPassword);
      await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: budget(90_000) });
    });

    await step('the file uploaded before downloads byte-identical', () => expectDownloadIdentical(page, file, dir));

    await step('the escrow use is listed under Account, signed by the Team Member, and e-mailed', async () => {
      await expectEscrowUseListed(page, org.team);
      await expectEscrowUseMailed(smtp, client.email);
    });

    await step('the old password no longer signs in; the new one does', async () => {
      const fresh = () => browserLikeClient(new URL(page.url()).origin, new URL(page.url()).origin);
      await expect(login(fresh().api, client.email, client.password)).rejects.toThrow();
      await expect(login(fresh().api, client.email, newPassword)).resolves.toBeTruthy();
    });

    await step('zero knowledge: no request carried the code, the reset key, the user key or a private key', async () => {
      await expectZeroKnowledge(await requests.all(), mail, code, await userKeyBytes(org.team, client.userId), [newPassword]);
    });
  });

  test('journey 2: an Administrator resets a Team Member, who reads the client documents again', async ({
    page,
    newPage,
    smtp,
    requests,
  }) => {
    const client = org.clients[0]!;
    const file = await randomFile(dir, 'Aangifte');
    const newPassword = 'zeven-zwanen-boven-het-ijsselmeer';

    await step('the Team Member uploads a file into the client space', async () => {
      await signIn(page, org.team.email, org.team.password);
      await openClientSpace(page, client);
      await upload(page, file);
    });

    const adminPage = await newPage();
    const code = await step('the Administrator resets the Team Member password', async () => {
      await signIn(adminPage, org.admin.email, org.admin.password);
      return resetThroughPeople(adminPage, org.team);
    });

    const mail = await step('the link arrives by e-mail', () => resetMail(smtp, org.team.email));

    const teamPage = await newPage();
    await step('the Team Member sets a new password and is signed in', async () => {
      await completeResetInBrowser(teamPage, mail, code, newPassword);
    });

    await step('the old session in the first browser has ended', async () => {
      const answer = await page.request.get('/api/auth/session');
      expect(answer.status()).toBe(401);
    });

    await step('the file uploaded before downloads byte-identical', async () => {
      await openClientSpace(teamPage, client);
      await expectDownloadIdentical(teamPage, file, dir);
    });

    await step('the escrow use is listed under Account, signed by the Administrator, and e-mailed', async () => {
      await expectEscrowUseListed(teamPage, org.admin);
      await expectEscrowUseMailed(smtp, org.team.email);
    });

    await step('zero knowledge', async () => {
      await expectZeroKnowledge(await requests.all(), mail, code, await userKeyBytes(org.admin, org.team.userId), [newPassword]);
    });
  });
});

// --- the malicious-server case -----------------------------------------------------------------

/** A CallApi that remembers the body of the createReset request it passed on. */
function capturingCreateReset(api: CallApi): { api: CallApi; wrapped: () => string } {
  let wrappedUserKey: string | null = null;
  const capturing: CallApi = (endpoint, input, options) => {
    if (endpoint.operationId === 'createReset') {
      const body = (input as { body?: { wrappedUserKey?: string } }).body;
      wrappedUserKey = body?.wrappedUserKey ?? null;
    }
    return api(endpoint, input, options);
  };
  return {
    api: capturing,
    wrapped: () => {
      if (!wrappedUserKey) throw new Error('no createReset seen');
      return wrappedUserKey;
    },
  };
}

async function startResetInNode(holder: SeededMember, vault: UnlockedVault, api: CallApi, personId: string): Promise<string> {
  const { users } = await holder.client.api(listUsers, {});
  const person = users.find((user) => user.id === personId);
  if (!person) throw new Error('person not listed');
  const { code } = await startEscrowReset(api, vault, { id: person.id, escrowUserKey: person.escrowUserKey }, { liftLockout: false, removeSecondFactors: false });
  return code;
}

evilTest.describe('malicious server: escrow reset', () => {
  evilTest.describe.configure({ timeout: budget(300_000) });

  evilTest('a reset link whose wrapped key was swapped: the browser refuses, registers nothing and says why', async ({
    page,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client', 'Bram Buiten']);
    const [carla, bram] = org.clients as [SeededMember, SeededMember];
    // Two real resets by the Team Member: the server holds Bram's wrap, and serves it on Carla's link.
    const forBram = capturingCreateReset(org.team.client.api);
    await startResetInNode(org.team, org.team.vault, forBram.api, bram.userId);
    const code = await startResetInNode(org.team, org.team.vault, org.team.client.api, carla.userId);
    const mail = await resetMail(evil.smtp, carla.email);
    const swap = evil.proxy.rule({
      method: 'POST',
      path: '/api/reset/open',
      rewriteJson: (body) => ({ ...(body as object), wrappedUserKey: forBram.wrapped() }),
    });

    const since = evil.proxy.mark();
    await page.goto(mail.path);
    await page.getByLabel('Recovery code').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    const warning = page.getByRole('alert').filter({ hasText: 'Kluis refused this reset link' });
    await expect(warning).toBeVisible({ timeout: budget(90_000) });
    await expect(warning).toContainText(/does not open with your link and code/);
    await expect(warning).toContainText(/registered nothing/);
    expect(swap.hits()).toBeGreaterThan(0);
    // Nothing to type a password into: the page offers no way on with this link.
    await expect(page.getByLabel('New password', { exact: true })).toHaveCount(0);

    const received = evil.proxy.received(since);
    const registrations = received.filter((request) => /\/api\/reset\/password\//.test(new URL(request.url).pathname));
    expect(registrations.map((request) => request.url), 'no new password was registered').toEqual([]);
    expect(leakLines(received, [code, code.replaceAll('-', '')]), 'the code reached the server').toEqual([]);
    expectNoKeyMaterial(received);
    // Carla's password is unchanged: she still signs in with it.
    const client = browserLikeClient(`http://127.0.0.1:${evil.server.port}`, evil.server.origin);
    await expect(login(client.api, carla.email, carla.password)).resolves.toBeTruthy();
  });
});
