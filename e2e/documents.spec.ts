// The documents journey of issue 4 in real Chromium: a client uploads three files (one of 200 MiB),
// the team downloads them byte-identical, a document, a thread, a reply, a new version and a delete
// show on both sides, a second client reaches none of it (UI and API), and no plaintext byte of any
// file, name or message is in any request or any file under the server's data directory.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from '@playwright/test';
import { expect, testWithMail } from './fixtures';
import { expectNoSeriousA11yViolations } from './support/axe';
import { expectNoKeyMaterial } from './support/key-material';
import { encodingsOf, type Secret } from './support/requests';
import { seedOrganisation, type SeededOrganisation } from '../server/test/seed-organisation';
import { budget } from '../server/test/budget';
import { downloadWorkersSettled } from './support/service-worker';

const test = testWithMail;
test.use({ mailServerFor: 'documents' });

const MiB = 1024 * 1024;
const BIG_FILE_BYTES = 200 * MiB;

// --- test files with recognisable plaintext ---------------------------------------------------

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
/** A 1×1 PNG carrying `marker` in a tEXt chunk (so its plaintext is recognisable). */
function pngWith(marker: string): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header.set([8, 2, 0, 0, 0], 8);
  // zlib stream of one scanline: filter 0 + RGB (stored block).
  const idat = Buffer.from('789c636068f80f0003010180ddb33c50', 'hex');
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    pngChunk('IHDR', header),
    pngChunk('tEXt', Buffer.from(`Comment\0${marker}`, 'latin1')),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
