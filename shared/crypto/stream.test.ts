// The STREAM file format: round trips in any piece size, the documented layout, and every way a file can be damaged.
import { describe, expect, it } from 'vitest';
import { type Bytes, concatBytes, toHex } from './bytes';
import { GCM_TAG_BYTES } from './envelope';
import {
  DecryptionError,
  IntegrityError,
  type IntegrityReason,
  UnsupportedVersionError,
} from './errors';
import { type SecretKey, generateSecretKey } from './keys';
import {
  FILE_CHUNK_BYTES,
  FILE_HEADER_BYTES,
  type FileContext,
  FileDecryptor,
  FileEncryptor,
  SourceChangedError,
  decryptFileStream,
  encryptBlobParts,
  encryptFileStream,
  encryptedFileSize,
  plaintextFileSize,
} from './stream';

const CHUNK = FILE_CHUNK_BYTES;
const SEALED_CHUNK = FILE_CHUNK_BYTES + GCM_TAG_BYTES;
const ctx: FileContext = { id: 'docv_1', owner: 'space_1' };

// ---------------------------------------------------------------------------------------------
// Helpers: feeding streams in pieces, draining them, splitting ciphertexts.
// ---------------------------------------------------------------------------------------------

/** Deterministic piece sizes in 1..max (xorshift32), so every failure is reproducible. */
function unevenSizes(seed: number, max: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return 1 + (state % max);
  };
}

type Feeding = (data: Bytes) => Uint8Array[];

/** Views (not copies) into `data`, so the code under test must respect byteOffset. */
function cut(data: Bytes, nextSize: () => number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < data.length;) {
    const size = nextSize();
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

const feedings: Record<string, Feeding> = {
  'one huge piece': (data) => (data.length === 0 ? [] : [data]),
  'uneven pieces': (data) => cut(data, unevenSizes(data.length + 7, 40_000)),
  'small uneven pieces': (data) => cut(data, unevenSizes(data.length + 11, 700)),
  'chunk-sized pieces': (data) => cut(data, () => CHUNK),
};

function sourceOf(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[next++];
      if (piece === undefined) controller.close();
      else controller.enqueue(piece);
    },
  });
}

interface Drained {
  /** Everything the stream emitted before it closed or errored. */
  readonly bytes: Bytes;
  /** True only if the stream closed normally. */
  readonly closed: boolean;
  readonly error: unknown;
}

async function drain(readable: ReadableStream<Uint8Array>): Promise<Drained> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: concatBytes(...parts), closed: true, error: undefined };
      parts.push(value);
    }
  } catch (error) {
    return { bytes: concatBytes(...parts), closed: false, error };
  }
}

async function encryptFile(
  key: SecretKey<'file'>,
  plaintext: Bytes,
  options: { feeding?: Feeding; context?: FileContext; pipelineDepth?: number } = {},
): Promise<Bytes> {
  const pieces = (options.feeding ?? feedings['one huge piece']!)(plaintext);
  const streamOptions =
    options.pipelineDepth === undefined ? {} : { pipelineDepth: options.pipelineDepth };
  const result = await drain(
    sourceOf(pieces).pipeThrough(encryptFileStream(key, options.context ?? ctx, streamOptions)),
  );
  if (!result.closed) throw result.error;
  return result.bytes;
}

function decryptFile(
  key: SecretKey<'file'>,
  ciphertext: Bytes,
  options: { feeding?: Feeding; context?: FileContext; pipelineDepth?: number } = {},
): Promise<Drained> {
  const pieces = (options.feeding ?? feedings['one huge piece']!)(ciphertext);
  const streamOptions =
    options.pipelineDepth === undefined ? {} : { pipelineDepth: options.pipelineDepth };
  return drain(
    sourceOf(pieces).pipeThrough(decryptFileStream(key, options.context ?? ctx, streamOptions)),
  );
}

/** Deterministic, incompressible-looking plaintext. */
function patterned(size: number, seed = 1): Bytes {
  const next = unevenSizes(seed, 256);
  return Uint8Array.from({ length: size }, () => next() - 1);
}

function splitCiphertext(ciphertext: Bytes): { header: Bytes; chunks: Bytes[] } {
  const header = ciphertext.slice(0, FILE_HEADER_BYTES);
  const chunks: Bytes[] = [];
  for (let offset = FILE_HEADER_BYTES; offset < ciphertext.length; offset += SEALED_CHUNK) {
    chunks.push(ciphertext.slice(offset, offset + SEALED_CHUNK));
  }
  return { header, chunks };
}

function join(header: Uint8Array, chunks: readonly Uint8Array[]): Bytes {
  return concatBytes(header, ...chunks);
}

function flipBit(data: Bytes, byte: number, bit = 0): Bytes {
  const out = data.slice();
  out[byte]! ^= 1 << bit;
  return out;
}

