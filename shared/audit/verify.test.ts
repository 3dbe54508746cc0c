// verifyAuditLog and verifyAuditExport against an in-memory log (real event hashes, real Ed25519 by
// node:crypto): every failure kind, the pinned head (rollback, rewritten history, another key), and
// the first bad event after each kind of tampering. The expected seq is what the test tampered with.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference that signs like the server's log key
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryAuditLog, type MemoryLogSigner, hashEvent, rechain } from './memory-log';
import { merkleLeafHash } from './merkle';
import type { LogKey } from './tree-head';
import {
  type AuditFailureKind,
  type AuditPin,
  type AuditVerification,
  verifyAuditExport,
  verifyAuditLog,
} from './verify';

function makeSigner(logId = 'org_1'): MemoryLogSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const logKey: LogKey = {
    algorithm: 'Ed25519',
    spki: spki.toString('base64url'),
    keyId: createHash('sha256').update(spki).digest('hex'),
  };
  return {
    logId,
    logKey,
    sign: (bytes) => Promise.resolve(sign(null, bytes, privateKey).toString('base64url')),
  };
}

async function makeLog(events: number, signer = makeSigner()): Promise<MemoryAuditLog> {
  const log = new MemoryAuditLog(signer);
  await log.appendMany(events);
  await log.signHead();
  return log;
}

function failure(result: AuditVerification) {
  if (result.ok) throw new Error('expected a verification failure, got success');
  return result.failure;
}

function expectFailure(result: AuditVerification, kind: AuditFailureKind, seq?: number) {
  const f = failure(result);
  expect({ kind: f.kind, seq: f.seq }, f.message).toEqual({ kind, seq });
  return f;
}

const pinOf = (result: AuditVerification): AuditPin => {
  if (!result.ok) throw new Error(result.failure.message);
  return result.pin;
};

/** Swaps the contents (not the seq) of events k and k + 1 (1-based), as reordering two rows would. */
function swapRows(log: MemoryAuditLog, k: number) {
  const a = log.events[k - 1]!;
  const b = log.events[k]!;
  log.events[k - 1] = { ...b, seq: a.seq };
  log.events[k] = { ...a, seq: b.seq };
}

