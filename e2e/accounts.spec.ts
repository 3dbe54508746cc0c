// The account journey of issue 12 in real Chromium: setup, invitations by e-mail, lockout, password change, auto-lock, and a zero-knowledge check of every request.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import type { ReceivedMail, TestSmtpServer } from '../server/test/smtp-server';
import { budgetedStep, expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { expectNoKeyMaterial } from './support/key-material';
import { repoRoot, startKluisServer } from '../server/test/kluis-server';
import { budget } from '../server/test/budget';
import { downloadWorkersSettled } from './support/service-worker';

// A server of its own for this file, mailing through a real in-process SMTP server, so every
// invitation and lock notice is read the way a person would read it: from the mailbox. The journey
// ends by replacing this server with one in recovery mode: keep it the only test in this file.
const test = testWithMail;
/** Every step of the journey budgets 30 s of a quiet machine (the longest, a sign-up with its RSA-4096 keys, needs about that). */
const step = <T>(name: string, body: () => Promise<T>): Promise<T> => budgetedStep(name, 30_000, body);
test.use({ mailServerFor: 'accounts' });

/**
 * Answers the next `method` request to `url` with reauthentication_required, as the server does for
 * a sensitive action more than 15 minutes after sign-in (its clock cannot be moved from here).
 */
async function refuseOnceAsStale(page: Page, url: string, method: string): Promise<void> {
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

// Unique per run, so nothing depends on what an earlier test left behind.
const run = Date.now().toString(36);
const organisation = 'Accountants Van Dijk';
const admin = {
  name: 'Anna de Vries',
  email: `anna.${run}@kantoor.example`,
  password: 'paarse olifant danst op het ijs 42',
  recoveredPassword: 'zeven zwanen zwemmen zuidwaarts 31',
};
const team = {
  name: 'Bram Jansen',
  email: `bram.${run}@kantoor.example`,
  password: 'groene kikker leest oude kranten 77',
};
const client = {
  name: 'Carla Bakker',
  email: `carla.${run}@klant.example`,
  password: 'rode ballon zweeft boven de haven 19',
  newPassword: 'stille uil zingt bij volle maan 8',
};
const wrongPasswords = [
  'verkeerde gok nummer een',
  'verkeerde gok nummer twee',
  'verkeerde gok nummer drie',
];

/** The invitation link in the newest invitation e-mail to `email`, as a mail client shows it. */
async function invitationLink(smtp: TestSmtpServer, email: string): Promise<string> {
  const mail = await smtp.waitForMessage(
    (m) => m.envelope.to.includes(email) && /invit|uitnodig/i.test(m.subject ?? ''),
    budget(15_000),
  );
  const link = /https?:\/\/\S+\/invite#t=\S+/.exec(mail.text ?? '');
  if (!link) throw new Error(`no invitation link in the e-mail to ${email}:\n${mail.text ?? ''}`);
  return link[0];
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Account menu/ }).click();
  await page
    .getByRole('list', { name: 'Account menu' })
    .getByRole('button', { name: 'Log out' })
    .click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expect(
    page.getByText('You are signed out. Your keys were removed from this browser.'),
  ).toBeVisible();
}

async function choosePassword(page: Page, label: string, password: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).fill(password);
  // The live checklist (zxcvbn in the crypto worker) agrees before the form is sent.
  await expect(page.getByText('The password meets every rule.')).toBeAttached();
}

