// The second sign-in step with the keyboard alone: where the focus goes, what a refused code says at its field, a backup code typed loosely, going back to the password.
import type { Page } from '@playwright/test';
import { confirmTotpSetup, createBackupCodes, startTotpSetup } from '../shared/api';
import { budget } from '../server/test/budget';
import { seedOrganisation, type SeededMember } from '../server/test/seed-organisation';
import { expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { authenticator, totp } from './support/totp';

const test = testWithMail;
test.use({ mailServerFor: 'second-factor-step' });

/** E-mail, Tab, password, Enter: the login page as a keyboard user meets it (the e-mail field has the focus). */
async function typeCredentials(page: Page, member: SeededMember): Promise<void> {
  await page.goto('/login');
  await expect(page.getByLabel('E-mail address')).toBeFocused();
  await page.keyboard.type(member.email);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
  await page.keyboard.type(member.password);
  await page.keyboard.press('Enter');
}

test('the second step works with the keyboard alone, says what went wrong at the field, and leads back to the password', async ({
  page,
  kluisServer,
  smtp,
  consoleErrors,
}) => {
  test.setTimeout(budget(180_000));
  // Refused codes are answered 401, which Chromium logs.
  consoleErrors.allow(/status of 401 \(Unauthorized\)/);
  const org = await seedOrganisation(kluisServer, smtp, ['Carla Client']);
  const client = org.clients[0] as SeededMember;

  // The client's authenticator app and backup codes, set up over the API (the set-up screens are e2e/second-factors.spec.ts's).
  const started = await client.client.api(startTotpSetup, { body: {} });
  const app = authenticator(started.secret);
  await client.client.api(confirmTotpSetup, { body: { setupId: started.setupId, code: await app.nextCode(), name: 'Phone' } });
  const { codes } = await client.client.api(createBackupCodes, { body: {} });
  const backup = codes[0] ?? '';

  const stepRegion = page.getByRole('region', { name: 'Confirm it is you' });
  const appCode = stepRegion.getByRole('textbox', { name: 'Code from your authenticator app' });

  await test.step('after the password, the code field has the focus', async () => {
    await typeCredentials(page, client);
    await expect(stepRegion).toBeVisible();
    await expect(appCode).toBeFocused();
    await expect(appCode).toHaveAttribute('autocomplete', 'one-time-code');
    await expect(appCode).toHaveAttribute('inputmode', 'numeric');
    await expect(stepRegion).toContainText('Lost your phone? Use a backup code, or ask your office.');
    await expectNoSeriousA11yViolations(page, 'the second sign-in step');
  });

  await test.step('a wrong code sent from the Confirm button: the field says so, empty and focused again', async () => {
    const near = new Set([-1, 0, 1].map((offset) => totp(app.key, Date.now() + offset * 30_000)));
    const wrong = ['123456', '654321', '111111'].find((code) => !near.has(code)) ?? '';
    await page.keyboard.type(`${wrong.slice(0, 3)} ${wrong.slice(3)}`);
    // Past "Trust this browser" to Confirm: the focus leaves the field, and comes back to it after the refusal.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect(stepRegion.getByRole('button', { name: 'Confirm' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(appCode).toHaveAccessibleDescription(/That code is not correct\. Check that the clock of your phone is right/);
    await expect(appCode).toHaveAttribute('aria-invalid', 'true');
    await expect(appCode).toHaveValue('');
    await expect(appCode).toBeFocused();
    await expectNoSeriousA11yViolations(page, 'the second step with a refused code');
  });

  await test.step('arrow keys choose a backup code; typed in lower case with a space, it signs in', async () => {
    await page.keyboard.press('Shift+Tab');
    await expect(stepRegion.getByRole('radio', { name: 'Authenticator app' })).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(stepRegion.getByRole('radio', { name: 'Backup code' })).toBeChecked();
    await page.keyboard.press('Tab');
    const backupField = stepRegion.getByRole('textbox', { name: 'Backup code' });
    await expect(backupField).toBeFocused();
    await page.keyboard.type(backup.toLowerCase().replace('-', ' '));
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toBeVisible({ timeout: budget(30_000) });
  });

  await test.step('the same backup code again is refused as used; Back leads to an empty, focused password field', async () => {
    await page.getByRole('button', { name: /Account menu/ }).click();
    await page.getByRole('list', { name: 'Account menu' }).getByRole('button', { name: 'Log out' }).click();
    await typeCredentials(page, client);
    await expect(appCode).toBeFocused();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.type(backup);
    await page.keyboard.press('Enter');
    const backupField = stepRegion.getByRole('textbox', { name: 'Backup code' });
    await expect(backupField).toHaveAccessibleDescription(/That backup code was already used: each code works only once\./);
    await expect(backupField).toBeFocused();

    // Field, "Trust this browser", Confirm, Back.
    await page.keyboard.press('Tab');
    await expect(stepRegion.getByRole('checkbox', { name: 'Trust this browser for 30 days' })).toBeFocused();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect(stepRegion.getByRole('button', { name: 'Back' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(stepRegion).toHaveCount(0);
    const password = page.getByLabel('Password', { exact: true });
    await expect(password).toBeFocused();
    await expect(password).toHaveValue('');
    await expect(page.getByRole('alert')).toHaveCount(0);
  });

  await test.step('with the next code of the app, in', async () => {
    await page.keyboard.type(client.password);
    await page.keyboard.press('Enter');
    await expect(appCode).toBeFocused();
    await page.keyboard.type(await app.nextCode());
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toBeVisible({ timeout: budget(30_000) });
  });
});