/** A four-chunk file: three full chunks and a final chunk of 123 bytes. */
async function fourChunkFile() {
  const key = await generateSecretKey('file');
  const plaintext = patterned(3 * CHUNK + 123);
  const ciphertext = await encryptFile(key, plaintext);
  return { key, plaintext, ciphertext };
}

/**
 * Decrypts `ciphertext` fed as one piece and in uneven pieces; each time the stream must error
 * (never close normally) with exactly the expected error, and emit only a prefix of authentic plaintext.
 */
async function expectDecryptToFail(
  key: SecretKey<'file'>,
  ciphertext: Bytes,
  check: (error: unknown) => void,
  options: { context?: FileContext; plaintext?: Bytes } = {},
): Promise<void> {
  for (const name of ['one huge piece', 'uneven pieces'] as const) {
    const result = await decryptFile(key, ciphertext, {
      feeding: feedings[name]!,
      context: options.context ?? ctx,
    });
    expect(result.closed, `${name}: the stream must error, not close`).toBe(false);
    check(result.error);
    if (options.plaintext) {
      expect(result.bytes.length % CHUNK, `${name}: only whole authenticated chunks`).toBe(0);
      expect(toHex(result.bytes), name).toBe(
        toHex(options.plaintext.subarray(0, result.bytes.length)),
      );
    } else {
      expect(result.bytes.length, name).toBe(0);
    }
  }
}

function integrity(reason: IntegrityReason): (error: unknown) => void {
  return (error) => {
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).reason).toBe(reason);
    expect((error as IntegrityError).code).toBe('integrity');
  };
}

function wrongKey(error: unknown): void {
  expect(error).toBeInstanceOf(DecryptionError);
  expect((error as DecryptionError).code).toBe('wrong_key');
}

function unsupportedVersion(version: number): (error: unknown) => void {
  return (error) => {
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect((error as UnsupportedVersionError).format).toBe('file');
    expect((error as UnsupportedVersionError).version).toBe(version);
  };
}

// ---------------------------------------------------------------------------------------------
// An independent implementation of the layout documented in stream.ts, straight on crypto.subtle.
// It proves the code matches its documentation and lets us craft files the encryptor refuses to make.
// ---------------------------------------------------------------------------------------------

const text = new TextEncoder();

function u32be(n: number): Bytes {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

function referenceAad(header: Uint8Array, context: FileContext): Bytes {
  const id = text.encode(context.id);
  const owner = text.encode(context.owner);
  return concatBytes(
    header,
    text.encode('kluis/v1/file'),
    u32be(id.length),
    id,
    u32be(owner.length),
    owner,
  );
}

function referenceIv(index: number, last: boolean): Bytes {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(3, BigInt(index), false);
  iv[11] = last ? 1 : 0;
  return iv;
}

async function referenceFileKeys(rawKey: Bytes, nonce: Bytes) {
  const base = await crypto.subtle.importKey('raw', rawKey, 'HKDF', false, [
    'deriveBits',
    'deriveKey',
  ]);
  const hkdf = (info: string) => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: nonce,
    info: text.encode(info),
  });
  const payload = await crypto.subtle.deriveKey(
    hkdf('kluis/v1/file-payload'),
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  const commitment = new Uint8Array(
    await crypto.subtle.deriveBits(hkdf('kluis/v1/file-commit'), base, 256),
  );
  return { payload, commitment };
}

async function referenceEncryptFile(
  rawKey: Bytes,
  context: FileContext,
  chunks: readonly { plaintext: Bytes; last: boolean }[],
  log2 = 16,
): Promise<Bytes> {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const { payload, commitment } = await referenceFileKeys(rawKey, nonce);
  const header = concatBytes(text.encode('KLSF'), Uint8Array.of(1, log2, 0, 0), nonce, commitment);
  const aad = referenceAad(header, context);
  const sealed = await Promise.all(
    chunks.map(
      async ({ plaintext, last }, index) =>
        new Uint8Array(
          await crypto.subtle.encrypt(
            { name: 'AES-GCM', iv: referenceIv(index, last), additionalData: aad, tagLength: 128 },
            payload,
            plaintext,
          ),
        ),
    ),
  );
  return concatBytes(header, ...sealed);
}

async function referenceDecryptFile(
  rawKey: Bytes,
  context: FileContext,
  ciphertext: Bytes,
): Promise<Bytes> {
  const header = ciphertext.slice(0, 56);
  expect(toHex(header.subarray(0, 8))).toBe(
    toHex(concatBytes(text.encode('KLSF'), Uint8Array.of(1, 16, 0, 0))),
  );
  const { payload, commitment } = await referenceFileKeys(rawKey, header.slice(8, 24));
  expect(toHex(header.subarray(24, 56))).toBe(toHex(commitment));
  const aad = referenceAad(header, context);
  const body = ciphertext.subarray(56);
  const count = Math.max(1, Math.ceil(body.length / SEALED_CHUNK));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const sealed = body.slice(i * SEALED_CHUNK, Math.min(body.length, (i + 1) * SEALED_CHUNK));
    const iv = referenceIv(i, i === count - 1);
    out.push(
      new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 },
          payload,
          sealed,
        ),
      ),
    );
  }
  return concatBytes(...out);
}

