// Streaming file encryption: the STREAM construction over AES-256-GCM, constant memory for any file size.
import { type Bytes, concatBytes, constantTimeEqual, lengthPrefixed, randomBytes, utf8 } from './bytes';
import { DecryptionError, IntegrityError, UnsupportedVersionError } from './errors';
import { GCM_TAG_BYTES } from './envelope';
import { HKDF_LABEL, hkdfAesGcmKey, hkdfBytes } from './kdf';
import type { SecretKey } from './keys';

/**
 * Encrypted file, version 1 (offsets in bytes):
 *
 *   header (56 bytes)
 *     0..3    magic "KLSF"
 *     4       version = 0x01
 *     5       log2 of the plaintext chunk size (16 = 64 KiB; accepted 12..24)
 *     6..7    reserved, zero
 *     8..23   nonce: 16 fresh random bytes per encryption
 *     24..55  commitment = HKDF(fileKey, salt = nonce, info = "kluis/v1/file-commit", 32)
 *   chunks: AES-256-GCM(payloadKey, iv_i, chunk_i, aad) = ciphertext || 16-byte tag, where
 *     payloadKey = HKDF(fileKey, salt = nonce, info = "kluis/v1/file-payload")
 *     iv_i       = 0x000000 || uint64be(i) || lastFlag (0x01 on the final chunk, else 0x00)
 *     aad        = header || "kluis/v1/file" || lp(id) || lp(owner)
 *
 * Every chunk but the last holds exactly one full chunk of plaintext; the last holds 0..chunk bytes
 * and is empty only for an empty file. This is the STREAM construction (Hoang, Reyhanitabar,
 * Rogaway, Vizár, CRYPTO 2015) as used by age and Tink: reordering, dropping or duplicating chunks
 * changes an IV and fails authentication; truncation removes the final flag; extension leaves data
 * after the final chunk. A fresh nonce gives a fresh payload key even if a file key were reused.
 */
export const FILE_VERSION = 1;
export const FILE_MAGIC = utf8('KLSF');
export const FILE_HEADER_BYTES = 56;
export const FILE_CHUNK_LOG2 = 16;
export const FILE_CHUNK_BYTES = 1 << FILE_CHUNK_LOG2;
const MIN_CHUNK_LOG2 = 12;
const MAX_CHUNK_LOG2 = 24;
const NONCE_OFFSET = 8;
const COMMITMENT_OFFSET = 24;
/** Chunks encrypted concurrently by the stream transforms (WebCrypto calls run off the JS thread). */
const DEFAULT_PIPELINE_DEPTH = 4;
/** Decrypted chunks buffered ahead of the reader (chunks of 64 KiB: 1 MiB). */
const DEFAULT_READ_AHEAD = 16;

/** Where a file belongs; bound into every chunk's associated data. */
export interface FileContext {
  /** Document version id (or upload id) the content belongs to. */
  readonly id: string;
  /** Space (or user) id that owns it. */
  readonly owner: string;
}

function fileAad(header: Bytes, ctx: FileContext): Bytes {
  return concatBytes(header, utf8('kluis/v1/file'), lengthPrefixed(ctx.id), lengthPrefixed(ctx.owner));
}

function chunkIv(index: number, last: boolean): Bytes {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('chunk index out of range');
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(3, BigInt(index), false);
  iv[11] = last ? 1 : 0;
  return iv;
}

/** The file subkeys are derived from the key alone, so the purpose is checked here instead of mixed in. */
function assertFileKey(key: SecretKey): void {
  if (key.purpose !== 'file') throw new TypeError(`a ${key.purpose} key cannot encrypt file content`);
}

async function deriveFileKeys(key: SecretKey<'file'>, nonce: Bytes) {
  const [payload, commitment] = await Promise.all([
    hkdfAesGcmKey(key.base, nonce, HKDF_LABEL.filePayload),
    hkdfBytes(key.base, nonce, HKDF_LABEL.fileCommit, 32),
  ]);
  return { payload, commitment };
}

/** Ciphertext size of a plaintext of `plainSize` bytes (for progress bars and upload sizing). */
export function encryptedFileSize(plainSize: number, chunkBytes = FILE_CHUNK_BYTES): number {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) throw new RangeError('a size is a whole number of bytes');
  const chunks = Math.max(1, Math.ceil(plainSize / chunkBytes));
  return FILE_HEADER_BYTES + plainSize + chunks * GCM_TAG_BYTES;
}

