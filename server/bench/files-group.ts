// Bench group `files`: a 1 GiB file through the real web app in headless Chromium over loopback
// (upload, download), beside the same browser's raw WebCrypto AES-GCM and its plain transfer paths,
// the browser's peak memory, and listing 10,000 encrypted documents.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type BrowserContext, type Page, type Request } from '@playwright/test';
import { createSpace, formatContentDigest, getHistory, listSpaces, partsDigestInput } from '../../shared/api';
import { fromBase64Url } from '../../shared/crypto';
import { documentCreateDraft } from '../../shared/flows/space-entries';
import { entryHash, parseEntryPayload, signEntry, type HistoryHead } from '../../shared/flows/space-history';
import { createSpaceKey, newClientId, prepareVersion } from '../../shared/flows/spaces';
import { importPinnedEscrowKey } from '../../shared/flows/vault';
import { seedOrganisation, type SeededMember, type SeededOrganisation } from '../test/seed-organisation';
import { ensureWebClientBuild, startKluisServer, type KluisServer } from '../test/kluis-server';
import { startTestSmtpServer } from '../test/smtp-server';
import { BenchFailure, makeTempDir, type BenchContext, type BenchGroup } from './harness';
import { MIB } from './measure';

/** 1 GiB, the figure; KLUIS_BENCH_FILE_MIB=256 gives a quicker run for comparing variants. */
const FILE_BYTES = (Number(process.env.KLUIS_BENCH_FILE_MIB) || 1024) * MIB;
const RAW_BYTES = 256 * MIB;
const FILE_NAME = `Jaarcijfers-${FILE_BYTES / MIB}MiB.bin`;
const LIST_SIZE = 10_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Resident memory of every Chromium process of one profile (browser, renderers, GPU, utility), MiB. */
function chromiumRssMib(profileDir: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes(profileDir)) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) / 1024;
    } catch {
      // The process ended between listing and reading.
    }
  }
  return total;
}