// ---------------------------------------------------------------------------------------------

describe('encryptFileStream / decryptFileStream round trips', () => {
  const sizes = [0, 1, 65535, 65536, 65537, 3 * 65536 + 123];
  const cases = sizes.flatMap((size) =>
    Object.keys(feedings).map((feeding) => [size, feeding] as const),
  );

  it.each(cases)('%i bytes fed as %s', async (size, feeding) => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(size, size + 3);
    const ciphertext = await encryptFile(key, plaintext, { feeding: feedings[feeding]! });
    expect(ciphertext.length).toBe(encryptedFileSize(size));
    expect(plaintextFileSize(ciphertext.length)).toBe(size);
    const result = await decryptFile(key, ciphertext, { feeding: feedings[feeding]! });
    expect(result.error).toBeUndefined();
    expect(result.closed).toBe(true);
    expect(result.bytes.length).toBe(size);
    expect(toHex(result.bytes)).toBe(toHex(plaintext));
  });

  it.each([0, 1, 1000])('%i bytes fed one byte at a time, both ways', async (size) => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(size, 99);
    const oneByte: Feeding = (data) => cut(data, () => 1);
    const ciphertext = await encryptFile(key, plaintext, { feeding: oneByte });
    expect(ciphertext.length).toBe(encryptedFileSize(size));
    const result = await decryptFile(key, ciphertext, { feeding: oneByte });
    expect(result.closed).toBe(true);
    expect(toHex(result.bytes)).toBe(toHex(plaintext));
  });

  it.each([1, 2, 16])('round-trips with pipeline depth %i', async (pipelineDepth) => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(5 * CHUNK + 9, pipelineDepth);
    const ciphertext = await encryptFile(key, plaintext, {
      pipelineDepth,
      feeding: feedings['uneven pieces']!,
    });
    const result = await decryptFile(key, ciphertext, {
      pipelineDepth,
      feeding: feedings['small uneven pieces']!,
    });
    expect(result.closed).toBe(true);
    expect(toHex(result.bytes)).toBe(toHex(plaintext));
  });

  it('uses a fresh nonce: the same plaintext under the same key encrypts differently', async () => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(CHUNK + 10);
    const a = await encryptFile(key, plaintext);
    const b = await encryptFile(key, plaintext);
    expect(toHex(a.subarray(8, 24))).not.toBe(toHex(b.subarray(8, 24)));
    expect(toHex(a.subarray(24, 56))).not.toBe(toHex(b.subarray(24, 56)));
    const [chunkA, chunkB] = [splitCiphertext(a).chunks[0]!, splitCiphertext(b).chunks[0]!];
    expect(toHex(chunkA)).not.toBe(toHex(chunkB));
    expect(toHex((await decryptFile(key, b)).bytes)).toBe(toHex(plaintext));
  });
});

