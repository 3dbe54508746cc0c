// Byte helpers: strict base64url and hex, length prefixes, constant-time comparison, large random buffers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  constantTimeEqual,
  copyBytes,
  fromBase64Url,
  fromHex,
  fromUtf8,
  lengthPrefixed,
  randomBytes,
  toBase64Url,
  toHex,
  utf8,
  wipe,
} from './bytes';

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe('base64url (RFC 4648 section 5, unpadded, strict)', () => {
  // RFC 4648 section 10 test vectors, with the padding removed.
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ])('%j <-> %j', (plain, encoded) => {
    expect(toBase64Url(ascii(plain))).toBe(encoded);
    expect(toHex(fromBase64Url(encoded))).toBe(toHex(ascii(plain)));
  });

  it('uses the URL-safe alphabet: "-" and "_" where base64 has "+" and "/"', () => {
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('-_-_');
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(toHex(fromBase64Url('-_-_'))).toBe('fbffbf');
    expect(toBase64Url(Uint8Array.of(0, 0x10, 0x83, 0x10, 0x51, 0x87))).toBe('ABCDEFGH');
  });

  it.each([
    ['padding', 'Zg=='],
    ['a single pad', 'Zm8='],
    ['padding inside', 'Zg==Zm9v'],
    ['a pad where a character belongs', 'Zg='],
    ['"+" from standard base64', 'Zm+v'],
    ['"/" from standard base64', 'Zm/v'],
    ['a leading space', ' Zm9'],
    ['a trailing newline', 'Zm8\n'],
    ['an inner space', 'Zm 8'],
    ['a tab', 'Zm9v\tZg'],
    ['a NUL', 'Zm\u00008'],
    ['a non-ASCII letter', 'Zmé'],
    ['a code unit that aliases "g" modulo 128', 'Z\u0167'],
    ['an astral character', 'Z🌷'],
  ])('rejects %s', (_name, text) => {
    expect(() => fromBase64Url(text)).toThrow(new TypeError('invalid base64url character'));
  });

  it.each([
    ['Zh', 'f with non-zero trailing bits'],
    ['Zm9', 'fo with non-zero trailing bits'],
    ['Zm-', 'fo with non-zero trailing bits'],
    ['Zm9vYh', 'foob with non-zero trailing bits'],
    ['__', 'one byte, all trailing bits set'],
  ])('rejects the non-canonical %j (%s)', (text) => {
    expect(() => fromBase64Url(text)).toThrow(new TypeError('non-canonical base64url'));
  });

  it.each(['Z', 'Zm9vY', 'AAAAA', 'Zm9vYmFyZ'])('rejects %j (length 1 mod 4)', (text) => {
    expect(() => fromBase64Url(text)).toThrow(new TypeError('invalid base64url length'));
  });

  it("round-trips any bytes and agrees with Node's encoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const encoded = toBase64Url(bytes);
        expect(encoded).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(encoded).toBe(Buffer.from(bytes).toString('base64url'));
        const decoded = fromBase64Url(encoded);
        expect(decoded).toBeInstanceOf(Uint8Array);
        expect(toHex(decoded)).toBe(toHex(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts exactly one encoding per byte string: whatever it decodes re-encodes to the same text', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const junk = '=+/ \n.é';
    const textArb = fc.string({ unit: fc.constantFrom(...(alphabet + junk)), maxLength: 24 });
    fc.assert(
      fc.property(textArb, (text) => {
        let decoded: Uint8Array;
        try {
          decoded = fromBase64Url(text);
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
          return;
        }
        expect(toBase64Url(decoded)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('hex', () => {
  it('encodes lowercase and decodes either case', () => {
    expect(toHex(Uint8Array.of(0, 1, 0x0f, 0x10, 0xab, 0xff))).toBe('00010f10abff');
    expect(toHex(new Uint8Array(0))).toBe('');
    expect(Array.from(fromHex('00010f10ABff'))).toEqual([0, 1, 0x0f, 0x10, 0xab, 0xff]);
    expect(fromHex('').length).toBe(0);
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
        expect(Array.from(fromHex(toHex(bytes)))).toEqual(Array.from(bytes));
        expect(Array.from(fromHex(toHex(bytes).toUpperCase()))).toEqual(Array.from(bytes));
      }),
    );
  });

  it.each([
    ['odd length', 'abc'],
    ['a non-hex letter', '0g'],
    ['a 0x prefix', '0x00'],
    ['a leading space', ' 0'],
    ['a trailing newline (even length)', '0\n'],
    ['a line break between valid lines', '00\n000'],
    ['a sign', '-1'],
    ['a plus sign', '+1'],
    ['a non-ASCII digit', '0٠'],
  ])('rejects %s', (_name, text) => {
    expect(() => fromHex(text)).toThrow(new TypeError('invalid hex string'));
  });
});

describe('lengthPrefixed', () => {
  it.each([
    ['empty string', '', '00000000'],
    ['ASCII', 'ab', '000000026162'],
    ['UTF-8 bytes, not UTF-16 units, are counted', 'é', '00000002c3a9'],
    ['an astral character is 4 bytes', '🌷', '00000004f09f8cb7'],
  ])('%s', (_name, field, hex) => {
    expect(toHex(lengthPrefixed(field))).toBe(hex);
  });

  it('prefixes bytes with a 32-bit big-endian length', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const out = lengthPrefixed(bytes);
    expect(toHex(out.subarray(0, 4))).toBe('0000012c');
    expect(toHex(out.subarray(4))).toBe(toHex(bytes));
    expect(toHex(lengthPrefixed(new Uint8Array(0)))).toBe('00000000');
  });

  it('is unambiguous: different field lists never concatenate to the same bytes', () => {
    const join = (fields: string[]) => toHex(concatBytes(...fields.map((f) => lengthPrefixed(f))));
    expect(join(['a', 'bc'])).not.toBe(join(['ab', 'c']));
    expect(join(['', 'a'])).not.toBe(join(['a', '']));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 4 }),
        fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 4 }),
        (a, b) => {
          fc.pre(JSON.stringify(a) !== JSON.stringify(b));
          expect(join(a)).not.toBe(join(b));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('constantTimeEqual', () => {
  it.each([
    ['two empty arrays', [], [], true],
    ['equal single bytes', [1], [1], true],
    ['equal longer arrays', [1, 2, 3, 255], [1, 2, 3, 255], true],
    ['a different first byte', [0, 2, 3], [1, 2, 3], false],
    ['a different last byte', [1, 2, 3], [1, 2, 4], false],
    ['a difference only in the top bit', [0x00], [0x80], false],
    ['empty against [0]', [], [0], false],
    ['[0] against empty', [0], [], false],
    ['a prefix against the longer array', [1, 2], [1, 2, 3], false],
    ['the longer array against its prefix', [1, 2, 3], [1, 2], false],
    ['trailing zero against shorter', [1, 2, 0], [1, 2], false],
  ])('%s -> %s', (_name, a, b, equal) => {
    expect(constantTimeEqual(Uint8Array.from(a), Uint8Array.from(b))).toBe(equal);
  });

  it('compares views by content, not by buffer or offset', () => {
    const buffer = Uint8Array.of(9, 1, 2, 3, 9);
    expect(constantTimeEqual(buffer.subarray(1, 4), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(buffer.subarray(0, 3), Uint8Array.of(1, 2, 3))).toBe(false);
  });

  it('agrees with plain equality on arbitrary inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(toHex(a) === toHex(b));
        expect(constantTimeEqual(a, a.slice())).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('randomBytes', () => {
  it.each([0, 1, 32, 65536, 65537, 3 * 65536 + 1000])('returns exactly %i bytes', (length) => {
    const bytes = randomBytes(length);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(length);
    expect(bytes.buffer.byteLength).toBe(length);
  });

  it('fills every 64 KiB block of a buffer larger than one getRandomValues call', () => {
    const bytes = randomBytes(3 * 65536 + 1000);
    // An unfilled block stays all zero; a filled block of >= 1000 random bytes is all zero with probability 2^-8000.
    for (const [start, end] of [
      [0, 65536],
      [65536, 131072],
      [131072, 196608],
      [196608, 197608],
    ] as const) {
      expect(
        bytes.subarray(start, end).some((b) => b !== 0),
        `bytes ${start}..${end}`,
      ).toBe(true);
    }
  });

  it('returns different bytes on every call', () => {
    expect(toHex(randomBytes(32))).not.toBe(toHex(randomBytes(32)));
  });
});

describe('UTF-8 and buffer helpers', () => {
  it('round-trips Unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (text) => {
        expect(fromUtf8(utf8(text))).toBe(text);
      }),
    );
    expect(toHex(utf8('Ĳ🌷'))).toBe('c4b2f09f8cb7');
  });

  it.each([
    ['a lone continuation byte', [0x80]],
    ['an invalid byte', [0xff]],
    ['an overlong NUL', [0xc0, 0x80]],
    ['a truncated sequence', [0xf0, 0x9f, 0x8c]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('fromUtf8 rejects %s instead of substituting U+FFFD', (_name, bytes) => {
    expect(() => fromUtf8(Uint8Array.from(bytes))).toThrow(TypeError);
  });

  it('concatBytes joins views in order', () => {
    const source = Uint8Array.of(0, 1, 2, 3);
    expect(toHex(concatBytes(source.subarray(2), new Uint8Array(0), source.subarray(0, 1)))).toBe(
      '020300',
    );
    expect(concatBytes().length).toBe(0);
  });

  it('copyBytes returns an independent copy with its own exact buffer', () => {
    const source = Uint8Array.of(9, 1, 2, 9);
    const copy = copyBytes(source.subarray(1, 3));
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(2);
    source[1] = 7;
    expect(toHex(copy)).toBe('0102');
  });

  it('wipe zeroes the bytes in place', () => {
    const secret = Uint8Array.of(1, 2, 3);
    wipe(secret);
    expect(Array.from(secret)).toEqual([0, 0, 0]);
  });
});
