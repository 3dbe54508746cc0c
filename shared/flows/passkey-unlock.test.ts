// "Unlock with passkey" wrapping: checked against node:crypto (HKDF, AES-256-GCM, SHA-256) and refused for every other passkey, account or alteration.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference the code under test is checked against
import { createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, IntegrityError, derivePasskeyUnlockKey, encryptRecord, decryptRecordText, generateSecretKey, importSecretKey, wrapSecretKey } from '../crypto';
import { PASSKEY_UNLOCK_PRF_SALT, passkeyUnlockContext, unwrapUserKeyWithPasskey, wrapUserKeyForPasskey } from './passkey-unlock';
import { keyContext } from './vault';

const userId = 'user_id_0000000000000a';
const otherUserId = 'user_id_0000000000000b';
const credentialId = 'Y3JlZGVudGlhbC1vbmUtMzItYnl0ZXMtbG9uZy4uLg';
const otherCredentialId = 'Y3JlZGVudGlhbC10d28tMzItYnl0ZXMtbG9uZy4uLg';
const prf = () => new Uint8Array(randomBytes(32));

/** u32be(byte length) || UTF-8, as written by hand from the doc comment of derivePasskeyUnlockKey. */
function lp(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The wrapping key, independently: HKDF-SHA-256(prf, salt = empty, info = label || lp(user) || lp(credential), 32). */
function referenceWrappingKey(prfOutput: Uint8Array, user: string, credential: string): Buffer {
  const info = Buffer.concat([Buffer.from('kluis/v1/passkey-unlock'), lp(user), lp(credential)]);
  return Buffer.from(hkdfSync('sha256', prfOutput, Buffer.alloc(0), info, 32));
}

/**
 * Opens a record envelope with node:crypto, from the format as documented (SECURITY.md 4.2):
 * version 1 || commitment (32) || IV (12) || AES-256-GCM ciphertext || tag (16), under the subkey
 * HKDF(key, empty, "kluis/v1/record-aead/<purpose>"), associated data
 * "kluis/v1/record" || 0x00 0x01 || lp(type) || lp(id) || lp(owner).
 */
function referenceOpen(key: Buffer, purpose: string, envelope: Uint8Array, ctx: { type: string; id: string; owner: string }): Buffer {
  const bytes = Buffer.from(envelope);
  expect(bytes[0]).toBe(1);
  const commitment = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `kluis/v1/record-commit/${purpose}`, 32));
  expect(bytes.subarray(1, 33).equals(commitment)).toBe(true);
  const aead = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `kluis/v1/record-aead/${purpose}`, 32));
  const iv = bytes.subarray(33, 45);
  const tag = bytes.subarray(bytes.length - 16);
  const decipher = createDecipheriv('aes-256-gcm', aead, iv);
  decipher.setAAD(Buffer.concat([Buffer.from('kluis/v1/record'), Buffer.from([0, 1]), lp(ctx.type), lp(ctx.id), lp(ctx.owner)]));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(bytes.subarray(45, bytes.length - 16)), decipher.final()]);
}

describe('the PRF salt', () => {
  it('is SHA-256("kluis/v1/passkey-unlock"), 32 bytes', () => {
    expect(Buffer.from(PASSKEY_UNLOCK_PRF_SALT).equals(createHash('sha256').update('kluis/v1/passkey-unlock').digest())).toBe(true);
  });
});

describe('wrapUserKeyForPasskey', () => {
  it('is the user key under HKDF(prf, "kluis/v1/passkey-unlock" || lp(user) || lp(credential)), bound to the account and the credential', async () => {
    const raw = new Uint8Array(randomBytes(32));
    const userKey = await importSecretKey('user', raw, { extractable: true });
    const prfOutput = prf();
    const wrapped = await wrapUserKeyForPasskey(userKey, prfOutput, userId, credentialId);
    const opened = referenceOpen(referenceWrappingKey(prfOutput, userId, credentialId), 'passkey', wrapped, {
      type: 'wrapped-key/user',
      id: `passkey/${credentialId}`,
      owner: userId,
    });
    expect(opened.equals(Buffer.from(raw))).toBe(true);
  });

  it('derives a different key for another account, another credential and another PRF output', async () => {
    const prfOutput = prf();
    const commitment = async (p: Uint8Array, u: string, c: string) => (await (await derivePasskeyUnlockKey(p, u, c)).recordSubkeys()).commitment;
    const base = Buffer.from(await commitment(prfOutput, userId, credentialId));
    for (const other of [
      await commitment(prfOutput, otherUserId, credentialId),
      await commitment(prfOutput, userId, otherCredentialId),
      await commitment(prf(), userId, credentialId),
      // Field boundaries are length-prefixed: moving a character from one id to the other is another key.
      await commitment(prfOutput, userId + credentialId.slice(0, 1), credentialId.slice(1)),
    ]) {
      expect(Buffer.from(other).equals(base)).toBe(false);
    }
  });

  it('refuses a PRF output that is not 32 bytes', async () => {
    const userKey = await generateSecretKey('user');
    await expect(wrapUserKeyForPasskey(userKey, new Uint8Array(16), userId, credentialId)).rejects.toThrow(TypeError);
    await expect(wrapUserKeyForPasskey(userKey, new Uint8Array(64), userId, credentialId)).rejects.toThrow(TypeError);
  });
});

