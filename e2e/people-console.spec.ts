// The Administrator console (issue 21) in real Chromium: a person's action menu by keyboard; deactivating a client
// (their sign-in is refused with a clear message, their session ends) and reactivating them; deleting a client
// (their sign-in is refused like an unknown address) and restoring them; promoting a Team Member with the
// certificate signed in the browser (after the password is asked again); the last-Administrator refusal shown;
// the Settings fields for reset links and four eyes; axe on each new screen.
import type { Page } from '@playwright/test';
import { getSession, listUsers } from '../shared/api';
import { certifiedIdentity, loadDirectory, login } from '../shared/flows/account-flows';
import { startEscrowReset } from '../shared/flows/escrow-reset';
import { budgetedStep, expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { seedOrganisation, type SeededMember } from '../server/test/seed-organisation';
import { budget } from '../server/test/budget';

const test = testWithMail;
const step = <T>(name: string, body: () => Promise<T>): Promise<T> => budgetedStep(name, 30_000, body);

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function openPeople(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'People' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'People' })).toBeVisible();
}

/** A person's row, by e-mail address (their name shows only once this browser verified their keys). */
function rowOf(page: Page, member: SeededMember) {
  return page.getByRole('row').filter({ hasText: member.email });
}

/** Opens the row's action menu and chooses `action` (the item's accessible name starts with it). */
async function choose(page: Page, member: SeededMember, action: RegExp): Promise<void> {
  const row = rowOf(page, member);
  await row.getByRole('button', { name: /^Actions for / }).click();
  await row.getByRole('list', { name: /^Actions for / }).getByRole('button', { name: action }).click();
}

/**
 * Answers the next `method` request to `url` with the error `code` (status `status`), once: for a
 * server answer no legitimate browser can provoke from here (a stale login, a race between two
 * Administrators); the server's own tests cover the real refusals.
 */
async function answerOnce(page: Page, url: RegExp, method: string, status: number, code: string): Promise<void> {
  let answered = false;
  await page.route(url, async (route) => {
    if (route.request().method() !== method || answered) return route.fallback();
    answered = true;
    await route.fulfill({ status, contentType: 'application/json', json: { error: { code, message: code } } });
  });
}

test.use({ mailServerFor: 'people-console' });