class ChromiumMemory {
  #peak = 0;
  #overall = 0;
  #timer: NodeJS.Timeout | undefined;
  constructor(readonly profileDir: string) {}
  start(): number {
    const baseline = chromiumRssMib(this.profileDir);
    this.#peak = baseline;
    this.#timer = setInterval(() => {
      this.#peak = Math.max(this.#peak, chromiumRssMib(this.profileDir));
    }, 200);
    return baseline;
  }
  /** The peak since start() or the last lap(); the next lap starts from the current reading. */
  lap(): number {
    const peak = Math.max(this.#peak, chromiumRssMib(this.profileDir));
    this.#peak = chromiumRssMib(this.profileDir);
    this.#overall = Math.max(this.#overall, peak);
    return peak;
  }
  stop(): number {
    clearInterval(this.#timer);
    this.#peak = Math.max(this.#peak, chromiumRssMib(this.profileDir));
    return Math.max(this.#overall, this.#peak);
  }
}

/** Parts of the plain upload (the app's own part size, client/worker/transfers.ts). */
const PLAIN_PART_BYTES = 8 * MIB;

/** Writes `size` random bytes; returns their SHA-256 and, for the plain upload, each part's Content-Digest and the completion digest. */
async function writeRandomFile(path: string, size: number): Promise<{ sha256: string; plainParts: PlainParts }> {
  const hash = createHash('sha256');
  const digests: Buffer[] = [];
  const handle = await open(path, 'w');
  try {
    for (let offset = 0; offset < size; offset += PLAIN_PART_BYTES) {
      const piece = randomBytes(Math.min(PLAIN_PART_BYTES, size - offset));
      hash.update(piece);
      digests.push(createHash('sha256').update(piece).digest());
      await handle.write(piece);
    }
  } finally {
    await handle.close();
  }
  return {
    sha256: hash.digest('hex'),
    plainParts: {
      contentDigests: digests.map((digest) => formatContentDigest(digest)),
      partsSha256: createHash('sha256').update(partsDigestInput(digests)).digest('hex'),
    },
  };
}

interface PlainParts {
  readonly contentDigests: readonly string[];
  readonly partsSha256: string;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function signIn(page: Page, member: SeededMember): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('tab', { name: 'Documents' }).or(page.getByRole('link', { name: 'Clients' })).first().waitFor({ timeout: 120_000 });
}

/** Raw WebCrypto AES-256-GCM in this page: 64 KiB calls awaited one at a time (the same baseline the crypto group measures in Node). */
async function rawAesGcmMibS(page: Page, bytes: number): Promise<number> {
  return page.evaluate(async (total) => {
    // The baseline deliberately bypasses Kluis's crypto (shared/crypto): it is what Kluis is compared with.
    // eslint-disable-next-line no-restricted-properties -- the raw WebCrypto baseline, run inside the page
    const subtle = globalThis.crypto.subtle;
    const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    const chunk = new Uint8Array(64 * 1024);
    // eslint-disable-next-line no-restricted-properties -- filler bytes for the baseline, inside the page
    globalThis.crypto.getRandomValues(chunk);
    const iv = new Uint8Array(12);
    const started = performance.now();
    for (let done = 0, n = 0; done < total; done += chunk.length, n += 1) {
      new DataView(iv.buffer).setUint32(8, n);
      await subtle.encrypt({ name: 'AES-GCM', iv }, key, chunk);
    }
    return total / (1024 * 1024) / ((performance.now() - started) / 1000);
  }, bytes);
}

/**
 * The same bytes as plain parts through the upload protocol from this page (no encryption): Blob
 * slices, 4 in flight. The part digests were computed beforehand (outside the timing): this is the
 * browser's own transfer path alone.
 */
async function plainUploadMibS(page: Page, path: string, spaceId: string, parts: PlainParts): Promise<number> {
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-plain-upload';
    input.hidden = true;
    document.body.append(input);
  });
  await page.locator('#bench-plain-upload').setInputFiles(path);
  return page.evaluate(
    async ({ spaceId, parts, partSize }) => {
      const input = document.querySelector<HTMLInputElement>('#bench-plain-upload');
      const file = input?.files?.[0];
      if (!file) throw new Error('no file');
      const started = performance.now();
      const json = { 'Content-Type': 'application/json' };
      const created = await fetch('/api/uploads', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ size: file.size, partSize, purpose: `space:${spaceId}` }),
      });
      if (!created.ok) throw new Error(`createUpload ${created.status} ${await created.text()}`);
      const { uploadId, partCount } = (await created.json()) as { uploadId: string; partCount: number };
      let next = 0;
      const worker = async () => {
        while (next < partCount) {
          const n = next++;
          const body = file.slice(n * partSize, Math.min(file.size, (n + 1) * partSize));
          const headers = { 'Content-Type': 'application/octet-stream', 'Content-Digest': parts.contentDigests[n] ?? '' };
          const put = await fetch(`/api/uploads/${uploadId}/parts/${n}`, { method: 'PUT', headers, body });
          if (!put.ok) throw new Error(`part ${n}: ${put.status}`);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const done = await fetch(`/api/uploads/${uploadId}/complete`, { method: 'POST', headers: json, body: JSON.stringify({ partCount, partsSha256: parts.partsSha256 }) });
      if (!done.ok) throw new Error(`complete ${done.status} ${await done.text()}`);
      return file.size / (1024 * 1024) / ((performance.now() - started) / 1000);
    },
    { spaceId, parts, partSize: PLAIN_PART_BYTES },
  );
}