describe('encryptBlobParts (uploads: a Blob read in large slices, cut into parts)', () => {
  async function partsOf(key: SecretKey<'file'>, blob: Blob, partBytes: number, readBytes?: number): Promise<Bytes[]> {
    const parts: Bytes[] = [];
    for await (const pieces of encryptBlobParts(key, ctx, blob, partBytes, readBytes === undefined ? {} : { readBytes })) {
      parts.push(concatBytes(...pieces));
    }
    return parts;
  }

  const cases: [size: number, partBytes: number, readBytes: number][] = [
    [0, 1000, CHUNK],
    [1, 7, CHUNK],
    [CHUNK - 1, 4096, CHUNK],
    [CHUNK, SEALED_CHUNK, CHUNK],
    [CHUNK + 1, 100_000, 3 * CHUNK],
    [5 * CHUNK + 777, 3 * CHUNK + 5, 2 * CHUNK],
    [9 * CHUNK, 1 << 20, 4 * CHUNK],
  ];

  it.each(cases)('%i bytes in parts of %i, read %i at a time, decrypt back exactly', async (size, partBytes, readBytes) => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(size, size + 11);
    const parts = await partsOf(key, new Blob([plaintext]), partBytes, readBytes);
    const total = encryptedFileSize(size);
    expect(parts.length).toBe(Math.ceil(total / partBytes));
    parts.slice(0, -1).forEach((part) => expect(part.length).toBe(partBytes));
    const ciphertext = concatBytes(...parts);
    expect(ciphertext.length).toBe(total);
    const result = await decryptFile(key, ciphertext);
    expect(result.error).toBeUndefined();
    expect(toHex(result.bytes)).toBe(toHex(plaintext));
  });

  it('is the same format encryptFileStream writes: its output decrypts chunk by chunk, and a swapped chunk fails', async () => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(3 * CHUNK, 5);
    const ciphertext = concatBytes(...(await partsOf(key, new Blob([plaintext]), 1 << 20)));
    const header = ciphertext.subarray(0, FILE_HEADER_BYTES);
    const decryptor = await FileDecryptor.open(key, header, ctx);
    const body = ciphertext.subarray(FILE_HEADER_BYTES);
    const second = await decryptor.decryptChunk(1, body.subarray(SEALED_CHUNK, 2 * SEALED_CHUNK), false);
    expect(toHex(second)).toBe(toHex(plaintext.subarray(CHUNK, 2 * CHUNK)));
    await expect(decryptor.decryptChunk(0, body.subarray(SEALED_CHUNK, 2 * SEALED_CHUNK), false)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('stops with SourceChangedError when the file is shorter than it said (changed on disk meanwhile)', async () => {
    const key = await generateSecretKey('file');
    // A Blob whose size claims more than its reads deliver, like a File truncated after it was chosen.
    class ShrunkBlob extends Blob {
      override get size(): number {
        return 6 * CHUNK;
      }
    }
    const shrunk = new ShrunkBlob([patterned(4 * CHUNK, 1)]);
    await expect(partsOf(key, shrunk, 1 << 20, 2 * CHUNK)).rejects.toBeInstanceOf(SourceChangedError);
  });
});

describe('the documented layout (checked by an independent implementation)', () => {
  it.each([0, 100, 65536, 3 * 65536 + 123])(
    'a reference decoder decrypts what encryptFileStream wrote (%i bytes)',
    async (size) => {
      const key = await generateSecretKey('file');
      const plaintext = patterned(size, 17);
      const ciphertext = await encryptFile(key, plaintext, { feeding: feedings['uneven pieces']! });
      expect(toHex(await referenceDecryptFile(key.rawBytes(), ctx, ciphertext))).toBe(
        toHex(plaintext),
      );
    },
  );

  it.each([
    ['64 KiB chunks', 16, 3 * 65536 + 5],
    ['4 KiB chunks (smallest accepted)', 12, 4 * 4096 + 77],
    ['4 KiB chunks, exact multiple', 12, 3 * 4096],
    ['16 MiB chunks (largest accepted)', 24, 70_000],
  ])('decryptFileStream reads a reference-made file with %s', async (_name, log2, size) => {
    const key = await generateSecretKey('file');
    const chunkBytes = 1 << log2;
    const plaintext = patterned(size, log2);
    const chunks: { plaintext: Bytes; last: boolean }[] = [];
    for (let offset = 0; offset === 0 || offset < size; offset += chunkBytes) {
      chunks.push({
        plaintext: plaintext.slice(offset, offset + chunkBytes),
        last: offset + chunkBytes >= size,
      });
    }
    const ciphertext = await referenceEncryptFile(key.rawBytes(), ctx, chunks, log2);
    expect(plaintextFileSize(ciphertext.length, chunkBytes)).toBe(size);
    const result = await decryptFile(key, ciphertext, { feeding: feedings['uneven pieces']! });
    expect(result.error).toBeUndefined();
    expect(result.closed).toBe(true);
    expect(toHex(result.bytes)).toBe(toHex(plaintext));
  });

  it('writes the documented header: magic, version, chunk size, zero reserved bytes', async () => {
    const key = await generateSecretKey('file');
    const ciphertext = await encryptFile(key, patterned(10));
    expect(toHex(ciphertext.subarray(0, 8))).toBe('4b4c534601100000');
    expect(FILE_HEADER_BYTES).toBe(56);
  });
});

describe('encryptedFileSize / plaintextFileSize', () => {
  it('inverts encryptedFileSize around every chunk boundary', () => {
    for (const chunks of [0, 1, 2, 3, 1000]) {
      for (const delta of [-17, -16, -15, -1, 0, 1, 15, 16, 17]) {
        const size = chunks * CHUNK + delta;
        if (size < 0) continue;
        expect(plaintextFileSize(encryptedFileSize(size)), `size ${size}`).toBe(size);
      }
    }
    expect(encryptedFileSize(0)).toBe(56 + 16);
    expect(encryptedFileSize(CHUNK)).toBe(56 + CHUNK + 16);
    expect(encryptedFileSize(CHUNK + 1)).toBe(56 + CHUNK + 1 + 32);
    expect(plaintextFileSize(encryptedFileSize(5000, 4096), 4096)).toBe(5000);
  });

  it.each([
    ['smaller than a header', 0, 'truncated'],
    ['a header and 15 bytes', 56 + 15, 'truncated'],
    ['negative', -1, 'malformed'],
    ['a full chunk and 1 spare byte', 56 + SEALED_CHUNK + 1, 'malformed'],
    ['a full chunk and 15 spare bytes', 56 + SEALED_CHUNK + 15, 'malformed'],
    ['a full chunk and a bare tag (an empty final chunk)', 56 + SEALED_CHUNK + 16, 'malformed'],
    ['three full chunks and a bare tag', 56 + 3 * SEALED_CHUNK + 16, 'malformed'],
  ] as const)('rejects %s', (_name, size, reason) => {
    expect(() => plaintextFileSize(size)).toThrow(IntegrityError);
    expect(() => plaintextFileSize(size)).toThrow(expect.objectContaining({ reason }));
  });

  // A ciphertext size comes from storage or a Content-Length header: fractional or non-finite
  // values are impossible sizes and must not turn into a NaN or fractional plaintext size.
  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a fractional size', 56 + 16 + 0.5],
    ['another fractional size', 100.5],
  ])('rejects %s', (_name, size) => {
    expect(() => plaintextFileSize(size)).toThrow(IntegrityError);
  });
});

