// Record envelopes and symmetric key wrapping: golden vectors, round trips and every negative case.
import { describe, expect, it } from 'vitest';
import golden from './vectors/golden-v1.json';
import { fromBase64Url, fromHex, toHex } from './bytes';
import { RECORD_HEADER_BYTES, RECORD_OVERHEAD_BYTES } from './envelope';
import { DecryptionError, IntegrityError, UnsupportedVersionError } from './errors';
import { deriveKeySafeKey, generateSecretKey, importSecretKey } from './keys';
import { decryptRecord, decryptRecordText, encryptRecord } from './record';
import { deriveRecoveryKey, unwrapSecretKey, wrapSecretKey } from './wrap';

const ctx = { type: 'message', id: 'msg_1', owner: 'space_1' };

describe('golden vectors v1 (a failure here means the format changed)', () => {
  it.each(golden.records)('decrypts the $ctx.type record', async (c) => {
    const key = await importSecretKey('space', fromHex(golden.keys.space));
    expect(await decryptRecordText(key, fromBase64Url(c.envelope), c.ctx)).toBe(c.plaintext);
  });

  it('unwraps the space key wrapped under the user key', async () => {
    const userKey = await importSecretKey('user', fromHex(golden.keys.user));
    const { ctx: keyCtx, wrapped } = golden.wrappedSpaceKey;
    const spaceKey = await unwrapSecretKey(userKey, fromBase64Url(wrapped), 'space', keyCtx, { extractable: true });
    expect(toHex(spaceKey.rawBytes())).toBe(golden.keys.space);
  });

  it('unwraps the user key with the key derived from an OPAQUE export key', async () => {
    const keySafe = await deriveKeySafeKey(fromHex(golden.keySafe.exportKey));
    const userKey = await unwrapSecretKey(keySafe, fromBase64Url(golden.keySafe.wrappedUserKey), 'user', golden.keySafe.ctx, {
      extractable: true,
    });
    expect(toHex(userKey.rawBytes())).toBe(golden.keys.user);
  });

  it('opens the escrow key with the recovery secret (Argon2id + HKDF)', async () => {
    const r = golden.recovery;
    const recoveryKey = await deriveRecoveryKey(r.secret, fromHex(r.salt), r.params);
    const escrow = await unwrapSecretKey(recoveryKey, fromBase64Url(r.wrappedEscrowKey), 'escrow', r.ctx, { extractable: true });
    expect(toHex(escrow.rawBytes())).toBe(golden.keys.escrow);
  });

  it('a recovery secret with one character wrong is reported as the wrong key', async () => {
    const r = golden.recovery;
    const wrongKey = await deriveRecoveryKey(r.secret.replace(/.$/, 'X'), fromHex(r.salt), r.params);
    await expect(unwrapSecretKey(wrongKey, fromBase64Url(r.wrappedEscrowKey), 'escrow', r.ctx)).rejects.toBeInstanceOf(DecryptionError);
  });
});

