// Golden bytes of signed tree heads and checkpoints, and their Ed25519 verification with real keys
// made by node:crypto (the outside reference): forged, replayed and misattributed heads are refused.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference the code under test is checked against
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type CheckpointFields,
  type LogKey,
  type SignedTreeHead,
  type TreeHeadFields,
  checkpointBytes,
  importLogKey,
  treeHeadBytes,
  verifyCheckpoint,
  verifyTreeHead,
} from './tree-head';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

const head: TreeHeadFields = {
  logId: 'org_1',
  keyId: 'ab'.repeat(32),
  treeSize: 1234,
  rootHash: 'cd'.repeat(32),
  signedAt: '2026-01-02T03:04:05.678Z',
};

const goldenHead = [
  '00000018' + '6b6c7569732f76312f61756469742d747265652d68656164', // "kluis/v1/audit-tree-head"
  '00000005' + '6f72675f31', // logId "org_1"
  '00000040' + '6162'.repeat(32), // keyId as 64 ASCII hex digits
  '00000004' + '31323334', // treeSize "1234" in decimal digits
  '00000040' + '6364'.repeat(32), // rootHash
  '00000018' + '323032362d30312d30325430333a30343a30352e3637385a', // signedAt
].join('');

const checkpoint: CheckpointFields = {
  logId: 'org_1',
  keyId: 'ab'.repeat(32),
  throughSeq: 7,
  throughHash: 'ef'.repeat(32),
  treeSize: 12,
  rootHash: 'cd'.repeat(32),
  signedAt: '2026-01-02T03:04:05.678Z',
};

const goldenCheckpoint = [
  '00000019' + '6b6c7569732f76312f61756469742d636865636b706f696e74', // "kluis/v1/audit-checkpoint"
  '00000005' + '6f72675f31',
  '00000040' + '6162'.repeat(32),
  '00000001' + '37', // throughSeq "7"
  '00000040' + '6566'.repeat(32), // throughHash
  '00000002' + '3132', // treeSize "12"
  '00000040' + '6364'.repeat(32),
  '00000018' + '323032362d30312d30325430333a30343a30352e3637385a',
].join('');

interface TestKey {
  readonly logKey: LogKey;
  readonly privateKey: KeyObject;
}

function makeKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    logKey: {
      algorithm: 'Ed25519',
      spki: spki.toString('base64url'),
      keyId: createHash('sha256').update(spki).digest('hex'),
    },
  };
}

function signHead(
  key: TestKey,
  fields: Omit<TreeHeadFields, 'keyId'> & { keyId?: string },
): SignedTreeHead {
  const full = { ...fields, keyId: fields.keyId ?? key.logKey.keyId };
  return {
    ...full,
    signature: sign(null, treeHeadBytes(full), key.privateKey).toString('base64url'),
  };
}

describe('tree head and checkpoint bytes', () => {
  it('match the golden encodings', () => {
    expect(hex(treeHeadBytes(head))).toBe(goldenHead);
    expect(hex(checkpointBytes(checkpoint))).toBe(goldenCheckpoint);
  });

  it('refuse sizes that are not non-negative integers', () => {
    expect(() => treeHeadBytes({ ...head, treeSize: -1 })).toThrow(TypeError);
    expect(() => treeHeadBytes({ ...head, treeSize: 1.5 })).toThrow(TypeError);
    expect(() =>
      checkpointBytes({ ...checkpoint, throughSeq: Number.MAX_SAFE_INTEGER + 1 }),
    ).toThrow(TypeError);
  });
});