/** Plaintext size of a well-formed ciphertext of `cipherSize` bytes; IntegrityError if impossible. */
export function plaintextFileSize(cipherSize: number, chunkBytes = FILE_CHUNK_BYTES): number {
  if (!Number.isSafeInteger(cipherSize) || cipherSize < 0) throw new IntegrityError('malformed');
  const body = cipherSize - FILE_HEADER_BYTES;
  if (body < GCM_TAG_BYTES) throw new IntegrityError('truncated');
  const fullChunk = chunkBytes + GCM_TAG_BYTES;
  const full = Math.floor(body / fullChunk);
  const rest = body - full * fullChunk;
  if (rest === 0) return full * chunkBytes; // the final chunk is a full one
  // 1..15 spare bytes cannot be a chunk; a bare tag after full chunks would be an empty final chunk.
  if (rest < GCM_TAG_BYTES || (rest === GCM_TAG_BYTES && full > 0)) throw new IntegrityError('malformed');
  return full * chunkBytes + rest - GCM_TAG_BYTES;
}

/** Encrypts chunks of one file. Chunks may be encrypted in any order (for parallel or resumed uploads). */
export class FileEncryptor {
  private constructor(
    readonly header: Bytes,
    readonly chunkBytes: number,
    private readonly payload: CryptoKey,
    private readonly aad: Bytes,
  ) {}

  static async create(key: SecretKey<'file'>, ctx: FileContext): Promise<FileEncryptor> {
    assertFileKey(key);
    const nonce = randomBytes(16);
    const { payload, commitment } = await deriveFileKeys(key, nonce);
    const header = concatBytes(FILE_MAGIC, Uint8Array.of(FILE_VERSION, FILE_CHUNK_LOG2, 0, 0), nonce, commitment);
    return new FileEncryptor(header, FILE_CHUNK_BYTES, payload, fileAad(header, ctx));
  }

  /**
   * Encrypts chunk `index`. WARNING: a given index must always be encrypted with the same plaintext
   * (re-encrypting it after a dropped connection is fine, changing its content is IV reuse).
   */
  async encryptChunk(index: number, plaintext: Uint8Array, last: boolean): Promise<Bytes> {
    if (plaintext.length > this.chunkBytes || (!last && plaintext.length !== this.chunkBytes)) {
      throw new RangeError('only the final chunk may be shorter than the chunk size');
    }
    if (last && plaintext.length === 0 && index !== 0) throw new RangeError('an empty final chunk is only for empty files');
    const ciphertext = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: chunkIv(index, last), additionalData: this.aad, tagLength: 128 },
      this.payload,
      plaintext as Bytes,
    );
    return new Uint8Array(ciphertext);
  }
}

/** Decrypts chunks of one file after checking that the header commits to the given key. */
export class FileDecryptor {
  private constructor(
    readonly chunkBytes: number,
    private readonly payload: CryptoKey,
    private readonly aad: Bytes,
  ) {}

  /**
   * @throws UnsupportedVersionError for unknown versions, IntegrityError for a malformed header,
   *   DecryptionError when the header does not commit to `key` (wrong key, or an altered header).
   */
  static async open(key: SecretKey<'file'>, header: Uint8Array, ctx: FileContext): Promise<FileDecryptor> {
    assertFileKey(key);
    if (header.length < FILE_HEADER_BYTES) throw new IntegrityError('truncated');
    if (!constantTimeEqual(header.subarray(0, 4), FILE_MAGIC)) throw new IntegrityError('malformed');
    if (header[4] !== FILE_VERSION) throw new UnsupportedVersionError('file', header[4]!);
    const log2 = header[5]!;
    if (log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2 || header[6] !== 0 || header[7] !== 0) {
      throw new IntegrityError('malformed');
    }
    const exact = header.slice(0, FILE_HEADER_BYTES);
    const { payload, commitment } = await deriveFileKeys(key, exact.slice(NONCE_OFFSET, COMMITMENT_OFFSET));
    if (!constantTimeEqual(exact.subarray(COMMITMENT_OFFSET), commitment)) throw new DecryptionError();
    return new FileDecryptor(1 << log2, payload, fileAad(exact, ctx));
  }

