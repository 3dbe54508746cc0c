// Integration: the audit log API over real HTTP and a real SQLite file. Roots and proofs are checked
// against an independent RFC 9162 implementation (server/test/rfc9162.ts), signatures against the
// published key with node:crypto, and the whole log with the shared verifier the browser runs.
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuditEventView,
  createAuditExport,
  getAuditChain,
  getAuditEvent,
  getAuditHead,
  getAuditTreeSplit,
  getConsistencyProof,
  getInclusionProof,
  listAuditHeads,
} from '../../shared/api';
import { isApiError } from '../../shared/api/client';
import { treeHeadBytes } from '../../shared/audit/tree-head';
import { type AuditLogSource, verifyAuditExport, verifyAuditLog } from '../../shared/audit/verify';
import type { CallApi } from '../../shared/api/client';
import { recordAuditEvent } from '../services/audit.service';
import { type Member, type TestOrganisation, createTestOrganisation } from '../test/org-fixture';
import { hex, leafInputs, mth, path, proof } from '../test/rfc9162';

/** The API error code a promise rejects with. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isApiError(error)) throw new Error(`expected an API error, got ${String(error)}`);
  return error.code;
}

/** Every event of the log, through the API, oldest first. */
async function allEvents(api: CallApi): Promise<AuditEventView[]> {
  const events: AuditEventView[] = [];
  for (;;) {
    const page = await api(getAuditChain, { query: { after: events.at(-1)?.seq ?? 0 } });
    if (page.events.length === 0) return events;
    events.push(...page.events);
  }
}

async function allHeadSizes(api: CallApi): Promise<number[]> {
  const sizes: number[] = [];
  for (;;) {
    const { heads } = await api(listAuditHeads, { query: sizes.length ? { after: sizes.at(-1)! } : {} });
    if (heads.length === 0) return sizes;
    sizes.push(...heads.map((head) => head.treeSize));
  }
}

/** The verifier's view of the server: exactly the calls the browser makes. */
export function apiSource(api: CallApi): AuditLogSource {
  return {
    head: () => api(getAuditHead, {}),
    chain: (after) => api(getAuditChain, { query: { after } }),
    consistency: async (first, second) => (await api(getConsistencyProof, { query: { first, second } })).proof,
    split: (start, end) => api(getAuditTreeSplit, { query: { start, end } }),
  };
}