/** The browser's own download of the same number of bytes (the ciphertext, no service worker, no decryption). */
async function plainDownloadMibS(context: BrowserContext, versionId: string, bytes: number): Promise<number> {
  const page = await context.newPage();
  try {
    const started = performance.now();
    const downloading = page.waitForEvent('download', { timeout: 600_000 });
    await page.goto(`/api/versions/${versionId}/content`).catch(() => undefined);
    const download = await downloading;
    await download.path();
    if (await download.failure()) throw new BenchFailure(`plain download failed: ${await download.failure()}`);
    const seconds = (performance.now() - started) / 1000;
    await download.delete();
    return bytes / MIB / seconds;
  } finally {
    await page.close();
  }
}

/**
 * 10,000 documents with real encrypted metadata in a client's space, written straight into the
 * database together with the signed "document.create" entry of each (chained on entry 0), so the
 * browser verifies a real 10,001-entry history before it lists them.
 */
async function seedListing(origin: string, dataDir: string, client: SeededMember): Promise<string> {
  const { escrowPublicKey } = await client.client.api(listSpaces, {});
  const escrowKey = await importPinnedEscrowKey(escrowPublicKey, client.vault.keySafe.escrowFingerprint);
  const { body, spaceKey } = await createSpaceKey(client.vault, 'client', escrowKey);
  await client.client.api(createSpace, { body });
  const spaceId = body.id;
  const signingKey = client.vault.signingKey;
  if (!signingKey) throw new BenchFailure('the seeded client has no signing key');
  const [genesis] = (await client.client.api(getHistory, { params: { spaceId }, query: {} })).entries;
  const genesisPayload = genesis && parseEntryPayload(genesis);
  if (!genesis || !genesisPayload) throw new BenchFailure('the new space has no entry 0');
  let head: HistoryHead = { seq: genesisPayload.seq, hash: await entryHash(fromBase64Url(genesis.payload)) };
  const rows: { documentId: string; blobId: string; version: Awaited<ReturnType<typeof prepareVersion>>; entry: { payload: string; signature: string }; head: HistoryHead }[] = [];
  const now = Date.now();
  for (let i = 0; i < LIST_SIZE; i += 1) {
    const documentId = newClientId();
    const blobId = newClientId();
    const name = `Factuur ${String((i * 7919) % LIST_SIZE).padStart(5, '0')} ${origin.length % 2 ? 'april' : 'mei'}.pdf`;
    const version = await prepareVersion(spaceKey, spaceId, documentId, { name, size: 1000 + i, type: 'application/pdf', lastModified: now });
    const draft = await documentCreateDraft({ documentId, folderId: null, requestItemId: null, version: { versionId: version.versionId, blobId, wrappedFileKey: version.wrappedFileKey, metadata: version.metadata } });
    const entry = await signEntry({ userId: client.userId, signingKey }, spaceId, head, draft);
    head = { seq: head.seq + 1, hash: await entryHash(fromBase64Url(entry.payload)) };
    rows.push({ documentId, blobId, version, entry, head });
  }
  const db = new Database(join(dataDir, 'kluis.db'));
  try {
    db.pragma('busy_timeout = 10000');
    const at = new Date().toISOString();
    const insertBlob = db.prepare('INSERT INTO blobs (id, size, sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?)');
    const insertDocument = db.prepare(
      'INSERT INTO documents (id, space_id, folder_id, request_item_id, created_by, created_at, deleted_at, deleted_by, version_count, current_version_id) VALUES (?, ?, NULL, NULL, ?, ?, NULL, NULL, 1, ?)',
    );
    const insertVersion = db.prepare(
      'INSERT INTO document_versions (id, document_id, number, blob_id, size, wrapped_file_key, metadata, uploaded_by, created_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)',
    );
    const insertEntry = db.prepare('INSERT INTO space_entries (space_id, seq, payload, signature, author_id, entry_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const { documentId, blobId, version, entry, head: after } of rows) {
        insertBlob.run(blobId, 1100, '0'.repeat(64), client.userId, at);
        insertDocument.run(documentId, spaceId, client.userId, at, version.versionId);
        insertVersion.run(version.versionId, documentId, blobId, 1100, version.wrappedFileKey, version.metadata, client.userId, at);
        insertEntry.run(spaceId, after.seq, entry.payload, entry.signature, client.userId, after.hash, at);
      }
    })();
  } finally {
    db.close();
  }
  return spaceId;
}