describe('decryptFileStream rejects damaged files', () => {
  it('swapped chunks', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    const { header, chunks } = splitCiphertext(ciphertext);
    const swapped = join(header, [chunks[1]!, chunks[0]!, chunks[2]!, chunks[3]!]);
    await expectDecryptToFail(key, swapped, integrity('authentication_failed'), { plaintext });
  });

  it('a dropped middle chunk', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    const { header, chunks } = splitCiphertext(ciphertext);
    await expectDecryptToFail(
      key,
      join(header, [chunks[0]!, chunks[2]!, chunks[3]!]),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it('a duplicated chunk', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    const { header, chunks } = splitCiphertext(ciphertext);
    const duplicated = join(header, [chunks[0]!, chunks[1]!, chunks[1]!, chunks[2]!, chunks[3]!]);
    await expectDecryptToFail(key, duplicated, integrity('authentication_failed'), { plaintext });
  });

  it('the final chunk dropped (truncation at a chunk boundary)', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    const { header, chunks } = splitCiphertext(ciphertext);
    await expectDecryptToFail(
      key,
      join(header, chunks.slice(0, 3)),
      integrity('authentication_failed'),
      { plaintext },
    );
    await expectDecryptToFail(
      key,
      join(header, chunks.slice(0, 1)),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it('the final full chunk dropped from a file of whole chunks', async () => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(2 * CHUNK);
    const { header, chunks } = splitCiphertext(await encryptFile(key, plaintext));
    expect(chunks).toHaveLength(2);
    await expectDecryptToFail(
      key,
      join(header, chunks.slice(0, 1)),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it('truncation in the middle of a chunk', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    await expectDecryptToFail(
      key,
      ciphertext.slice(0, 56 + 2 * SEALED_CHUNK + 1000),
      integrity('authentication_failed'),
      { plaintext },
    );
    await expectDecryptToFail(
      key,
      ciphertext.slice(0, ciphertext.length - 1),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it('truncation leaving fewer than 16 bytes after a chunk boundary', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    await expectDecryptToFail(
      key,
      ciphertext.slice(0, 56 + SEALED_CHUNK + 10),
      integrity('truncated'),
      { plaintext },
    );
  });

  it('truncation inside the header', async () => {
    const { key, ciphertext } = await fourChunkFile();
    for (const length of [1, 4, 30, 55])
      await expectDecryptToFail(key, ciphertext.slice(0, length), integrity('truncated'));
  });

  it('a header with no chunk at all', async () => {
    const { key, ciphertext } = await fourChunkFile();
    await expectDecryptToFail(key, ciphertext.slice(0, FILE_HEADER_BYTES), integrity('truncated'));
    await expectDecryptToFail(
      key,
      ciphertext.slice(0, FILE_HEADER_BYTES + 15),
      integrity('truncated'),
    );
  });

  it('empty input', async () => {
    const key = await generateSecretKey('file');
    await expectDecryptToFail(key, new Uint8Array(0), integrity('truncated'));
  });

  it.each([1, 15, 16, 17, 1000])('%i extra bytes appended', async (extra) => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    await expectDecryptToFail(
      key,
      concatBytes(ciphertext, patterned(extra, extra)),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it('extra bytes appended to an empty file', async () => {
    const key = await generateSecretKey('file');
    const empty = await encryptFile(key, new Uint8Array(0));
    await expectDecryptToFail(
      key,
      concatBytes(empty, Uint8Array.of(0)),
      integrity('authentication_failed'),
    );
  });

  // The final chunk is a full one here, so the decryptor sees it as a middle chunk (which fails to
  // authenticate) followed by a few spare bytes. Either reason is true; "truncated" is not.
  it.each([1, 15])(
    '%i extra bytes appended to a file of whole chunks are not reported as truncation',
    async (extra) => {
      const key = await generateSecretKey('file');
      const plaintext = patterned(2 * CHUNK);
      const extended = concatBytes(await encryptFile(key, plaintext), new Uint8Array(extra));
      await expectDecryptToFail(
        key,
        extended,
        (error) => {
          expect(error).toBeInstanceOf(IntegrityError);
          expect(['authentication_failed', 'trailing_data']).toContain(
            (error as IntegrityError).reason,
          );
        },
        { plaintext },
      );
    },
  );

  it('an extra full chunk appended', async () => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(2 * CHUNK);
    const { header, chunks } = splitCiphertext(await encryptFile(key, plaintext));
    await expectDecryptToFail(
      key,
      join(header, [...chunks, chunks[0]!]),
      integrity('authentication_failed'),
      { plaintext },
    );
    await expectDecryptToFail(
      key,
      join(header, [...chunks, chunks[1]!]),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it.each([
    ['the nonce', 8],
    ['the nonce (last byte)', 23],
    ['the commitment', 24],
    ['the commitment (last byte)', 55],
  ])('a bit flipped in %s reads as the wrong key', async (_name, byte) => {
    const { key, ciphertext } = await fourChunkFile();
    for (const bit of [0, 7])
      await expectDecryptToFail(key, flipBit(ciphertext, byte, bit), wrongKey);
  });

  it('a bit flipped in a chunk body', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    await expectDecryptToFail(
      key,
      flipBit(ciphertext, 56 + 100),
      integrity('authentication_failed'),
      { plaintext },
    );
    await expectDecryptToFail(
      key,
      flipBit(ciphertext, 56 + 2 * SEALED_CHUNK + 5, 3),
      integrity('authentication_failed'),
      { plaintext },
    );
    await expectDecryptToFail(
      key,
      flipBit(ciphertext, 56 + 3 * SEALED_CHUNK, 6),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it('a bit flipped in a tag', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    await expectDecryptToFail(
      key,
      flipBit(ciphertext, 56 + SEALED_CHUNK - 1, 7),
      integrity('authentication_failed'),
      { plaintext },
    );
    await expectDecryptToFail(
      key,
      flipBit(ciphertext, ciphertext.length - 16),
      integrity('authentication_failed'),
      { plaintext },
    );
  });

  it('the wrong key', async () => {
    const { ciphertext } = await fourChunkFile();
    await expectDecryptToFail(await generateSecretKey('file'), ciphertext, wrongKey);
  });

  it.each([
    ['id', { id: 'docv_2', owner: 'space_1' }],
    ['owner', { id: 'docv_1', owner: 'space_2' }],
    ['field boundary', { id: 'docv_1s', owner: 'pace_1' }],
  ])('a file moved to another %s', async (_field, context) => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    await expectDecryptToFail(key, ciphertext, integrity('authentication_failed'), {
      context,
      plaintext,
    });
  });

  it.each([0, 2, 255])('unknown version %i', async (version) => {
    const { key, ciphertext } = await fourChunkFile();
    const other = ciphertext.slice();
    other[4] = version;
    await expectDecryptToFail(key, other, unsupportedVersion(version));
  });

  it.each(['KLSG', 'klsf', '\0\0\0\0'])('bad magic %j', async (magic) => {
    const { key, ciphertext } = await fourChunkFile();
    const other = ciphertext.slice();
    other.set(text.encode(magic), 0);
    await expectDecryptToFail(key, other, integrity('malformed'));
  });

  it.each([0, 11, 25, 255])('chunk-size byte %i (out of 12..24)', async (log2) => {
    const { key, ciphertext } = await fourChunkFile();
    const other = ciphertext.slice();
    other[5] = log2;
    await expectDecryptToFail(key, other, integrity('malformed'));
  });

  it.each([12, 17, 24])(
    'chunk-size byte changed to %i (in range, but bound by the associated data)',
    async (log2) => {
      const { key, ciphertext } = await fourChunkFile();
      const other = ciphertext.slice();
      other[5] = log2;
      await expectDecryptToFail(key, other, integrity('authentication_failed'));
    },
  );

  it.each([
    [6, 1],
    [7, 0x80],
  ])('non-zero reserved byte %i', async (byte, value) => {
    const { key, ciphertext } = await fourChunkFile();
    const other = ciphertext.slice();
    other[byte] = value;
    await expectDecryptToFail(key, other, integrity('malformed'));
  });

  it('an empty final chunk after full chunks (crafted with the documented key derivation)', async () => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(2 * CHUNK);
    const crafted = await referenceEncryptFile(key.rawBytes(), ctx, [
      { plaintext: plaintext.slice(0, CHUNK), last: false },
      { plaintext: plaintext.slice(CHUNK), last: false },
      { plaintext: new Uint8Array(0), last: true },
    ]);
    await expectDecryptToFail(key, crafted, integrity('empty_final_chunk'), { plaintext });
  });

  it('a short chunk that is not the final one (crafted)', async () => {
    const key = await generateSecretKey('file');
    const crafted = await referenceEncryptFile(key.rawBytes(), ctx, [
      { plaintext: patterned(100), last: false },
      { plaintext: patterned(100, 2), last: true },
    ]);
    const decryptor = await FileDecryptor.open(key, crafted.subarray(0, FILE_HEADER_BYTES), ctx);
    const first = crafted.slice(FILE_HEADER_BYTES, FILE_HEADER_BYTES + 116);
    await expect(decryptor.decryptChunk(0, first, false)).rejects.toSatisfy(
      (e) => e instanceof IntegrityError && e.reason === 'malformed',
    );
    // Through the stream the two short chunks read as one final chunk, which does not authenticate.
    await expectDecryptToFail(key, crafted, integrity('authentication_failed'));
  });
});

describe('decryptFileStream failure semantics (what download consumers rely on)', () => {
  it('emits no plaintext of a chunk that failed, nor of any chunk after it', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    for (const pipelineDepth of [1, 4, 16]) {
      for (const failing of [0, 1, 2]) {
        const tampered = flipBit(ciphertext, 56 + failing * SEALED_CHUNK + 7);
        const result = await decryptFile(key, tampered, {
          pipelineDepth,
          feeding: feedings['small uneven pieces']!,
        });
        expect(result.closed).toBe(false);
        integrity('authentication_failed')(result.error);
        expect(result.bytes.length, `depth ${pipelineDepth}, chunk ${failing}`).toBeLessThanOrEqual(
          failing * CHUNK,
        );
        expect(toHex(result.bytes)).toBe(toHex(plaintext.subarray(0, result.bytes.length)));
      }
    }
  });

  it('errors (never closes normally) when the final chunk is missing', async () => {
    const { key, plaintext, ciphertext } = await fourChunkFile();
    const { header, chunks } = splitCiphertext(ciphertext);
    const truncated = join(header, chunks.slice(0, 3));
    const result = await decryptFile(key, truncated, {
      pipelineDepth: 1,
      feeding: feedings['chunk-sized pieces']!,
    });
    expect(result.closed).toBe(false);
    integrity('authentication_failed')(result.error);
    expect(result.bytes.length).toBeLessThanOrEqual(2 * CHUNK);
    expect(toHex(result.bytes)).toBe(toHex(plaintext.subarray(0, result.bytes.length)));
  });

  it('aborts (never closes) a sink the output is piped to when the final chunk is missing', async () => {
    const { key, ciphertext } = await fourChunkFile();
    const { header, chunks } = splitCiphertext(ciphertext);
    let closed = false;
    let abortReason: unknown;
    const sink = new WritableStream<Uint8Array>({
      close() {
        closed = true;
      },
      abort(reason) {
        abortReason = reason;
      },
    });
    const piping = sourceOf([join(header, chunks.slice(0, 3))])
      .pipeThrough(decryptFileStream(key, ctx))
      .pipeTo(sink);
    await expect(piping).rejects.toBeInstanceOf(IntegrityError);
    expect(closed).toBe(false);
    expect(abortReason).toBeInstanceOf(IntegrityError);
  });
});

describe('FileEncryptor / FileDecryptor (chunk at a time, for resumable uploads)', () => {
  it('rejects a short chunk that is not final, and an oversized chunk', async () => {
    const encryptor = await FileEncryptor.create(await generateSecretKey('file'), ctx);
    await expect(encryptor.encryptChunk(0, new Uint8Array(CHUNK - 1), false)).rejects.toThrow(
      RangeError,
    );
    await expect(encryptor.encryptChunk(3, new Uint8Array(0), false)).rejects.toThrow(RangeError);
    await expect(encryptor.encryptChunk(0, new Uint8Array(CHUNK + 1), false)).rejects.toThrow(
      RangeError,
    );
    await expect(encryptor.encryptChunk(0, new Uint8Array(CHUNK + 1), true)).rejects.toThrow(
      RangeError,
    );
  });

  it('rejects an empty final chunk at an index above 0, and allows it at 0 (the empty file)', async () => {
    const key = await generateSecretKey('file');
    const encryptor = await FileEncryptor.create(key, ctx);
    await expect(encryptor.encryptChunk(1, new Uint8Array(0), true)).rejects.toThrow(RangeError);
    await expect(encryptor.encryptChunk(7, new Uint8Array(0), true)).rejects.toThrow(RangeError);
    const empty = await encryptor.encryptChunk(0, new Uint8Array(0), true);
    expect(empty.length).toBe(GCM_TAG_BYTES);
    const result = await decryptFile(key, concatBytes(encryptor.header, empty));
    expect(result.closed).toBe(true);
    expect(result.bytes.length).toBe(0);
  });

  it('rejects negative and fractional chunk indexes', async () => {
    const encryptor = await FileEncryptor.create(await generateSecretKey('file'), ctx);
    await expect(encryptor.encryptChunk(-1, new Uint8Array(10), true)).rejects.toThrow(RangeError);
    await expect(encryptor.encryptChunk(0.5, new Uint8Array(10), true)).rejects.toThrow(RangeError);
  });

  it('chunks encrypted out of order decrypt in order, and through the stream', async () => {
    const key = await generateSecretKey('file');
    const plaintext = patterned(3 * CHUNK + 42, 8);
    const encryptor = await FileEncryptor.create(key, ctx);
    const piece = (i: number) => plaintext.slice(i * CHUNK, (i + 1) * CHUNK);
    const sealed: Bytes[] = [];
    for (const i of [2, 0, 3, 1]) sealed[i] = await encryptor.encryptChunk(i, piece(i), i === 3);

    const decryptor = await FileDecryptor.open(key, encryptor.header, ctx);
    const opened = await Promise.all(
      sealed.map((chunk, i) => decryptor.decryptChunk(i, chunk, i === 3)),
    );
    expect(toHex(concatBytes(...opened))).toBe(toHex(plaintext));
    const result = await decryptFile(key, join(encryptor.header, sealed), {
      feeding: feedings['uneven pieces']!,
    });
    expect(result.closed).toBe(true);
    expect(toHex(result.bytes)).toBe(toHex(plaintext));
  });

  it('re-encrypting a chunk after a dropped connection gives the same bytes', async () => {
    const encryptor = await FileEncryptor.create(await generateSecretKey('file'), ctx);
    const chunk = patterned(CHUNK, 4);
    expect(toHex(await encryptor.encryptChunk(5, chunk, false))).toBe(
      toHex(await encryptor.encryptChunk(5, chunk, false)),
    );
  });

  it('a chunk decrypted at the wrong index or with the wrong final flag fails', async () => {
    const key = await generateSecretKey('file');
    const encryptor = await FileEncryptor.create(key, ctx);
    const decryptor = await FileDecryptor.open(key, encryptor.header, ctx);
    const full = await encryptor.encryptChunk(1, patterned(CHUNK), false);
    const isAuthFailure = (e: unknown) =>
      e instanceof IntegrityError && e.reason === 'authentication_failed';
    await expect(decryptor.decryptChunk(0, full, false)).rejects.toSatisfy(isAuthFailure);
    await expect(decryptor.decryptChunk(2, full, false)).rejects.toSatisfy(isAuthFailure);
    await expect(decryptor.decryptChunk(1, full, true)).rejects.toSatisfy(isAuthFailure);
    expect((await decryptor.decryptChunk(1, full, false)).length).toBe(CHUNK);
  });

  it('FileDecryptor rejects chunk ciphertexts of impossible length before decrypting', async () => {
    const key = await generateSecretKey('file');
    const encryptor = await FileEncryptor.create(key, ctx);
    const decryptor = await FileDecryptor.open(key, encryptor.header, ctx);
    const isMalformed = (e: unknown) => e instanceof IntegrityError && e.reason === 'malformed';
    await expect(decryptor.decryptChunk(0, new Uint8Array(15), true)).rejects.toSatisfy(
      isMalformed,
    );
    await expect(
      decryptor.decryptChunk(0, new Uint8Array(SEALED_CHUNK + 1), false),
    ).rejects.toSatisfy(isMalformed);
  });

  it('FileDecryptor.open rejects a short header as truncated and an empty final chunk after others', async () => {
    const key = await generateSecretKey('file');
    const encryptor = await FileEncryptor.create(key, ctx);
    await expect(FileDecryptor.open(key, encryptor.header.subarray(0, 55), ctx)).rejects.toSatisfy(
      (e) => e instanceof IntegrityError && e.reason === 'truncated',
    );
    const crafted = await referenceEncryptFile(key.rawBytes(), ctx, [
      { plaintext: patterned(CHUNK), last: false },
      { plaintext: new Uint8Array(0), last: true },
    ]);
    const decryptor = await FileDecryptor.open(key, crafted.subarray(0, FILE_HEADER_BYTES), ctx);
    await expect(
      decryptor.decryptChunk(1, crafted.slice(FILE_HEADER_BYTES + SEALED_CHUNK), true),
    ).rejects.toSatisfy((e) => e instanceof IntegrityError && e.reason === 'empty_final_chunk');
  });
});
