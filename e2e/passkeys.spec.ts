// Passkeys (issue 20) in real Chromium with the CDP virtual authenticator (resident keys, user verification,
// PRF): a client adds a passkey, signs in with password + passkey as second factor, turns on "unlock with
// passkey" and signs in with no password typed, removes the passkey and is refused; axe on each screen, and
// the zero-knowledge checks: the PRF output and the user key it unwraps (both recomputed here, outside
// Kluis's code) are in no request, nor any password or private key.
import { createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import type { Page } from '@playwright/test';
import { budgetedStep, expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { expectNoKeyMaterial } from './support/key-material';
import { addVirtualAuthenticator } from './support/webauthn';
import { seedOrganisation, type SeededMember } from '../server/test/seed-organisation';
import { budget } from '../server/test/budget';

const test = testWithMail;
const step = <T>(name: string, body: () => Promise<T>): Promise<T> => budgetedStep(name, 30_000, body);

async function signInWithPassword(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function expectClientHome(page: Page): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toBeVisible({ timeout: budget(30_000) });
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Account menu/ }).click();
  await page.getByRole('list', { name: 'Account menu' }).getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
}

async function openAccount(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Passkeys and security keys' })).toBeVisible();
}

const passkeys = (page: Page) => page.getByRole('region', { name: 'Passkeys and security keys' });

/**
 * Opens a passkey's wrapping of the user key from its documented format alone (SECURITY.md), with
 * node:crypto: wrapping key = HKDF-SHA-256(prf, empty, "kluis/v1/passkey-unlock" || lp(user id) ||
 * lp(credential id)); a record envelope (version 1 || commitment 32 || IV 12 || ciphertext || tag 16)
 * under HKDF(key, empty, "kluis/v1/record-aead/passkey"), associated data "kluis/v1/record" || 0x00
 * 0x01 || lp("wrapped-key/user") || lp("passkey/" + credential id) || lp(user id).
 * @returns the 32-byte user key
 */
function openWrapping(prf: Buffer, userId: string, credentialId: string, wrapped: Buffer): Buffer {
  const lp = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const key = Buffer.from(hkdfSync('sha256', prf, Buffer.alloc(0), Buffer.concat([Buffer.from('kluis/v1/passkey-unlock'), lp(userId), lp(credentialId)]), 32));
  const aead = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'kluis/v1/record-aead/passkey', 32));
  const decipher = createDecipheriv('aes-256-gcm', aead, wrapped.subarray(33, 45));
  decipher.setAAD(Buffer.concat([Buffer.from('kluis/v1/record'), Buffer.from([0, 1]), lp('wrapped-key/user'), lp(`passkey/${credentialId}`), lp(userId)]));
  decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
  return Buffer.concat([decipher.update(wrapped.subarray(45, wrapped.length - 16)), decipher.final()]);
}

test.use({ mailServerFor: 'passkeys' });

