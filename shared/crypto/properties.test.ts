// Property tests (fast-check): record and file round trips, and that garbage or a single flipped bit never decrypts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Bytes, concatBytes, toHex, utf8 } from './bytes';
import { RECORD_OVERHEAD_BYTES, type RecordContext } from './envelope';
import {
  DecryptionError,
  IntegrityError,
  KluisCryptoError,
  UnsupportedVersionError,
} from './errors';
import { type SecretKey, generateSecretKey, importSecretKey } from './keys';
import { decryptRecord, decryptRecordText, encryptRecord } from './record';
import {
  FILE_CHUNK_BYTES,
  FILE_HEADER_BYTES,
  type FileContext,
  FileEncryptor,
  decryptFileStream,
  encryptFileStream,
} from './stream';

const fileCtx: FileContext = { id: 'docv_1', owner: 'space_1' };
const recordCtx: RecordContext = { type: 'message', id: 'msg_1', owner: 'space_1' };

// Well-formed Unicode (astral planes included, no lone surrogates), short so runs stay fast.
const unicode = (maxLength = 40) => fc.string({ unit: 'binary', maxLength });
const contextArb = fc.record({ type: unicode(12), id: unicode(12), owner: unicode(12) });
const rawKeyArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** The error a promise rejects with; fails the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  expect(outcome.resolved, 'decryption must not succeed').toBe(false);
  return outcome.resolved ? undefined : outcome.error;
}

type ErrorShape =
  | { readonly class: typeof DecryptionError }
  | { readonly class: typeof UnsupportedVersionError; readonly version: number }
  | { readonly class: typeof IntegrityError; readonly reason: IntegrityError['reason'] };

function expectError(error: unknown, expected: ErrorShape): void {
  expect(error).toBeInstanceOf(KluisCryptoError);
  expect(error).toBeInstanceOf(expected.class);
  if ('reason' in expected) expect((error as IntegrityError).reason).toBe(expected.reason);
  if ('version' in expected)
    expect((error as UnsupportedVersionError).version).toBe(expected.version);
}

// ---------------------------------------------------------------------------------------------

