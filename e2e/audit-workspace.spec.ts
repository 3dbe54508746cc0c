// Issue 22, the auditor's workspace in real Chromium: an Auditor filters the log, opens a person's timeline and an
// event, verifies the whole log in the browser, exports JSON (checked again by `npm run audit:verify`) and CSV,
// countersigns the verified head (an Administrator sees the countersignature verified); then the test edits the
// SQLite database directly and the Auditor's browser points at the changed and the deleted event.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Download, Locator, Page } from '@playwright/test';
import { budgetedStep, expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { joinAuditor } from './support/auditor';
import { auditExportSchema } from '../shared/api';
import { seedOrganisation, type SeededMember } from '../server/test/seed-organisation';
import { type KluisServer, repoRoot, startKluisServer } from '../server/test/kluis-server';
import { budget } from '../server/test/budget';

// A signed head after every audited request, so what the test does is covered by a head at once.
const test = testWithMail.extend<object, object>({
  kluisServer: [
    async ({ smtp }, use) => {
      const server = await startKluisServer({ env: { SMTP_URL: smtp.url, KLUIS_AUDIT_HEAD_EVERY_EVENTS: '1' } });
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: budget(60_000) },
  ],
});
test.use({ mailServerFor: 'audit-workspace' });
test.describe.configure({ timeout: budget(300_000) });

async function signIn(page: Page, member: { email: string; password: string }): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toHaveCount(0, { timeout: budget(90_000) });
}

function openDatabase(server: KluisServer, readonly = false): BetterSqlite3.Database {
  const db = new BetterSqlite3(join(server.dataDir, 'kluis.db'), { readonly, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  return db;
}

function query<T>(server: KluisServer, sql: string, ...params: unknown[]): T[] {
  const db = openDatabase(server, true);
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Runs `sql` in a connection of its own, as someone with the database file would. */
function tamper(server: KluisServer, ...statements: string[]): void {
  const db = openDatabase(server);
  try {
    for (const statement of statements) db.exec(statement);
  } finally {
    db.close();
  }
}

/** The body rows of the event table (the header row has no cells). */
function eventRows(page: Page): Locator {
  return page
    .getByRole('table', { name: /^(All events|Events matching the filter|Timeline of)/ })
    .getByRole('row')
    .filter({ has: page.getByRole('cell') });
}

async function saved(page: Page, button: string, dir: string): Promise<{ path: string; download: Download }> {
  const started = page.waitForEvent('download', { timeout: budget(120_000) });
  await page.getByRole('button', { name: button }).click();
  const download = await started;
  expect(await download.failure()).toBeNull();
  const path = join(dir, download.suggestedFilename());
  await download.saveAs(path);
  return { path, download };
}

function auditVerify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'audit:verify', '--', ...args], { cwd: repoRoot, timeout: budget(120_000) }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** RFC 4180 records, written here independently of the page's CSV code. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i += 1;
    } else cell += c;
  }
  return records;
}

const verifyButton = (page: Page) => page.getByRole('button', { name: 'Verify the log' });
const verifiedAlert = (page: Page) => page.getByRole('status').filter({ hasText: 'The audit log verified' });
const failedAlert = (page: Page) => page.getByRole('alert').filter({ hasText: 'Security warning: the audit log did not verify' });