/** Wall-clock times (ms since the epoch, the browser's clock) of the requests the listing of one space makes. */
class ListingRequests {
  readonly #spans = new Map<Request, { kind: 'history' | 'documents' | 'other'; start: number; end: number | null }>();

  constructor(page: Page, spaceId: string) {
    // The crypto worker's fetches are reported on its page.
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      const kind = path === `/api/spaces/${spaceId}/history` ? 'history' : path === `/api/spaces/${spaceId}/documents` ? 'documents' : 'other';
      this.#spans.set(request, { kind, start: NaN, end: null });
    });
    page.on('requestfinished', (request) => {
      const span = this.#spans.get(request);
      const timing = request.timing();
      if (span) Object.assign(span, { start: timing.startTime, end: timing.startTime + timing.responseEnd });
    });
  }

  /** The first start and last end of the finished requests of a kind, with their count. */
  range(kind: 'history' | 'documents'): { start: number; end: number; count: number } | null {
    const spans = [...this.#spans.values()].filter((span) => span.kind === kind && span.end !== null);
    if (spans.length === 0) return null;
    return { start: Math.min(...spans.map((s) => s.start)), end: Math.max(...spans.map((s) => s.end!)), count: spans.length };
  }
}

/** The 1 GiB upload and download through the app, beside raw AES-GCM and the plain transfer paths. */
async function measureTransfers(
  { report, progress }: BenchContext,
  { dir, page, context, profileDir, client }: { dir: string; page: Page; context: BrowserContext; profileDir: string; client: SeededMember },
): Promise<void> {
  progress(`writing a ${FILE_BYTES / MIB} MiB file of random bytes…`);
  const filePath = join(dir, FILE_NAME);
  const { sha256: fileSha, plainParts } = await writeRandomFile(filePath, FILE_BYTES);
  const memory = new ChromiumMemory(profileDir);
  progress('client signs in…');
  await signIn(page, client);
  const raw = await rawAesGcmMibS(page, RAW_BYTES);
  report.add('raw_aesgcm_mib_s', 'raw WebCrypto AES-256-GCM in the same browser (64 KiB calls)', raw, 'MiB/s', { summary: true, section: 'crypto' });

  progress(`uploading ${FILE_BYTES / MIB} MiB through the app…`);
  const baseline = memory.start();
  const uploadStarted = performance.now();
  await page.getByLabel('Upload files').setInputFiles(filePath);
  await page.getByRole('row').filter({ hasText: FILE_NAME }).waitFor({ timeout: 1_800_000 });
  const upload = FILE_BYTES / MIB / ((performance.now() - uploadStarted) / 1000);
  const uploadPeak = memory.lap();

  progress('downloading it through the app…');
  const downloadStarted = performance.now();
  const downloading = page.waitForEvent('download', { timeout: 1_800_000 });
  await page.getByRole('row').filter({ hasText: FILE_NAME }).getByRole('button', { name: 'Download' }).click();
  const download = await downloading;
  const savedPath = await download.path();
  const failure = await download.failure();
  const downloadMibS = FILE_BYTES / MIB / ((performance.now() - downloadStarted) / 1000);
  const downloadPeak = memory.lap();
  const peak = memory.stop();
  if (failure) throw new BenchFailure(`the download failed: ${failure}`);
  if ((await sha256OfFile(savedPath)) !== fileSha) throw new BenchFailure('the downloaded file differs from the uploaded one');
  await download.delete();

  report.add('upload_mib_s', `upload: encrypt in the worker + parts over HTTP (${FILE_BYTES / MIB} MiB)`, upload, 'MiB/s', { summary: true });
  report.add('upload_ratio_to_raw', 'upload / raw AES-GCM (target >= 0.5)', upload / raw, 'x', { summary: true });
  report.add('download_mib_s', `download: service worker fetch + decrypt stream (${FILE_BYTES / MIB} MiB)`, downloadMibS, 'MiB/s', { summary: true });
  report.add('download_ratio_to_raw', 'download / raw AES-GCM (target >= 0.5)', downloadMibS / raw, 'x', { summary: true });
  report.add('peak_memory_mib', 'Chromium peak RSS growth over the transfers (target < 256)', peak - baseline, 'MiB', { summary: true });

  const { spaces } = await client.client.api(listSpaces, {});
  const ownSpace = spaces.find((s) => s.clientId === client.userId);
  if (!ownSpace) throw new BenchFailure('the client has no space after uploading');
  progress('the same bytes without encryption, as the browser moves them…');
  const plainUpload = await plainUploadMibS(page, filePath, ownSpace.id, plainParts);
  report.add('plain_upload_mib_s', 'plain upload of the same bytes (Blob parts, 4 in flight)', plainUpload, 'MiB/s');
  report.add('upload_ratio_to_plain', 'upload / plain upload (target >= 0.7)', upload / plainUpload, 'x', { summary: true });
  const versions = (await (await page.request.get(`/api/spaces/${ownSpace.id}/documents`)).json()) as { documents: { current: { id: string; size: number } }[] };
  const uploaded = versions.documents[0]?.current;
  if (!uploaded) throw new BenchFailure('the uploaded document is not listed');
  const plainDownload = await plainDownloadMibS(context, uploaded.id, uploaded.size);
  report.add('plain_download_mib_s', 'plain download of the ciphertext (no service worker)', plainDownload, 'MiB/s');
  report.add('download_ratio_to_plain', 'download / plain download (target >= 0.7)', downloadMibS / plainDownload, 'x', { summary: true });

  report.note(`Chromium RSS before the transfers ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (${(uploadPeak - baseline).toFixed(0)} MiB above it while uploading, ${(downloadPeak - baseline).toFixed(0)} MiB while downloading).`);
}

