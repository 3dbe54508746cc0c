// The local-disk blob store on real temp directories: round trips, ranges, all-or-nothing writes, capacity, failures.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../lib/ids';
import { BlobDigestMismatchError, BlobLengthError, BlobNotFoundError, BlobSourceError, BlobStoreFullError, type BlobStore } from './blob-store';
import { createLocalDiskBlobStore } from './local-disk-blob-store';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kluis-blobs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function* split(bytes: Uint8Array, chunkSize: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
}

/** `bytes` as a stream of chunks, like a request body. */
const chunksOf = (bytes: Uint8Array, chunkSize = 100_000): Readable => Readable.from(split(bytes, chunkSize));

/** A stream that fails after its first chunk, like a dropped connection. */
function failingAfter(bytes: Uint8Array): Readable {
  return Readable.from(
    (function* () {
      yield bytes;
      throw new Error('connection reset');
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, relative, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** What stagePart expects of `bytes`: its length and SHA-256. */
const asPart = (bytes: Uint8Array) => ({ size: bytes.length, sha256: sha256(bytes) });

describe('put, open, size, delete', () => {
  it('stores a blob under a sharded path and reads it back whole and by range', async () => {
    const store = createLocalDiskBlobStore({ root });
    const bytes = randomBytes(3_000_000);
    const blob = await store.put(chunksOf(bytes), { expectedSize: bytes.length });
    expect(blob).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as string, size: bytes.length, sha256: sha256(bytes) });
    expect(await filesUnder(root)).toEqual([join('objects', blob.id.slice(0, 2), blob.id.slice(2, 4), blob.id)]);
    expect(await store.size(blob.id)).toBe(bytes.length);
    expect((await readAll(await store.open(blob.id))).equals(bytes)).toBe(true);
    expect((await readAll(await store.open(blob.id, { start: 10, end: 1_500_009 }))).equals(bytes.subarray(10, 1_500_010))).toBe(true);
    await store.delete(blob.id);
    await store.delete(blob.id);
    await expect(store.size(blob.id)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.open(blob.id)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('refuses ids that are not ours before touching the disk (no path traversal)', async () => {
    const store = createLocalDiskBlobStore({ root });
    for (const id of ['../../etc/passwd', 'a/b', '', 'x'.repeat(23)]) {
      await expect(store.open(id)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.stagePart(id, 0, chunksOf(new Uint8Array(1)), asPart(new Uint8Array(1)))).rejects.toBeInstanceOf(BlobNotFoundError);
    }
  });

  it('leaves nothing behind when the data is longer or shorter than expected, or the source fails', async () => {
    const store = createLocalDiskBlobStore({ root });
    const bytes = randomBytes(1000);
    await expect(store.put(chunksOf(bytes), { expectedSize: 999 })).rejects.toBeInstanceOf(BlobLengthError);
    await expect(store.put(chunksOf(bytes), { expectedSize: 1001 })).rejects.toBeInstanceOf(BlobLengthError);
    await expect(store.put(failingAfter(bytes))).rejects.toBeInstanceOf(BlobSourceError);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('fails the write and leaves no file when the rename cannot happen (a file where the directory must be)', async () => {
    const store = createLocalDiskBlobStore({ root });
    await writeFile(join(root, 'objects'), 'in the way');
    await expect(store.put(chunksOf(randomBytes(5000)))).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) as string });
    expect(await filesUnder(root)).toEqual(['objects']);
  });
});

describe('capacity (KLUIS_BLOB_CAPACITY_BYTES)', () => {
  it('refuses a write that would pass the capacity, leaves nothing half-written, and frees space on delete', async () => {
    const store = createLocalDiskBlobStore({ root, capacityBytes: 10_000 });
    const first = await store.put(chunksOf(randomBytes(6000), 1000));
    // Unknown size: refused mid-stream, once the bytes would pass the limit.
    await expect(store.put(chunksOf(randomBytes(6000), 1000))).rejects.toBeInstanceOf(BlobStoreFullError);
    // Known size: refused before a byte is read.
    const big = randomBytes(6000);
    await expect(store.stagePart(newId(), 0, chunksOf(big), asPart(big))).rejects.toBeInstanceOf(BlobStoreFullError);
    expect(await filesUnder(root)).toHaveLength(1);
    await store.delete(first.id);
    await store.put(chunksOf(randomBytes(9000), 1000));
  });

  it('counts what is already on disk when it starts', async () => {
    await createLocalDiskBlobStore({ root }).put(chunksOf(randomBytes(8000)));
    const reopened = createLocalDiskBlobStore({ root, capacityBytes: 10_000 });
    await expect(reopened.put(chunksOf(randomBytes(3000)))).rejects.toBeInstanceOf(BlobStoreFullError);
    await reopened.put(chunksOf(randomBytes(2000)));
  });
});

describe('parts', () => {
  async function stageAndCommit(store: BlobStore, uploadId: string, n: number, bytes: Uint8Array): Promise<void> {
    const staged = await store.stagePart(uploadId, n, chunksOf(bytes), asPart(bytes));
    await staged.commit();
  }

  it('keeps a staged part invisible until commit, replaces it on a second commit, and joins parts in order', async () => {
    const store = createLocalDiskBlobStore({ root, capacityBytes: 100_000 });
    const uploadId = newId();
    const parts = [randomBytes(20_000), randomBytes(20_000), randomBytes(7)];
    const staged = await store.stagePart(uploadId, 1, chunksOf(parts[1]!), asPart(parts[1]!));
    expect(await filesUnder(join(root, 'parts'))).toEqual([]);
    await staged.commit();
    await stageAndCommit(store, uploadId, 2, parts[2]!);
    await stageAndCommit(store, uploadId, 0, randomBytes(20_000));
    await stageAndCommit(store, uploadId, 0, parts[0]!); // replaces: the capacity counts it once
    const whole = Buffer.concat(parts);
    const blob = await store.composeParts(uploadId, 3, { size: whole.length });
    expect((await readAll(await store.open(blob.id))).equals(whole)).toBe(true);
    expect(blob.sha256).toBe(sha256(whole));
    await store.deleteParts(uploadId);
    expect(await filesUnder(join(root, 'parts'))).toEqual([]);
  });

  it('discards a staged part without a trace', async () => {
    const store = createLocalDiskBlobStore({ root });
    const bytes = randomBytes(100);
    const staged = await store.stagePart(newId(), 0, chunksOf(bytes), asPart(bytes));
    await staged.discard();
    await staged.discard();
    expect(await filesUnder(root)).toEqual([]);
  });

  it('never stages a part whose SHA-256 does not match, nor creates a blob of another length', async () => {
    // Room for the stored part and one 10,000-byte join: only if the refused part gave its room back.
    const store = createLocalDiskBlobStore({ root, capacityBytes: 16_000 });
    const uploadId = newId();
    const bytes = randomBytes(5000);
    await stageAndCommit(store, uploadId, 0, bytes);
    const other = randomBytes(5000);
    await expect(store.stagePart(uploadId, 0, chunksOf(other), { size: 5000, sha256: sha256(bytes) })).rejects.toBeInstanceOf(BlobDigestMismatchError);
    await expect(store.composeParts(uploadId, 1, { size: 5001 })).rejects.toBeInstanceOf(BlobLengthError);
    await expect(store.composeParts(uploadId, 2, { size: 10_000 })).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await filesUnder(root)).toEqual([join('parts', uploadId, '0')]);
    const blob = await store.composeParts(uploadId, 1, { size: 5000 });
    expect((await readAll(await store.open(blob.id))).equals(bytes)).toBe(true);
  });

  it('fails a commit and leaves no temp file when the part directory cannot be made', async () => {
    const store = createLocalDiskBlobStore({ root });
    const uploadId = newId();
    await mkdir(join(root, 'parts'), { recursive: true });
    await writeFile(join(root, 'parts', uploadId), 'in the way');
    const bytes = randomBytes(100);
    const staged = await store.stagePart(uploadId, 0, chunksOf(bytes), asPart(bytes));
    await expect(staged.commit()).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) as string });
    expect(await filesUnder(root)).toEqual([join('parts', uploadId)]);
  });

  it('sweeps temp files left by a crash, but not ones being written', async () => {
    const store = createLocalDiskBlobStore({ root });
    await mkdir(join(root, 'tmp'), { recursive: true });
    await writeFile(join(root, 'tmp', 'left-by-a-crash.tmp'), 'x');
    const bytes = randomBytes(10);
    const staged = await store.stagePart(newId(), 0, chunksOf(bytes), asPart(bytes));
    expect(await store.sweepTemporary(-1000)).toBe(1);
    await staged.commit();
    expect(await filesUnder(join(root, 'tmp'))).toEqual([]);
  });
});
