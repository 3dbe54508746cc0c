// Smoke journey: the welcome screen through the real server and CSP, the crypto worker, languages, keyboard, axe.
import { expectNoSeriousA11yViolations } from './support/axe';
import { expect, test } from './fixtures';

test('the welcome screen shows a healthy server and a working encryption engine, in English and Dutch', async ({
  page,
  context,
  baseURL,
  requests,
}) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);

  // The strict CSP is on the page itself: no inline script or style, WASM allowed, no framing.
  const csp = (await response?.allHeaders())?.['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toMatch(/'unsafe-eval'/);

  await expect(page.getByRole('heading', { level: 1, name: 'Kluis' })).toBeVisible();
  await expect(page).toHaveTitle('Kluis: secure client portal');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');

  const server = page.getByRole('region', { name: 'Server' });
  await expect(server.getByRole('status')).toContainText('Online');
  await expect(server).toContainText(/Version \d+\.\d+\.\d+/);

  // Proves the module worker loaded and WebCrypto plus WebAssembly ran under the real CSP.
  const engine = page.getByRole('region', { name: 'Encryption engine' });
  await expect(engine.getByRole('status')).toContainText('Encryption engine ready');

  await expectNoSeriousA11yViolations(page, 'the welcome screen (English)');

  // Keyboard only: the skip link comes first, then the tab order reaches the language switch.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  const dutch = page.getByRole('button', { name: 'Nederlands' });
  await expect(dutch).toHaveAttribute('aria-pressed', 'false');
  for (
    let presses = 0;
    presses < 10 && !(await dutch.evaluate((element) => element === document.activeElement));
    presses += 1
  ) {
    await page.keyboard.press('Tab');
  }
  await expect(dutch).toBeFocused();
  await page.keyboard.press('Enter');

  await expect(dutch).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('html')).toHaveAttribute('lang', 'nl');
  await expect(page).toHaveTitle('Kluis: beveiligd klantportaal');
  await expect(
    page.getByRole('heading', { level: 2, name: 'Hoe Kluis u beschermt' }),
  ).toBeVisible();
  await expect(
    page.getByRole('region', { name: 'Versleutelingsmodule' }).getByRole('status'),
  ).toContainText('Versleutelingsmodule gereed');
  await expect(page.getByRole('region', { name: 'Server' }).getByRole('status')).toContainText(
    'Online',
  );

  await expectNoSeriousA11yViolations(page, 'the welcome screen (Dutch)');

  // House rule: nothing is kept in the browser (no Web Storage, no IndexedDB), not even the language.
  const stored = await context.storageState({ indexedDB: true });
  expect(stored.origins).toEqual([]);

  // Nothing leaves for a third party: every request went to this portal.
  const origins = new Set((await requests.all()).map((request) => new URL(request.url).origin));
  expect([...origins]).toEqual([baseURL]);
});

test('the skip link moves focus to the main content', async ({ page }) => {
  await page.goto('/');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('main')).toBeFocused();
});

test.describe('with a Dutch-speaking browser', () => {
  test.use({ locale: 'nl-NL' });

  test('the portal starts in Dutch', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'nl');
    await expect(page.getByRole('button', { name: 'Nederlands' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
    await expect(page.getByRole('heading', { level: 2, name: 'Systeemstatus' })).toBeVisible();
  });

  test('the sign-in page is in Dutch and accessible', async ({ page }) => {
    await page.goto('/login');
    await expect(page.getByRole('heading', { level: 1, name: 'Aanmelden' })).toBeVisible();
    await expect(page.getByLabel('E-mailadres')).toBeVisible();
    await page.getByLabel('Wachtwoord', { exact: true }).fill('iets');
    await page.getByRole('button', { name: 'Wachtwoord tonen' }).click();
    await expect(page.getByRole('button', { name: 'Wachtwoord verbergen' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
    await expectNoSeriousA11yViolations(page, 'the Dutch sign-in page');
  });
});

test('an unknown address shows a page-not-found screen with a way back', async ({ page }) => {
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'the not-found screen');
  await page.getByRole('link', { name: 'Go to the start page' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Kluis' })).toBeVisible();
});

test("without 'wasm-unsafe-eval' the encryption engine reports itself unavailable", async ({
  page,
  consoleErrors,
}) => {
  // The same portal with WebAssembly forbidden by CSP: proves the smoke journey's "ready" depends on WASM running.
  consoleErrors.allow(/WebAssembly|wasm-unsafe-eval|Content Security Policy/i);
  await page.route('**/*', async (route) => {
    const response = await route.fetch();
    const headers = response.headers();
    const csp = headers['content-security-policy'];
    if (csp) headers['content-security-policy'] = csp.replace(" 'wasm-unsafe-eval'", '');
    await route.fulfill({ response, headers });
  });
  await page.goto('/');
  const engine = page.getByRole('region', { name: 'Encryption engine' });
  await expect(engine.getByRole('status')).toContainText('Encryption engine not available');
  await expect(page.getByRole('region', { name: 'Server' }).getByRole('status')).toContainText(
    'Online',
  );
});