/** A Team Member opens a space of 10,000 documents: the time to the first rows, and where it goes. */
async function measureListing(
  { report, progress }: BenchContext,
  { server, context, org, listClient }: { server: KluisServer; context: BrowserContext; org: SeededOrganisation; listClient: SeededMember },
): Promise<void> {
  progress('seeding 10,000 encrypted documents…');
  const spaceId = await seedListing(server.origin, server.dataDir, listClient);
  const teamPage = await context.newPage();
  await context.clearCookies();
  await signIn(teamPage, org.team);
  await teamPage.getByRole('link', { name: 'Clients' }).click();
  const requests = new ListingRequests(teamPage, spaceId);
  // Timed inside the page, from the click event to the frame after the first sorted row is in the
  // DOM: Playwright's own waitFor polls at up to 500 ms intervals, too coarse for this. The times are
  // wall clock (timeOrigin + now), the clock of Playwright's request timings.
  const shown = teamPage.evaluate(
    (text) =>
      new Promise<{ clickedAt: number; shownAt: number }>((resolve) => {
        let clickedAt = NaN;
        document.addEventListener('click', () => (clickedAt = performance.timeOrigin + performance.now()), { capture: true, once: true });
        const hasRow = () => [...document.querySelectorAll('[role="row"]')].some((row) => row.textContent?.includes(text));
        const observer = new MutationObserver(() => {
          if (!hasRow()) return;
          observer.disconnect();
          requestAnimationFrame(() => resolve({ clickedAt, shownAt: performance.timeOrigin + performance.now() }));
        });
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
      }),
    'Factuur 00000',
  );
  await teamPage.getByRole('link', { name: listClient.name }).click();
  const { clickedAt, shownAt } = await shown;
  const listMs = shownAt - clickedAt;
  if (!Number.isFinite(listMs)) throw new BenchFailure('the click on the client was not seen by the page');
  report.add('decrypt_10k_ms', 'open a space of 10,000 documents: fetch and verify its history, fetch, decrypt and check the listing, sort, first rows shown (target < 1000)', listMs, 'ms', {
    summary: true,
    section: 'list',
  });
  // Where the time goes, from the worker's requests: its history pages, then its listing pages.
  const history = requests.range('history');
  const documents = requests.range('documents');
  if (!history || !documents || history.end > documents.start) {
    report.note('The listing could not be split: the worker’s history and listing requests were not seen one after the other.');
    return;
  }
  const phases = [
    ['open_to_history_ms', 'click to the first history request (page, worker call, space lookup)', history.start - clickedAt],
    ['history_fetch_ms', `fetch the signed history (${history.count} page${history.count === 1 ? '' : 's'} of ${LIST_SIZE + 1} entries)`, history.end - history.start],
    ['history_verify_ms', 'verify + fold the history in the worker, open the space key (history fetched to the first listing request)', documents.start - history.end],
    ['listing_fetch_ms', `fetch the listing (${documents.count} page${documents.count === 1 ? '' : 's'}; decryption of a page starts when it arrives)`, documents.end - documents.start],
    ['listing_decrypt_ms', 'decrypt the rest, check the listing against the history, sort, render (listing fetched to first rows shown)', shownAt - documents.end],
  ] as const;
  for (const [key, label, ms] of phases) report.add(key, label, ms, 'ms', { section: 'list' });
  report.add('history_share', 'history fetch + verify / the whole open', (documents.start - history.start) / listMs, 'fraction', { section: 'list' });
}