describe('verifyAuditLog', () => {
  it('verifies a whole log, counts the unsigned tail and returns the head to pin', async () => {
    const log = await makeLog(45);
    await log.appendMany(3);
    const progress: number[] = [];
    const result = await verifyAuditLog(log.source(), null, (p) => progress.push(p.verified));
    expect(result).toMatchObject({ ok: true, verified: 45, unsignedTail: 3 });
    expect(pinOf(result)).toEqual({
      logId: 'org_1',
      keyId: log.signer.logKey.keyId,
      treeSize: 45,
      rootHash: log.heads[0]!.rootHash,
      signedAt: log.heads[0]!.signedAt,
    });
    expect(progress.at(-1)).toBe(45);
  });

  it('verifies an empty log with a signed empty head', async () => {
    const log = await makeLog(0);
    expect(await verifyAuditLog(log.source(), null)).toMatchObject({ ok: true, verified: 0 });
  });

  it('accepts a newer head consistent with the pinned one', async () => {
    const log = await makeLog(13);
    const pin = pinOf(await verifyAuditLog(log.source(), null));
    await log.appendMany(20);
    await log.signHead();
    expect(await verifyAuditLog(log.source(), pin)).toMatchObject({ ok: true, verified: 33 });
  });

  it('refuses a log key whose id is not its SPKI hash', async () => {
    const log = await makeLog(3);
    const source = log.source({ logKey: { ...log.signer.logKey, keyId: 'ab'.repeat(32) } });
    expectFailure(await verifyAuditLog(source, null), 'log_key_invalid');
  });

  it('refuses another log key or another log than the pinned one', async () => {
    const log = await makeLog(5);
    const pin = pinOf(await verifyAuditLog(log.source(), null));
    // Everything re-signed by a new key: internally valid, but not the key this browser knows.
    const resigned = new MemoryAuditLog(makeSigner());
    resigned.events.push(...log.events.map((e) => ({ ...e })));
    for (const e of log.events) await resigned.tree.append(await merkleLeafHash(e.hash));
    await resigned.signHead();
    expect((await verifyAuditLog(resigned.source(), null)).ok).toBe(true);
    expectFailure(await verifyAuditLog(resigned.source(), pin), 'log_key_changed');
    expectFailure(await verifyAuditLog(log.source({ logId: 'org_2' }), pin), 'log_key_changed');
  });

  it('refuses a forged head signature, a head of another log and no head at all', async () => {
    const log = await makeLog(9);
    const good = log.heads[0]!;
    const forged = { ...good, rootHash: 'ab'.repeat(32) };
    expectFailure(await verifyAuditLog(log.source({ head: forged }), null), 'head_signature');
    const other = new MemoryAuditLog(makeSigner());
    const otherHead = await other.signHead(0);
    expectFailure(
      await verifyAuditLog(log.source({ head: { ...otherHead, keyId: good.keyId } }), null),
      'head_signature',
    );
    expectFailure(await verifyAuditLog(log.source({ logId: 'org_2' }), null), 'head_signature');
    const empty = new MemoryAuditLog(log.signer);
    expectFailure(await verifyAuditLog(empty.source(), null), 'head_signature');
  });

  it('refuses an older head replayed after a newer one was pinned (rollback)', async () => {
    const log = await makeLog(10);
    const old = log.heads[0]!;
    await log.appendMany(10);
    await log.signHead();
    const pin = pinOf(await verifyAuditLog(log.source(), null));
    expectFailure(await verifyAuditLog(log.source({ head: old }), pin), 'head_rollback');
    // The same old head is fine for a verifier that never saw the newer one.
    expect((await verifyAuditLog(log.source({ head: old }), null)).ok).toBe(true);
  });

  it('refuses a head inconsistent with the pinned one (history rewritten, then re-signed with the real key)', async () => {
    const signer = makeSigner();
    const original = await makeLog(21, signer);
    const pin = pinOf(await verifyAuditLog(original.source(), null));
    // The operator rebuilds the log with event 4 changed, every hash and the tree recomputed, and signs it.
    const rewritten = new MemoryAuditLog(signer);
    for (const e of original.events)
      await rewritten.append({ ...e, details: e.seq === 4 ? '{"n":999}' : e.details });
    await rewritten.appendMany(10);
    await rewritten.signHead();
    expect((await verifyAuditLog(rewritten.source(), null)).ok).toBe(true);
    expectFailure(await verifyAuditLog(rewritten.source(), pin), 'head_inconsistent');
    // Same size, other root.
    const sameSize = await rewritten.signHead(21);
    expectFailure(
      await verifyAuditLog(rewritten.source({ head: sameSize }), pin),
      'head_inconsistent',
    );
    // A server that refuses the proof does not get the benefit of the doubt.
    const refusing = {
      ...original.source(),
      consistency: () => Promise.reject(new Error('audit_proof_unavailable')),
    };
    await original.appendMany(3);
    await original.signHead();
    expectFailure(await verifyAuditLog(refusing, pin), 'head_inconsistent');
    expect((await verifyAuditLog(original.source(), pin)).ok).toBe(true);
  });

  it('points at a changed field', async () => {
    const log = await makeLog(30);
    log.events[16]!.actorRole = 'admin';
    const f = expectFailure(await verifyAuditLog(log.source(), null), 'chain_break', 17);
    expect(f.reason).toBe('hash_mismatch');
  });

  it('points at a deleted row as the missing one', async () => {
    const log = await makeLog(30);
    log.events.splice(11, 1);
    expect(expectFailure(await verifyAuditLog(log.source(), null), 'chain_break', 12).reason).toBe(
      'seq_gap',
    );
  });

  it('points at the first of two reordered rows', async () => {
    const log = await makeLog(30);
    swapRows(log, 20);
    expectFailure(await verifyAuditLog(log.source(), null), 'chain_break', 20);
  });

  it('points at a malformed row', async () => {
    const log = await makeLog(8);
    log.events[2]!.occurredAt = 'yesterday';
    expect(expectFailure(await verifyAuditLog(log.source(), null), 'chain_break', 3).reason).toBe(
      'malformed_row',
    );
  });

  it('points at dropped rows at the end that the head covers', async () => {
    const log = await makeLog(30);
    log.events.splice(27);
    expectFailure(await verifyAuditLog(log.source(), null), 'chain_break', 28);
  });

  it.each([1, 2, 9, 16, 17, 33, 40])(
    'locates a row inserted at #%i with every later hash recomputed (Merkle tree left alone)',
    async (k) => {
      const log = await makeLog(40);
      const forged = {
        ...log.events[k - 1]!,
        id: '99999999-0000-4000-8000-000000000000',
        action: 'account.role_changed',
      };
      log.events.splice(k - 1, 0, forged);
      await rechain(log.events, k - 1);
      const f = expectFailure(await verifyAuditLog(log.source(), null), 'event_not_signed', k);
      expect(f.message).toContain(`#${k}`);
    },
  );

  it('locates a field rewritten with every later hash recomputed', async () => {
    const log = await makeLog(50);
    log.events[36]!.result = 'denied';
    await rechain(log.events, 36);
    expectFailure(await verifyAuditLog(log.source(), null), 'event_not_signed', 37);
  });

  it('reports a root mismatch when the server will not lead to the difference', async () => {
    const log = await makeLog(20);
    log.events.splice(4, 0, { ...log.events[4]!, details: '{"n":0}' });
    await rechain(log.events, 4);
    const lying = {
      ...log.source(),
      split: () => Promise.resolve({ left: 'ab'.repeat(32), right: 'cd'.repeat(32) }),
    };
    expectFailure(await verifyAuditLog(lying, null), 'root_mismatch');
  });
});

