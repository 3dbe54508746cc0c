// The BlobStore on a local directory: temp file, fsync, rename, fsync of the directory; sharded paths; optional capacity.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { newId } from '../lib/ids';
import {
  BlobDigestMismatchError,
  BlobLengthError,
  BlobNotFoundError,
  BlobSourceError,
  BlobStoreFullError,
  type BlobStore,
  type ByteRange,
  type PartExpectation,
  type StagedPart,
  type StoredBlob,
} from './blob-store';

export interface LocalDiskBlobStoreOptions {
  /** The store's directory (config.blobDir); created on first write. */
  readonly root: string;
  /** Most bytes the directory may hold (blobs, parts and temp files together); null = no limit but the disk's. */
  readonly capacityBytes?: number | null;
}

/** Ids become path segments: only the server's own 22-character base64url ids are accepted (no `/`, no `..`). */
const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
/** Large enough that disk writes are few and big, small enough to keep memory flat. */
const IO_CHUNK_BYTES = 1024 * 1024;

function assertId(id: string, what: string): void {
  if (!ID_PATTERN.test(id)) throw new BlobNotFoundError(`no ${what} ${JSON.stringify(id)}`);
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** ENOSPC / EDQUOT from the disk mean the same to a caller as our own capacity limit. */
function mapDiskFull(error: unknown): unknown {
  const code = errnoOf(error);
  return code === 'ENOSPC' || code === 'EDQUOT' ? new BlobStoreFullError('the disk is full', { cause: error }) : error;
}

/**
 * fsync of a directory makes the entries created or renamed in it durable (POSIX: a rename is only
 * on disk once its directory is). WARNING: an error here must fail the write, never be ignored:
 * after a failed fsync the kernel may have dropped the dirty data (the 2018 "fsyncgate" lesson).
 */
async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Bytes held by the store, when a capacity is configured: scanned once, then kept up to date. */
class CapacityAccount {
  #used = 0;
  #ready: Promise<void> | null = null;

  constructor(
    private readonly root: string,
    readonly limit: number | null,
  ) {}

  /** Resolves once the directory has been measured (a no-op without a limit). */
  ready(): Promise<void> {
    if (this.limit === null) return Promise.resolve();
    this.#ready ??= sizeOfTree(this.root).then((bytes) => {
      this.#used += bytes;
    });
    return this.#ready;
  }

  /**
   * Claims `bytes` or throws BlobStoreFullError; call after ready(). `credit` is room that will be
   * given back once this write is published (the parts a join replaces): it may be counted twice
   * meanwhile, so a join fits wherever its parts fit.
   */
  take(bytes: number, credit = 0): void {
    if (this.limit === null) return;
    if (this.#used + bytes - credit > this.limit) throw new BlobStoreFullError(`the blob store is full (capacity ${this.limit} bytes)`);
    this.#used += bytes;
  }

  /** What is left of the capacity (null without a limit); call after ready(). */
  left(): number | null {
    return this.limit === null ? null : Math.max(0, this.limit - this.#used);
  }

  release(bytes: number): void {
    if (this.limit !== null) this.#used = Math.max(0, this.#used - bytes);
  }
}

async function sizeOfTree(path: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return 0;
    throw error;
  }
  let total = 0;
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) total += await sizeOfTree(child);
    else if (entry.isFile()) total += (await lstat(child)).size;
  }
  return total;
}

/** The entries of `dir` by name; none when it does not exist (or is not a directory). */
async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

/** Bytes an unprivileged writer may still use on the file system of `path` (or of its nearest existing parent). */
async function diskFree(path: string): Promise<number> {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      const info = await statfs(dir);
      return info.bavail * info.bsize;
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT' || dirname(dir) === dir) throw error;
    }
  }
}

/** writev until every byte of `chunks` is written (a short write is rare but allowed by POSIX). */
async function writeAll(handle: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let pending = chunks;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const chunk of pending) {
      if (skip >= chunk.byteLength) skip -= chunk.byteLength;
      else {
        rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
        skip = 0;
      }
    }
    pending = rest;
  }
}