export const filesGroup: BenchGroup = {
  name: 'files',
  title: 'Files: 1 GiB through the web app in headless Chromium over loopback, and listing 10,000 documents',
  parts: {
    transfers: `the ${FILE_BYTES / MIB} MiB upload and download, raw AES-GCM, plain transfers, memory (minutes)`,
    list: 'a Team Member opens a space of 10,000 documents (about a minute)',
  },
  async run(bench: BenchContext) {
    const { cleanup, progress } = bench;
    // The server serves dist/client: build it when missing or stale (else sign-in waits on a 503 page).
    ensureWebClientBuild();
    const dir = await makeTempDir(cleanup, 'kluis-bench-files-');
    const smtp = await startTestSmtpServer();
    // In-process: goes away with this process, nothing to do synchronously.
    cleanup.add({ name: 'SMTP server', close: () => smtp.close(), closeSync: () => undefined });
    const server = await startKluisServer({ env: { SMTP_URL: smtp.url, LOG_LEVEL: 'warn' } });
    cleanup.add({
      name: 'Kluis server',
      close: () => server.stop(),
      closeSync: () => {
        if (server.pid !== undefined) process.kill(server.pid, 'SIGKILL');
      },
    });
    progress('seeding an organisation (real key stretching, RSA keys)…');
    const org = await seedOrganisation(server, smtp, ['Carla Client', 'Lijst Klant']);
    const [client, listClient] = org.clients as [SeededMember, SeededMember];

    const profileDir = join(dir, 'chromium-profile');
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      baseURL: server.origin,
      acceptDownloads: true,
      locale: 'en-GB',
    });
    // Playwright's browser is a child on pipes: it ends when this process does.
    cleanup.add({ name: 'Chromium', close: () => context.close(), closeSync: () => undefined });
    // tsx (esbuild keepNames) wraps named functions in __name(); functions passed to page.evaluate carry that call into the page.
    await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
    const page = context.pages()[0] ?? (await context.newPage());
    if (bench.runs('transfers')) await measureTransfers(bench, { dir, page, context, profileDir, client });
    if (bench.runs('list')) await measureListing(bench, { server, context, org, listClient });
  },
};
