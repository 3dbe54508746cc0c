// The local-disk blob store on real temp directories: round trips, ranges, all-or-nothing writes, capacity, failures, crashes.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../lib/ids';
import { BlobDigestMismatchError, BlobLengthError, BlobNotFoundError, BlobSourceError, BlobStoreFullError, type BlobStore } from './blob-store';
import { createLocalDiskBlobStore } from './local-disk-blob-store';
import { budget } from '../test/budget';

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
    const blob = await store.composeParts(uploadId, parts.map(asPart), { size: whole.length });
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
    await expect(store.composeParts(uploadId, [asPart(bytes)], { size: 5001 })).rejects.toBeInstanceOf(BlobLengthError);
    await expect(store.composeParts(uploadId, [asPart(bytes), asPart(other)], { size: 10_000 })).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await filesUnder(root)).toEqual([join('parts', uploadId, '0')]);
    const blob = await store.composeParts(uploadId, [asPart(bytes)], { size: 5000 });
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

describe('after a crash', () => {
  it('never joins a part whose file was replaced without its digest being recorded (a kill after the rename)', async () => {
    const store = createLocalDiskBlobStore({ root });
    const uploadId = newId();
    const [first, second] = [randomBytes(3000), randomBytes(2000)];
    for (const [n, bytes] of [first, second].entries()) await (await store.stagePart(uploadId, n, chunksOf(bytes), asPart(bytes))).commit();
    // Part 1 sent again with other bytes: renamed into place, and the process died before the
    // caller recorded the new digest. Its record still holds the acknowledged one.
    const replacement = randomBytes(2000);
    await (await store.stagePart(uploadId, 1, chunksOf(replacement), asPart(replacement))).commit();

    const reopened = createLocalDiskBlobStore({ root });
    const refused = reopened.composeParts(uploadId, [asPart(first), asPart(second)], { size: 5000 });
    await expect(refused).rejects.toBeInstanceOf(BlobDigestMismatchError);
    await expect(refused).rejects.toMatchObject({ partNumber: 1 });
    // No blob and no temp file: only the two parts are there.
    expect((await filesUnder(root)).sort()).toEqual([join('parts', uploadId, '0'), join('parts', uploadId, '1')]);
    // Under the digests that match the files, the same parts join.
    const blob = await reopened.composeParts(uploadId, [asPart(first), asPart(replacement)], { size: 5000 });
    expect((await readAll(await reopened.open(blob.id))).equals(Buffer.concat([first, replacement]))).toBe(true);
  });

  it('clears the temp files of a process killed mid-write, and their room comes back', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../test/blob-write-until-killed.ts', import.meta.url)), root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('writing') && resolve());
      child.on('exit', () => reject(new Error(`the writer exited before writing: ${stderr}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const [left] = await filesUnder(join(root, 'tmp'));
    expect(left).toMatch(/\.tmp$/);

    // Restart: 4 MiB of capacity, 3 MiB of which the dead write holds until the temp area is cleared.
    const MiB = 1024 * 1024;
    const restarted = createLocalDiskBlobStore({ root, capacityBytes: 4 * MiB });
    expect(await restarted.clearTemporary()).toBe(1);
    expect(await filesUnder(root)).toEqual([]);
    expect(await restarted.room()).toBe(4 * MiB);
    const blob = await restarted.put(chunksOf(randomBytes(4 * MiB)), { expectedSize: 4 * MiB });
    expect(await restarted.size(blob.id)).toBe(4 * MiB);
  }, budget(30_000));

  it('lists only blob files written before the given time, at their own sharded path', async () => {
    const store = createLocalDiskBlobStore({ root });
    const old = await store.put(chunksOf(randomBytes(10)));
    const recent = await store.put(chunksOf(randomBytes(10)));
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const objectPath = (id: string) => join(root, 'objects', id.slice(0, 2), id.slice(2, 4), id);
    await utimes(objectPath(old.id), anHourAgo, anHourAgo);
    // A file that is not at its own path is not a blob.
    const stray = newId();
    await mkdir(join(root, 'objects', 'zz', 'zz'), { recursive: true });
    await writeFile(join(root, 'objects', 'zz', 'zz', stray), 'x');
    await utimes(join(root, 'objects', 'zz', 'zz', stray), anHourAgo, anHourAgo);
    const listed = async (before: Date) => {
      const ids: string[] = [];
      for await (const id of store.listBlobs(before)) ids.push(id);
      return ids.sort();
    };
    expect(await listed(new Date(Date.now() - 60_000))).toEqual([old.id]);
    expect(await listed(new Date(Date.now() + 60_000))).toEqual([old.id, recent.id].sort());
  });
});

describe('room', () => {
  it('is what is left of the capacity; a join needs no room beyond its parts', async () => {
    // Just room for the file: its parts hold all of it, then the join takes their place.
    const store = createLocalDiskBlobStore({ root, capacityBytes: 10_100 });
    expect(await store.room()).toBe(10_100);
    const uploadId = newId();
    const parts = [randomBytes(6000), randomBytes(4000)];
    for (const [n, bytes] of parts.entries()) await (await store.stagePart(uploadId, n, chunksOf(bytes), asPart(bytes))).commit();
    expect(await store.room()).toBe(100);
    const blob = await store.composeParts(uploadId, parts.map(asPart), { size: 10_000 });
    await store.deleteParts(uploadId);
    expect(await store.room()).toBe(100);
    expect((await readAll(await store.open(blob.id))).equals(Buffer.concat(parts))).toBe(true);
    // The credit is only the joined upload's own parts: another write still has only 100 bytes.
    await expect(store.put(chunksOf(randomBytes(101)))).rejects.toBeInstanceOf(BlobStoreFullError);
    await store.delete(blob.id);
    expect(await store.room()).toBe(10_100);
  });
});