interface Metering {
  /** Exact length required; more or fewer bytes fail with BlobLengthError. */
  readonly expectedSize: number | undefined;
  readonly hash: Hash | null;
  readonly capacity: CapacityAccount;
  /** Room given back once this write is published (see CapacityAccount.take). */
  readonly credit: number;
  /** Bytes claimed from the capacity so far (released by the caller on failure). */
  reserved: number;
  received: number;
}

/**
 * Passes `source` through, counting bytes (and hashing them). With a known size the capacity is
 * claimed up front, so a full store refuses before any byte is read.
 */
async function* metered(source: AsyncIterable<Uint8Array>, m: Metering): AsyncGenerator<Uint8Array> {
  await m.capacity.ready();
  if (m.expectedSize !== undefined) {
    m.capacity.take(m.expectedSize, m.credit);
    m.reserved = m.expectedSize;
  }
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (error) {
        finished = true;
        throw new BlobSourceError(m.received, { cause: error });
      }
      if (next.done) {
        finished = true;
        break;
      }
      const chunk = next.value;
      m.received += chunk.byteLength;
      if (m.expectedSize !== undefined && m.received > m.expectedSize) throw new BlobLengthError(m.expectedSize, m.received);
      if (m.expectedSize === undefined) {
        m.capacity.take(chunk.byteLength);
        m.reserved += chunk.byteLength;
      }
      m.hash?.update(chunk);
      yield chunk;
    }
  } finally {
    // Stopped early (too long, or the writer failed): let the source close its file or stop reading.
    if (!finished) await iterator.return?.();
  }
  if (m.expectedSize !== undefined && m.received !== m.expectedSize) throw new BlobLengthError(m.expectedSize, m.received);
}