test('setup, invitations, lockout, password change and auto-lock, without a password or key in any request', async ({
  page,
  newPage,
  kluisServer,
  smtp,
  requests,
  context,
  consoleErrors,
}, testInfo) => {
  // About 330 s on a quiet machine in all: a minute to start, and each step adds its own budget (step below).
  test.setTimeout(budget(60_000));
  let recoverySecret = '';

  await step('the first Administrator sets up the organisation from the console link', async () => {
    const [link] = await kluisServer.waitForOutput(/http:\/\/\S+\/setup#token=[A-Za-z0-9_-]{43}/);
    await page.goto(link);
    await expect(
      page.getByRole('heading', { level: 1, name: 'Set up your organisation' }),
    ).toBeVisible();
    await page.getByLabel('Organisation name').fill(organisation);
    await page.getByLabel('Your name').fill(admin.name);
    await page.getByLabel('E-mail address').fill(admin.email);

    // The rule checklist reacts to what is typed: the organisation's name is refused.
    await page.getByLabel('Password', { exact: true }).fill('van dijk boekhouding');
    await expect(
      page.getByRole('listitem').filter({ hasText: 'Does not contain the organisation’s name' }),
    ).toContainText('(not met yet)');
    await page.getByRole('button', { name: 'Show password' }).click();
    await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('type', 'text');
    await page.getByRole('button', { name: 'Hide password' }).click();
    await choosePassword(page, 'Password', admin.password);
    await expect(
      page.getByRole('listitem').filter({ hasText: 'At least 8 characters' }),
    ).toContainText('(met)');
    // The initial second-factor policy: staff and auditors by default, not clients.
    const policy = page.getByRole('group', { name: 'Roles that must use a second factor' });
    await expect(policy.getByRole('checkbox', { checked: true })).toHaveCount(3);
    for (const role of ['Administrator', 'Team Member', 'Auditor']) {
      await expect(policy.getByRole('checkbox', { name: role })).toBeChecked();
    }
    await expect(policy.getByRole('checkbox', { name: 'Client' })).not.toBeChecked();
    await expect(policy).toContainText('This includes you');
    await expectNoSeriousA11yViolations(page, 'the setup form');
    await snapshot(page, 'setup-form');
    // This journey is about passwords, invitations and keys: its organisation requires no second
    // factor (e2e/second-factors.spec.ts walks through those). The choice reaches the settings below.
    for (const role of ['Administrator', 'Team Member', 'Auditor']) {
      await policy.getByRole('checkbox', { name: role }).uncheck();
    }
    await expect(policy).not.toContainText('This includes you');

    await page.getByRole('button', { name: 'Create organisation' }).click();
    await expect(page.getByRole('heading', { name: 'Creating your organisation' })).toBeVisible();
    await snapshot(page, 'setup-progress');
    await expect(
      page.getByRole('heading', { level: 1, name: 'Your organisation recovery kit' }),
    ).toBeVisible({ timeout: budget(120_000) });
  });

  await step('the recovery kit is shown once, downloaded as a text file and confirmed', async () => {
    const kit = page.getByRole('region', { name: 'Recovery secret' });
    recoverySecret = (await kit.getByText(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/).textContent()) ?? '';
    expect(recoverySecret).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
    const fingerprint = (await kit.locator('code').textContent()) ?? '';
    expect(fingerprint).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    await expectNoSeriousA11yViolations(page, 'the recovery kit');
    await snapshot(page, 'recovery-kit');

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download as text file' }).click();
    const download = await downloading;
    expect(await download.failure()).toBeNull();
    expect(download.suggestedFilename()).toBe('kluis-recovery-kit-accountants-van-dijk.txt');
    const file = testInfo.outputPath('recovery-kit.txt');
    await download.saveAs(file);
    const text = await readFile(file, 'utf8');
    expect(text).toContain(recoverySecret);
    expect(text).toContain(`Organisation: ${organisation}`);
    expect(text).toContain(fingerprint);

    const proceed = page.getByRole('button', { name: 'Continue' });
    await expect(proceed).toBeDisabled();
    await page.getByLabel('I have stored the recovery kit safely').check();
    await proceed.click();
    await expect(
      page.getByRole('heading', { level: 1, name: `Welcome, ${admin.name}` }),
    ).toBeVisible();
    await expect(page.getByRole('banner')).toContainText(organisation);
    await expectNoSeriousA11yViolations(page, 'the Administrator’s home page');
    await snapshot(page, 'home-admin');
  });

  await step('the Administrator invites a Team Member by e-mail', async () => {
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Invite' })
      .click();
    const roles = page.getByRole('group', { name: 'Role' }).getByRole('radio');
    await expect(roles).toHaveCount(4);
    await page.getByLabel('E-mail address').fill(team.email);
    await page.getByRole('radio', { name: /^Team Member/ }).check();
    // Inviting staff needs a login less than 15 minutes old: the server's refusal is simulated
    // once (as for the settings below); the page asks for the password and sends it again.
    consoleErrors.allow(/status of 401 \(Unauthorized\)/);
    await refuseOnceAsStale(page, '**/api/invitations', 'POST');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    const reauth = page.getByRole('dialog', { name: 'Enter your password again' });
    await expect(reauth).toBeVisible();
    await reauth.getByLabel('Password', { exact: true }).fill(admin.password);
    await reauth.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.getByText(`Invitation sent to ${team.email}`)).toBeVisible();
    await expect(reauth).toBeHidden();
    await page.unroute('**/api/invitations');
    await expect(page.getByRole('region', { name: 'Open invitations' })).toContainText(team.email);
    await expectNoSeriousA11yViolations(page, 'the invitation page');
    await snapshot(page, 'invite-admin');
  });

  const teamPage = await newPage();
  await step('a link whose pinned server key was altered stops sign-up with a security warning', async () => {
    // As if someone changed the OPAQUE server key pinned in the link (o=...): the browser refuses
    // before it uploads anything, and the invitation stays usable.
    const link = await invitationLink(smtp, team.email);
    await teamPage.goto(link.replace(/([#&]o=)[A-Za-z0-9_-]{43}/, `$1${'A'.repeat(43)}`));
    await teamPage.getByLabel('Your name').fill(team.name);
    await choosePassword(teamPage, 'Choose a password', team.password);
    await teamPage.getByRole('button', { name: 'Create my account' }).click();
    const warning = teamPage.getByRole('alert');
    await expect(warning).toContainText('Security warning: stop here');
    await expect(warning).toContainText('Do not enter your password again');
    await expect(teamPage.getByRole('button', { name: 'Create my account' })).toHaveCount(0);
    await expectNoSeriousA11yViolations(teamPage, 'the key-pin security warning');
    await snapshot(teamPage, 'pin-mismatch');
  });

  await step('the Team Member signs up through the link from the e-mail', async () => {
    await teamPage.goto(await invitationLink(smtp, team.email));
    await expect(
      teamPage.getByRole('heading', { level: 1, name: 'Accept your invitation' }),
    ).toBeVisible();
    const invitation = teamPage.getByRole('region', { name: 'Your invitation' });
    await expect(invitation).toContainText(organisation);
    await expect(invitation).toContainText(team.email);
    await expect(invitation).toContainText('Team Member');
    await teamPage.getByLabel('Your name').fill(team.name);
    await choosePassword(teamPage, 'Choose a password', team.password);
    await expectNoSeriousA11yViolations(teamPage, 'the sign-up form');
    await snapshot(teamPage, 'signup');
    await teamPage.getByRole('button', { name: 'Create my account' }).click();
    await expect(
      teamPage.getByRole('heading', { level: 1, name: `Welcome, ${team.name}` }),
    ).toBeVisible({ timeout: budget(90_000) });
  });

  await step('the Administrator grants the Team Member the organisation key after comparing fingerprints', async () => {
    await teamPage
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Account' })
      .click();
    const teamFingerprint =
      (await teamPage
        .getByRole('region', { name: 'Your keys' })
        .locator('code')
        .first()
        .textContent()) ?? '';
    expect(teamFingerprint).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);

    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'People' })
      .click();
    const row = page.getByRole('row', { name: new RegExp(team.name) });
    await expect(row).toContainText('Not granted');
    // Invited with a verified link: the Administrator's browser certified the keys through the invitation binding.
    await expect(row).toContainText('Keys verified Invited with a verified link');
    await expect(page.getByRole('alert')).toHaveCount(0);
    await row.getByRole('button', { name: `Grant the organisation key to ${team.name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Grant the organisation key to ${team.name}` });
    await expect(dialog.locator('code')).toHaveText(teamFingerprint);
    await expectNoSeriousA11yViolations(page, 'the escrow grant dialog');
    await snapshot(page, 'grant-escrow');
    await dialog.getByLabel('I compared the fingerprint and it matches').check();
    await dialog.getByRole('button', { name: 'Grant the key' }).click();
    await expect(page.getByText(`${team.name} was granted the organisation key.`)).toBeVisible();
    await expect(row).toContainText('Granted, not yet accepted');
    await expectNoSeriousA11yViolations(page, 'the people page');
    await snapshot(page, 'people-admin');
  });

  await step('the Administrator turns on an optional password rule (off by default)', async () => {
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Settings' })
      .click();
    await expect(page.getByRole('heading', { level: 1, name: 'Security settings' })).toBeVisible();
    await expect(page.getByText('Every rule below is off by default')).toBeVisible();
    const strength = page.getByLabel('Require a minimum strength');
    await expect(strength).not.toBeChecked();
    await expect(page.getByLabel('Wrong passwords before lockout')).toHaveValue('3');
    // The policy chosen at setup: nobody must use a second factor, and the page says what ticking a role does.
    const secondFactor = page.getByRole('group', { name: 'Roles that must use a second factor' });
    await expect(secondFactor.getByRole('checkbox', { checked: true })).toHaveCount(0);
    await expect(secondFactor).toHaveAccessibleDescription(/led through setting one up .* at their next sign-in/);
    await strength.check();
    await expect(page.getByLabel('Minimum strength', { exact: true })).toHaveValue('3');
    await expectNoSeriousA11yViolations(page, 'the settings page');
    await snapshot(page, 'settings');
    // A sensitive action more than 15 minutes after sign-in: the server's answer is simulated
    // once (its clock cannot be moved from here); the page must ask for the password, sign in
    // again in the worker, and repeat the request.
    consoleErrors.allow(/status of 401 \(Unauthorized\)/);
    await refuseOnceAsStale(page, '**/api/organisation/settings', 'PUT');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const reauth = page.getByRole('dialog', { name: 'Enter your password again' });
    await expect(reauth).toBeVisible();
    await expectNoSeriousA11yViolations(page, 'the re-authentication dialog');
    await reauth.getByLabel('Password', { exact: true }).fill(admin.password);
    await reauth.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.getByText('Settings saved.')).toBeVisible();
    await expect(reauth).toBeHidden();
    await page.unroute('**/api/organisation/settings');
  });

  await step('the Team Member signs in again (accepting the key) and invites a Client', async () => {
    await logOut(teamPage);
    await expectNoSeriousA11yViolations(teamPage, 'the sign-in page');
    await signIn(teamPage, team.email, team.password);
    await expect(
      teamPage.getByRole('heading', { level: 1, name: `Welcome, ${team.name}` }),
    ).toBeVisible();
    await teamPage
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Invite' })
      .click();
    // Team Members invite Clients only.
    await expect(teamPage.getByRole('group', { name: 'Role' }).getByRole('radio')).toHaveCount(1);
    await expect(teamPage.getByRole('radio', { name: /^Client/ })).toBeChecked();
    await teamPage.getByLabel('E-mail address').fill(client.email);
    await teamPage.getByRole('button', { name: 'Send invitation' }).click();
    await expect(teamPage.getByText(`Invitation sent to ${client.email}`)).toBeVisible();

    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toBeVisible();
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'People' })
      .click();
    await expect(page.getByRole('row', { name: new RegExp(team.name) })).toContainText(
      'Holds the key',
    );
  });

  const clientPage = await newPage();
  const clientKeys: string[] = [];
  await step('the Client signs up, and three wrong passwords lock the account', async () => {
    // A link without its binding part (as links sent before key certificates): staff verify the keys by hand.
    const link = await invitationLink(smtp, client.email);
    expect(link).toMatch(/&i=[^&]+&k=[^&]+$/);
    await clientPage.goto(link.replace(/&i=[^&]+&k=[^&]+$/, ''));
    await clientPage.getByLabel('Your name').fill(client.name);
    // The organisation's optional rule reaches the invitee's checklist.
    await expect(
      clientPage.getByRole('listitem').filter({ hasText: 'Strength at least “good”' }),
    ).toBeVisible();
    await choosePassword(clientPage, 'Choose a password', client.password);
    await clientPage.getByRole('button', { name: 'Create my account' }).click();
    await expect(
      clientPage.getByRole('heading', { level: 1, name: 'My documents' }),
    ).toBeVisible({ timeout: budget(90_000) });
    // A client's portal is their own space; clients have no Clients, People, Invite or Settings.
    await expect(
      clientPage.getByRole('navigation', { name: 'Portal' }).getByRole('link'),
    ).toHaveText(['My documents', 'Account']);
    await expect(clientPage.getByRole('button', { name: /Account menu/ })).toContainText(client.name);
    await clientPage
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Account' })
      .click();
    const codes = clientPage.getByRole('region', { name: 'Your keys' }).locator('code');
    await expect(codes).toHaveCount(3);
    clientKeys.push(...(await codes.allTextContents()).slice(0, 2));
    await logOut(clientPage);

    for (const wrong of wrongPasswords) {
      await signIn(clientPage, client.email, wrong);
      await expect(clientPage.getByRole('alert')).toContainText(
        'Wrong e-mail address or password — or the account is locked',
      );
    }
    await snapshot(clientPage, 'login-rejected');
    const notice = await smtp.waitForMessage(
      (m: ReceivedMail) => m.envelope.to.includes(client.email) && /locked/i.test(m.subject ?? ''),
      budget(15_000),
    );
    expect(notice.text).toContain('3 times');
    // Locked: even the right password gets the same answer.
    await signIn(clientPage, client.email, client.password);
    await expect(clientPage.getByRole('alert')).toContainText(
      'Wrong e-mail address or password — or the account is locked',
    );
  });

  await step('the Team Member verifies the Client’s keys by hand, sees the name (decrypted through the organisation key) and lifts the lock', async () => {
    await teamPage
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'People' })
      .click();
    const row = teamPage.getByRole('row', { name: new RegExp(client.email) });
    await expect(row).toContainText('Keys not verified yet');
    // Until the keys are verified, the profile's escrow copy is not trusted.
    await expect(row).toContainText('Profile cannot be verified');
    await row.getByRole('button', { name: `Verify the keys of ${client.email}` }).click();
    const dialog = teamPage.getByRole('dialog', { name: `Verify the keys of ${client.email}` });
    await expect(dialog.locator('code')).toHaveText(clientKeys);
    await expectNoSeriousA11yViolations(teamPage, 'the verify keys dialog');
    await snapshot(teamPage, 'verify-keys');
    const confirm = dialog.getByRole('button', { name: 'Confirm: these are their keys' });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(`I compared both fingerprints with ${client.email} and every group matches`).check();
    await confirm.click();
    await expect(teamPage.getByText(`The keys of ${client.email} are verified.`)).toBeVisible();
    await expect(row).toContainText('Keys verified Checked by hand');
    await expect(row).toContainText(client.name);
    await expect(row).toContainText('Locked until');
    await expectNoSeriousA11yViolations(teamPage, 'the people page of a Team Member');
    await snapshot(teamPage, 'people-team-locked');
    await row.getByRole('button', { name: `Actions for ${client.name}` }).click();
    await row.getByRole('button', { name: `Lift lock for ${client.name}` }).click();
    await expect(teamPage.getByText(`The lock of ${client.name} was lifted.`)).toBeVisible();
    await expect(row).toContainText('Active');
  });

  await step('the Client signs in, changes the password and signs in with the new one', async () => {
    await signIn(clientPage, client.email, client.password);
    await expect(
      clientPage.getByRole('heading', { level: 1, name: 'My documents' }),
    ).toBeVisible();
    await clientPage.getByRole('button', { name: /Account menu/ }).click();
    await clientPage
      .getByRole('list', { name: 'Account menu' })
      .getByRole('link', { name: 'Account' })
      .click();
    await expect(clientPage.getByRole('heading', { level: 1, name: 'Your account' })).toBeVisible();
    await clientPage.getByLabel('Current password').fill(client.password);
    await choosePassword(clientPage, 'New password', client.newPassword);
    await expectNoSeriousA11yViolations(clientPage, 'the account page');
    await snapshot(clientPage, 'account');
    await clientPage.getByRole('button', { name: 'Change password' }).click();
    await expect(clientPage.getByText('Your password was changed.')).toBeVisible({
      timeout: budget(30_000),
    });
    await smtp.waitForMessage(
      (m) => m.envelope.to.includes(client.email) && /password/i.test(m.subject ?? ''),
      budget(15_000),
    );
    await logOut(clientPage);
    await signIn(clientPage, client.email, client.newPassword);
    await expect(
      clientPage.getByRole('heading', { level: 1, name: 'My documents' }),
    ).toBeVisible();
  });

  await step('a reload and an idle period both lock the vault and ask for the password', async () => {
    // Fake timers from here on (installed before the reload, so the auto-lock timer is fake too).
    await clientPage.clock.install();
    await clientPage.reload();
    await expect(
      clientPage.getByRole('heading', { level: 1, name: 'Kluis is locked' }),
    ).toBeVisible();
    await expect(clientPage.getByLabel('E-mail address')).toHaveValue(client.email);
    await clientPage.getByLabel('Password', { exact: true }).fill(client.newPassword);
    await clientPage.getByRole('button', { name: 'Unlock' }).click();
    await expect(
      clientPage.getByRole('heading', { level: 1, name: 'My documents' }),
    ).toBeVisible();

    await clientPage.clock.fastForward('16:00');
    await expect(
      clientPage.getByRole('heading', { level: 1, name: 'Kluis is locked' }),
    ).toBeVisible();
    await expect(
      clientPage.getByText('Kluis locked itself after a while without activity'),
    ).toBeVisible();
    // Decrypted data did not outlive the lock: the name is gone from the page.
    await expect(clientPage.locator('body')).not.toContainText(client.name);
    await expectNoSeriousA11yViolations(clientPage, 'the unlock screen');
    await snapshot(clientPage, 'unlock');
  });

  await step('after the server secret is lost, the Administrator recovers the organisation with the recovery kit', async () => {
    // Lose the OPAQUE server secret for good: no password works any more. The operator starts
    // Kluis in recovery mode on the same database, which prints a one-time recovery link.
    await downloadWorkersSettled(page, teamPage, clientPage);
    await kluisServer.stop({ keepDataDir: true });
    await rm(join(kluisServer.secretsDir, 'opaque-server-setup'));
    const recovering = await startKluisServer({
      directories: kluisServer,
      env: { SMTP_URL: smtp.url, KLUIS_RECOVERY_MODE: 'true' },
    });
    try {
      const [link] = await recovering.waitForOutput(
        /http:\/\/\S+\/recover#token=[A-Za-z0-9_-]{43}/,
      );
      await page.goto(link);
      await expect(
        page.getByRole('heading', { level: 1, name: 'Recover the organisation' }),
      ).toBeVisible();
      await page.getByLabel('E-mail address').fill(admin.email);
      // A secret of the right shape that is not this organisation's: refused, nothing changes.
      await page.getByLabel('Recovery secret').fill('0000-0000-0000-0000-0000-0000-0000-0000');
      await choosePassword(page, 'New password', admin.recoveredPassword);
      await expectNoSeriousA11yViolations(page, 'the recovery form');
      await snapshot(page, 'recover');
      await page.getByRole('button', { name: 'Recover and sign in' }).click();
      await expect(page.getByRole('alert')).toContainText(
        'This recovery secret does not open the organisation key',
      );
      // The kit as the Administrator kept it: the text file, typed in lower case without dashes.
      const kit = await readFile(testInfo.outputPath('recovery-kit.txt'), 'utf8');
      const secret = /[0-9A-Z]{4}(?:-[0-9A-Z]{4}){7}/.exec(kit)?.[0] ?? '';
      await page.getByLabel('Recovery secret').fill(secret.replaceAll('-', '').toLowerCase());
      await page.getByRole('button', { name: 'Recover and sign in' }).click();
      await expect(
        page.getByRole('heading', { level: 1, name: `Welcome, ${admin.name}` }),
      ).toBeVisible({ timeout: budget(60_000) });
      await downloadWorkersSettled(page);
    } finally {
      await recovering.stop();
    }
  });

  await step('no request carried a password, the recovery secret, a name or key material', async () => {
    const all = await requests.all();
    // The capture saw the protocol, including what the crypto workers sent.
    expect(all.some((r) => r.url.endsWith('/api/setup/finish'))).toBe(true);
    expect(
      all.filter((r) => r.url.endsWith('/api/auth/login/start')).length,
    ).toBeGreaterThanOrEqual(10);
    expect(all.some((r) => r.url.endsWith('/api/signup/finish'))).toBe(true);
    expect(all.some((r) => r.url.endsWith('/api/account/password/finish'))).toBe(true);
    expect(all.some((r) => r.url.endsWith('/api/recovery/finish'))).toBe(true);

    const passwords = [
      admin.password,
      admin.recoveredPassword,
      team.password,
      client.password,
      client.newPassword,
      ...wrongPasswords,
    ];
    await requests.expectNoSecrets([
      ...passwords,
      recoverySecret,
      recoverySecret.replaceAll('-', ''),
      recoverySecret.replaceAll('-', '').toLowerCase(),
      // Profile names are encrypted in the browser: their plaintext must never travel.
      admin.name,
      team.name,
      client.name,
    ]);
    expectNoKeyMaterial(all);

    // Nothing stored in any browser: keys, passwords and plaintext live only in memory.
    for (const browserContext of [context, teamPage.context(), clientPage.context()]) {
      const stored = await browserContext.storageState({ indexedDB: true });
      expect(stored.origins).toEqual([]);
    }
  });
});

/** Screenshots of key screens for a human look at the layout: KLUIS_E2E_SCREENSHOTS=1 writes test-results/screens/. */
async function snapshot(page: Page, name: string): Promise<void> {
  if (!process.env.KLUIS_E2E_SCREENSHOTS) return;
  await page.screenshot({
    path: join(repoRoot, 'test-results', 'screens', `${name}.png`),
    fullPage: true,
  });
}