  async decryptChunk(index: number, ciphertext: Uint8Array, last: boolean): Promise<Bytes> {
    if (ciphertext.length < GCM_TAG_BYTES || ciphertext.length > this.chunkBytes + GCM_TAG_BYTES) {
      throw new IntegrityError('malformed');
    }
    let plaintext: ArrayBuffer;
    try {
      plaintext = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: chunkIv(index, last), additionalData: this.aad, tagLength: 128 },
        this.payload,
        ciphertext as Bytes,
      );
    } catch {
      throw new IntegrityError('authentication_failed');
    }
    if (last && plaintext.byteLength === 0 && index !== 0) throw new IntegrityError('empty_final_chunk');
    if (!last && plaintext.byteLength !== this.chunkBytes) throw new IntegrityError('malformed');
    return new Uint8Array(plaintext);
  }
}

/**
 * A FIFO of byte pieces from which exact-size blocks are cut without quadratic copying.
 * Pieces are held by reference until cut: producers must not reuse a buffer after writing it
 * (browser and Node streams never do).
 */
class ByteQueue {
  private pieces: Uint8Array[] = [];
  private head = 0;
  length = 0;

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.length += piece.length;
  }

  /** Removes and returns exactly `size` bytes (size <= length). */
  take(size: number): Bytes {
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const piece = this.pieces[0]!;
      const available = piece.length - this.head;
      const n = Math.min(available, size - filled);
      out.set(piece.subarray(this.head, this.head + n), filled);
      filled += n;
      this.head += n;
      if (this.head === piece.length) {
        this.pieces.shift();
        this.head = 0;
      }
    }
    this.length -= size;
    return out;
  }
}

/** Keeps up to `depth` chunk operations in flight and emits their results in order. */
class OrderedPipeline {
  private readonly inFlight: Promise<Bytes>[] = [];
  constructor(private readonly depth: number) {}

  async add(job: Promise<Bytes>, controller: TransformStreamDefaultController<Bytes>): Promise<void> {
    job.catch(() => undefined); // rejection is observed when awaited below, in order
    this.inFlight.push(job);
    if (this.inFlight.length >= this.depth) controller.enqueue(await this.inFlight.shift()!);
  }

  async drain(controller: TransformStreamDefaultController<Bytes>): Promise<void> {
    while (this.inFlight.length > 0) controller.enqueue(await this.inFlight.shift()!);
  }
}

/**
 * A transform from plaintext bytes to the encrypted file format (header first). Memory stays
 * bounded by a few chunks whatever the file size.
 */
export function encryptFileStream(
  key: SecretKey<'file'>,
  ctx: FileContext,
  options: { pipelineDepth?: number } = {},
): TransformStream<Uint8Array, Bytes> {
  const queue = new ByteQueue();
  const pipeline = new OrderedPipeline(options.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH);
  let encryptor: FileEncryptor;
  let index = 0;
  return new TransformStream<Uint8Array, Bytes>({
    async start(controller) {
      encryptor = await FileEncryptor.create(key, ctx);
      controller.enqueue(encryptor.header);
    },
    async transform(piece, controller) {
      queue.push(piece);
      // Strictly more than one chunk buffered: the chunk we cut now is certainly not the last.
      while (queue.length > encryptor.chunkBytes) {
        await pipeline.add(encryptor.encryptChunk(index++, queue.take(encryptor.chunkBytes), false), controller);
      }
    },
    async flush(controller) {
      await pipeline.add(encryptor.encryptChunk(index++, queue.take(queue.length), true), controller);
      await pipeline.drain(controller);
    },
  });
}

/** Thrown when a file changed size while it was being encrypted (it was edited or replaced on disk). */
export class SourceChangedError extends Error {
  override readonly name = 'SourceChangedError';
  constructor() {
    super('The file changed while it was being read.');
  }
}

/**
 * Encrypts a Blob (a File) into the file format, cut into parts of exactly `partBytes` ciphertext
 * bytes (the last one shorter), each part as the list of pieces it is made of (to hash and to wrap
 * in a Blob without another copy). Reads `readBytes` of plaintext at a time with one Blob read
 * (prefetching the next), and encrypts every chunk of a read concurrently: in Chromium this is
 * several times faster than `blob.stream()` through encryptFileStream, whose per-chunk stream
 * hops dominate (README "Benchmarks", files group). Memory: about two reads and one part.
 */