/** A one-page PDF showing `marker`. */
function pdfWith(marker: string): Buffer {
  const stream = `BT /F1 18 Tf 40 100 Td (${marker}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(pdf.length);
    pdf += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

interface TestFile {
  readonly name: string;
  readonly path: string;
  readonly sha256: string;
  /** Byte sequences of the plaintext that must never appear on the wire or on the server's disk. */
  readonly samples: readonly Buffer[];
}

async function writeTestFile(dir: string, name: string, content: Buffer): Promise<TestFile> {
  const path = join(dir, name);
  await writeFile(path, content);
  const samples = [content.subarray(0, Math.min(64, content.length)), content.subarray(Math.max(0, content.length - 64))];
  return { name, path, sha256: createHash('sha256').update(content).digest('hex'), samples };
}

/** A file of random bytes written in pieces; samples are 48-byte slices at spread offsets. */
async function writeBigFile(dir: string, name: string, size: number): Promise<TestFile> {
  const path = join(dir, name);
  const hash = createHash('sha256');
  const samples: Buffer[] = [];
  const handle = await open(path, 'w');
  try {
    for (let offset = 0; offset < size; offset += 8 * MiB) {
      const piece = randomBytes(Math.min(8 * MiB, size - offset));
      hash.update(piece);
      if ((offset / (8 * MiB)) % 5 === 0) samples.push(Buffer.from(piece.subarray(1000, 1048)));
      await handle.write(piece);
    }
  } finally {
    await handle.close();
  }
  return { name, path, sha256: hash.digest('hex'), samples };
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every regular file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

// --- UI steps ---------------------------------------------------------------------------------

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** A reload drops the keys (they live only in the crypto worker): unlock with the password again. */
async function reloadAndUnlock(page: Page, password: string): Promise<void> {
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toBeVisible();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toHaveCount(0, { timeout: budget(60_000) });
}

function documentRow(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

async function uploadFiles(page: Page, files: readonly TestFile[]): Promise<void> {
  await page.getByLabel('Upload files').setInputFiles(files.map((file) => file.path));
  for (const file of files) await expect(documentRow(page, file.name)).toBeVisible({ timeout: budget(240_000) });
}

async function download(page: Page, trigger: () => Promise<void>): Promise<Download> {
  const started = page.waitForEvent('download', { timeout: budget(120_000) });
  await trigger();
  const download = await started;
  expect(await download.failure()).toBeNull();
  return download;
}

async function openClientSpace(page: Page, clientName: string): Promise<void> {
  await page.getByRole('link', { name: 'Clients' }).click();
  await page.getByRole('link', { name: clientName }).click();
  await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible();
}

test('documents, versions, tombstones and messages between a client and the team, invisible to another client and to the server', async ({
  page,
  newPage,
  kluisServer,
  smtp,
  requests,
}) => {
  test.setTimeout(budget(600_000));
  const dir = await mkdtemp(join(tmpdir(), 'kluis-e2e-files-'));
  try {
    const org: SeededOrganisation = await seedOrganisation(kluisServer, smtp);
    const [clientA, clientB] = org.clients as [SeededOrganisation['clients'][0], SeededOrganisation['clients'][0]];
    const marker = (label: string) => `KLUIS-${label}-${randomBytes(6).toString('hex')}`;
    const pdf = await writeTestFile(dir, `Jaarrekening ${marker('NAAM1')}.pdf`, pdfWith(marker('PDF')));
    const png = await writeTestFile(dir, `Paspoort ${marker('NAAM2')}.png`, pngWith(marker('PNG')));
    const big = await writeBigFile(dir, `Bankafschriften ${marker('NAAM3')}.bin`, BIG_FILE_BYTES);
    const teamDocument = await writeTestFile(dir, `Aangifte ${marker('NAAM4')}.pdf`, pdfWith(marker('AANGIFTE')));
    // The same name in a folder of its own: version 2 must not overwrite version 1's file.
    await mkdir(join(dir, 'v2'));
    const teamVersion2 = await writeTestFile(join(dir, 'v2'), teamDocument.name, pdfWith(marker('AANGIFTE-V2')));
    const subject = `Uw aangifte ${marker('ONDERWERP')}`;
    const message = `Hierbij de aangifte, graag controleren ${marker('BERICHT')}`;
    const reply = `Dank u, ziet er goed uit ${marker('ANTWOORD')}`;
    const folderName = `Jaarstukken ${marker('MAP')}`;
    const plaintexts: Secret[] = [
      ...[pdf, png, big, teamDocument, teamVersion2].flatMap((file) => [file.name, ...file.samples]),
      subject,
      message,
      reply,
      folderName,
    ];

    const clientPage = page;
    await test.step('client A uploads three files, one of 200 MiB', async () => {
      await signIn(clientPage, clientA.email, clientA.password);
      await expect(clientPage.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: budget(60_000) });
      await expectNoSeriousA11yViolations(clientPage, 'an empty client space');
      await uploadFiles(clientPage, [pdf, png, big]);
      await expectNoSeriousA11yViolations(clientPage, 'the documents list');
      // The parts went through the OPFS spool (client/worker/part-spool.ts), which kept nothing.
      const spooled = await clientPage.evaluate(async () => {
        const root = await navigator.storage.getDirectory();
        const spool = await root.getDirectoryHandle('kluis-upload-parts');
        const names: string[] = [];
        for await (const name of (spool as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
        return names;
      });
      expect(spooled).toEqual([]);
    });

    const teamPage = await newPage();
    await test.step('the team member downloads all three byte-identical', async () => {
      await signIn(teamPage, org.team.email, org.team.password);
      await openClientSpace(teamPage, clientA.name);
      for (const file of [pdf, png, big]) {
        const row = documentRow(teamPage, file.name);
        await expect(row).toBeVisible();
        const saved = await download(teamPage, () => row.getByRole('button', { name: 'Download' }).click());
        expect(saved.suggestedFilename()).toBe(file.name);
        const path = join(dir, `downloaded-${file.sha256}`);
        await saved.saveAs(path);
        expect((await stat(path)).size).toBe((await stat(file.path)).size);
        expect(await sha256OfFile(path)).toBe(file.sha256);
      }
    });

    await test.step('the team member sends a document and starts a thread with it attached', async () => {
      await uploadFiles(teamPage, [teamDocument]);
      await teamPage.getByRole('tab', { name: 'Messages' }).click();
      await teamPage.getByRole('button', { name: 'New thread' }).click();
      await teamPage.getByLabel('Subject').fill(subject);
      await teamPage.getByLabel('Message').fill(message);
      await teamPage.getByRole('checkbox', { name: teamDocument.name }).check();
      await teamPage.getByRole('button', { name: 'Send' }).click();
      await expect(teamPage.getByText(message)).toBeVisible();
    });

    await test.step('the client reads it, sees the attachment and replies', async () => {
      await reloadAndUnlock(clientPage, clientA.password);
      await expect(clientPage.getByRole('tab', { name: /Messages/ })).toContainText('1');
      await clientPage.getByRole('tab', { name: /Messages/ }).click();
      await clientPage.getByRole('link', { name: subject }).click();
      await expect(clientPage.getByText(message)).toBeVisible();
      await expect(clientPage.getByText(teamDocument.name)).toBeVisible();
      await clientPage.getByLabel('Reply').fill(reply);
      await clientPage.getByRole('button', { name: 'Send' }).click();
      await expect(clientPage.getByText(reply)).toBeVisible();
      await expectNoSeriousA11yViolations(clientPage, 'a message thread');
    });

    await test.step('the team sees the reply; a new version and a delete show as history on both sides', async () => {
      await reloadAndUnlock(teamPage, org.team.password);
      await teamPage.getByRole('link', { name: subject }).click();
      await expect(teamPage.getByText(reply)).toBeVisible();

      await teamPage.getByRole('tab', { name: 'Documents' }).click();
      await documentRow(teamPage, teamDocument.name).getByRole('button', { name: 'History' }).click();
      const history = teamPage.getByRole('dialog');
      await history.getByLabel('Upload new version').setInputFiles(teamVersion2.path);
      await expect(history.getByRole('listitem')).toHaveCount(2, { timeout: budget(60_000) });
      await teamPage.keyboard.press('Escape');

      await clientPage.getByRole('tab', { name: 'Documents' }).click();
      await documentRow(clientPage, png.name).getByRole('button', { name: 'Delete' }).click();
      await clientPage.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await expect(documentRow(clientPage, png.name)).toContainText(/Deleted by/);
      await expect(documentRow(clientPage, png.name).getByRole('button', { name: 'Download' })).toHaveCount(0);

      await reloadAndUnlock(clientPage, clientA.password);
      await documentRow(clientPage, teamDocument.name).getByRole('button', { name: 'History' }).click();
      await expect(clientPage.getByRole('dialog').getByRole('listitem')).toHaveCount(2);
      // The first version stays downloadable, byte-identical.
      const first = await download(clientPage, () =>
        clientPage.getByRole('dialog').getByRole('button', { name: 'Download version 1' }).click(),
      );
      const firstPath = join(dir, 'first-version');
      await first.saveAs(firstPath);
      expect(await sha256OfFile(firstPath)).toBe(teamDocument.sha256);
      await clientPage.keyboard.press('Escape');

      await reloadAndUnlock(teamPage, org.team.password);
      await expect(documentRow(teamPage, png.name)).toContainText(/Deleted by/);
    });

    await test.step('a blob altered on the server fails to download with a clear message, and no file is saved', async () => {
      // The 200 MiB file's ciphertext is the only blob of its size: flip one byte in its middle.
      const blobs = await filesUnder(join(kluisServer.dataDir, 'blobs', 'objects'));
      const sizes = await Promise.all(blobs.map(async (path) => ({ path, size: (await stat(path)).size })));
      const target = sizes.filter((blob) => blob.size > BIG_FILE_BYTES);
      expect(target).toHaveLength(1);
      const handle = await open(target[0]!.path, 'r+');
      try {
        const byte = Buffer.alloc(1);
        const offset = Math.floor(target[0]!.size / 2);
        await handle.read(byte, 0, 1, offset);
        byte[0] = byte[0]! ^ 0x01;
        await handle.write(byte, 0, 1, offset);
      } finally {
        await handle.close();
      }
      const started = teamPage.waitForEvent('download', { timeout: budget(120_000) });
      await documentRow(teamPage, big.name).getByRole('button', { name: 'Download' }).click();
      const failed = await started;
      expect(await failed.failure()).not.toBeNull();
      await expect(teamPage.getByRole('region', { name: 'Transfers' })).toContainText(
        'This file was altered or is damaged',
        { timeout: budget(120_000) },
      );
    });

    await test.step('the team member files a document into a new folder; the client finds it there', async () => {
      await teamPage.getByRole('button', { name: 'New folder' }).click();
      await teamPage.getByRole('dialog').getByLabel('Folder name').fill(folderName);
      await teamPage.getByRole('dialog').getByRole('button', { name: 'Create folder' }).click();
      const folderButton = (page: Page) => page.getByRole('button', { name: `Folder: ${folderName}` });
      await expect(folderButton(teamPage)).toBeVisible();
      await documentRow(teamPage, pdf.name).getByRole('button', { name: 'Move' }).click();
      const dialog = teamPage.getByRole('dialog');
      await dialog.getByLabel('Move to').selectOption({ label: folderName });
      await expectNoSeriousA11yViolations(teamPage, 'the move dialog');
      await dialog.getByRole('button', { name: 'Move', exact: true }).click();
      await expect(documentRow(teamPage, pdf.name)).toHaveCount(0);

      await reloadAndUnlock(clientPage, clientA.password);
      await folderButton(clientPage).click();
      await expect(documentRow(clientPage, pdf.name)).toBeVisible();
      // And back to the top level, by the client this time.
      await documentRow(clientPage, pdf.name).getByRole('button', { name: 'Move' }).click();
      await clientPage.getByRole('dialog').getByLabel('Move to').selectOption({ label: 'All documents (top level)' });
      await clientPage.getByRole('dialog').getByRole('button', { name: 'Move', exact: true }).click();
      await expect(clientPage.getByText('This folder is empty.')).toBeVisible();
    });

    const spaceA = await test.step('a second client sees none of it, through the UI or the API', async () => {
      const otherPage = await newPage();
      await signIn(otherPage, clientB.email, clientB.password);
      await expect(otherPage.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: budget(60_000) });
      for (const file of [pdf, png, big, teamDocument]) await expect(otherPage.getByText(file.name)).toHaveCount(0);
      await expect(otherPage.getByText(subject)).toHaveCount(0);

      // The ids of client A's space, document versions and thread, as the team member's session lists them.
      const spaces = (await (await teamPage.request.get('/api/spaces')).json()) as { spaces: { id: string; clientId: string | null }[] };
      const space = spaces.spaces.find((s) => s.clientId === clientA.userId);
      if (!space) throw new Error('client A has no space');
      const listing = (await (await teamPage.request.get(`/api/spaces/${space.id}/documents`)).json()) as {
        documents: { id: string; current: { id: string } }[];
      };
      const threads = (await (await teamPage.request.get(`/api/spaces/${space.id}/threads`)).json()) as { threads: { id: string }[] };
      expect(listing.documents.length).toBe(4);
      expect(threads.threads.length).toBe(1);

      // Client B's own session, calling the API directly.
      const own = (await (await otherPage.request.get('/api/spaces')).json()) as { spaces: { id: string }[] };
      expect(own.spaces.map((s) => s.id)).not.toContain(space.id);
      const denied = [
        `/api/spaces/${space.id}`,
        `/api/spaces/${space.id}/documents`,
        `/api/spaces/${space.id}/threads`,
        `/api/spaces/${space.id}/requests`,
        `/api/threads/${threads.threads[0]!.id}`,
        ...listing.documents.flatMap((d) => [`/api/documents/${d.id}`, `/api/versions/${d.current.id}/content`]),
      ];
      for (const path of denied) {
        const response = await otherPage.request.get(path);
        expect(response.status(), path).toBe(404);
        expect(((await response.json()) as { error: { code: string } }).error.code, path).toMatch(/_not_found$/);
      }
      await otherPage.close();
      return space.id;
    });
    expect(spaceA).toMatch(/^[A-Za-z0-9_-]{22}$/);

    await test.step('no request carried plaintext of a file, a name or a message, nor key material', async () => {
      const captured = await requests.all();
      // Upload parts are Blob bodies Chromium does not hand to Playwright: they are checked below as
      // the server stored them (byte for byte what it received). Every other body must be known.
      const unknown = captured.filter((request) => !request.bodyKnown);
      for (const request of unknown) expect(`${request.method} ${new URL(request.url).pathname}`).toMatch(/^PUT \/api\/uploads\/[^/]+\/parts\/\d+$/);
      await requests.expectNoSecrets(plaintexts);
      expectNoKeyMaterial(captured);
    });

    await test.step('no file under the data directory holds plaintext', async () => {
      await downloadWorkersSettled(page, teamPage);
      await kluisServer.stop({ keepDataDir: true });
      const needles = plaintexts.flatMap((secret) =>
        encodingsOf(secret)
          .filter((needle) => needle.encoding === 'utf-8' || needle.encoding.startsWith('base64'))
          .map((needle) => ({ secret, needle: needle.bytes })),
      );
      const files = await filesUnder(kluisServer.dataDir);
      expect(files.length).toBeGreaterThan(3);
      for (const path of files) {
        const content = await readFile(path);
        for (const { secret, needle } of needles) {
          if (content.includes(needle)) throw new Error(`${path} contains plaintext ${typeof secret === 'string' ? secret : 'bytes of a file'}`);
        }
      }
      await rm(kluisServer.dataDir, { recursive: true, force: true });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