interface Drained {
  readonly bytes: Bytes;
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

/** Cuts `data` at the given piece sizes (cycled); the pieces are views into `data`. */
function cut(data: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes.length === 0 ? data.length : sizes[i % sizes.length]!;
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

function streamOf(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
}

async function encryptFile(
  key: SecretKey<'file'>,
  plaintext: Uint8Array,
  pieceSizes: readonly number[] = [],
): Promise<Bytes> {
  const result = await drain(
    streamOf(cut(plaintext, pieceSizes)).pipeThrough(encryptFileStream(key, fileCtx)),
  );
  if (!result.closed) throw result.error;
  return result.bytes;
}

function decryptFile(
  key: SecretKey<'file'>,
  ciphertext: Uint8Array,
  pieceSizes: readonly number[] = [],
): Promise<Drained> {
  return drain(streamOf(cut(ciphertext, pieceSizes)).pipeThrough(decryptFileStream(key, fileCtx)));
}

/** Deterministic filler so large plaintexts need not be generated (and shrunk) byte by byte. */
function filled(size: number, seed: number): Bytes {
  const out = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** What the stream decryptor must report for bytes whose first 56 bytes are not a header for `key`. */
function expectedFileErrorWithoutValidHeader(bytes: Uint8Array): ErrorShape {
  if (bytes.length < FILE_HEADER_BYTES) return { class: IntegrityError, reason: 'truncated' };
  if (toHex(bytes.subarray(0, 4)) !== toHex(utf8('KLSF')))
    return { class: IntegrityError, reason: 'malformed' };
  if (bytes[4] !== 1) return { class: UnsupportedVersionError, version: bytes[4]! };
  const log2 = bytes[5]!;
  if (log2 < 12 || log2 > 24 || bytes[6] !== 0 || bytes[7] !== 0)
    return { class: IntegrityError, reason: 'malformed' };
  return { class: DecryptionError }; // a random commitment matches with probability 2^-256
}

/** What a file with one flipped bit in byte `byte` must fail with. */
function expectedFileErrorAfterFlip(tampered: Uint8Array, byte: number): ErrorShape {
  // WARNING: the header is bound as associated data, so an in-range chunk-size change must fail authentication.
  const log2 = tampered[5]!;
  if (byte >= FILE_HEADER_BYTES || (byte === 5 && log2 >= 12 && log2 <= 24)) {
    return { class: IntegrityError, reason: 'authentication_failed' };
  }
  return expectedFileErrorWithoutValidHeader(tampered);
}

// ---------------------------------------------------------------------------------------------

describe('records (property)', () => {
  it('round-trips arbitrary bytes and Unicode text under arbitrary keys and contexts', async () => {
    await fc.assert(
      fc.asyncProperty(
        rawKeyArb,
        fc.oneof(fc.uint8Array({ maxLength: 300 }), unicode(80)),
        contextArb,
        async (raw, plaintext, ctx) => {
          const key = await importSecretKey('space', raw);
          const envelope = await encryptRecord(key, plaintext, ctx);
          if (typeof plaintext === 'string') {
            expect(envelope.length).toBe(RECORD_OVERHEAD_BYTES + utf8(plaintext).length);
            expect(await decryptRecordText(key, envelope, ctx)).toBe(plaintext);
          } else {
            expect(envelope.length).toBe(RECORD_OVERHEAD_BYTES + plaintext.length);
            expect(toHex(await decryptRecord(key, envelope, ctx))).toBe(toHex(plaintext));
          }
        },
      ),
      {
        numRuns: 80,
        examples: [
          [new Uint8Array(32), '', { type: '', id: '', owner: '' }],
          [new Uint8Array(32).fill(255), '🌷𝄞😀 — Ĳ', { type: '𝄞', id: '🔑', owner: '\u{10FFFF}' }],
          [new Uint8Array(32).fill(7), new Uint8Array(0), { type: 'message', id: '\0', owner: '' }],
        ],
      },
    );
  });

  it('a record never decrypts under a different context', async () => {
    const key = await generateSecretKey('space');
    await fc.assert(
      fc.asyncProperty(contextArb, contextArb, unicode(20), async (ctx, other, plaintext) => {
        fc.pre(ctx.type !== other.type || ctx.id !== other.id || ctx.owner !== other.owner);
        const envelope = await encryptRecord(key, plaintext, ctx);
        expectError(await rejectionOf(decryptRecord(key, envelope, other)), {
          class: IntegrityError,
          reason: 'authentication_failed',
        });
      }),
      {
        numRuns: 60,
        examples: [
          [{ type: 'ab', id: 'c', owner: '' }, { type: 'a', id: 'bc', owner: '' }, 'x'],
          [{ type: '', id: '', owner: 'x' }, { type: '', id: 'x', owner: '' }, ''],
        ],
      },
    );
  });

  it('random bytes never decrypt as a record, and fail with exactly the expected error', async () => {
    const key = await generateSecretKey('space');
    const expected = (bytes: Uint8Array): ErrorShape => {
      if (bytes.length === 0) return { class: IntegrityError, reason: 'malformed' };
      if (bytes[0] !== 1) return { class: UnsupportedVersionError, version: bytes[0]! };
      if (bytes.length < RECORD_OVERHEAD_BYTES)
        return { class: IntegrityError, reason: 'truncated' };
      return { class: DecryptionError };
    };
    const garbage = fc.uint8Array({ maxLength: 200 });
    const versioned = garbage.map((tail) => concatBytes(Uint8Array.of(1), tail));
    await fc.assert(
      fc.asyncProperty(fc.oneof(garbage, versioned), async (bytes) => {
        expectError(await rejectionOf(decryptRecord(key, bytes, recordCtx)), expected(bytes));
      }),
      {
        numRuns: 300,
        examples: [
          [new Uint8Array(0)],
          [Uint8Array.of(1)],
          [new Uint8Array(RECORD_OVERHEAD_BYTES).fill(1)],
        ],
      },
    );
  });

  it('random bytes behind a valid version and key commitment fail authentication', async () => {
    const key = await generateSecretKey('space');
    const prefix = (await encryptRecord(key, '', recordCtx)).slice(0, 33);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 28, maxLength: 200 }), async (tail) => {
        const bytes = concatBytes(prefix, tail);
        expectError(await rejectionOf(decryptRecord(key, bytes, recordCtx)), {
          class: IntegrityError,
          reason: 'authentication_failed',
        });
      }),
      { numRuns: 100 },
    );
  });