test('a client adds a passkey, uses it as second factor, unlocks Kluis with it and no password, and after removing it is refused', async ({
  page,
  context,
  kluisServer,
  smtp,
  requests,
  consoleErrors,
}) => {
  test.setTimeout(budget(120_000));
  const org = await test.step('an organisation with a Team Member and a client, requiring no second factor', () =>
    seedOrganisation(kluisServer, smtp, ['Carla Client']),
  );
  const [client] = org.clients as [SeededMember];
  // The passkey sign-in refused at the end is answered 401, which Chromium logs.
  consoleErrors.allow(/status of 401 \(Unauthorized\)/);
  const authenticator = await addVirtualAuthenticator(context, page, { prf: true });
  let credentialId = '';
  let factorId = '';

  await step('the client adds a passkey under Account, which says it can also unlock Kluis', async () => {
    await signInWithPassword(page, client.email, client.password);
    await expectClientHome(page);
    await openAccount(page);
    await expect(passkeys(page)).toContainText('You have no passkeys yet.');
    await passkeys(page).getByRole('button', { name: 'Add passkey' }).click();
    await expect(passkeys(page)).toContainText('Give the passkey a name.');
    await passkeys(page).getByLabel('Name', { exact: true }).fill('Laptop');
    await passkeys(page).getByRole('button', { name: 'Add passkey' }).click();
    await expect(passkeys(page)).toContainText('“Laptop” was added. It can also unlock Kluis');
    const [credential, ...others] = await authenticator.credentials();
    expect(others).toEqual([]);
    expect(credential).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
    credentialId = Buffer.from(credential!.credentialId, 'base64').toString('base64url');
    // The user handle is the account id (no name or address in the authenticator).
    expect(Buffer.from(credential!.userHandle ?? '', 'base64').toString('utf8')).toBe(client.userId);
    await expectNoSeriousA11yViolations(page, 'the Account page with a passkey');
  });

  await step('signing in with the password asks for the passkey as second factor', async () => {
    await logOut(page);
    await signInWithPassword(page, client.email, client.password);
    const secondStep = page.getByRole('region', { name: 'Confirm it is you' });
    await expect(secondStep).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toHaveCount(0);
    await secondStep.getByRole('button', { name: 'Use my passkey' }).click();
    await expectClientHome(page);
    expect((await authenticator.credentials())[0]?.signCount).toBeGreaterThan(0);
  });

  await step('the client turns on "unlock with passkey"', async () => {
    await openAccount(page);
    const laptop = passkeys(page).getByRole('listitem').filter({ hasText: 'Laptop' });
    await expect(laptop).toContainText('last used');
    await laptop.getByRole('button', { name: 'Use “Laptop” to unlock Kluis without the password' }).click();
    await expect(passkeys(page)).toContainText('“Laptop” now unlocks Kluis');
    await expect(laptop).toContainText('Unlocks Kluis');
    await expect(laptop.getByRole('button', { name: 'Stop using “Laptop” to unlock Kluis' })).toBeFocused();
    const put = (await requests.all()).find((r) => r.method === 'PUT' && /\/api\/account\/passkeys\/[A-Za-z0-9_-]{22}\/unlock$/.test(r.url));
    expect(put, 'the unlock request').toBeDefined();
    factorId = /passkeys\/([A-Za-z0-9_-]{22})\/unlock$/.exec(put!.url)![1]!;
    expect(Object.keys(JSON.parse(put!.body.toString('utf8')) as object)).toEqual(['wrappedUserKey']);
  });

  await step('signed out, "Sign in with a passkey" signs in and unlocks with no password typed', async () => {
    await logOut(page);
    await expectNoSeriousA11yViolations(page, 'the login page with passkey sign-in');
    const passwordLogins = async () => (await requests.all()).filter((r) => r.url.endsWith('/api/auth/login/start')).length;
    const before = await passwordLogins();
    // Every keystroke or fill in the password field would be recorded here (the page stays one document).
    await page.getByLabel('Password', { exact: true }).evaluate((input) => {
      (window as unknown as { passwordTouched: number }).passwordTouched = 0;
      input.addEventListener('input', () => {
        (window as unknown as { passwordTouched: number }).passwordTouched += 1;
      });
    });
    await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectClientHome(page);
    expect(await page.evaluate(() => (window as unknown as { passwordTouched: number }).passwordTouched)).toBe(0);
    // No OPAQUE login ran: the password played no part.
    expect(await passwordLogins()).toBe(before);
    const passkeyFinish = (await requests.all()).filter((r) => r.url.endsWith('/api/auth/passkey/finish'));
    expect(passkeyFinish).toHaveLength(1);
    // The keys are open: the client's own name is decrypted in the menu.
    await expect(page.getByRole('button', { name: /Account menu/ })).toContainText('Carla Client');
  });

  await step('zero knowledge: neither the PRF output nor the user key it unwraps is in any request', async () => {
    // The PRF output for SHA-256("kluis/v1/passkey-unlock"), asked of the same authenticator by the test itself.
    const salt = createHash('sha256').update('kluis/v1/passkey-unlock').digest();
    const prf = Buffer.from(
      await page.evaluate(
        async ({ id, first }) => {
          const b64 = id.replace(/-/g, '+').replace(/_/g, '/');
          const rawId = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
          const credential = (await navigator.credentials.get({
            publicKey: {
              challenge: new Uint8Array(32),
              allowCredentials: [{ type: 'public-key', id: rawId }],
              userVerification: 'required',
              extensions: { prf: { eval: { first: new Uint8Array(first) } } },
            },
          })) as PublicKeyCredential;
          const results = credential.getClientExtensionResults() as { prf?: { results?: { first?: ArrayBuffer } } };
          return [...new Uint8Array(results.prf?.results?.first ?? new ArrayBuffer(0))];
        },
        { id: credentialId, first: [...salt] },
      ),
    );
    expect(prf).toHaveLength(32);
    const put = (await requests.all()).find((r) => r.method === 'PUT' && r.url.endsWith(`/api/account/passkeys/${factorId}/unlock`))!;
    const wrapped = Buffer.from((JSON.parse(put.body.toString('utf8')) as { wrappedUserKey: string }).wrappedUserKey, 'base64url');
    // It opens with this PRF output: so it is exactly what the browser used, and the check below can fail.
    const userKey = openWrapping(prf, client.userId, credentialId, wrapped);
    expect(userKey).toHaveLength(32);
    await requests.expectNoSecrets([prf, userKey, client.password]);
    expectNoKeyMaterial(await requests.all());
  });

  await step('after removing the passkey, it no longer signs in', async () => {
    await openAccount(page);
    const laptop = passkeys(page).getByRole('listitem').filter({ hasText: 'Laptop' });
    await laptop.getByRole('button', { name: 'Remove “Laptop”' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove “Laptop”?' });
    await expect(dialog).toContainText('It also unlocks Kluis');
    await expectNoSeriousA11yViolations(page, 'the remove-passkey dialog');
    await dialog.getByRole('button', { name: 'Remove passkey' }).click();
    await expect(passkeys(page)).toContainText('“Laptop” was removed.');
    await expect(passkeys(page)).toContainText('You have no passkeys yet.');

    await logOut(page);
    // The authenticator still holds the passkey; the server no longer knows it.
    expect(await authenticator.credentials()).toHaveLength(1);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page.getByRole('region', { name: 'Sign in with a passkey' })).toContainText('The passkey could not be verified.');
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: 'My documents' })).toHaveCount(0);
    // And the password alone signs in again, with no second step (the client has no factor left).
    await signInWithPassword(page, client.email, client.password);
    await expectClientHome(page);
  });
});