describe('verifyTreeHead', () => {
  const key = makeKey();
  const fields = {
    logId: 'org_1',
    treeSize: 10,
    rootHash: 'cd'.repeat(32),
    signedAt: '2026-01-02T03:04:05.678Z',
  };

  it('accepts a head signed by the log key (node:crypto signs the golden encoding)', async () => {
    const cryptoKey = await importLogKey(key.logKey);
    expect(await verifyTreeHead(cryptoKey, key.logKey.keyId, 'org_1', signHead(key, fields))).toBe(
      true,
    );
  });

  it('refuses a forged signature, a changed field, another log and another key', async () => {
    const cryptoKey = await importLogKey(key.logKey);
    const good = signHead(key, fields);
    const verify = (h: SignedTreeHead, keyId = key.logKey.keyId, logId = 'org_1') =>
      verifyTreeHead(cryptoKey, keyId, logId, h);
    const flipped = Buffer.from(good.signature, 'base64url');
    flipped[5]! ^= 1;
    expect(await verify({ ...good, signature: flipped.toString('base64url') })).toBe(false);
    expect(await verify({ ...good, signature: Buffer.alloc(64).toString('base64url') })).toBe(
      false,
    );
    expect(await verify({ ...good, signature: good.signature.slice(0, -4) })).toBe(false);
    expect(await verify({ ...good, signature: '***' })).toBe(false);
    expect(await verify({ ...good, treeSize: 11 })).toBe(false);
    expect(await verify({ ...good, rootHash: 'ce'.repeat(32) })).toBe(false);
    expect(await verify({ ...good, signedAt: '2026-01-02T03:04:05.679Z' })).toBe(false);
    // A head of another Kluis (another logId), correctly signed with this very key, is not this log's.
    expect(await verify(signHead(key, { ...fields, logId: 'org_2' }))).toBe(false);
    // A head that names another key id is refused even with a valid signature by this key.
    expect(await verify(signHead(key, { ...fields, keyId: 'ee'.repeat(32) }))).toBe(false);
    // A head signed by another key.
    const other = makeKey();
    expect(await verify(signHead(other, { ...fields, keyId: key.logKey.keyId }))).toBe(false);
    expect(
      await verifyTreeHead(await importLogKey(other.logKey), other.logKey.keyId, 'org_1', good),
    ).toBe(false);
  });

  it('binds the size and root, so an older head replayed stays an older head', async () => {
    // Replay is caught by the verifier's pin (verify.test.ts): the signature only says what was signed.
    const cryptoKey = await importLogKey(key.logKey);
    const older = signHead(key, { ...fields, treeSize: 5, rootHash: 'aa'.repeat(32) });
    const newer = signHead(key, fields);
    expect(await verifyTreeHead(cryptoKey, key.logKey.keyId, 'org_1', older)).toBe(true);
    expect(
      await verifyTreeHead(cryptoKey, key.logKey.keyId, 'org_1', {
        ...older,
        treeSize: newer.treeSize,
        rootHash: newer.rootHash,
      }),
    ).toBe(false);
    expect(
      await verifyTreeHead(cryptoKey, key.logKey.keyId, 'org_1', {
        ...newer,
        signature: older.signature,
      }),
    ).toBe(false);
  });
});

describe('verifyCheckpoint', () => {
  it('accepts a signed checkpoint and refuses a head signature replayed as one', async () => {
    const key = makeKey();
    const cryptoKey = await importLogKey(key.logKey);
    const fields = { ...checkpoint, keyId: key.logKey.keyId };
    const good = {
      ...fields,
      signature: sign(null, checkpointBytes(fields), key.privateKey).toString('base64url'),
    };
    expect(await verifyCheckpoint(cryptoKey, key.logKey.keyId, 'org_1', good)).toBe(true);
    expect(
      await verifyCheckpoint(cryptoKey, key.logKey.keyId, 'org_1', { ...good, throughSeq: 8 }),
    ).toBe(false);
    expect(await verifyCheckpoint(cryptoKey, key.logKey.keyId, 'org_2', good)).toBe(false);
    const head = signHead(key, {
      logId: 'org_1',
      treeSize: 12,
      rootHash: fields.rootHash,
      signedAt: fields.signedAt,
    });
    expect(
      await verifyCheckpoint(cryptoKey, key.logKey.keyId, 'org_1', {
        ...good,
        signature: head.signature,
      }),
    ).toBe(false);
  });
});

describe('importLogKey', () => {
  it('refuses a key id that is not the SHA-256 of the SPKI', async () => {
    const key = makeKey();
    await expect(importLogKey({ ...key.logKey, keyId: makeKey().logKey.keyId })).rejects.toThrow(
      TypeError,
    );
    await expect(importLogKey({ ...key.logKey, spki: makeKey().logKey.spki })).rejects.toThrow(
      TypeError,
    );
    await expect(importLogKey(key.logKey)).resolves.toBeDefined();
  });
});