  it('flipping any single bit of an envelope fails: version, commitment or authentication', async () => {
    const key = await generateSecretKey('space');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.nat(), async (plaintext, bitChoice) => {
        const envelope = await encryptRecord(key, plaintext, recordCtx);
        const bit = bitChoice % (envelope.length * 8);
        const byte = bit >> 3;
        const tampered = envelope.slice();
        tampered[byte]! ^= 1 << (bit & 7);
        const expected: ErrorShape =
          byte === 0
            ? { class: UnsupportedVersionError, version: tampered[0]! }
            : byte <= 32
              ? { class: DecryptionError }
              : { class: IntegrityError, reason: 'authentication_failed' };
        expectError(await rejectionOf(decryptRecord(key, tampered, recordCtx)), expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('files (property)', () => {
  it('round-trips arbitrary content fed and read back in arbitrary pieces', async () => {
    const key = await generateSecretKey('file');
    const sizeArb = fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.constantFrom(
        FILE_CHUNK_BYTES - 1,
        FILE_CHUNK_BYTES,
        FILE_CHUNK_BYTES + 1,
        2 * FILE_CHUNK_BYTES,
      ),
      fc.integer({ min: 0, max: 2 * FILE_CHUNK_BYTES + 100 }),
    );
    const piecesArb = fc.array(fc.integer({ min: 1, max: 3 * FILE_CHUNK_BYTES }), { maxLength: 6 });
    const smallPiecesArb = fc.array(fc.integer({ min: 1, max: 5000 }), {
      minLength: 1,
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(
        sizeArb,
        fc.nat(),
        fc.oneof(piecesArb, smallPiecesArb),
        piecesArb,
        async (size, seed, inPieces, outPieces) => {
          const plaintext = filled(size, seed);
          const ciphertext = await encryptFile(key, plaintext, inPieces);
          const result = await decryptFile(key, ciphertext, outPieces);
          expect(result.error).toBeUndefined();
          expect(result.closed).toBe(true);
          expect(toHex(result.bytes)).toBe(toHex(plaintext));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('round-trips arbitrary small content byte for byte', async () => {
    const key = await generateSecretKey('file');
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 5 }),
        async (plaintext, pieces) => {
          const result = await decryptFile(key, await encryptFile(key, plaintext, pieces), pieces);
          expect(result.closed).toBe(true);
          expect(toHex(result.bytes)).toBe(toHex(plaintext));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('random bytes never decrypt as a file', async () => {
    const key = await generateSecretKey('file');
    const garbage = fc.uint8Array({ maxLength: 300 });
    // Past the cheap checks, so the commitment check is what must catch them.
    const plausibleHeader = fc
      .tuple(fc.integer({ min: 12, max: 24 }), fc.uint8Array({ minLength: 48, maxLength: 300 }))
      .map(([log2, rest]) => concatBytes(utf8('KLSF'), Uint8Array.of(1, log2, 0, 0), rest));
    const foreignVersion = fc
      .tuple(
        fc.integer({ min: 0, max: 255 }).filter((v) => v !== 1),
        fc.uint8Array({ minLength: 51, maxLength: 100 }),
      )
      .map(([version, rest]) => concatBytes(utf8('KLSF'), Uint8Array.of(version), rest));
    await fc.assert(
      fc.asyncProperty(fc.oneof(garbage, plausibleHeader, foreignVersion), async (bytes) => {
        const result = await decryptFile(key, bytes);
        expect(result.closed).toBe(false);
        expect(result.bytes.length).toBe(0);
        expectError(result.error, expectedFileErrorWithoutValidHeader(bytes));
      }),
      { numRuns: 300, examples: [[new Uint8Array(0)], [new Uint8Array(56)], [new Uint8Array(72)]] },
    );
  });

  it('random chunks behind a genuine header never decrypt', async () => {
    const key = await generateSecretKey('file');
    const { header } = await FileEncryptor.create(key, fileCtx);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (body) => {
        const result = await decryptFile(key, concatBytes(header, body));
        expect(result.closed).toBe(false);
        expect(result.bytes.length).toBe(0);
        expectError(result.error, {
          class: IntegrityError,
          reason: body.length < 16 ? 'truncated' : 'authentication_failed',
        });
      }),
      { numRuns: 150 },
    );
  });

  it('flipping any single bit of a small file fails with the error its position calls for', async () => {
    const key = await generateSecretKey('file');
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(),
        async (plaintext, bitChoice) => {
          const ciphertext = await encryptFile(key, plaintext);
          const bit = bitChoice % (ciphertext.length * 8);
          const byte = bit >> 3;
          const tampered = ciphertext.slice();
          tampered[byte]! ^= 1 << (bit & 7);
          const result = await decryptFile(key, tampered);
          expect(result.closed).toBe(false);
          expect(result.bytes.length).toBe(0);
          expectError(result.error, expectedFileErrorAfterFlip(tampered, byte));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('flipping any single bit of a two-chunk file fails', async () => {
    const key = await generateSecretKey('file');
    const ciphertext = await encryptFile(key, filled(FILE_CHUNK_BYTES + 50, 3));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: ciphertext.length * 8 - 1 }), async (bit) => {
        const tampered = ciphertext.slice();
        tampered[bit >> 3]! ^= 1 << (bit & 7);
        const result = await decryptFile(key, tampered);
        expect(result.closed).toBe(false);
        expectError(result.error, expectedFileErrorAfterFlip(tampered, bit >> 3));
      }),
      { numRuns: 60 },
    );
  });
});
