// The transfer engine against a real server on a loopback port: real encryption, real parts, real blobs on disk.
import { randomBytes } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDocument, getUpload, type EndpointResponse } from '../../shared/api';
import { type CallApi, ApiError } from '../../shared/api/client';
import { FILE_CHUNK_BYTES, FILE_HEADER_BYTES } from '../../shared/crypto';
import { createTestOrganisation, type Member, type TestOrganisation } from '../../server/test/org-fixture';
import type { AccountSlot } from './account-operations';
import { outcomeOf } from './outcome';
import { createSpaceOperations } from './space-operations';
import type { TransferProgress } from './space-types';
import { createKeySafeKeeper } from './key-safe-keeper';
import { createTransferOperations, type TransferTuning } from './transfers';
import { createTrust } from './trust';
import { budget } from '../../server/test/budget';

const MiB = 1024 * 1024;
/** The smallest part the server accepts: a few MiB of file make several parts. */
const fastTuning: Partial<TransferTuning> = { partSize: MiB, partsInFlight: 2, baseDelayMs: 5, maxDelayMs: 20, progressIntervalMs: 0 };

let org: TestOrganisation;
let client: Member;
let spaceId: string;

/** The browser's fetch for `member`: session cookie and Origin, as the crypto worker's requests carry them. */
function memberFetch(member: Member): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('Origin', org.testApp.config.publicOrigin);
    headers.set('Cookie', [...member.client.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    return fetch(input, { ...init, headers });
  };
}

function urlOf(input: RequestInfo | URL): string {
  return input instanceof Request ? input.url : input.toString();
}

/** The client's space operations as the crypto worker holds them after sign-in (its key safe keeper and the real Trust over the key directory). */
function spacesFor(api: CallApi) {
  const { vault } = client;
  const keySafe = createKeySafeKeeper({ api: client.client.api, owner: vault, initial: { safe: vault.keySafe, revision: vault.keySafeRevision }, storage: null, delayMs: 5 });
  const slot: AccountSlot = { current: { vault, keySafe, session: { user: { id: client.userId } } as never, name: null, profile: '' } };
  return createSpaceOperations({ api, account: slot, trust: createTrust({ api, account: slot }) });
}

function transfersFor(options: { api?: CallApi; fetch?: typeof fetch; tuning?: Partial<TransferTuning> } = {}) {
  const api = options.api ?? client.client.api;
  return createTransferOperations({
    api,
    fetch: options.fetch ?? memberFetch(client),
    baseUrl: org.server.baseUrl,
    spaces: spacesFor(api),
    tuning: { ...fastTuning, ...options.tuning },
  });
}

function fileOf(bytes: Uint8Array, name = 'Jaarrekening 2024 — définitief.pdf', type = 'application/pdf'): File {
  return new File([new Uint8Array(bytes)], name, { type, lastModified: 1_700_000_000_000 });
}

async function bytesOf(blob: Blob): Promise<Buffer> {
  return Buffer.from(await blob.arrayBuffer());
}

/** Where the server keeps a version's ciphertext (the local disk blob store's layout). */
async function blobOfVersion(versionId: string): Promise<{ blobId: string; path: string }> {
  const row = await org.testApp.db.selectFrom('document_versions').select('blob_id').where('id', '=', versionId).executeTakeFirstOrThrow();
  const blobId = row.blob_id;
  return { blobId, path: join(org.testApp.config.blobDir, 'objects', blobId.slice(0, 2), blobId.slice(2, 4), blobId) };
}

const newDocument = () => ({ kind: 'new-document', spaceId, folderId: null, requestItemId: null }) as const;
const noProgress = () => undefined;

beforeAll(async () => {
  org = await createTestOrganisation(['client']);
  client = org.members.client!;
  // The client's first visit creates their space (wrapped key, signed entry 0).
  const { spaces } = await spacesFor(client.client.api).listSpaces();
  spaceId = spaces[0]!.id;
}, budget(120_000));

afterAll(async () => {
  await org?.close();
});