/** A deterministic PRNG (mulberry32), so a failing pair can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the RFC 9162 oracle itself', () => {
  // Known answers of the Certificate Transparency reference tests (google/certificate-transparency,
  // merkle_tree_test): leaves "", 00, 10, 2021, 3031, 40414243, 5051...57, 6061...6f.
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
  it('gives the reference roots', () => {
    expect(mth([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(mth(leaves.slice(0, 1)).toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(mth(leaves.slice(0, 2)).toString('hex')).toBe('fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125');
    expect(mth(leaves.slice(0, 8)).toString('hex')).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });
});

describe('audit log API: heads, chain and proofs', () => {
  let org: TestOrganisation;
  let auditor: Member;

  beforeAll(async () => {
    org = await createTestOrganisation(['auditor'], { env: { KLUIS_AUDIT_HEAD_EVERY_EVENTS: '3' } });
    auditor = org.members.auditor!;
  }, 120_000);

  afterAll(async () => {
    await org.close();
  });

  async function recordEvents(count: number, signAfterEach: boolean): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await org.testApp.db.transaction().execute((trx) => recordAuditEvent(trx, { action: 'test.filled', actorId: auditor.userId, details: { i } }));
      if (signAfterEach) await org.testApp.services.auditLog.signHeadIfDue({ force: true });
    }
  }

  it('signs a head after a request that left enough events unsigned', async () => {
    const api = auditor.client.api;
    const before = (await api(getAuditHead, {})).treeHead!;
    // Three events with no request around them: nothing signs them yet.
    await recordEvents(3, false);
    expect((await api(getAuditHead, {})).treeHead!.treeSize).toBe(before.treeSize);
    // A request that records an event (a sign-in) finds four unsigned events (>= 3) and signs all of them.
    await org.relogin(auditor);
    const total = (await allEvents(auditor.client.api)).at(-1)!.seq;
    expect((await auditor.client.api(getAuditHead, {})).treeHead!.treeSize).toBe(total);
  });

  it('publishes a log key whose id is the SHA-256 of its SPKI and whose heads verify with node:crypto', async () => {
    const { logId, logKey, treeHead } = await auditor.client.api(getAuditHead, {});
    const spki = Buffer.from(logKey.spki, 'base64url');
    expect(logKey.keyId).toBe(createHash('sha256').update(spki).digest('hex'));
    const row = await org.testApp.db.selectFrom('audit_log').select('log_id').executeTakeFirstOrThrow();
    expect(logId).toBe(row.log_id);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('ed25519');
    const head = treeHead!;
    expect(verifySignature(null, treeHeadBytes(head), key, Buffer.from(head.signature, 'base64url'))).toBe(true);
    expect(verifySignature(null, treeHeadBytes({ ...head, treeSize: head.treeSize + 1 }), key, Buffer.from(head.signature, 'base64url'))).toBe(false);
  });

  it('gives roots, inclusion and consistency proofs equal to RFC 9162 for every head and leaf of a small log', async () => {
    await recordEvents(40 - (await allEvents(auditor.client.api)).length, true);
    const api = auditor.client.api;
    const events = await allEvents(api);
    expect(events.length).toBeGreaterThanOrEqual(40);
    const leaves = leafInputs(events.map((event) => event.hash));
    const heads = (await api(listAuditHeads, { query: {} })).heads;
    const sizes = heads.map((head) => head.treeSize);
    expect(sizes.length).toBeGreaterThanOrEqual(20);
    for (const head of heads) expect(head.rootHash, `root of ${head.treeSize}`).toBe(mth(leaves.slice(0, head.treeSize)).toString('hex'));
    for (const n of sizes) {
      for (let m = 0; m < n; m += 1) {
        const answer = await api(getInclusionProof, { query: { seq: m + 1, treeSize: n } });
        expect(answer.path, `PATH(${m}, D[${n}])`).toEqual(hex(path(m, leaves.slice(0, n))));
        expect(answer.leafHash).toBe(mth([leaves[m]!]).toString('hex'));
      }
      for (const m of sizes.filter((size) => size <= n)) {
        const answer = await api(getConsistencyProof, { query: { first: m, second: n } });
        expect(answer.proof, `PROOF(${m}, D[${n}])`).toEqual(hex(proof(m, leaves.slice(0, n))));
      }
    }
  }, 120_000);

  it('gives the same as RFC 9162 for random pairs in a bigger log', async () => {
    const next = random(22);
    // ~1,000 events in batches of random length, a head after each batch.
    while ((await allEvents(auditor.client.api)).length < 1000) {
      const batch = 1 + Math.floor(next() * 90);
      await org.testApp.db.transaction().execute(async (trx) => {
        for (let i = 0; i < batch; i += 1) await recordAuditEvent(trx, { action: 'test.bulk', details: { i } });
      });
      await org.testApp.services.auditLog.signHeadIfDue({ force: true });
    }
    const api = auditor.client.api;
    const leaves = leafInputs((await allEvents(api)).map((event) => event.hash));
    const sizes = await allHeadSizes(api);
    for (let trial = 0; trial < 12; trial += 1) {
      const n = sizes[Math.floor(next() * sizes.length)]!;
      const m = sizes.filter((size) => size <= n)[Math.floor(next() * sizes.filter((size) => size <= n).length)]!;
      const leaf = Math.floor(next() * n);
      const prefix = leaves.slice(0, n);
      expect((await api(getConsistencyProof, { query: { first: m, second: n } })).proof, `PROOF(${m}, D[${n}])`).toEqual(hex(proof(m, prefix)));
      expect((await api(getInclusionProof, { query: { seq: leaf + 1, treeSize: n } })).path, `PATH(${leaf}, D[${n}])`).toEqual(hex(path(leaf, prefix)));
    }
    const newest = (await api(getAuditHead, {})).treeHead!;
    expect(newest.rootHash).toBe(mth(leaves.slice(0, newest.treeSize)).toString('hex'));
    // The split a verifier walks down: stored children of MTH(D[start:end]).
    for (const [start, end] of [[0, newest.treeSize], [512, newest.treeSize], [0, 3], [4, 7]] as const) {
      const split = await api(getAuditTreeSplit, { query: { start, end } });
      let k = 1;
      while (k * 2 < end - start) k *= 2;
      expect(split).toEqual({ start, end, split: start + k, left: mth(leaves.slice(start, start + k)).toString('hex'), right: mth(leaves.slice(start + k, end)).toString('hex') });
    }
  }, 300_000);

  it('passes the browser verifier over the API, and an export passes the offline verifier', async () => {
    const api = auditor.client.api;
    const result = await verifyAuditLog(apiSource(api), null);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    // Pinned at this head, more events and a new head: consistent.
    await recordEvents(5, false);
    await org.testApp.services.auditLog.signHeadIfDue({ force: true });
    expect(await verifyAuditLog(apiSource(api), result.pin)).toMatchObject({ ok: true, treeHead: { treeSize: result.pin.treeSize + 5 } });

    await recordEvents(2, false);
    const exported = await api(createAuditExport, { body: { filter: {}, format: 'json' } });
    // The export signed a fresh head first, so the two newest events are in it.
    const events = await allEvents(api);
    expect(exported.complete).toBe(true);
    expect(exported.treeHead.treeSize).toBe(events.at(-1)!.seq - 1);
    expect(exported.events).toHaveLength(exported.treeHead.treeSize);
    expect(await verifyAuditExport(exported, result.pin)).toMatchObject({ ok: true, verified: exported.treeHead.treeSize });
    // The export is an event itself, with flags and a count only.
    expect(events.at(-1)).toMatchObject({ action: 'audit.exported', actorId: auditor.userId, details: JSON.stringify({ count: exported.events.length, filtered: { action: false, actor: false, from: false, result: false, target: false, to: false }, format: 'json' }) });

    const filtered = await api(createAuditExport, { body: { filter: { action: 'test.' }, format: 'csv' } });
    expect(filtered.complete).toBe(false);
    expect(filtered.events.length).toBeGreaterThan(1000);
    expect(filtered.events.every((event) => event.action.startsWith('test.'))).toBe(true);
    expect(await verifyAuditExport(filtered, null)).toMatchObject({ ok: true });
    // A changed event in the export no longer verifies (the export is checked, not trusted).
    const tampered = { ...filtered, events: filtered.events.map((event, i) => (i === 3 ? { ...event, actorId: 'someone-else' } : event)) };
    expect(await verifyAuditExport(tampered, null)).toMatchObject({ ok: false });
  }, 120_000);

  it('gives one event with its inclusion in the newest head, and null before a head covers it', async () => {
    const api = auditor.client.api;
    const { treeHead } = await api(getAuditHead, {});
    const answer = await api(getAuditEvent, { params: { seq: 2 } });
    expect(answer.inclusion!.treeHead).toEqual(treeHead);
    const leaves = leafInputs((await allEvents(api)).map((event) => event.hash));
    expect(answer.inclusion!.path).toEqual(hex(path(1, leaves.slice(0, treeHead!.treeSize))));
    await recordEvents(1, false);
    const newest = (await allEvents(api)).at(-1)!;
    expect((await api(getAuditEvent, { params: { seq: newest.seq } })).inclusion).toBeNull();
    expect(await codeOf(api(getAuditEvent, { params: { seq: newest.seq + 100 } }))).toBe('audit_event_not_found');
  });

  it('refuses proofs for sizes that are not signed heads, and backwards or out-of-tree requests', async () => {
    const api = auditor.client.api;
    const sizes = await allHeadSizes(api);
    const notAHead = Array.from({ length: sizes.at(-1)! }, (_, i) => i + 1).find((size) => !sizes.includes(size))!;
    const [a, b] = [sizes.at(-3)!, sizes.at(-1)!];
    expect(await codeOf(api(getConsistencyProof, { query: { first: notAHead, second: b } }))).toBe('audit_head_not_found');
    expect(await codeOf(api(getConsistencyProof, { query: { first: a, second: b + 100_000 } }))).toBe('audit_head_not_found');
    expect(await codeOf(api(getConsistencyProof, { query: { first: b, second: a } }))).toBe('audit_proof_unavailable');
    expect(await codeOf(api(getInclusionProof, { query: { seq: 1, treeSize: notAHead } }))).toBe('audit_head_not_found');
    expect(await codeOf(api(getInclusionProof, { query: { seq: a + 1, treeSize: a } }))).toBe('audit_proof_unavailable');
    expect(await codeOf(api(getAuditTreeSplit, { query: { start: 0, end: b + 1 } }))).toBe('audit_proof_unavailable');
    expect(await codeOf(api(getAuditTreeSplit, { query: { start: 5, end: 6 } }))).toBe('audit_proof_unavailable');
  });
});