describe('unwrapUserKeyWithPasskey', () => {
  it('gives back the same user key, extractable: a record made under one opens under the other', async () => {
    const userKey = await generateSecretKey('user');
    const prfOutput = prf();
    const wrapped = await wrapUserKeyForPasskey(userKey, prfOutput, userId, credentialId);
    const opened = await unwrapUserKeyWithPasskey(wrapped, prfOutput, userId, credentialId);
    expect(opened.extractable).toBe(true);
    expect(Buffer.from(opened.rawBytes()).equals(Buffer.from(userKey.rawBytes()))).toBe(true);
    const ctx = { type: 'profile', id: userId, owner: userId };
    expect(await decryptRecordText(opened, await encryptRecord(userKey, 'Zoë — sleutel 🔑', ctx), ctx)).toBe('Zoë — sleutel 🔑');
  });

  // What a malicious server can serve instead of this passkey's wrapping: each fails, none yields a key.
  it('refuses a wrapping made for another credential, for another account, under another PRF output', async () => {
    const userKey = await generateSecretKey('user');
    const prfOutput = prf();
    const forOtherCredential = await wrapUserKeyForPasskey(userKey, prfOutput, userId, otherCredentialId);
    await expect(unwrapUserKeyWithPasskey(forOtherCredential, prfOutput, userId, credentialId)).rejects.toThrow(DecryptionError);
    const forOtherUser = await wrapUserKeyForPasskey(userKey, prfOutput, otherUserId, credentialId);
    await expect(unwrapUserKeyWithPasskey(forOtherUser, prfOutput, userId, credentialId)).rejects.toThrow(DecryptionError);
    const underOtherPrf = await wrapUserKeyForPasskey(userKey, prf(), userId, credentialId);
    await expect(unwrapUserKeyWithPasskey(underOtherPrf, prfOutput, userId, credentialId)).rejects.toThrow(DecryptionError);
  });

  it('refuses the password wrapping of the user key, and a key of the server\'s own choosing, served as this passkey\'s', async () => {
    const userKey = await generateSecretKey('user');
    const prfOutput = prf();
    const keySafeKey = await generateSecretKey('keysafe');
    const passwordWrapping = await wrapSecretKey(keySafeKey, userKey, keyContext(userId));
    await expect(unwrapUserKeyWithPasskey(passwordWrapping, prfOutput, userId, credentialId)).rejects.toThrow(DecryptionError);
    // A server's own key, wrapped under a key the server made up: it cannot know the PRF output.
    const substitute = await generateSecretKey('user');
    const madeUp = await wrapSecretKey(await derivePasskeyUnlockKey(prf(), userId, credentialId), substitute, passkeyUnlockContext(userId, credentialId));
    await expect(unwrapUserKeyWithPasskey(madeUp, prfOutput, userId, credentialId)).rejects.toThrow(DecryptionError);
  });

  it('refuses a flipped bit, a truncated wrapping and one moved to another context under the same key', async () => {
    const userKey = await generateSecretKey('user');
    const prfOutput = prf();
    const wrapped = await wrapUserKeyForPasskey(userKey, prfOutput, userId, credentialId);
    const flipped = wrapped.slice();
    flipped[flipped.length - 1]! ^= 1;
    await expect(unwrapUserKeyWithPasskey(flipped, prfOutput, userId, credentialId)).rejects.toThrow(IntegrityError);
    await expect(unwrapUserKeyWithPasskey(wrapped.slice(0, wrapped.length - 1), prfOutput, userId, credentialId)).rejects.toThrow(IntegrityError);
    // The right key, but the envelope claims another record: the associated data no longer matches.
    const wrapping = await derivePasskeyUnlockKey(prfOutput, userId, credentialId);
    const elsewhere = await wrapSecretKey(wrapping, userKey, { id: `passkey/${otherCredentialId}`, owner: userId });
    await expect(unwrapUserKeyWithPasskey(elsewhere, prfOutput, userId, credentialId)).rejects.toThrow(IntegrityError);
  });
});