export async function* encryptBlobParts(
  key: SecretKey<'file'>,
  ctx: FileContext,
  blob: Blob,
  partBytes: number,
  options: { readBytes?: number } = {},
): AsyncGenerator<Bytes[]> {
  if (!Number.isSafeInteger(partBytes) || partBytes < 1) throw new RangeError('a part is at least one byte');
  const encryptor = await FileEncryptor.create(key, ctx);
  const chunk = encryptor.chunkBytes;
  const size = blob.size;
  const chunksPerRead = Math.max(1, Math.floor((options.readBytes ?? 8 * 1024 * 1024) / chunk));
  const totalChunks = Math.max(1, Math.ceil(size / chunk));

  let pieces: Bytes[] = [];
  let filled = 0;
  const ready: Bytes[][] = [];
  const write = (bytes: Bytes): void => {
    let offset = 0;
    while (offset < bytes.length) {
      const n = Math.min(partBytes - filled, bytes.length - offset);
      pieces.push(offset === 0 && n === bytes.length ? bytes : bytes.subarray(offset, offset + n));
      filled += n;
      offset += n;
      if (filled === partBytes) {
        ready.push(pieces);
        pieces = [];
        filled = 0;
      }
    }
  };

  const read = async (first: number): Promise<Bytes> => {
    const start = first * chunk;
    const end = Math.min(size, (first + chunksPerRead) * chunk);
    const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
    if (bytes.length !== end - start) throw new SourceChangedError();
    return bytes;
  };

  write(encryptor.header);
  let next: Promise<Bytes> | null = read(0);
  for (let first = 0; first < totalChunks; first += chunksPerRead) {
    const plaintext: Bytes = await next!;
    const after = first + chunksPerRead;
    next = after < totalChunks ? read(after) : null;
    // An unobserved prefetch failure is reported when it is awaited, on the next round.
    next?.catch(() => undefined);
    const count = Math.min(chunksPerRead, totalChunks - first);
    const jobs: Promise<Bytes>[] = [];
    for (let i = 0; i < count; i++) {
      const index = first + i;
      jobs.push(encryptor.encryptChunk(index, plaintext.subarray(i * chunk, Math.min(plaintext.length, (i + 1) * chunk)), index === totalChunks - 1));
    }
    for (const job of jobs) job.catch(() => undefined);
    for (const job of jobs) {
      write(await job);
      while (ready.length > 0) yield ready.shift()!;
    }
  }
  if (filled > 0) yield pieces;
}

/**
 * A transform from the encrypted file format to plaintext. It errors (and so fails a download) on
 * any alteration, truncation or trailing data; plaintext of a chunk is emitted only after that
 * chunk authenticated, and the stream only closes normally after the final chunk authenticated.
 */
export function decryptFileStream(
  key: SecretKey<'file'>,
  ctx: FileContext,
  options: { pipelineDepth?: number; readAhead?: number } = {},
): TransformStream<Uint8Array, Bytes> {
  const queue = new ByteQueue();
  const pipeline = new OrderedPipeline(options.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH);
  let decryptor: FileDecryptor | undefined;
  let index = 0;
  return new TransformStream<Uint8Array, Bytes>(
    {
      async transform(piece, controller) {
        queue.push(piece);
        if (!decryptor) {
          if (queue.length < FILE_HEADER_BYTES) return;
          decryptor = await FileDecryptor.open(key, queue.take(FILE_HEADER_BYTES), ctx);
        }
        const fullChunk = decryptor.chunkBytes + GCM_TAG_BYTES;
        while (queue.length > fullChunk) {
          await pipeline.add(decryptor.decryptChunk(index++, queue.take(fullChunk), false), controller);
        }
      },
      async flush(controller) {
        if (!decryptor) throw new IntegrityError('truncated');
        // Chunks still in flight report first: bytes appended to a file of whole chunks make its last
        // chunk fail as a middle chunk (authentication_failed), which is the true cause.
        await pipeline.drain(controller);
        if (queue.length < GCM_TAG_BYTES) throw new IntegrityError('truncated');
        await pipeline.add(decryptor.decryptChunk(index++, queue.take(queue.length), true), controller);
        await pipeline.drain(controller);
      },
    },
    undefined,
    // Decrypted chunks may run ahead of a slow reader by this many (1 MiB by default), so network,
    // decryption and the consumer overlap instead of taking turns.
    { highWaterMark: options.readAhead ?? DEFAULT_READ_AHEAD },
  );
}
