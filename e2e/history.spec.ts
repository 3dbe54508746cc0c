// History for people (issue 22 item 6) in real Chromium: a client uploads, a Team Member downloads and
// moves the document; the client sees those events in the document's history, each checked against
// the signed log in the browser, and the Team Member's first access through escrow under Account →
// Activity; another client sees none of it (UI and API).
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import { expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { seedOrganisation } from '../server/test/seed-organisation';
import { startKluisServer } from '../server/test/kluis-server';
import { budget } from '../server/test/budget';

// A tree head after every request that recorded events, so the page can prove each event is in one.
const test = testWithMail.extend({
  kluisServer: [
    async ({ smtp, mailServerFor }, use) => {
      if (!mailServerFor)
        throw new Error("name this file's server: test.use({ mailServerFor: '<file>' })");
      const server = await startKluisServer({
        env: { SMTP_URL: smtp.url, KLUIS_AUDIT_HEAD_EVERY_EVENTS: '1' },
      });
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: budget(60_000) },
  ],
});
test.use({ mailServerFor: 'history' });

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function reloadAndUnlock(page: Page, password: string): Promise<void> {
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toBeVisible();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toHaveCount(0, {
    timeout: budget(60_000),
  });
}

function documentRow(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

async function openAccount(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Portal' })
    .getByRole('link', { name: 'Account' })
    .click();
  await expect(page.getByRole('heading', { level: 1, name: 'Account' })).toBeVisible();
}

test('a client sees what happened to their document and every escrow use on their space; another client sees none of it', async ({
  page,
  newPage,
  kluisServer,
  smtp,
}) => {
  test.setTimeout(budget(420_000));
  const dir = await mkdtemp(join(tmpdir(), 'kluis-e2e-history-'));
  try {
    const org = await seedOrganisation(kluisServer, smtp);
    const [clientA, clientB] = org.clients as [(typeof org.clients)[0], (typeof org.clients)[0]];
    const fileName = `Loonstrook ${randomBytes(4).toString('hex')}.txt`;
    const filePath = join(dir, fileName);
    await writeFile(filePath, `salaris ${randomBytes(16).toString('hex')}`);
    const folderName = `Archief ${randomBytes(3).toString('hex')}`;

    const clientPage = page;
    await test.step('client A uploads a document', async () => {
      await signIn(clientPage, clientA.email, clientA.password);
      await expect(clientPage.getByRole('tab', { name: 'Documents' })).toBeVisible({
        timeout: budget(60_000),
      });
      await clientPage.getByLabel('Upload files').setInputFiles(filePath);
      await expect(documentRow(clientPage, fileName)).toBeVisible({ timeout: budget(120_000) });
    });

    const teamPage = await newPage();
    await test.step('the Team Member opens the space (escrow), downloads and moves the document', async () => {
      await signIn(teamPage, org.team.email, org.team.password);
      await teamPage.getByRole('link', { name: 'Clients' }).click();
      await teamPage.getByRole('link', { name: clientA.name }).click();
      await expect(documentRow(teamPage, fileName)).toBeVisible({ timeout: budget(60_000) });
      const started = teamPage.waitForEvent('download', { timeout: budget(120_000) });
      await documentRow(teamPage, fileName).getByRole('button', { name: 'Download' }).click();
      expect(await (await started).failure()).toBeNull();

      await teamPage.getByRole('button', { name: 'New folder' }).click();
      await teamPage.getByRole('dialog').getByLabel('Folder name').fill(folderName);
      await teamPage.getByRole('dialog').getByRole('button', { name: 'Create folder' }).click();
      await expect(teamPage.getByRole('button', { name: `Folder: ${folderName}` })).toBeVisible();
      await documentRow(teamPage, fileName).getByRole('button', { name: 'Move' }).click();
      await teamPage.getByRole('dialog').getByLabel('Move to').selectOption({ label: folderName });
      await teamPage.getByRole('dialog').getByRole('button', { name: 'Move', exact: true }).click();
      await expect(documentRow(teamPage, fileName)).toHaveCount(0);
    });

    await test.step('client A sees the upload, download and move in the document history, each in the signed log', async () => {
      await reloadAndUnlock(clientPage, clientA.password);
      await clientPage.getByRole('button', { name: `Folder: ${folderName}` }).click();
      await documentRow(clientPage, fileName).getByRole('button', { name: 'History' }).click();
      const dialog = clientPage.getByRole('dialog');
      const show = dialog.getByRole('button', { name: 'Show the events' });
      await show.focus();
      await clientPage.keyboard.press('Enter');
      await expect(dialog.getByRole('button', { name: 'Hide the events' })).toHaveAttribute(
        'aria-expanded',
        'true',
      );
      const events = dialog
        .getByRole('list', { name: 'What happened to this document' })
        .getByRole('listitem');
      await expect(events).toHaveCount(3, { timeout: budget(60_000) });
      await expect(events.nth(0)).toContainText('Moved to another folder');
      await expect(events.nth(0)).toContainText(`By ${org.team.email} (Team Member)`);
      await expect(events.nth(1)).toContainText('Downloaded');
      await expect(events.nth(1)).toContainText(org.team.email);
      await expect(events.nth(2)).toContainText('Uploaded');
      await expect(events.nth(2)).toContainText('By you (Client)');
      for (let i = 0; i < 3; i += 1) {
        await expect(events.nth(i)).toContainText('Recorded in the signed log', {
          timeout: budget(60_000),
        });
      }
      await expect(dialog).toContainText(/Checked against the signed tree head of \d+ events/);
      await expectNoSeriousA11yViolations(clientPage, 'the document history with its events');
      await clientPage.keyboard.press('Escape');
    });

    await test.step("client A sees the Team Member's first access through escrow under Account → Activity", async () => {
      await openAccount(clientPage);
      const activity = clientPage.getByRole('region', { name: 'Activity' });
      const firstAccess = activity
        .getByRole('listitem')
        .filter({ hasText: 'First access to your data through the escrow key' });
      await expect(firstAccess).toHaveCount(1, { timeout: budget(60_000) });
      await expect(firstAccess).toContainText('Escrow use');
      await expect(firstAccess).toContainText(org.team.email);
      await expect(firstAccess).toContainText('Recorded in the signed log', {
        timeout: budget(60_000),
      });
      await expect(activity.getByRole('listitem').filter({ hasText: 'Downloaded' })).toHaveCount(1);
      await expect(clientPage.getByRole('region', { name: 'Checked by an auditor' })).toContainText(
        'No auditor has countersigned the audit log yet.',
        {
          timeout: budget(60_000),
        },
      );
      await expectNoSeriousA11yViolations(clientPage, 'the account page with activity');
    });

    await test.step('client B sees none of it, in the page or through the API', async () => {
      const otherPage = await newPage();
      await signIn(otherPage, clientB.email, clientB.password);
      await expect(otherPage.getByRole('tab', { name: 'Documents' })).toBeVisible({
        timeout: budget(60_000),
      });
      await openAccount(otherPage);
      const activity = otherPage.getByRole('region', { name: 'Activity' });
      await expect(
        activity.getByRole('listitem').filter({ hasText: 'Signed in' }).first(),
      ).toBeVisible({ timeout: budget(60_000) });
      await expect(activity.getByRole('listitem').filter({ hasText: 'Downloaded' })).toHaveCount(0);
      await expect(
        activity.getByRole('listitem').filter({ hasText: 'Moved to another folder' }),
      ).toHaveCount(0);
      await expect(activity).not.toContainText(clientA.email);

      // The document's id from client A's own history, asked for by client B: the answer for a missing document.
      const mine = (await (await clientPage.request.get('/api/me/history?limit=200')).json()) as {
        events: { action: string; targetId: string }[];
      };
      const documentId = mine.events.find((event) => event.action === 'document.created')?.targetId;
      expect(documentId).toBeTruthy();
      const answer = await otherPage.request.get(`/api/documents/${documentId}/history`);
      expect([
        answer.status(),
        ((await answer.json()) as { error?: { code: string } }).error?.code,
      ]).toEqual([404, 'document_not_found']);
      const theirs = (await (await otherPage.request.get('/api/me/history?limit=200')).json()) as {
        events: { targetId: string | null }[];
      };
      expect(theirs.events.map((event) => event.targetId)).not.toContain(documentId);
      await otherPage.close();
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
