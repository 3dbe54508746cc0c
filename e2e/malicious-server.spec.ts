// The malicious-server suite of issue 18: a tampering proxy (e2e/support/evil-proxy.ts) turns the real server evil, and
// real Chromium running the real browser code must refuse each attack with a visible security warning and send the
// server no plaintext and no key afterwards (checked on every request body the server received through the proxy).
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';
import { evilTest as test } from './support/evil-fixture';
import type { EvilProxy } from './support/evil-proxy';
import { expectNoKeyMaterial } from './support/key-material';
import { findSecretLeaks, type Secret } from './support/requests';
import { seedOrganisation, type SeededMember, type SeededOrganisation } from './support/seed-organisation';
import { repoRoot } from './support/server';

// A loaded 2-core machine: seeding runs the production key stretching for four people.
test.describe.configure({ timeout: 300_000 });

// --- helpers -----------------------------------------------------------------------------------

const marker = (label: string): string => `KLUIS-EVIL-${label}-${randomBytes(6).toString('hex')}`;

async function signIn(page: Page, member: SeededMember): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toHaveCount(0, { timeout: 90_000 });
}

function documentRow(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

/** Writes a small file with a recognisable plaintext; returns its path and the plaintext to look for. */
async function textFile(dir: string, label: string): Promise<{ name: string; path: string; content: string }> {
  const name = `${label} ${marker('NAME')}.txt`;
  const content = `${marker('CONTENT')} ${'x'.repeat(200)}`;
  const path = join(dir, name);
  await writeFile(path, content);
  return { name, path, content };
}

/** No request body the server received after `since` holds one of the plaintexts or key material. */
function expectServerReceivedNothing(proxy: EvilProxy, since: number, plaintexts: readonly Secret[]): void {
  const received = proxy.received(since);
  const leaks = findSecretLeaks(received, plaintexts);
  expect(
    leaks.map((leak) => `${leak.request.method} ${leak.request.url}: ${leak.secret} as ${leak.encoding} in the ${leak.where}`),
    'plaintext the server received through the proxy',
  ).toEqual([]);
  expectNoKeyMaterial(received);
}

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kluis-evil-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// --- the fixture itself --------------------------------------------------------------------------

test.describe('the tampering proxy', () => {
  test('no production code imports it', async () => {
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (/\.(ts|tsx|js|mjs)$/.test(entry.name) && /e2e\/support\/evil-/.test(await readFile(path, 'utf8')))
          offenders.push(relative(repoRoot, path));
      }
    };
    for (const top of ['server', 'client', 'shared', 'migrations']) await walk(join(repoRoot, top));
    expect(offenders).toEqual([]);
  });

  test('with no rules, a client signs in and uploads through it, and the server receives only ciphertext', async ({ page, evilProxy: proxy, evil }) => {
    const org: SeededOrganisation = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      const file = await textFile(dir, 'Jaarrekening');
      const since = proxy.mark();
      await signIn(page, client);
      await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: 90_000 });
      await page.getByLabel('Upload files').setInputFiles(file.path);
      await expect(documentRow(page, file.name)).toBeVisible({ timeout: 120_000 });
      const received = proxy.received(since);
      expect(received.some((request) => request.method === 'PUT' && /\/api\/uploads\/[^/]+\/parts\/\d+$/.test(request.url))).toBe(true);
      expect(received.every((request) => request.bodyKnown)).toBe(true);
      expectServerReceivedNothing(proxy, since, [file.name, file.content]);
      // The recorder can fail: the login e-mail address did reach the server.
      expect(findSecretLeaks(received, [client.email]).length).toBeGreaterThan(0);
    });
  });

  test('one rule: a rewritten /api/health answer is what the page shows', async ({ page, evilProxy: proxy }) => {
    const forged = `6.6.6-${randomBytes(3).toString('hex')}`;
    const rule = proxy.rule({
      method: 'GET',
      path: '/api/health',
      rewriteJson: (body) => ({ ...(body as object), version: forged }),
    });
    await page.goto('/');
    await expect(page.getByText(`Version ${forged}`)).toBeVisible();
    expect(rule.hits()).toBeGreaterThan(0);
    rule.remove();
    const real = (await (await page.request.get('/api/health')).json()) as { version: string };
    expect(real.version).not.toBe(forged);
  });
});