test('an Administrator deactivates, reactivates, deletes and restores clients, promotes a Team Member, and is refused demoting the last Administrator', async ({
  page,
  newPage,
  kluisServer,
  smtp,
  consoleErrors,
}) => {
  test.setTimeout(budget(120_000));
  const org = await test.step('an organisation with a Team Member and two clients', () =>
    seedOrganisation(kluisServer, smtp, ['Carla Client', 'Bram Buiten']),
  );
  const { admin, team } = org;
  const [carla, bram] = org.clients as [SeededMember, SeededMember];
  // Refused sign-ins and refused actions are 4xx answers, which Chromium logs.
  consoleErrors.allow(/Failed to load resource: the server responded with a status of 4\d\d/);

  await step('the Administrator opens People: status, role and an action menu per person, usable by keyboard', async () => {
    await signIn(page, admin.email, admin.password);
    await openPeople(page);
    const row = rowOf(page, carla);
    await expect(row).toContainText('Client');
    await expect(row).toContainText('Active');
    const toggle = row.getByRole('button', { name: /^Actions for / });
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await toggle.focus();
    await page.keyboard.press('Enter');
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const menu = row.getByRole('list', { name: /^Actions for / });
    const items = menu.getByRole('button');
    // What an Administrator may do to an active client with no lock: reset, second factors, sessions, deactivate, delete.
    await expect(items).toHaveText(['Reset password', 'Second factors', 'End sessions', 'Deactivate', 'Delete account']);
    await expect(items.first()).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(items.nth(1)).toBeFocused();
    await page.keyboard.press('End');
    await expect(items.last()).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(items.first()).toBeFocused();
    await expectNoSeriousA11yViolations(page, 'the people page with a row menu open');
    await page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
    await expect(toggle).toBeFocused();
    // Nothing the server refuses for one's own account is offered: no menu on one's own row.
    const own = page.getByRole('row').filter({ hasText: admin.email });
    await expect(own).toContainText('you');
    await expect(own.getByRole('button', { name: /^Actions for / })).toHaveCount(0);
  });

  await step('deactivating the client ends their session; their sign-in is refused with a clear message', async () => {
    await choose(page, carla, /^Deactivate /);
    const dialog = page.getByRole('dialog', { name: /^Deactivate .*\?$/ });
    await expect(dialog).toContainText('can no longer sign in');
    await expect(dialog).toContainText('Every Administrator gets an e-mail about this');
    await expectNoSeriousA11yViolations(page, 'the deactivate confirmation');
    await dialog.getByRole('button', { name: 'Deactivate', exact: true }).click();
    await expect(page.getByText(/was deactivated and can no longer sign in\./)).toBeVisible();
    await expect(rowOf(page, carla)).toContainText('Deactivated');
    // The seeded client's own session (a separate client, not this browser) ended with the deactivation.
    await expect(carla.client.api(getSession, {})).rejects.toMatchObject({ code: 'unauthenticated' });

    const clientPage = await newPage();
    await signIn(clientPage, carla.email, carla.password);
    await expect(clientPage.getByRole('alert')).toContainText(
      'This account is deactivated. Ask your administrator to reactivate it.',
      { timeout: budget(30_000) },
    );
    await expect(clientPage.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    await clientPage.close();
  });

  await step('reactivating the client lets them sign in again', async () => {
    await choose(page, carla, /^Reactivate /);
    const dialog = page.getByRole('dialog', { name: /^Reactivate .*\?$/ });
    await dialog.getByRole('button', { name: 'Reactivate', exact: true }).click();
    await expect(page.getByText(/was reactivated and can sign in again\./)).toBeVisible();
    await expect(rowOf(page, carla)).not.toContainText('Deactivated');
    const clientPage = await newPage();
    await signIn(clientPage, carla.email, carla.password);
    await expect(clientPage.getByRole('heading', { level: 1, name: 'My documents' })).toBeVisible({ timeout: budget(30_000) });
    await clientPage.close();
  });

  await step('deleting the other client: kept 30 days, their sign-in refused like an unknown address; restored, deactivated', async () => {
    await choose(page, bram, /^Delete the account of /);
    const dialog = page.getByRole('dialog', { name: /^Delete the account of .*\?$/ });
    await expect(dialog).toContainText('The account is kept for 30 days');
    await expect(dialog).toContainText('nobody can open their documents and messages any more');
    await expectNoSeriousA11yViolations(page, 'the delete confirmation');
    await dialog.getByRole('button', { name: 'Delete account', exact: true }).click();
    await expect(page.getByText(/was deleted\. It can be restored until /)).toBeVisible();
    await expect(rowOf(page, bram)).toContainText('Deleted: keys destroyed on');

    const clientPage = await newPage();
    await signIn(clientPage, bram.email, bram.password);
    // No enumeration: the same sentence as a wrong address or password.
    await expect(clientPage.getByRole('alert')).toContainText('Wrong e-mail address or password', { timeout: budget(30_000) });
    await clientPage.close();

    // A deleted account offers restore, and nothing else that would act on it.
    await choose(page, bram, /^Restore the account of /);
    const restore = page.getByRole('dialog', { name: /^Restore the account of .*\?$/ });
    await expect(restore).toContainText('The account comes back deactivated');
    await restore.getByRole('button', { name: 'Restore account', exact: true }).click();
    await expect(page.getByText(/was restored\. It is deactivated until you reactivate it\./)).toBeVisible();
    await expect(rowOf(page, bram)).toContainText('Deactivated');
    await expect(rowOf(page, bram)).not.toContainText('Deleted');
  });

  await step('promoting the Team Member: the password is asked again, the browser signs the new certificate', async () => {
    // The server asks for a recent login more than 15 minutes after sign-in; its clock cannot move from here.
    await answerOnce(page, /\/api\/users\/[^/]+\/role$/, 'PUT', 401, 'reauthentication_required');
    await choose(page, team, /^Make .* an Administrator$/);
    const dialog = page.getByRole('dialog', { name: /^Change the role of / });
    await expect(dialog).toContainText('is now: Team Member.');
    await expect(dialog).toContainText('Your browser signs a new key certificate');
    await expectNoSeriousA11yViolations(page, 'the change role dialog');
    await dialog.getByRole('button', { name: 'Make Administrator', exact: true }).click();
    const reauth = page.getByRole('dialog', { name: 'Enter your password again' });
    await reauth.getByLabel('Password', { exact: true }).fill(admin.password);
    await reauth.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.getByText(/is now: Administrator\./)).toBeVisible({ timeout: budget(30_000) });
    // What every browser concludes from the directory (never the server's role column): an Administrator now.
    const directory = await loadDirectory(admin.client.api, admin.vault);
    expect(directory.identities.get(team.userId)?.role).toBe('admin');
    // After a reload (a fresh directory), the new role stands and the keys still verify under the new certificate.
    await page.reload();
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await openPeople(page);
    const row = rowOf(page, team);
    await expect(row.getByRole('cell').first()).toHaveText('Administrator');
    await expect(row).toContainText('Keys verified');
    await expect(page.getByText('Security warning: some keys are not what they should be')).toHaveCount(0);
  });

  await step('demoting an Administrator the server counts as the last one: the refusal is shown, nothing changes', async () => {
    // Two Administrators demoting each other at once is a race the server settles with last_administrator.
    await answerOnce(page, /\/api\/users\/[^/]+\/role$/, 'PUT', 409, 'last_administrator');
    await choose(page, team, /^Make .* a Team Member$/);
    const dialog = page.getByRole('dialog', { name: /^Change the role of / });
    await expect(dialog).toContainText('they lose the organisation key');
    await dialog.getByRole('button', { name: 'Make Team Member', exact: true }).click();
    await expect(dialog.getByRole('alert')).toHaveText(
      'This is the last active Administrator. Make someone else an Administrator first.',
    );
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(rowOf(page, team).getByRole('cell').first()).toHaveText('Administrator');
  });

  await step('Settings: reset links valid 24 hours, and four eyes', async () => {
    await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Settings' }).click();
    const hours = page.getByLabel('Reset link valid for (hours)');
    await expect(hours).toHaveValue('72');
    const fourEyes = page.getByLabel(/^Four eyes:/);
    await expect(fourEyes).not.toBeChecked();
    await hours.fill('24');
    await fourEyes.check();
    await expectNoSeriousA11yViolations(page, 'the settings page with reset settings');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Settings saved.')).toBeVisible();
    await page.reload();
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await expect(page.getByLabel('Reset link valid for (hours)')).toHaveValue('24', { timeout: budget(30_000) });
    await expect(page.getByLabel(/^Four eyes:/)).toBeChecked();
  });

  await step('four eyes: a reset started by the other Administrator waits; this one approves it and the link is e-mailed', async () => {
    // The other Administrator's browser, run from Node with the real flows (a fresh sign-in: a recent login).
    const { vault } = await login(team.client.api, team.email, team.password);
    const { users } = await team.client.api(listUsers, {});
    const target = users.find((user) => user.id === carla.userId);
    if (!target) throw new Error('the client is not listed');
    expect(await certifiedIdentity(team.client.api, vault, carla.userId)).not.toBeNull();
    const mailsBefore = smtp.messages().length;
    await startEscrowReset(team.client.api, vault, target, { liftLockout: false, removeSecondFactors: false });

    await openPeople(page);
    await expect(rowOf(page, carla)).toContainText('Reset awaiting approval');
    const resets = page.getByRole('region', { name: 'Password resets in progress' });
    await expect(resets).toContainText(`Started by ${team.email}`);
    await expectNoSeriousA11yViolations(page, 'the people page with a reset awaiting approval');
    await resets.getByRole('button', { name: /^Approve the password reset of / }).click();
    await expect(resets).toContainText('The reset link is e-mailed to them at once.');
    await resets.getByRole('button', { name: 'Yes, go ahead' }).click();
    await expect(resets.getByText(/was approved, and the link e-mailed to them\./)).toBeVisible();
    await expect(rowOf(page, carla)).toContainText('Reset link sent, valid until');
    const mail = await smtp.waitForMessage(
      (m) => smtp.messages().indexOf(m) >= mailsBefore && m.envelope.to.includes(carla.email) && /Choose a new password/.test(m.subject ?? ''),
      budget(15_000),
    );
    expect(mail.text ?? '').toMatch(/\/reset#r=/);
  });
});