export function createLocalDiskBlobStore(options: LocalDiskBlobStoreOptions): BlobStore {
  const { root } = options;
  const objectsDir = join(root, 'objects');
  const partsDir = join(root, 'parts');
  const tmpDir = join(root, 'tmp');
  const capacity = new CapacityAccount(root, options.capacityBytes ?? null);
  /** Temp files being written by this process (the sweeper leaves them alone). */
  const active = new Set<string>();

  /** `objects/ab/cd/<id>`: two levels of 64 keep directories small at millions of blobs. */
  const objectPath = (id: string) => join(objectsDir, id.slice(0, 2), id.slice(2, 4), id);
  const uploadPartsDir = (uploadId: string) => join(partsDir, uploadId);
  const partPath = (uploadId: string, partNumber: number) => join(uploadPartsDir(uploadId), String(partNumber));

  /** mkdir -p where every directory created is made durable in its parent. A file in the way is left for rename to trip over. */
  async function ensureDirectory(path: string): Promise<void> {
    try {
      await mkdir(path, { mode: 0o700 });
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'EEXIST') return;
      if (code !== 'ENOENT') throw error;
      await ensureDirectory(dirname(path));
      try {
        await mkdir(path, { mode: 0o700 });
      } catch (retryError) {
        if (errnoOf(retryError) === 'EEXIST') return;
        throw retryError;
      }
    }
    await fsyncDirectory(dirname(path));
  }

  /** Deletes a temp file that will not be published and gives back the capacity claimed for it. */
  async function dropTemporary(tempPath: string, m: Metering): Promise<void> {
    active.delete(tempPath);
    await rm(tempPath, { force: true });
    capacity.release(m.reserved);
  }

  /**
   * Streams `source` into a new temp file and fsyncs it. On any failure the temp file is removed,
   * the claimed capacity released, and the error rethrown (disk full mapped to BlobStoreFullError).
   */
  async function writeTemporary(source: AsyncIterable<Uint8Array>, m: Metering): Promise<string> {
    await ensureDirectory(tmpDir);
    const tempPath = join(tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
    active.add(tempPath);
    try {
      const handle = await open(tempPath, 'wx', 0o600);
      try {
        // Batched writev: few, large writes; memory stays at about IO_CHUNK_BYTES.
        let batch: Uint8Array[] = [];
        let batchBytes = 0;
        for await (const chunk of metered(source, m)) {
          batch.push(chunk);
          batchBytes += chunk.byteLength;
          if (batchBytes >= IO_CHUNK_BYTES) {
            await writeAll(handle, batch);
            batch = [];
            batchBytes = 0;
          }
        }
        if (batch.length > 0) await writeAll(handle, batch);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return tempPath;
    } catch (error) {
      await dropTemporary(tempPath, m);
      throw mapDiskFull(error);
    }
  }

  /** Renames the fsynced temp file to `target` and fsyncs the target's directory; returns the size it replaced. */
  async function publish(tempPath: string, target: string): Promise<number> {
    try {
      await ensureDirectory(dirname(target));
      const replaced = await stat(target).then(
        (s) => s.size,
        () => 0,
      );
      await rename(tempPath, target);
      await fsyncDirectory(dirname(target));
      return replaced;
    } finally {
      active.delete(tempPath);
      await rm(tempPath, { force: true });
    }
  }

  function newMetering(expectedSize: number | undefined, hash: Hash | null, credit = 0): Metering {
    return { expectedSize, hash, capacity, credit, reserved: 0, received: 0 };
  }

  /** Deletes the temp files last written before `cutoffMs` that this process is not writing; returns how many. */
  async function removeTemporary(cutoffMs: number): Promise<number> {
    await capacity.ready();
    let removed = 0;
    for (const name of await namesIn(tmpDir)) {
      const path = join(tmpDir, name);
      if (active.has(path)) continue;
      const info = await lstat(path).catch(() => null);
      if (!info || info.mtimeMs > cutoffMs) continue;
      await rm(path, { force: true, recursive: true });
      capacity.release(info.isDirectory() ? 0 : info.size);
      removed += 1;
    }
    return removed;
  }

  return {
    async put(source, putOptions) {
      const m = newMetering(putOptions?.expectedSize, createHash('sha256'));
      const tempPath = await writeTemporary(source, m);
      const id = newId();
      try {
        await publish(tempPath, objectPath(id));
      } catch (error) {
        // WARNING: a blob whose rename or directory fsync failed is not durable: nobody gets its id.
        await rm(objectPath(id), { force: true }).catch(() => undefined);
        capacity.release(m.reserved);
        throw mapDiskFull(error);
      }
      return { id, size: m.received, sha256: m.hash?.digest('hex') ?? '' };
    },

    async open(id: string, range?: ByteRange): Promise<Readable> {
      assertId(id, 'blob');
      let handle;
      try {
        handle = await open(objectPath(id), 'r');
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') throw new BlobNotFoundError(`no blob ${id}`);
        throw error;
      }
      return createReadStream(objectPath(id), { fd: handle, highWaterMark: IO_CHUNK_BYTES, ...(range ? { start: range.start, end: range.end } : {}) });
    },

    async size(id: string): Promise<number> {
      assertId(id, 'blob');
      try {
        return (await stat(objectPath(id))).size;
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') throw new BlobNotFoundError(`no blob ${id}`);
        throw error;
      }
    },

    async delete(id: string): Promise<void> {
      assertId(id, 'blob');
      const path = objectPath(id);
      const size = await stat(path).then(
        (s) => s.size,
        () => null,
      );
      if (size === null) return;
      await rm(path, { force: true });
      capacity.release(size);
    },

    async stagePart(uploadId: string, partNumber: number, source: AsyncIterable<Uint8Array>, expected: PartExpectation): Promise<StagedPart> {
      assertId(uploadId, 'upload');
      const m = newMetering(expected.size, createHash('sha256'));
      const tempPath = await writeTemporary(source, m);
      if (m.hash?.digest('hex') !== expected.sha256) {
        // WARNING: verified before commit can run: a part whose digest does not match is never visible.
        await dropTemporary(tempPath, m);
        throw new BlobDigestMismatchError(`part ${partNumber} does not have the expected SHA-256`, partNumber);
      }
      let settled = false;
      return {
        size: expected.size,
        async commit() {
          if (settled) throw new Error('this part was already committed or discarded');
          settled = true;
          try {
            // A part file, when present, is always whole: it only ever appears by rename.
            const replaced = await publish(tempPath, partPath(uploadId, partNumber));
            capacity.release(replaced);
          } catch (error) {
            capacity.release(m.reserved);
            throw mapDiskFull(error);
          }
        },
        async discard() {
          if (settled) return;
          settled = true;
          await dropTemporary(tempPath, m);
        },
      };
    },

    async composeParts(uploadId: string, parts: readonly PartExpectation[], expected: { readonly size: number }): Promise<StoredBlob> {
      assertId(uploadId, 'upload');
      /** The parts in order, each hashed again as it goes by. */
      async function* concatenated(): AsyncGenerator<Uint8Array> {
        for (const [n, part] of parts.entries()) {
          const hash = createHash('sha256');
          let length = 0;
          for await (const chunk of createReadStream(partPath(uploadId, n), { highWaterMark: IO_CHUNK_BYTES })) {
            hash.update(chunk as Uint8Array);
            length += (chunk as Uint8Array).byteLength;
            yield chunk as Uint8Array;
          }
          // WARNING: a part file is renamed into place before its digest is recorded, so a crash in
          // between leaves new bytes under the old digest. Checked here, before the join can be
          // published: a blob only ever holds parts whose digests the client acknowledged.
          if (length !== part.size || hash.digest('hex') !== part.sha256) {
            throw new BlobDigestMismatchError(`part ${n} of upload ${uploadId} does not match its recorded SHA-256`, n);
          }
        }
      }
      // The joined file takes the place of its parts (deleted once the blob is recorded).
      const credit = capacity.limit === null ? 0 : await sizeOfTree(uploadPartsDir(uploadId));
      const m = newMetering(expected.size, createHash('sha256'), credit);
      let tempPath: string;
      try {
        tempPath = await writeTemporary(concatenated(), m);
      } catch (error) {
        if (error instanceof BlobSourceError && errnoOf(error.cause) === 'ENOENT') throw new BlobNotFoundError(`a part of upload ${uploadId} is missing`);
        if (error instanceof BlobSourceError && error.cause instanceof BlobDigestMismatchError) throw error.cause;
        throw error;
      }
      const sha256 = m.hash?.digest('hex') ?? '';
      const id = newId();
      try {
        await publish(tempPath, objectPath(id));
      } catch (error) {
        await rm(objectPath(id), { force: true }).catch(() => undefined);
        capacity.release(m.reserved);
        throw mapDiskFull(error);
      }
      return { id, size: m.received, sha256 };
    },

    async deleteParts(uploadId: string): Promise<void> {
      assertId(uploadId, 'upload');
      const dir = uploadPartsDir(uploadId);
      const bytes = await sizeOfTree(dir);
      await rm(dir, { recursive: true, force: true });
      capacity.release(bytes);
    },

    async room(): Promise<number | null> {
      await capacity.ready();
      const free = await diskFree(root);
      const left = capacity.left();
      return left === null ? free : Math.min(left, free);
    },

    async *listBlobs(modifiedBefore: Date): AsyncIterable<string> {
      const cutoff = modifiedBefore.getTime();
      for (const first of await namesIn(objectsDir)) {
        for (const second of await namesIn(join(objectsDir, first))) {
          const dir = join(objectsDir, first, second);
          for (const name of await namesIn(dir)) {
            // Only files at their own sharded path are blobs; anything else is not ours to list.
            if (!ID_PATTERN.test(name) || objectPath(name) !== join(dir, name)) continue;
            const info = await lstat(join(dir, name)).catch(() => null);
            if (info?.isFile() && info.mtimeMs < cutoff) yield name;
          }
        }
      }
    },

    sweepTemporary(olderThanMs: number): Promise<number> {
      return removeTemporary(Date.now() - olderThanMs);
    },

    clearTemporary(): Promise<number> {
      return removeTemporary(Infinity);
    },
  };
}
