// Second factors (issue 20) in real Chromium: an authenticator app with codes from an independent RFC 6238
// implementation, backup codes, trusted browsers revoked by their user and by a manager, three wrong codes
// locking the account, a manager removing a lost factor, an Administrator requiring a second factor for
// clients and a client led through set-up with e-mail codes; axe on each new screen, and the
// zero-knowledge checks (no TOTP secret in any request, a backup code only where it is used, no password or key).
import type { Page } from '@playwright/test';
import type { ReceivedMail, TestSmtpServer } from '../server/test/smtp-server';
import { budgetedStep, expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { expectNoKeyMaterial } from './support/key-material';
import { encodingsOf, type CapturedRequest, type Secret } from './support/requests';
import { authenticator, base32Decode, hotp, totp } from './support/totp';
import { seedOrganisation, type SeededMember } from '../server/test/seed-organisation';
import { budget } from '../server/test/budget';
import { downloadWorkersSettled } from './support/service-worker';

const test = testWithMail;
/** A step of a journey: 30 s of a quiet machine, plus `extraMs` (a TOTP step to wait for, an RSA key pair). */
const step = <T>(name: string, body: () => Promise<T>, extraMs = 0): Promise<T> =>
  budgetedStep(name, 30_000 + extraMs, body);
/** One 30-second TOTP step: what a step that needs a fresh authenticator code may wait, on top. */
const NEXT_TOTP_STEP_MS = 35_000;

// --- the browser side of a person -----------------------------------------------------------------

async function signInWithPassword(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The second sign-in step, once the password was right. */
function secondStep(page: Page) {
  return page.getByRole('region', { name: 'Confirm it is you' });
}

/** Answers the second step with a code (of the method chosen, when the account has several). */
async function answerWith(
  page: Page,
  method: 'Authenticator app' | 'Code by e-mail' | 'Backup code' | null,
  code: string,
  options: { trust?: boolean } = {},
): Promise<void> {
  const stepRegion = secondStep(page);
  if (method) await stepRegion.getByRole('radio', { name: method }).check();
  const field = stepRegion.getByRole('textbox', {
    name: method === 'Backup code' ? 'Backup code' : method === 'Code by e-mail' ? 'Code from the e-mail' : 'Code from your authenticator app',
  });
  await field.fill(code);
  if (options.trust) await stepRegion.getByRole('checkbox', { name: 'Trust this browser for 30 days' }).check();
  await stepRegion.getByRole('button', { name: 'Confirm', exact: true }).click();
}

async function expectClientHome(page: Page): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toBeVisible({ timeout: budget(30_000) });
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Account menu/ }).click();
  await page.getByRole('list', { name: 'Account menu' }).getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
}

async function openNav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name }).click();
}

