// RSA-OAEP-4096 key pairs, wrapped private keys and sealed keys: golden vector, round trips, negatives.
import { beforeAll, describe, expect, it } from 'vitest';
import golden from './vectors/golden-v1.json';
import { fromBase64Url, fromHex, toBase64Url, toHex } from './bytes';
import { DecryptionError, IntegrityError, UnsupportedVersionError } from './errors';
import { type SecretKey, generateSecretKey, importSecretKey } from './keys';
import {
  type GeneratedKeyPair,
  formatFingerprint,
  generateKeyPair,
  importPublicKey,
  openSealedSecretKey,
  rewrapPrivateKey,
  sealSecretKey,
  unwrapPrivateKey,
} from './rsa';
import { budget } from '../../server/test/budget';

const keyCtx = { id: 'user_1', owner: 'user_1' };
const sealCtx = { id: 'space_1', owner: 'user_1' };

describe('golden RSA vector v1', () => {
  it('unwraps the private key, recomputes its public key and opens the sealed space key', async () => {
    const userKey = await importSecretKey('user', fromHex(golden.keys.user));
    const privateKey = await unwrapPrivateKey(userKey, fromBase64Url(golden.rsa.wrappedPrivateKey), golden.rsa.ctx);
    expect(toBase64Url(privateKey.publicKey.spki)).toBe(golden.rsa.spki);
    expect(toHex(privateKey.publicKey.fingerprint)).toBe(golden.rsa.fingerprint);
    const { ctx, sealed } = golden.rsa.sealedSpaceKey;
    const spaceKey = await openSealedSecretKey(privateKey, fromBase64Url(sealed), 'space', ctx, { extractable: true });
    expect(toHex(spaceKey.rawBytes())).toBe(golden.keys.space);
  });
});

describe('RSA-OAEP key pairs', () => {
  let userKey: SecretKey<'user'>;
  let alice: GeneratedKeyPair;
  let bob: GeneratedKeyPair;

  beforeAll(async () => {
    userKey = await generateSecretKey('user');
    [alice, bob] = await Promise.all([generateKeyPair(userKey, keyCtx), generateKeyPair(userKey, { id: 'bob', owner: 'bob' })]);
  }, budget(60_000));

  it('generates 4096-bit keys whose private half is non-extractable', () => {
    expect((alice.publicKey.key.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(4096);
    expect(alice.privateKey.key.extractable).toBe(false);
    expect(alice.publicKey.fingerprint.length).toBe(32);
    expect(formatFingerprint(alice.publicKey.fingerprint)).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
  });

  it('unwraps the private key and derives the same public key from it', async () => {
    const privateKey = await unwrapPrivateKey(userKey, alice.wrappedPrivateKey, keyCtx);
    expect(toHex(privateKey.publicKey.fingerprint)).toBe(toHex(alice.publicKey.fingerprint));
    expect(privateKey.key.extractable).toBe(false);
  });

  it('reports the wrong wrapping key and a moved wrapped private key distinctly', async () => {
    await expect(unwrapPrivateKey(await generateSecretKey('user'), alice.wrappedPrivateKey, keyCtx)).rejects.toBeInstanceOf(DecryptionError);
    await expect(unwrapPrivateKey(userKey, alice.wrappedPrivateKey, { id: 'bob', owner: 'bob' })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('re-wraps a private key under a new key (password change) without changing it', async () => {
    const newKey = await generateSecretKey('user');
    const rewrapped = await rewrapPrivateKey(userKey, newKey, alice.wrappedPrivateKey, keyCtx);
    const privateKey = await unwrapPrivateKey(newKey, rewrapped, keyCtx);
    expect(toHex(privateKey.publicKey.fingerprint)).toBe(toHex(alice.publicKey.fingerprint));
    await expect(unwrapPrivateKey(userKey, rewrapped, keyCtx)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('seals a key to a public key and opens it with the private key', async () => {
    const spaceKey = await generateSecretKey('space');
    const sealed = await sealSecretKey(alice.publicKey, spaceKey, sealCtx);
    const opened = await openSealedSecretKey(alice.privateKey, sealed, 'space', sealCtx, { extractable: true });
    expect(toHex(opened.rawBytes())).toBe(toHex(spaceKey.rawBytes()));
  });

  it('reports a key sealed to someone else as the wrong key', async () => {
    const sealed = await sealSecretKey(alice.publicKey, await generateSecretKey('space'), sealCtx);
    await expect(openSealedSecretKey(bob.privateKey, sealed, 'space', sealCtx)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('binds purpose and context into the OAEP label', async () => {
    const sealed = await sealSecretKey(alice.publicKey, await generateSecretKey('space'), sealCtx);
    await expect(openSealedSecretKey(alice.privateKey, sealed, 'file', sealCtx)).rejects.toMatchObject({ reason: 'authentication_failed' });
    await expect(openSealedSecretKey(alice.privateKey, sealed, 'space', { ...sealCtx, id: 'space_2' })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('rejects tampered, truncated, extended and unknown-version sealed keys', async () => {
    const sealed = await sealSecretKey(alice.publicKey, await generateSecretKey('space'), sealCtx);
    const flipped = sealed.slice();
    flipped[100]! ^= 1;
    await expect(openSealedSecretKey(alice.privateKey, flipped, 'space', sealCtx)).rejects.toMatchObject({ reason: 'authentication_failed' });
    await expect(openSealedSecretKey(alice.privateKey, sealed.subarray(0, 544), 'space', sealCtx)).rejects.toMatchObject({ reason: 'truncated' });
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    await expect(openSealedSecretKey(alice.privateKey, longer, 'space', sealCtx)).rejects.toMatchObject({ reason: 'trailing_data' });
    const v2 = sealed.slice();
    v2[0] = 2;
    await expect(openSealedSecretKey(alice.privateKey, v2, 'space', sealCtx)).rejects.toBeInstanceOf(UnsupportedVersionError);
  });

  it('imports a pinned SPKI and refuses garbage', async () => {
    const imported = await importPublicKey(alice.publicKey.spki);
    expect(toHex(imported.fingerprint)).toBe(toHex(alice.publicKey.fingerprint));
    await expect(importPublicKey(new Uint8Array(10))).rejects.toMatchObject({ reason: 'malformed' });
  });

  it('refuses public keys weaker than RSA-4096 (no downgrade through a substituted key)', async () => {
    const weak = await crypto.subtle.generateKey(
      { name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['encrypt', 'decrypt'],
    );
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', weak.publicKey));
    await expect(importPublicKey(spki)).rejects.toBeInstanceOf(UnsupportedVersionError);
  });
});