describe('verifyAuditExport', () => {
  it('verifies a complete export and a filtered one', async () => {
    const log = await makeLog(25);
    const data = await log.exportAll();
    expect(await verifyAuditExport(data)).toMatchObject({
      ok: true,
      verified: 25,
      pinConsistency: null,
    });
    const filtered = {
      ...data,
      complete: false,
      events: data.events.filter((e) => e.seq % 4 === 1),
    };
    expect(await verifyAuditExport(filtered)).toMatchObject({ ok: true, verified: 7 });
  });

  it('refuses a forged head, a bad log key, another pinned key and an older head than pinned', async () => {
    const log = await makeLog(12);
    const data = await log.exportAll();
    expectFailure(
      await verifyAuditExport({ ...data, treeHead: { ...data.treeHead, treeSize: 11 } }),
      'head_signature',
    );
    expectFailure(
      await verifyAuditExport({ ...data, logKey: { ...data.logKey, keyId: 'ab'.repeat(32) } }),
      'log_key_invalid',
    );
    const pin = pinOf(await verifyAuditExport(data));
    expectFailure(
      await verifyAuditExport(data, { ...pin, keyId: 'ab'.repeat(32) }),
      'log_key_changed',
    );
    await log.appendMany(5);
    const newer = pinOf(await verifyAuditExport(await log.exportAll(await log.signHead())));
    expectFailure(await verifyAuditExport(data, newer), 'head_rollback');
  });

  it('checks a complete export against the pinned head: consistent, rewritten, same size other root', async () => {
    const signer = makeSigner();
    const log = await makeLog(10, signer);
    const pin = pinOf(await verifyAuditExport(await log.exportAll()));
    await log.appendMany(7);
    expect(await verifyAuditExport(await log.exportAll(await log.signHead()), pin)).toMatchObject({
      ok: true,
      pinConsistency: 'checked',
    });
    const rewritten = new MemoryAuditLog(signer);
    for (const e of log.events)
      await rewritten.append({ ...e, targetId: e.seq === 2 ? 'd_other' : e.targetId });
    const rewrittenHead = await rewritten.signHead();
    expectFailure(
      await verifyAuditExport(await rewritten.exportAll(rewrittenHead), pin),
      'head_inconsistent',
    );
    expectFailure(
      await verifyAuditExport(await rewritten.exportAll(await rewritten.signHead(10)), pin),
      'head_inconsistent',
    );
    const filtered = await log.exportAll(log.heads.at(-1));
    expect(
      await verifyAuditExport(
        { ...filtered, complete: false, events: filtered.events.slice(3) },
        pin,
      ),
    ).toMatchObject({ ok: true, pinConsistency: 'unchecked' });
  });

  it('points at a changed field, a deleted event, reordered events and an inserted one', async () => {
    const log = await makeLog(30);
    const data = await log.exportAll();
    const changed = structuredClone(data);
    (changed.events[8] as { ip: string | null }).ip = '198.51.100.1';
    expect(expectFailure(await verifyAuditExport(changed), 'chain_break', 9).reason).toBe(
      'hash_mismatch',
    );

    const deleted = { ...data, events: data.events.filter((e) => e.seq !== 14) };
    expectFailure(await verifyAuditExport(deleted), 'chain_break', 14);
    const deletedFiltered = { ...deleted, complete: false };
    expect((await verifyAuditExport(deletedFiltered)).ok).toBe(true);

    const reordered = { ...data, events: [...data.events] };
    [reordered.events[19], reordered.events[20]] = [reordered.events[20]!, reordered.events[19]!];
    expectFailure(await verifyAuditExport(reordered), 'chain_break', 20);

    const tampered = await makeLog(30, log.signer);
    tampered.events.splice(22, 0, { ...tampered.events[22]!, action: 'account.deleted' });
    await rechain(tampered.events, 22);
    const inserted = await tampered.exportAll(tampered.heads[0]);
    expect(expectFailure(await verifyAuditExport(inserted), 'event_not_signed', 23).reason).toBe(
      'inclusion_proof',
    );
  });

  it('refuses an event newer than the head and a wrong inclusion path', async () => {
    const log = await makeLog(6);
    const data = await log.exportAll();
    const extra = await log.append();
    expectFailure(
      await verifyAuditExport({
        ...data,
        complete: false,
        events: [...data.events, { ...extra, inclusionPath: [] }],
      }),
      'event_not_signed',
      7,
    );
    const badPath = {
      ...data,
      events: data.events.map((e) =>
        e.seq === 4 ? { ...e, inclusionPath: [...e.inclusionPath].reverse() } : e,
      ),
    };
    expectFailure(await verifyAuditExport(badPath), 'event_not_signed', 4);
    expect(await hashEvent(data.events[0]!)).toBe(data.events[0]!.hash);
  });
});