describe('encryptRecord / decryptRecord', () => {
  it.each([
    ['empty', ''],
    ['ascii', 'hello'],
    ['unicode', 'Ĳsselmeer — ünïcödé ✓ 🌷 日本語'],
    ['long', 'x'.repeat(100_000)],
  ])('round-trips %s text', async (_name, text) => {
    const key = await generateSecretKey('space');
    const envelope = await encryptRecord(key, text, ctx);
    expect(envelope.length).toBe(RECORD_OVERHEAD_BYTES + new TextEncoder().encode(text).length);
    expect(await decryptRecordText(key, envelope, ctx)).toBe(text);
  });

  it('round-trips binary data and uses a fresh IV every time', async () => {
    const key = await generateSecretKey('space');
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff);
    const a = await encryptRecord(key, data, ctx);
    const b = await encryptRecord(key, data, ctx);
    expect(toHex(a.subarray(33, 45))).not.toBe(toHex(b.subarray(33, 45)));
    expect(toHex(a)).not.toBe(toHex(b));
    expect(await decryptRecord(key, a, ctx)).toEqual(data);
  });

  it('reports another key as the wrong key', async () => {
    const envelope = await encryptRecord(await generateSecretKey('space'), 'secret', ctx);
    await expect(decryptRecord(await generateSecretKey('space'), envelope, ctx)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('separates purposes: the same key bytes under another purpose do not decrypt', async () => {
    const raw = fromHex(golden.keys.space);
    const envelope = await encryptRecord(await importSecretKey('space', raw), 'secret', ctx);
    await expect(decryptRecord(await importSecretKey('user', raw), envelope, ctx)).rejects.toBeInstanceOf(DecryptionError);
  });

  it.each([
    ['type', { ...ctx, type: 'document-name' }],
    ['id', { ...ctx, id: 'msg_2' }],
    ['owner', { ...ctx, owner: 'space_2' }],
    ['field boundary', { ...ctx, type: 'messag', id: 'emsg_1' }],
  ])('rejects a record moved to another %s', async (_field, otherCtx) => {
    const key = await generateSecretKey('space');
    const envelope = await encryptRecord(key, 'secret', ctx);
    const attempt = decryptRecord(key, envelope, otherCtx);
    await expect(attempt).rejects.toBeInstanceOf(IntegrityError);
    await expect(attempt).rejects.toMatchObject({ reason: 'authentication_failed' });
  });

  it('detects a flipped bit anywhere: commitment as wrong key, IV/ciphertext/tag as tampering', async () => {
    const key = await generateSecretKey('space');
    const envelope = await encryptRecord(key, 'a short secret message', ctx);
    for (let i = 1; i < envelope.length; i++) {
      const tampered = envelope.slice();
      tampered[i]! ^= 0x01;
      const expected = i < 33 ? DecryptionError : IntegrityError;
      await expect(decryptRecord(key, tampered, ctx), `byte ${i}`).rejects.toBeInstanceOf(expected);
    }
  });

  it('rejects unknown versions before doing any crypto', async () => {
    const key = await generateSecretKey('space');
    const envelope = await encryptRecord(key, 'secret', ctx);
    for (const version of [0, 2, 255]) {
      const other = envelope.slice();
      other[0] = version;
      const attempt = decryptRecord(key, other, ctx);
      await expect(attempt).rejects.toBeInstanceOf(UnsupportedVersionError);
      await expect(attempt).rejects.toMatchObject({ version });
    }
  });

  it('rejects truncated envelopes', async () => {
    const key = await generateSecretKey('space');
    const envelope = await encryptRecord(key, 'secret', ctx);
    await expect(decryptRecord(key, new Uint8Array(0), ctx)).rejects.toMatchObject({ reason: 'malformed' });
    await expect(decryptRecord(key, envelope.subarray(0, RECORD_HEADER_BYTES + 15), ctx)).rejects.toMatchObject({ reason: 'truncated' });
    await expect(decryptRecord(key, envelope.subarray(0, envelope.length - 1), ctx)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('never puts key or plaintext bytes into error messages', async () => {
    const key = await generateSecretKey('space');
    const envelope = await encryptRecord(key, 'TOPSECRET', ctx);
    const tampered = envelope.slice();
    tampered[50]! ^= 1;
    const error: unknown = await decryptRecord(key, tampered, ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof IntegrityError)) throw new Error('expected an IntegrityError');
    expect(error.message).not.toMatch(/TOPSECRET/);
    expect(error.message).not.toContain(toHex(key.rawBytes()));
  });
});

describe('wrapSecretKey / unwrapSecretKey', () => {
  it('wraps and unwraps; the unwrapped key is non-extractable by default', async () => {
    const userKey = await generateSecretKey('user');
    const spaceKey = await generateSecretKey('space');
    const wrapped = await wrapSecretKey(userKey, spaceKey, { id: 's', owner: 'u' });
    const unwrapped = await unwrapSecretKey(userKey, wrapped, 'space', { id: 's', owner: 'u' });
    expect(unwrapped.extractable).toBe(false);
    expect(() => unwrapped.rawBytes()).toThrow(TypeError);
    const envelope = await encryptRecord(spaceKey, 'hi', ctx);
    expect(await decryptRecordText(unwrapped, envelope, ctx)).toBe('hi');
  });

  it('binds the purpose: a wrapped space key cannot be unwrapped as a file key', async () => {
    const userKey = await generateSecretKey('user');
    const wrapped = await wrapSecretKey(userKey, await generateSecretKey('space'), { id: 's', owner: 'u' });
    await expect(unwrapSecretKey(userKey, wrapped, 'file', { id: 's', owner: 'u' })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('binds the context: a wrapped key cannot be moved to another record', async () => {
    const userKey = await generateSecretKey('user');
    const wrapped = await wrapSecretKey(userKey, await generateSecretKey('space'), { id: 's', owner: 'u' });
    await expect(unwrapSecretKey(userKey, wrapped, 'space', { id: 's2', owner: 'u' })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('refuses to wrap a non-extractable key', async () => {
    const nonExtractable = await generateSecretKey('space', { extractable: false });
    await expect(wrapSecretKey(await generateSecretKey('user'), nonExtractable, { id: 's', owner: 'u' })).rejects.toThrow(TypeError);
  });

  it('derives different key-safe keys from different export keys', async () => {
    const userKey = await generateSecretKey('user');
    const wrapped = await wrapSecretKey(await deriveKeySafeKey(fromHex('01'.repeat(64))), userKey, { id: 'u', owner: 'u' });
    const other = await deriveKeySafeKey(fromHex('02'.repeat(64)));
    await expect(unwrapSecretKey(other, wrapped, 'user', { id: 'u', owner: 'u' })).rejects.toBeInstanceOf(DecryptionError);
  });
});
