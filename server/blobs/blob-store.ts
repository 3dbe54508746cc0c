// The blob store contract: durable, streamed storage of ciphertext blobs and of upload parts (local disk now, S3 later).
import type { Readable } from 'node:stream';

/** Bytes `start` to `end`, both inclusive (as in HTTP Range and fs.createReadStream). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface StoredBlob {
  readonly id: string;
  readonly size: number;
  /** SHA-256 of the stored bytes, lower-case hex. */
  readonly sha256: string;
}

/** What a part must be: its length and SHA-256 (lower-case hex). */
export interface PartExpectation {
  readonly size: number;
  readonly sha256: string;
}

/** A part written to temporary storage: invisible until `commit`, gone after `discard`. */
export interface StagedPart {
  readonly size: number;
  /** Makes the part visible, durably, replacing an earlier copy of the same part. */
  commit(): Promise<void>;
  /** Deletes the temporary copy (harmless after commit or a second time). */
  discard(): Promise<void>;
}

/**
 * Every implementation streams: no method holds a whole blob or part in memory. Every write is
 * all or nothing: a failed or interrupted write leaves no partial blob or part behind, and a
 * resolved write has reached stable storage.
 */
export interface BlobStore {
  /** Stores `source` as a new blob with a random id. With `expectedSize`, any other length is refused. */
  put(source: AsyncIterable<Uint8Array>, options?: { readonly expectedSize?: number }): Promise<StoredBlob>;
  /** The blob's bytes, or the bytes of `range` (within the blob: check it against `size` first). */
  open(id: string, range?: ByteRange): Promise<Readable>;
  /** The blob's length in bytes. Throws BlobNotFoundError. */
  size(id: string): Promise<number>;
  /** Deletes the blob; deleting a missing blob is not an error. */
  delete(id: string): Promise<void>;

  /**
   * Writes part `partNumber` of upload `uploadId` to temporary storage; it must be exactly
   * `expected.size` bytes with the SHA-256 `expected.sha256` (else BlobLengthError /
   * BlobDigestMismatchError, and nothing is kept).
   */
  stagePart(
    uploadId: string,
    partNumber: number,
    source: AsyncIterable<Uint8Array>,
    expected: PartExpectation,
  ): Promise<StagedPart>;
  /**
   * Joins parts 0 … parts.length - 1 of `uploadId` into a new blob, which becomes visible only if
   * its length is `expected.size` (else BlobLengthError) and every part, read back while joining,
   * has the length and SHA-256 of `parts[n]` (else BlobDigestMismatchError naming the part): a part
   * file replaced without its digest record (a crash in between) never ends up in a blob.
   * The parts' room is moved to the blob: a join needs no room beyond what its parts hold.
   */
  composeParts(uploadId: string, parts: readonly PartExpectation[], expected: { readonly size: number }): Promise<StoredBlob>;
  /** Deletes every part of `uploadId` (harmless when there are none). */
  deleteParts(uploadId: string): Promise<void>;
  /**
   * Bytes that can still be written (what is left of the capacity, and of the disk), or null when
   * the store has no limit (the caller then checks nothing).
   */
  room(): Promise<number | null>;
  /** Ids of the stored blobs last written before `modifiedBefore`, in no particular order. */
  listBlobs(modifiedBefore: Date): AsyncIterable<string>;
  /** Deletes temporary files older than `olderThanMs` (left by a crash mid-write). Returns how many. */
  sweepTemporary(olderThanMs: number): Promise<number>;
  /**
   * Deletes every temporary file: at startup, before this process writes, whatever is there was
   * left by a process that ended mid-write. Returns how many.
   */
  clearTemporary(): Promise<number>;
}

/** The store's capacity (KLUIS_BLOB_CAPACITY_BYTES) or the disk is full. */
export class BlobStoreFullError extends Error {
  override readonly name = 'BlobStoreFullError';
}

export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
}

/** The data was longer or shorter than declared. `received` counts the bytes that came (at most expected + 1). */
export class BlobLengthError extends Error {
  override readonly name = 'BlobLengthError';
  constructor(
    readonly expected: number,
    readonly received: number,
  ) {
    super(`expected ${expected} bytes, received ${received > expected ? 'more' : received}`);
  }
}

/** The source stream failed (typically the client's connection dropped) after `received` bytes. */
export class BlobSourceError extends Error {
  override readonly name = 'BlobSourceError';
  constructor(
    readonly received: number,
    options: { readonly cause: unknown },
  ) {
    super(`the data stream failed after ${received} bytes`, options);
  }
}

export class BlobDigestMismatchError extends Error {
  override readonly name = 'BlobDigestMismatchError';
  constructor(
    message: string,
    /** The part that did not match (null for a whole blob). */
    readonly partNumber: number | null = null,
  ) {
    super(message);
  }
}