/** Account → sign-in security (second factors, backup codes, trusted browsers). */
async function openSignInSecurity(page: Page): Promise<void> {
  await openNav(page, 'Account');
  await page.getByRole('link', { name: 'Manage sign-in security' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign-in security' })).toBeVisible();
}

/** Backup codes as the page shows them once ("ABCDE-FGHJK"). */
async function readBackupCodes(page: Page): Promise<string[]> {
  const list = page.getByRole('list', { name: 'Your backup codes' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  const codes = (await list.getByRole('listitem').allTextContents()).map((text) => text.trim());
  for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
  expect(new Set(codes).size).toBe(10);
  return codes;
}

/**
 * Answers the next `method` request to `url` with reauthentication_required, as the server does for
 * a sensitive action more than 15 minutes after sign-in (its clock cannot be moved from here).
 */
async function refuseOnceAsStale(page: Page, url: string | RegExp, method: string): Promise<void> {
  let refused = false;
  await page.route(url, async (route) => {
    if (route.request().method() !== method || refused) return route.fallback();
    refused = true;
    await route.fulfill({
      status: 401,
      contentType: 'application/json',
      json: { error: { code: 'reauthentication_required', message: 'Sign in again.' } },
    });
  });
}

// --- the mailbox ------------------------------------------------------------------------------

/** Waits for the first mail to `email` whose subject matches, among those received after `since` messages. */
function mailTo(smtp: TestSmtpServer, email: string, subject: RegExp, since: number): Promise<ReceivedMail> {
  return smtp.waitForMessage(
    (mail) => smtp.messages().indexOf(mail) >= since && mail.envelope.to.includes(email) && subject.test(mail.subject ?? ''),
    budget(15_000),
  );
}

/** The six-digit code of a code e-mail, as a person reads it. */
function codeIn(mail: ReceivedMail): string {
  const code = /\b(\d{3} ?\d{3})\b/.exec(mail.text ?? '')?.[1]?.replace(' ', '');
  if (!code) throw new Error(`no code in the e-mail:\n${mail.text ?? ''}`);
  return code;
}

// --- the zero-knowledge checks ----------------------------------------------------------------

/** The requests that carry `secret` in any encoding (url, headers or body). */
function requestsCarrying(requests: readonly CapturedRequest[], secret: Secret): CapturedRequest[] {
  const needles = encodingsOf(secret);
  return requests.filter((request) => {
    const places = [
      Buffer.from(request.url, 'utf8'),
      Buffer.from(Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`).join('\n'), 'utf8'),
      request.body,
    ];
    return places.some((haystack) => needles.some((needle) => haystack.includes(needle.bytes)));
  });
}

/** The forms a backup code may be typed or sent in. */
function backupCodeForms(code: string): string[] {
  const bare = code.replace('-', '');
  return [code, bare, code.toLowerCase(), bare.toLowerCase()];
}

/**
 * A backup code travels only in the sign-in step that uses it: each typed code in exactly `times`
 * POSTs to /api/auth/login/second-factor, every other code in none.
 */
function expectBackupCodesOnlyWhereUsed(all: readonly CapturedRequest[], codes: readonly string[], typed: ReadonlyMap<string, number>): void {
  for (const code of codes) {
    const carrying = new Set(backupCodeForms(code).flatMap((form) => requestsCarrying(all, form)));
    const where = [...carrying].map((request) => `${request.method} ${new URL(request.url).pathname}`);
    expect(where, `requests carrying backup code ${code}`).toEqual(Array.from({ length: typed.get(code) ?? 0 }, () => 'POST /api/auth/login/second-factor'));
  }
}

// ------------------------------------------------------------------------------------------------

// One organisation for the file: the journey below, then nothing else (the setup link works once).
test.use({ mailServerFor: 'second-factors' });

test('the test’s own TOTP reproduces RFC 4226 appendix D and RFC 6238 appendix B', () => {
  // The RFCs' secret, "12345678901234567890", in base32 as an authenticator app would get it.
  const key = base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  expect(key.toString('latin1')).toBe('12345678901234567890');
  const hotpValues = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expect(hotpValues.map((_, counter) => hotp(key, counter))).toEqual(hotpValues);
  const totpValues: [number, string][] = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [seconds, code] of totpValues) expect(totp(key, seconds * 1000, 8), `T = ${seconds}`).toBe(code);
});

test('a client with an authenticator app, backup codes and a trusted browser; a Team Member revokes and removes; three wrong codes lock; an Administrator requires a second factor for clients, and a client sets up e-mailed codes', async ({
  page,
  newPage,
  kluisServer,
  smtp,
  requests,
  consoleErrors,
}) => {
  // About 10 minutes on a quiet machine in all: two minutes to start and seed, and each step adds its own budget.
  test.setTimeout(budget(120_000));
  const org = await test.step('an organisation with a Team Member and two clients, requiring no second factor', () =>
    seedOrganisation(kluisServer, smtp, ['Carla Client', 'Bram Buiten']),
  );
  const { admin, team } = org;
  const [client, other] = org.clients as [SeededMember, SeededMember];
  const emailCodes: string[] = [];
  let app = authenticator('A'.repeat(32));
  let totpSecret = '';
  let backupCodes: string[] = [];
  const typedBackupCodes = new Map<string, number>();
  /** Types backup code `code` (as shown), or the form `as` of it, and counts it for the zero-knowledge check. */
  const typeBackupCode = async (code: string, options: { as?: string; trust?: boolean } = {}) => {
    typedBackupCodes.set(code, (typedBackupCodes.get(code) ?? 0) + 1);
    await answerWith(page, 'Backup code', options.as ?? code, options);
  };
  // Refused codes and sign-ins are answered with 4xx statuses, which Chromium logs.
  consoleErrors.allow(/status of 40[13] \((Unauthorized|Forbidden)\)|status of 423/);

  await step('the client adds an authenticator app and keeps the backup codes', async () => {
    await signInWithPassword(page, client.email, client.password);
    await expectClientHome(page);
    await openSignInSecurity(page);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    // The key as the page shows it under the QR code (drawn in the page, no third-party service).
    await expect(page.getByRole('img', { name: 'QR code that adds your Kluis account to an authenticator app' })).toBeVisible();
    totpSecret = ((await page.getByLabel('Key for your authenticator app').textContent()) ?? '').replace(/\s/g, '');
    expect(totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    app = authenticator(totpSecret);
    await expectNoSeriousA11yViolations(page, 'the authenticator app set-up');
    await page.getByLabel('Code from your authenticator app').fill(await app.nextCode());
    await page.getByLabel('Name', { exact: true }).fill('Phone');
    await page.getByRole('button', { name: 'Confirm and turn on' }).click();
    await expect(page.getByText('Phone was added.')).toBeVisible();
    await page.getByRole('button', { name: 'Make backup codes' }).click();
    backupCodes = await readBackupCodes(page);
    await expectNoSeriousA11yViolations(page, 'the backup codes');
    await page.getByRole('button', { name: 'I saved them' }).click();
    await expect(page.getByText('You have 10 unused backup codes')).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'the sign-in security page');
  });

  await step('signing in asks for a code from the app; a code works once', async () => {
    await logOut(page);
    await signInWithPassword(page, client.email, client.password);
    await expect(secondStep(page)).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toHaveCount(0);
    await expect(secondStep(page)).toContainText('Lost your phone? Use a backup code, or ask your office.');
    await expectNoSeriousA11yViolations(page, 'the second sign-in step');
    await answerWith(page, 'Authenticator app', await app.nextCode());
    await expectClientHome(page);

    // The same code again, at once: refused as used (RFC 6238 section 5.2), even inside its window.
    await logOut(page);
    await signInWithPassword(page, client.email, client.password);
    await answerWith(page, 'Authenticator app', app.lastCode());
    await expect(secondStep(page)).toContainText('That code was already used. Wait for the next code in your app.');
    await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toHaveCount(0);
    // The next code (once the clock reaches the next 30 s step), and this browser is trusted from now on.
    await answerWith(page, 'Authenticator app', await app.nextCode(), { trust: true });
    await expectClientHome(page);
  }, NEXT_TOTP_STEP_MS * 2);

  await step('the trusted browser skips the code until the client stops trusting it', async () => {
    await logOut(page);
    await signInWithPassword(page, client.email, client.password);
    await expectClientHome(page);
    await expect(secondStep(page)).toHaveCount(0);

    await openSignInSecurity(page);
    const devices = page.getByRole('region', { name: 'Trusted browsers' });
    await expect(devices.getByRole('listitem')).toHaveCount(1);
    await expect(devices).toContainText('this browser');
    await devices.getByRole('button', { name: /^Stop trusting/ }).click();
    await expect(devices.getByRole('listitem')).toHaveCount(0);
    await logOut(page);
    await signInWithPassword(page, client.email, client.password);
    await expect(secondStep(page)).toBeVisible();
  });

  await step('a backup code works once; the client trusts the browser again', async () => {
    const [first, second] = backupCodes as [string, string];
    // Typed as a person might: lower case, without the dash.
    await typeBackupCode(first, { as: first.replace('-', '').toLowerCase() });
    await expectClientHome(page);
    await logOut(page);
    await signInWithPassword(page, client.email, client.password);
    await typeBackupCode(first);
    await expect(secondStep(page)).toContainText('That backup code was already used: each code works only once. Use another one.');
    await typeBackupCode(second, { trust: true });
    await expectClientHome(page);
  });

  const teamPage = await newPage();
  await step('the Team Member sees the client’s authenticator app and stops trusting their browsers (a recent login, an e-mail)', async () => {
    await signInWithPassword(teamPage, team.email, team.password);
    await expect(teamPage.getByRole('heading', { level: 1, name: `Welcome, ${team.name}` })).toBeVisible();
    await openNav(teamPage, 'People');
    const row = teamPage.getByRole('row', { name: new RegExp(client.name) });
    await expect(row.getByRole('cell').nth(3)).toHaveText('Authenticator app');
    await row.getByRole('button', { name: `Actions for ${client.name}` }).click();
    await row.getByRole('button', { name: `Second factors and trusted browsers of ${client.name}` }).click();
    const dialog = teamPage.getByRole('dialog', { name: `Second factors of ${client.name}` });
    await expect(dialog.getByRole('list', { name: 'Authenticator apps' }).getByRole('listitem')).toHaveCount(1);
    await expect(dialog.getByRole('list', { name: 'Authenticator apps' })).toContainText('Phone');
    await expect(dialog).toContainText('8 unused backup codes left.');
    const devices = dialog.getByRole('list', { name: 'Trusted browsers' });
    await expect(devices.getByRole('listitem')).toHaveCount(1);
    // Named from the User-Agent it was trusted with: Playwright's "Desktop Chrome" profile says Windows.
    await expect(devices).toContainText('Chrome on Windows');
    await expectNoSeriousA11yViolations(teamPage, 'a person’s second factors');

    const before = smtp.messages().length;
    consoleErrors.allow(/status of 401 \(Unauthorized\)/);
    await refuseOnceAsStale(teamPage, /\/api\/users\/[^/]+\/trusted-devices$/, 'DELETE');
    // By keyboard: the confirmation takes the focus, "Keep it" gives it back, and nothing happened.
    const revoke = dialog.getByRole('button', { name: 'Stop trusting their browsers' });
    await revoke.focus();
    await teamPage.keyboard.press('Enter');
    await expect(dialog).toContainText(`${client.name} will get an e-mail about it.`);
    await expect(dialog.getByRole('button', { name: 'Stop trusting them' })).toBeFocused();
    await teamPage.keyboard.press('Tab');
    await expect(dialog.getByRole('button', { name: 'Keep it' })).toBeFocused();
    await teamPage.keyboard.press('Enter');
    await expect(revoke).toBeFocused();
    await expect(devices.getByRole('listitem')).toHaveCount(1);
    await teamPage.keyboard.press('Enter');
    await expect(dialog.getByRole('button', { name: 'Stop trusting them' })).toBeFocused();
    await teamPage.keyboard.press('Enter');
    const reauth = teamPage.getByRole('dialog', { name: 'Enter your password again' });
    await expect(reauth).toBeVisible();
    await reauth.getByLabel('Password', { exact: true }).fill(team.password);
    await reauth.getByRole('button', { name: 'Confirm' }).click();
    await expect(dialog).toContainText(`No browser of ${client.name} is trusted any more.`);
    await expect(devices).toHaveCount(0);
    await expect(dialog).toContainText(`${client.name} trusts no browser.`);
    await teamPage.unroute(/\/api\/users\/[^/]+\/trusted-devices$/);
    await mailTo(smtp, client.email, /browsers are no longer trusted/i, before);
  });

  await step('the client is asked for a code again; three wrong codes lock the account and say so by e-mail', async () => {
    await logOut(page);
    await signInWithPassword(page, client.email, client.password);
    await expect(secondStep(page)).toBeVisible();
    const before = smtp.messages().length;
    // Wrong but well-formed: none of the codes of the steps around now (the server's ±1 window).
    const now = Date.now();
    const near = new Set([-1, 0, 1].map((offset) => totp(app.key, now + offset * 30_000)));
    const wrong = ['123456', '654321', '111111', '222222', '333333'].filter((code) => !near.has(code)).slice(0, 3);
    for (const [index, code] of wrong.entries()) {
      await answerWith(page, 'Authenticator app', code);
      if (index < 2) await expect(secondStep(page)).toContainText('That code is not correct.');
    }
    await expect(page.getByRole('alert')).toContainText(/locked/);
    const notice = await mailTo(smtp, client.email, /locked/i, before);
    expect(notice.text).toContain('3 times');
    // Locked: even the right password and a fresh code get no further.
    await signInWithPassword(page, client.email, client.password);
    await expect(page.getByRole('alert')).toContainText('Wrong e-mail address or password — or the account is locked');
  });

  await step('the Team Member lifts the lock and removes the lost app; the client is e-mailed and signs in with the password', async () => {
    await teamPage.reload();
    await expect(teamPage.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toBeVisible();
    await teamPage.getByLabel('Password', { exact: true }).fill(team.password);
    await teamPage.getByRole('button', { name: 'Unlock' }).click();
    await openNav(teamPage, 'People');
    const row = teamPage.getByRole('row', { name: new RegExp(client.name) });
    await expect(row).toContainText('Locked until');
    await row.getByRole('button', { name: `Actions for ${client.name}` }).click();
    await row.getByRole('button', { name: `Lift lock for ${client.name}` }).click();
    await expect(row).toContainText('Active');

    const before = smtp.messages().length;
    await row.getByRole('button', { name: `Actions for ${client.name}` }).click();
    await row.getByRole('button', { name: `Second factors and trusted browsers of ${client.name}` }).click();
    const dialog = teamPage.getByRole('dialog', { name: `Second factors of ${client.name}` });
    await dialog.getByRole('button', { name: `Remove “Phone” of ${client.name}` }).click();
    await expect(dialog).toContainText(`Remove the Authenticator app “Phone” of ${client.name}? It stops working at once.`);
    await expect(dialog).toContainText(`${client.name} will get an e-mail about it.`);
    await expect(dialog.getByRole('button', { name: 'Remove this factor' })).toBeFocused();
    await teamPage.keyboard.press('Enter');
    await expect(dialog).toContainText(`“Phone” was removed. ${client.name} was sent an e-mail about it.`);
    await expect(dialog).toContainText(`${client.name} has no second factor.`);
    const mail = await mailTo(smtp, client.email, /second factor was removed/i, before);
    expect(mail.text).toContain('authenticator app');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(row.getByRole('cell').nth(3)).toHaveText('None');

    await signInWithPassword(page, client.email, client.password);
    await expectClientHome(page);
  });

  const adminPage = await newPage();
  await step('the Administrator requires a second factor for clients', async () => {
    await signInWithPassword(adminPage, admin.email, admin.password);
    await expect(adminPage.getByRole('heading', { level: 1, name: `Welcome, ${admin.name}` })).toBeVisible();
    await openNav(adminPage, 'Settings');
    const roles = adminPage.getByRole('group', { name: 'Roles that must use a second factor' });
    await expect(roles).toHaveAccessibleDescription(/led through setting one up .* at their next sign-in, before they see anything else/);
    await expect(roles.getByRole('checkbox', { checked: true })).toHaveCount(0);
    await roles.getByRole('checkbox', { name: 'Client' }).check();
    await adminPage.getByRole('button', { name: 'Save settings' }).click();
    await expect(adminPage.getByText('Settings saved.')).toBeVisible();
  });

  const otherPage = await newPage();
  await step('the client is led through set-up before seeing anything else, and chooses codes by e-mail', async () => {
    await signInWithPassword(otherPage, other.email, other.password);
    const setup = otherPage.getByRole('heading', { level: 1, name: 'Set up a second factor' });
    await expect(setup).toBeVisible();
    await expect(otherPage.getByRole('navigation', { name: 'Portal' })).toHaveCount(0);
    await expectNoSeriousA11yViolations(otherPage, 'the required set-up');
    // Nothing else opens before the set-up is done.
    await otherPage.goto('/app');
    await expect(otherPage.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toBeVisible();
    await otherPage.getByLabel('Password', { exact: true }).fill(other.password);
    await otherPage.getByRole('button', { name: 'Unlock' }).click();
    await expect(setup).toBeVisible();

    const before = smtp.messages().length;
    await otherPage.getByRole('button', { name: 'Set up e-mail codes' }).click();
    const mail = await mailTo(smtp, other.email, /turn on e-mail codes/i, before);
    emailCodes.push(codeIn(mail));
    await otherPage.getByLabel('Code from the e-mail').fill(emailCodes.at(-1) ?? '');
    await otherPage.getByRole('button', { name: 'Confirm and turn on' }).click();
    // The first factor comes with a first set of backup codes, shown at once; saving them opens the portal.
    await expect(otherPage.getByText('Your second factor is set up')).toBeVisible();
    await readBackupCodes(otherPage);
    await expectNoSeriousA11yViolations(otherPage, 'the required set-up, done');
    await otherPage.getByRole('button', { name: 'I saved them' }).click();
    await expectClientHome(otherPage);
  });

  await step('the client signs in with a code by e-mail; a wrong code is refused first', async () => {
    await logOut(otherPage);
    await signInWithPassword(otherPage, other.email, other.password);
    const stepRegion = secondStep(otherPage);
    await expect(stepRegion).toBeVisible();
    await stepRegion.getByRole('radio', { name: 'Code by e-mail' }).check();
    const before = smtp.messages().length;
    await stepRegion.getByRole('button', { name: 'Send me a code' }).click();
    const mail = await mailTo(smtp, other.email, /sign-in code/i, before);
    emailCodes.push(codeIn(mail));
    expect(mail.text).toContain('It works once');
    await expectNoSeriousA11yViolations(otherPage, 'the second step with an e-mailed code');
    const wrong = emailCodes.at(-1) === '123456' ? '654321' : '123456';
    await answerWith(otherPage, 'Code by e-mail', wrong);
    await expect(stepRegion).toContainText('That code is not correct, or it has expired.');
    await answerWith(otherPage, 'Code by e-mail', emailCodes.at(-1) ?? '');
    await expectClientHome(otherPage);
  });

  await step('People shows the client’s e-mail codes', async () => {
    await openNav(adminPage, 'People');
    const row = adminPage.getByRole('row', { name: new RegExp(other.name) });
    await expect(row.getByRole('cell').nth(3)).toHaveText('E-mail codes');
    await expectNoSeriousA11yViolations(adminPage, 'the People page with second factors');
  });

  await step('no request carried the TOTP secret, a backup code where it was not used, an e-mailed code twice, a password or a key', async () => {
    await downloadWorkersSettled(page, teamPage, adminPage, otherPage);
    const all = await requests.all();
    // The capture saw the second steps (the browser's own and the crypto worker's requests alike).
    expect(all.filter((r) => r.url.endsWith('/api/auth/login/second-factor')).length).toBeGreaterThanOrEqual(10);
    // The secret reaches the browser in the set-up answer only; it never goes back, in any form.
    await requests.expectNoSecrets([totpSecret, totpSecret.toLowerCase(), app.key]);
    expectBackupCodesOnlyWhereUsed(all, backupCodes, typedBackupCodes);
    for (const code of emailCodes) {
      const carrying = requestsCarrying(all, code).map((request) => `${request.method} ${new URL(request.url).pathname}`);
      expect(carrying, `requests carrying the e-mailed code ${code}`).toHaveLength(1);
    }
    const people = [admin, team, client, other];
    await requests.expectNoSecrets([...people.map((p) => p.password), ...people.map((p) => p.name)]);
    expectNoKeyMaterial(all);
  });
});