describe('transfers (crypto worker) against a real server', () => {
  it('uploads a file of several parts and decrypts it back byte for byte, with its MIME type', async () => {
    const transfers = transfersFor();
    const plaintext = randomBytes(3 * MiB + 12_345);
    const progress: TransferProgress[] = [];
    const document = await transfers.uploadFile('t1', fileOf(plaintext), newDocument(), (p) => void progress.push(p));

    expect(document.spaceId).toBe(spaceId);
    expect(document.current).toMatchObject({ name: 'Jaarrekening 2024 — définitief.pdf', size: plaintext.length, type: 'application/pdf', number: 1 });
    expect(document.current.cipherSize).toBeGreaterThan(3 * MiB);
    await new Promise((resolve) => setTimeout(resolve, 10)); // progress reports are delivered asynchronously
    expect(progress.map((p) => p.phase)).toContain('encrypting');
    expect(progress.at(-1)).toMatchObject({ transferId: 't1', phase: 'finishing', doneBytes: plaintext.length, totalBytes: plaintext.length });
    const done = progress.map((p) => p.doneBytes);
    expect(done).toEqual([...done].sort((a, b) => a - b));

    const blob = await transfers.decryptToBlob('t2', document.current.id, document.id, noProgress);
    expect(blob.type).toBe('application/pdf');
    expect((await bytesOf(blob)).equals(plaintext)).toBe(true);

    // A second version of the same document keeps the first one readable.
    const second = randomBytes(MiB + 1);
    const updated = await transfers.uploadFile('t3', fileOf(second, 'v2.bin', ''), { kind: 'new-version', spaceId, documentId: document.id }, noProgress);
    expect(updated).toMatchObject({ id: document.id, versionCount: 2, current: { number: 2, name: 'v2.bin', type: '' } });
    expect((await bytesOf(await transfers.decryptToBlob('t4', updated.current.id, document.id, noProgress))).equals(second)).toBe(true);
    expect((await bytesOf(await transfers.decryptToBlob('t5', document.current.id, document.id, noProgress))).equals(plaintext)).toBe(true);
  });

  it('re-sends a part whose first PUT was dropped, and the file is still identical', async () => {
    const attempts = new Map<string, number>();
    const base = memberFetch(client);
    const flaky: typeof fetch = (input, init) => {
      const url = urlOf(input);
      if (init?.method === 'PUT') {
        const tries = (attempts.get(url) ?? 0) + 1;
        attempts.set(url, tries);
        // The connection drops before the server stores part 1 (as fetch reports a reset socket).
        if (url.endsWith('/parts/1') && tries === 1) return Promise.reject(new TypeError('fetch failed'));
      }
      return base(input, init);
    };
    const transfers = transfersFor({ fetch: flaky });
    const plaintext = randomBytes(3 * MiB);
    const document = await transfers.uploadFile('r1', fileOf(plaintext), newDocument(), noProgress);
    const partOne = [...attempts].find(([url]) => url.endsWith('/parts/1'));
    expect(partOne?.[1]).toBe(2);
    expect([...attempts.values()].filter((n) => n === 1)).toHaveLength(3); // parts 0, 2, 3 went once
    expect((await bytesOf(await transfers.decryptToBlob('r2', document.current.id, document.id, noProgress))).equals(plaintext)).toBe(true);
  });

  it('stops with the server’s error code when a part is refused for good', async () => {
    const base = memberFetch(client);
    let puts = 0;
    const refusing: typeof fetch = (input, init) => {
      if (init?.method === 'PUT') {
        puts += 1;
        return Promise.resolve(
          Response.json({ error: { code: 'storage_full', message: 'The server’s storage is full.' } }, { status: 507 }),
        );
      }
      return base(input, init);
    };
    const transfers = transfersFor({ fetch: refusing, tuning: { maxAttempts: 3 } });
    const outcome = await outcomeOf(() => transfers.uploadFile('s1', fileOf(randomBytes(2 * MiB)), newDocument(), noProgress));
    expect(outcome).toMatchObject({ ok: false, failure: { code: 'storage_full', status: 507 } });
    expect(puts).toBeLessThanOrEqual(2 * 3); // retried (5xx) but bounded

    const tooLarge = transfersFor();
    const huge = { name: 'huge.bin', size: 2 ** 50, type: '', lastModified: 0, stream: () => new ReadableStream() } as unknown as File;
    const refused = await outcomeOf(() => tooLarge.uploadFile('s2', huge, newDocument(), noProgress));
    expect(refused.ok).toBe(false);
    expect(refused.ok ? null : refused.failure.code).toMatch(/^(file_too_large|space_quota_exceeded)$/);
  });

  it('cancel aborts the parts in flight and the upload on the server, and reports `cancelled`', async () => {
    const base = memberFetch(client);
    let uploadId: string | undefined;
    let firstPut: () => void = () => undefined;
    const putStarted = new Promise<void>((resolve) => (firstPut = resolve));
    // Parts hang like a very slow network until they are aborted.
    const slow: typeof fetch = (input, init) => {
      if (init?.method === 'PUT') {
        uploadId = /\/api\/uploads\/([^/]+)\/parts\//.exec(urlOf(input))?.[1];
        firstPut();
        return new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true });
        });
      }
      return base(input, init);
    };
    const transfers = transfersFor({ fetch: slow });
    const running = outcomeOf(() => transfers.uploadFile('c1', fileOf(randomBytes(4 * MiB)), newDocument(), noProgress));
    await putStarted;
    await transfers.cancelTransfer('c1');
    expect(await running).toMatchObject({ ok: false, failure: { code: 'cancelled', status: 0 } });

    expect(uploadId).toBeDefined();
    const state = await client.client.api(getUpload, { params: { id: uploadId! } }).then(
      (s) => s.status,
      (error: unknown) => (error instanceof ApiError ? error.code : 'unexpected'),
    );
    expect(['aborted', 'upload_not_found']).toContain(state);
  });

  it('refuses a stored file with one flipped byte as file_damaged, and hands out no Blob', async () => {
    const transfers = transfersFor();
    const plaintext = randomBytes(2 * MiB + 99);
    const document = await transfers.uploadFile('f1', fileOf(plaintext), newDocument(), noProgress);
    const { path } = await blobOfVersion(document.current.id);
    const stored = await readFile(path);
    stored[Math.floor(stored.length / 2)]! ^= 0x01;
    await writeFile(path, stored);

    const outcome = await outcomeOf(() => transfers.decryptToBlob('f2', document.current.id, document.id, noProgress));
    expect(outcome).toEqual({ ok: false, failure: { status: 0, code: 'file_damaged', message: 'This file was altered or is damaged.' } });
  });

  it('refuses a stored file cut short at a chunk boundary (served as a consistent, shorter file) as file_damaged', async () => {
    const transfers = transfersFor();
    const plaintext = randomBytes(MiB + 5000);
    const document = await transfers.uploadFile('u1', fileOf(plaintext), newDocument(), noProgress);
    const { blobId, path } = await blobOfVersion(document.current.id);
    // Drop the final chunk: what is left is a valid prefix of whole chunks, only the final flag is missing.
    const wholeChunks = Math.floor(plaintext.length / FILE_CHUNK_BYTES);
    const cut = FILE_HEADER_BYTES + wholeChunks * (FILE_CHUNK_BYTES + 16);
    await truncate(path, cut);
    await org.testApp.db.updateTable('blobs').set({ size: cut }).where('id', '=', blobId).execute();

    const outcome = await outcomeOf(() => transfers.decryptToBlob('u2', document.current.id, document.id, noProgress));
    expect(outcome).toMatchObject({ ok: false, failure: { code: 'file_damaged' } });
  });

  it('cancels a decryption in progress', async () => {
    const transfers = transfersFor();
    const document = await transfers.uploadFile('d1', fileOf(randomBytes(MiB)), newDocument(), noProgress);
    const base = memberFetch(client);
    const stalled: typeof fetch = (input, init) =>
      urlOf(input).includes('/content')
        ? new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true }))
        : base(input, init);
    const slowTransfers = transfersFor({ fetch: stalled });
    const running = outcomeOf(() => slowTransfers.decryptToBlob('d2', document.current.id, document.id, noProgress));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await slowTransfers.cancelTransfer('d2');
    expect(await running).toMatchObject({ ok: false, failure: { code: 'cancelled' } });
  });

  it('hands the download service worker one version’s key and where to fetch it, over the port only', async () => {
    const transfers = transfersFor();
    const plaintext = randomBytes(70_000);
    const document = await transfers.uploadFile('p1', fileOf(plaintext, 'brief.txt', 'text/plain'), newDocument(), noProgress);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown>((resolve) => port1.addEventListener('message', (event) => resolve(event.data), { once: true }));
    port1.start();
    await transfers.prepareStreamedDownload(document.current.id, document.id, port2);
    const grant = (await received) as Record<string, unknown>;
    port1.close();
    expect(grant).toMatchObject({
      type: 'grant',
      file: { id: `${document.id}/${document.current.id}`, owner: spaceId },
      name: 'brief.txt',
      mimeType: 'text/plain',
      size: plaintext.length,
      contentPath: `/api/versions/${document.current.id}/content`,
    });
    expect(grant.fileKey).toBeInstanceOf(Uint8Array);
    expect((grant.fileKey as Uint8Array).length).toBe(32);
  });

  it('refuses a version whose wrapped file key the server swapped for another one as file_damaged, for both download paths', async () => {
    const uploads = transfersFor();
    const kept = await uploads.uploadFile('w1', fileOf(randomBytes(5000), 'a.txt', 'text/plain'), newDocument(), noProgress);
    const victim = await uploads.uploadFile('w2', fileOf(randomBytes(5000), 'b.txt', 'text/plain'), newDocument(), noProgress);
    const { versions } = await client.client.api(getDocument, { params: { documentId: kept.id } });
    const keptWrappedKey = versions.find((v) => v.id === kept.current.id)!.wrappedFileKey;
    // The server now serves, for the second version, the first version's wrapped key (valid, same space key).
    const swapping: CallApi = async (endpoint, input, options) => {
      const response = await client.client.api(endpoint, input, options);
      if ((endpoint as unknown) !== getDocument) return response;
      const history = response as unknown as EndpointResponse<typeof getDocument>;
      const served = history.versions.map((v) => (v.id === victim.current.id ? { ...v, wrappedFileKey: keptWrappedKey } : v));
      return { ...history, versions: served } as unknown as typeof response;
    };
    const transfers = transfersFor({ api: swapping });
    const damaged = { ok: false, failure: { status: 0, code: 'file_damaged', message: 'This file was altered or is damaged.' } };

    expect(await outcomeOf(() => transfers.decryptToBlob('w3', victim.current.id, victim.id, noProgress))).toEqual(damaged);

    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown>((resolve) => port1.addEventListener('message', (event) => resolve(event.data), { once: true }));
    port1.start();
    expect(await outcomeOf(() => transfers.prepareStreamedDownload(victim.current.id, victim.id, port2))).toEqual(damaged);
    expect(await received).toEqual({ type: 'refused' });
    port1.close();
  });
});