test.describe('the auditor’s workspace', () => {
  test('an Auditor filters, opens a timeline and an event, verifies, exports, countersigns; a changed or deleted row is pointed at', async ({
    page,
    newPage,
    kluisServer,
    smtp,
    consoleErrors,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), 'kluis-audit-'));
    try {
      const { org, auditor } = await budgetedStep('an organisation with an Auditor whose keys an Administrator certified', 240_000, async () => {
        const seeded = await seedOrganisation(kluisServer, smtp, ['Carla Client']);
        return { org: seeded, auditor: await joinAuditor(kluisServer, smtp, seeded.admin) };
      });
      const admin: SeededMember = org.admin;

      await budgetedStep('the Auditor signs in and lands in the audit log', 120_000, async () => {
        await signIn(page, auditor);
        await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible({ timeout: budget(60_000) });
        await expect(page.getByRole('link', { name: 'Audit log' })).toHaveAttribute('aria-current', 'page');
        await expect(eventRows(page).first()).toBeVisible({ timeout: budget(60_000) });
        await expect(page.getByText('No Auditor has countersigned a head yet.')).toBeVisible({ timeout: budget(60_000) });
        await expectNoSeriousA11yViolations(page, 'the audit log');
      });

      await budgetedStep('a malformed date gets a clear error; a filter by action lists only those events', 60_000, async () => {
        consoleErrors.allow(/\/api\/audit\/events\?from=2026-13-45.*status of 400/);
        await page.getByLabel('From').fill('2026-13-45');
        await page.getByRole('button', { name: 'Apply filter' }).click();
        await expect(page.getByRole('alert').filter({ hasText: 'This filter cannot be used' })).toBeVisible({ timeout: budget(30_000) });
        await page.getByRole('button', { name: 'Clear filter' }).click();
        await page.getByLabel('Action', { exact: true }).fill('auth.login_succeeded');
        await page.getByRole('button', { name: 'Apply filter' }).click();
        await expect(page.getByRole('heading', { name: 'Events matching the filter, newest first' })).toBeVisible();
        const expected = query<{ n: number }>(kluisServer, "SELECT count(*) AS n FROM audit_events WHERE action = 'auth.login_succeeded'")[0]!.n;
        expect(expected).toBeGreaterThanOrEqual(3);
        await expect(eventRows(page)).toHaveCount(expected, { timeout: budget(30_000) });
        for (const cell of await eventRows(page).locator('td:nth-child(3)').allTextContents()) expect(cell).toBe('auth.login_succeeded');
      });

      const seq = await budgetedStep('a person’s timeline, and one event in full with its inclusion proof verified', 90_000, async () => {
        await eventRows(page).getByRole('link', { name: `Timeline of ${admin.email}` }).first().click();
        await expect(page.getByRole('heading', { name: `Timeline of ${admin.email}` })).toBeVisible({ timeout: budget(30_000) });
        const adminEvents = query<{ n: number }>(kluisServer, 'SELECT count(*) AS n FROM audit_events WHERE actor_id = ?', admin.userId)[0]!.n;
        await expect(page.getByRole('status').filter({ hasText: /events? shown/ })).toHaveText(`${Math.min(adminEvents, 50)} events shown.`, {
          timeout: budget(30_000),
        });
        for (const cell of await eventRows(page).locator('td:nth-child(4)').allTextContents()) expect(cell).toBe(admin.email);
        // The oldest of her events on the first page: a head signed later contains it.
        const link = eventRows(page).last().getByRole('link', { name: /^Details of event \d+$/ });
        const opened = Number(/\d+/.exec((await link.getAttribute('aria-label')) ?? '')?.[0]);
        await link.click();
        await expect(page.getByRole('heading', { level: 1, name: `Event #${opened}` })).toBeVisible();
        await expect(page.getByRole('status').filter({ hasText: 'Inclusion verified' })).toBeVisible({ timeout: budget(60_000) });
        const row = query<{ hash: string; prev_hash: string; ip: string; user_agent: string | null; actor_role: string }>(
          kluisServer,
          'SELECT hash, prev_hash, ip, user_agent, actor_role FROM audit_events WHERE seq = ?',
          opened,
        )[0]!;
        await expect(page.getByText(row.hash, { exact: true })).toBeVisible();
        await expect(page.getByText(row.prev_hash, { exact: true })).toBeVisible();
        await expect(page.locator('dd').filter({ hasText: row.ip })).toHaveCount(1);
        await expect(page.locator('dd').filter({ hasText: row.actor_role })).toHaveCount(1);
        if (row.user_agent) await expect(page.getByText(row.user_agent, { exact: true })).toBeVisible();
        await expectNoSeriousA11yViolations(page, 'an audit event');
        await page.getByRole('link', { name: `Timeline of ${admin.email}` }).click();
        await expect(page.getByRole('heading', { name: `Timeline of ${admin.email}` })).toBeVisible();
        return opened;
      });

      const verified = await budgetedStep('the Auditor verifies the whole log in the browser', 120_000, async () => {
        await verifyButton(page).click();
        await expect(verifiedAlert(page)).toBeVisible({ timeout: budget(90_000) });
        const text = (await verifiedAlert(page).textContent()) ?? '';
        const match = /Verified (\d+) events up to head ([0-9a-f]{16}) \((\d+) events\), signed at/.exec(text);
        expect(match, text).not.toBeNull();
        const [, count, root, size] = match!;
        expect(Number(count)).toBe(Number(size));
        // The head shown is one the server signed, with the root stored for that size.
        const stored = query<{ root_hash: string }>(kluisServer, 'SELECT root_hash FROM audit_tree_heads WHERE tree_size = ?', Number(size));
        expect(stored).toHaveLength(1);
        expect(stored[0]!.root_hash.startsWith(root!)).toBe(true);
        const keyId = (await page.locator('.audit-key-id').textContent()) ?? '';
        expect(keyId).toMatch(/^[0-9a-f]{64}$/);
        await expect(page.getByText(`Last verified here: head ${size} · ${root}`)).toBeVisible();
        await expectNoSeriousA11yViolations(page, 'the verified audit log');
        return { size: Number(size), root: root!, keyId };
      });

      await budgetedStep('JSON and CSV exports of the filter; npm run audit:verify accepts the JSON and refuses a changed copy', 180_000, async () => {
        const { path: jsonPath } = await saved(page, 'Export JSON (verifiable)', dir);
        await expect(page.getByRole('status').filter({ hasText: /Exported \d+ events as JSON, verified against the signed head/ })).toBeVisible();
        const exported = auditExportSchema.parse(JSON.parse(await readFile(jsonPath, 'utf8')));
        expect(exported.filter).toEqual({ actor: admin.userId });
        expect(exported.events.length).toBeGreaterThan(0);
        for (const event of exported.events) expect(event.actorId).toBe(admin.userId);
        const inHead = query<{ n: number }>(kluisServer, 'SELECT count(*) AS n FROM audit_events WHERE actor_id = ? AND seq <= ?', admin.userId, exported.treeHead.treeSize)[0]!.n;
        expect(exported.events).toHaveLength(inHead);

        const good = await auditVerify(jsonPath, '--key-id', verified.keyId);
        expect(good.code, good.stderr).toBe(0);
        expect(good.stdout).toContain(`verified ${exported.events.length} events up to head ${exported.treeHead.treeSize}`);
        const changed = structuredClone(exported);
        const target = changed.events[0]!;
        target.ip = '203.0.113.66';
        const changedPath = join(dir, 'changed.json');
        await writeFile(changedPath, JSON.stringify(changed));
        const bad = await auditVerify(changedPath, '--key-id', verified.keyId);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain(`event #${target.seq}`);

        const { path: csvPath } = await saved(page, 'Export CSV', dir);
        await expect(page.getByRole('status').filter({ hasText: /Exported \d+ events as CSV/ })).toBeVisible();
        const records = parseCsv(await readFile(csvPath, 'utf8'));
        expect(records[0]).toEqual([
          'seq', 'id', 'occurredAt', 'action', 'actorId', 'actorRole', 'targetType', 'targetId', 'ip', 'userAgent', 'result', 'details', 'encoding', 'prevHash', 'hash', 'inclusionPath',
        ]);
        // The CSV is of the export verified just before it (same filter; the head may have grown by the first export).
        const body = records.slice(1);
        expect(body.length).toBeGreaterThanOrEqual(exported.events.length);
        for (const [index, event] of exported.events.entries()) {
          const cells = body[index]!;
          expect(cells[0]).toBe(String(event.seq));
          expect(cells[8]).toBe(event.ip ?? '');
          expect(cells[9]).toBe(event.userAgent ?? '');
          expect(cells[11]).toBe(event.details);
          expect(cells[14]).toBe(event.hash);
        }
      });

      const countersigned = await budgetedStep('the Auditor countersigns the verified head', 60_000, async () => {
        await page.getByRole('button', { name: 'Countersign this head' }).click();
        await expect(page.getByRole('status').filter({ hasText: /You countersigned the head of \d+ events\./ })).toBeVisible({ timeout: budget(30_000) });
        const row = page.getByRole('region', { name: 'Countersignatures' }).getByRole('row').filter({ hasText: auditor.email });
        await expect(row).toContainText('Verified', { timeout: budget(30_000) });
        return (await row.getByRole('cell').nth(1).textContent()) ?? '';
      });

      await budgetedStep('an Administrator sees the countersignature, verified in their browser', 120_000, async () => {
        const adminPage = await newPage();
        await signIn(adminPage, admin);
        await adminPage.getByRole('link', { name: 'Audit log' }).click();
        await expect(adminPage.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
        const row = adminPage.getByRole('region', { name: 'Countersignatures' }).getByRole('row').filter({ hasText: auditor.email });
        await expect(row).toContainText('Verified', { timeout: budget(60_000) });
        await expect(row).toContainText(countersigned);
        await expect(adminPage.getByRole('button', { name: 'Countersign this head' })).toHaveCount(0);
        await expectNoSeriousA11yViolations(adminPage, 'the audit log of an Administrator');
        await adminPage.close();
      });

      const original = query<{ ip: string }>(kluisServer, 'SELECT ip FROM audit_events WHERE seq = ?', seq)[0]!.ip;
      await budgetedStep('one field of one event changed in the database: the browser names that event', 120_000, async () => {
        tamper(kluisServer, 'DROP TRIGGER audit_events_no_update', `UPDATE audit_events SET ip = '198.51.100.7' WHERE seq = ${seq}`);
        await verifyButton(page).click();
        await expect(failedAlert(page)).toContainText(`Event #${seq} was changed: its fields do not match its hash.`, { timeout: budget(90_000) });
        // The pin stays at the head verified before.
        await expect(page.getByText(`Last verified here: head ${verified.size} · ${verified.root}`)).toBeVisible();
        // Put back, the log verifies again: the warning was about that one field.
        tamper(kluisServer, `UPDATE audit_events SET ip = '${original.replaceAll("'", "''")}' WHERE seq = ${seq}`);
        await verifyButton(page).click();
        await expect(verifiedAlert(page)).toBeVisible({ timeout: budget(90_000) });
      });

      await budgetedStep('one event deleted from the database: the browser names where the chain breaks', 120_000, async () => {
        tamper(kluisServer, 'DROP TRIGGER audit_events_no_delete', `DELETE FROM audit_events WHERE seq = ${seq}`);
        await verifyButton(page).click();
        await expect(failedAlert(page)).toContainText(`The chain breaks at event #${seq}: an event is missing there`, { timeout: budget(90_000) });
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
