// Known-answer and boundary tests for Argon2id (hash-wasm) and HKDF-SHA-256 (WebCrypto).
import { describe, expect, it } from 'vitest';
import argon2Vectors from './vectors/argon2id.json';
import hkdfVectors from './vectors/hkdf-rfc5869.json';
import { fromHex, toHex, utf8 } from './bytes';
import { WeakParametersError } from './errors';
import {
  ARGON2ID_CEILING,
  ARGON2ID_DEFAULT,
  ARGON2ID_FLOOR,
  HKDF_LABEL,
  argon2idUnchecked,
  assertArgon2idParams,
  deriveArgon2id,
  hkdfBytes,
  importHkdfKey,
} from './kdf';

describe('Argon2id', () => {
  it.each(argon2Vectors.vectors)('matches the reference implementation: $password/$salt t=$iterations m=$memoryKiB p=$parallelism', async (v) => {
    const out = await argon2idUnchecked(utf8(v.password), utf8(v.salt), v, 32);
    expect(toHex(out)).toBe(v.hash);
  });

  it('normalises passwords with NFKC before hashing', async () => {
    const v = argon2Vectors.nfkc;
    expect(v.typed).not.toBe(v.typed.normalize('NFKC'));
    const out = await deriveArgon2id(v.typed, utf8(v.salt), v);
    expect(toHex(out)).toBe(v.hash);
  });

  it('passes the caller parameters through unchanged', async () => {
    const v = argon2Vectors.vectors.find((x) => x.memoryKiB === 65536 && x.iterations === 4)!;
    const salt = utf8(v.salt.padEnd(16, '!'));
    const viaPublic = await deriveArgon2id(v.password, salt, v);
    const viaRaw = await argon2idUnchecked(utf8(v.password), salt, v, 32);
    expect(toHex(viaPublic)).toBe(toHex(viaRaw));
  });

  it('uses 64 MiB, t=3, p=1 by default, above every floor', () => {
    expect(ARGON2ID_DEFAULT).toEqual({ memoryKiB: 65536, iterations: 3, parallelism: 1 });
    expect(() => assertArgon2idParams(ARGON2ID_DEFAULT)).not.toThrow();
    expect(() => assertArgon2idParams({ ...ARGON2ID_FLOOR })).not.toThrow();
  });

  // WARNING: the floors are written here as literals (OWASP's Argon2id minimum: 19 MiB, t = 2, p = 1),
  // never read from the constant under test, so lowering ARGON2ID_FLOOR fails this test.
  it('holds the floors at 19456 KiB, t = 2, p = 1: just below each is refused, the floor itself accepted', async () => {
    expect(() => assertArgon2idParams({ memoryKiB: 19456, iterations: 2, parallelism: 1 })).not.toThrow();
    for (const [name, params] of [
      ['memoryKiB', { memoryKiB: 19455, iterations: 2, parallelism: 1 }],
      ['memoryKiB', { memoryKiB: 1024, iterations: 3, parallelism: 1 }],
      ['iterations', { memoryKiB: 65536, iterations: 1, parallelism: 1 }],
    ] as const) {
      expect(() => assertArgon2idParams(params), name).toThrow(WeakParametersError);
      await expect(deriveArgon2id('password', new Uint8Array(16), params)).rejects.toMatchObject({ parameter: name });
    }
  });

  it.each([
    ['memoryKiB', { ...ARGON2ID_DEFAULT, memoryKiB: ARGON2ID_FLOOR.memoryKiB - 1 }],
    ['iterations', { ...ARGON2ID_DEFAULT, iterations: 1 }],
    ['parallelism', { ...ARGON2ID_DEFAULT, parallelism: 0 }],
    ['memoryKiB', { ...ARGON2ID_DEFAULT, memoryKiB: ARGON2ID_CEILING.memoryKiB + 1 }],
    ['iterations', { ...ARGON2ID_DEFAULT, iterations: ARGON2ID_CEILING.iterations + 1 }],
    ['parallelism', { ...ARGON2ID_DEFAULT, parallelism: ARGON2ID_CEILING.parallelism + 1 }],
    ['memoryKiB', { ...ARGON2ID_DEFAULT, memoryKiB: 65536.5 }],
    ['iterations', { ...ARGON2ID_DEFAULT, iterations: Number.NaN }],
  ] as const)('refuses a downgrade or absurd value of %s whatever a server says', async (name, params) => {
    const attempt = deriveArgon2id('password', new Uint8Array(16), params);
    await expect(attempt).rejects.toBeInstanceOf(WeakParametersError);
    await expect(attempt).rejects.toMatchObject({ parameter: name });
  });

  it('refuses salts shorter than 16 bytes', async () => {
    const attempt = deriveArgon2id('password', new Uint8Array(15), ARGON2ID_FLOOR);
    await expect(attempt).rejects.toMatchObject({ name: 'WeakParametersError', parameter: 'salt' });
  });
});

describe('HKDF-SHA-256', () => {
  it.each(hkdfVectors.vectors)('matches RFC 5869 $name', async (v) => {
    const base = await importHkdfKey(fromHex(v.ikm));
    const okm = await hkdfBytes(base, fromHex(v.salt), fromHex(v.info), v.length);
    expect(toHex(okm)).toBe(v.okm);
  });

  it('has one distinct, versioned label per purpose', () => {
    const labels = Object.values(HKDF_LABEL);
    expect(new Set(labels).size).toBe(labels.length);
    for (const label of labels) expect(label).toMatch(/^kluis\/v1\/[a-z-]+\/?$/);
    // Prefix labels get the purpose appended; no full label may be a prefix of another.
    for (const a of labels) for (const b of labels) if (a !== b && !a.endsWith('/')) expect(b.startsWith(a)).toBe(false);
  });
});
