// Integration: the auditor's workspace on a real SQLite file: head-signing cadence with the test
// clock, start-up backfill of old rows, filters and paging with their error codes and index use,
// Auditors' countersignatures, and retention pruning behind a signed checkpoint.
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuditEventView,
  type AuditFilter,
  addAuditWitness,
  getAuditHead,
  getAuditRetention,
  listAuditEvents,
  listAuditWitnesses,
  setAuditRetention,
} from '../../shared/api';
import { isApiError } from '../../shared/api/client';
import { AUDIT_WITNESS_CONTEXT, type AuditWitnessPayload, type SignedTreeHead, importLogKey, verifyCheckpoint, verifyTreeHead } from '../../shared/audit/tree-head';
import { type AuditLogSource, verifyAuditLog } from '../../shared/audit/verify';
import { signStatement, toBase64Url, utf8 } from '../../shared/crypto';
import type { Db } from '../db/database';
import { AppError } from '../errors';
import { compileAuditEventsPage } from '../repositories/audit-log.repository';
import { recordAuditEvent } from '../services/audit.service';
import { type AuditLogService, parseAuditFilter } from '../services/audit-log.service';
import { makeTestApp, type TestApp } from '../test/make-test-app';
import { type Member, type TestOrganisation, createTestOrganisation } from '../test/org-fixture';
import { leafInputs, hex, mth, path } from '../test/rfc9162';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (isApiError(error) || error instanceof AppError) return error.code;
  throw new Error(`expected an API error, got ${String(error)}`);
}

async function record(db: Db, count: number, event: Partial<Parameters<typeof recordAuditEvent>[1]> = {}): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < count; i += 1) await recordAuditEvent(trx, { action: 'test.filled', ...event });
  });
}

/** A clock the test moves by hand. */
function testClock() {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) };
}

/** The verifier's view over the service (for after a clock jump that ends every session). */
function serviceSource(auditLog: AuditLogService): AuditLogSource {
  return {
    head: () => auditLog.getAuditHead(),
    chain: (after) => auditLog.getAuditChain({ after }),
    consistency: async (first, second) => (await auditLog.getConsistencyProof({ first, second })).proof,
    split: (start, end) => auditLog.getAuditTreeSplit({ start, end }),
  };
}

describe('head-signing cadence', () => {
  let testApp: TestApp;
  const clock = testClock();

  beforeAll(async () => {
    testApp = await makeTestApp({ now: clock.now, env: { KLUIS_AUDIT_HEAD_EVERY_EVENTS: '5', KLUIS_AUDIT_HEAD_MAX_MINUTES: '2' } });
  });
  afterAll(async () => {
    await testApp.close();
  });

  it('signs the first head at once, then every N events or after M minutes with unsigned events', async () => {
    const { auditLog } = testApp.services;
    const sign = async () => (await auditLog.signHeadIfDue())?.treeSize ?? null;
    expect(await sign()).toBe(0);
    expect(await sign()).toBeNull();
    await record(testApp.db, 4);
    expect(await sign()).toBeNull();
    await record(testApp.db, 1);
    expect(await sign()).toBe(5);
    await record(testApp.db, 1);
    expect(await sign()).toBeNull();
    clock.advance(2 * 60_000 - 1000);
    expect(await sign()).toBeNull();
    clock.advance(1000);
    expect(await sign()).toBe(6);
    // Nothing unsigned: time alone signs nothing.
    clock.advance(60 * 60_000);
    expect(await sign()).toBeNull();
    const { treeHead, logKey, logId } = await auditLog.getAuditHead();
    expect(treeHead?.treeSize).toBe(6);
    expect(await verifyTreeHead(await importLogKey(logKey), logKey.keyId, logId, treeHead!)).toBe(true);
  });

  it('backfills leaves of rows that have none (written before the Merkle tree), old and new mixed', async () => {
    const { auditLog } = testApp.services;
    await record(testApp.db, 4);
    // Forget the tree, as for rows from before migration 0010 (an attacker-free way: drop the guard).
    const raw = new BetterSqlite3(testApp.config.databasePath);
    try {
      raw.exec('drop trigger audit_merkle_nodes_no_delete; delete from audit_merkle_nodes;');
    } finally {
      raw.close();
    }
    // Events #11 and #12 (leaves 10 and 11) are recorded before the backfill: their parent (1, 5)
    // is stored, its left sibling (1, 4) is not yet. The backfill completes the tree around them.
    await record(testApp.db, 2);
    expect(await auditLog.signHeadIfDue({ force: true }).then(() => 'signed', (error: unknown) => (error instanceof AppError ? error.code : 'other'))).toBe('audit_proof_unavailable');
    expect(await auditLog.backfillMerkleTree()).toBe(10);
    expect(await auditLog.backfillMerkleTree()).toBe(0);
    await record(testApp.db, 1);
    const head = await auditLog.signHeadIfDue({ force: true });
    const hashes = (await auditLog.getAuditChain({})).events.map((event) => event.hash);
    expect(head?.treeSize).toBe(13);
    expect(head?.rootHash).toBe(mth(leafInputs(hashes)).toString('hex'));
    for (let leaf = 0; leaf < 13; leaf += 1) {
      expect((await auditLog.getInclusionProof({ seq: leaf + 1, treeSize: 13 })).path).toEqual(hex(path(leaf, leafInputs(hashes))));
    }
  });
});

describe('event table filters', () => {
  let org: TestOrganisation;
  let auditor: Member;
  let events: AuditEventView[];

  beforeAll(async () => {
    org = await createTestOrganisation(['client', 'auditor']);
    auditor = org.members.auditor!;
    const db = org.testApp.db;
    const client = org.members.client!;
    await record(db, 3, { action: 'filter.viewed', actorId: client.userId, targetType: 'user', targetId: org.admin.userId });
    await record(db, 2, { action: 'filter.refused', actorId: client.userId, result: 'denied', targetType: 'document', targetId: 'doc-1' });
    await record(db, 2, { action: 'other.thing', actorId: org.admin.userId, result: 'failure' });
    events = (await org.testApp.services.auditLog.getAuditChain({})).events;
  }, 120_000);
  afterAll(async () => {
    await org.close();
  });

  /** Every page of a filter, following nextCursor. */
  async function allPages(query: AuditFilter, limit: number) {
    const seen: AuditEventView[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 100; pages += 1) {
      const page = await auditor.client.api(listAuditEvents, { query: { ...query, limit, ...(before ? { before } : {}) } });
      seen.push(...page.events);
      if (page.nextCursor === null) return seen;
      before = page.nextCursor;
    }
    throw new Error('the cursor never ended');
  }

  const newestFirst = (filter: (event: AuditEventView) => boolean) => events.filter(filter).map((event) => event.seq).reverse();

  it('filters by actor, exact action, area, target and result, newest first, across pages', async () => {
    const client = org.members.client!;
    const seqs = (list: AuditEventView[]) => list.map((event) => event.seq);
    expect(seqs(await allPages({ actor: client.userId }, 2))).toEqual(newestFirst((e) => e.actorId === client.userId));
    expect(seqs(await allPages({ action: 'filter.viewed' }, 2))).toEqual(newestFirst((e) => e.action === 'filter.viewed'));
    expect(seqs(await allPages({ action: 'filter.' }, 3))).toEqual(newestFirst((e) => e.action.startsWith('filter.')));
    expect(seqs(await allPages({ action: 'filter.' }, 3))).toHaveLength(5);
    expect(seqs(await allPages({ target: 'doc-1' }, 1))).toEqual(newestFirst((e) => e.targetId === 'doc-1'));
    expect(seqs(await allPages({ result: 'failure' }, 50))).toEqual(newestFirst((e) => e.result === 'failure'));
    expect(seqs(await allPages({ result: 'denied', actor: client.userId }, 50))).toHaveLength(2);
    // Everything: the whole log, newest first, in pages of 50 by default.
    const page = await auditor.client.api(listAuditEvents, { query: {} });
    expect(page.events.map((event) => event.seq)).toEqual(newestFirst(() => true).slice(0, 50));
  });

  it('joins e-mail addresses for display only', async () => {
    const [viewed] = await allPages({ action: 'filter.viewed' }, 1);
    expect(viewed).toMatchObject({ actorEmail: org.members.client!.email, targetEmail: org.admin.email });
    const [refused] = await allPages({ action: 'filter.refused' }, 1);
    expect(refused).toMatchObject({ targetType: 'document', targetEmail: null });
  });

  it('filters by whole UTC days and by date-times', async () => {
    const first = events[0]!;
    const last = events.at(-1)!;
    const day = (iso: string) => iso.slice(0, 10);
    const dayBefore = new Date(Date.parse(first.occurredAt) - 86_400_000).toISOString().slice(0, 10);
    const all = await allPages({ from: day(first.occurredAt), to: day(last.occurredAt) }, 200);
    expect(all).toHaveLength(events.length);
    expect(await allPages({ to: dayBefore }, 200)).toEqual([]);
    const middle = events[Math.floor(events.length / 2)]!;
    const since = await allPages({ from: middle.occurredAt }, 200);
    expect(since.map((e) => e.seq)).toEqual(newestFirst((e) => e.occurredAt >= middle.occurredAt));
    const until = await allPages({ to: middle.occurredAt }, 200);
    expect(until.map((e) => e.seq)).toEqual(newestFirst((e) => e.occurredAt <= middle.occurredAt));
    // One instant in both: just the events of that millisecond.
    expect((await allPages({ from: middle.occurredAt, to: middle.occurredAt }, 200)).every((e) => e.occurredAt === middle.occurredAt)).toBe(true);
  });

  it('refuses malformed dates, from after to, and pages over 200, naming the problem', async () => {
    const api = auditor.client.api;
    const problem = async (query: Record<string, unknown>, word = '') => {
      const error = await api(listAuditEvents, { query }).then(
        () => null,
        (e: unknown) => e,
      );
      if (!isApiError(error)) throw new Error('expected an API error');
      return { code: error.code, mentions: error.message.includes(word) };
    };
    expect(await problem({ from: 'yesterday' }, '"from"')).toEqual({ code: 'audit_filter_invalid', mentions: true });
    expect(await problem({ to: '2026-02-30' }, '"to"')).toEqual({ code: 'audit_filter_invalid', mentions: true });
    expect(await problem({ to: '2026-13-01T00:00:00Z' }, '"to"')).toEqual({ code: 'audit_filter_invalid', mentions: true });
    expect(await problem({ from: '2026-03-02', to: '2026-03-01' }, 'after')).toEqual({ code: 'audit_filter_invalid', mentions: true });
    expect(await problem({ from: '2026-03-01T10:00:00.001Z', to: '2026-03-01T10:00:00.000Z' })).toEqual({ code: 'audit_filter_invalid', mentions: true });
    expect(await problem({ limit: 1000 })).toEqual({ code: 'audit_page_too_large', mentions: true });
    expect(await problem({ limit: 201 })).toEqual({ code: 'audit_page_too_large', mentions: true });
    expect((await api(listAuditEvents, { query: { limit: 200 } })).events.length).toBeGreaterThan(0);
    expect(await codeOf(org.members.client!.client.api(listAuditEvents, { query: {} }))).toBe('forbidden');
  });

  it('uses an index for every filter (EXPLAIN QUERY PLAN), never a full scan', () => {
    const raw = new BetterSqlite3(org.testApp.config.databasePath, { readonly: true });
    try {
      const plan = (filter: Parameters<typeof parseAuditFilter>[0], before?: number) => {
        const compiled = compileAuditEventsPage(org.testApp.db, parseAuditFilter(filter), before, 51);
        const rows = raw.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...(compiled.parameters as unknown[])) as { detail: string }[];
        return rows.map((row) => row.detail);
      };
      const cases: [Parameters<typeof parseAuditFilter>[0], RegExp][] = [
        [{ actor: 'u' }, /audit_events_actor/],
        [{ action: 'document.shared' }, /audit_events_action/],
        [{ action: 'document.' }, /audit_events_action/],
        [{ target: 't' }, /audit_events_target/],
        [{ result: 'denied' }, /audit_events_result/],
        [{ from: '2026-01-01' }, /audit_events_occurred_at/],
        [{ from: '2026-01-01', to: '2026-01-31' }, /audit_events_occurred_at/],
        [{ to: '2026-01-31' }, /audit_events_occurred_at/],
        [{ action: 'document.', from: '2026-01-01' }, /audit_events_(action|occurred_at)/],
        [{ actor: 'u', from: '2026-01-01', result: 'success' }, /audit_events_(actor|result|occurred_at)/],
        [{ target: 't', action: 'document.' }, /audit_events_(target|action)/],
      ];
      for (const [filter, index] of cases) {
        const details = plan(filter);
        const events = details.filter((detail) => /\b(e|audit_events)\b/.test(detail));
        expect(events.join(' | '), JSON.stringify(filter)).toMatch(index);
        expect(details.some((detail) => /^SCAN (e|audit_events)\b(?! USING)/.test(detail)), `${JSON.stringify(filter)}: ${details.join(' | ')}`).toBe(false);
        // A range alone is read from the index only, never sorted row by row.
        if (Object.keys(filter).length === 1 && (filter.from ?? filter.to ?? filter.action?.endsWith('.'))) expect(events.join(' | ')).toMatch(/COVERING INDEX/);
      }
      // No filter, or only the cursor: the primary key, newest first.
      expect(plan({}, 100).join(' | ')).toMatch(/SEARCH e USING INTEGER PRIMARY KEY|SCAN e/);
    } finally {
      raw.close();
    }
  });
});

describe('Auditors countersign tree heads', () => {
  let org: TestOrganisation;
  let auditor: Member;
  let head: SignedTreeHead;

  beforeAll(async () => {
    org = await createTestOrganisation(['auditor']);
    auditor = org.members.auditor!;
    head = (await org.testApp.services.auditLog.signHeadIfDue({ force: true })) ?? (await auditor.client.api(getAuditHead, {})).treeHead!;
  }, 120_000);
  afterAll(async () => {
    await org.close();
  });

  function payloadFor(target: SignedTreeHead, changes: Partial<AuditWitnessPayload> = {}): AuditWitnessPayload {
    return {
      kind: 'audit-witness',
      logId: target.logId,
      keyId: target.keyId,
      treeSize: target.treeSize,
      rootHash: target.rootHash,
      headSignedAt: target.signedAt,
      witnessedAt: new Date().toISOString(),
      ...changes,
    };
  }

  async function statement(member: Member, payload: AuditWitnessPayload) {
    const bytes = utf8(JSON.stringify(payload));
    return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(member.vault.signingKey!, AUDIT_WITNESS_CONTEXT, bytes)) };
  }

  it('refuses a wrong signature, another person\'s key, a head that does not exist and one with another root', async () => {
    const api = auditor.client.api;
    const good = await statement(auditor, payloadFor(head));
    const flipped = { ...good, signature: (good.signature[0] === 'A' ? 'B' : 'A') + good.signature.slice(1) };
    expect(await codeOf(api(addAuditWitness, { body: { statement: flipped } }))).toBe('audit_witness_invalid');
    expect(await codeOf(api(addAuditWitness, { body: { statement: await statement(org.admin, payloadFor(head)) } }))).toBe('audit_witness_invalid');
    expect(await codeOf(api(addAuditWitness, { body: { statement: await statement(auditor, payloadFor(head, { treeSize: head.treeSize + 1000 })) } }))).toBe('audit_head_not_found');
    expect(await codeOf(api(addAuditWitness, { body: { statement: await statement(auditor, payloadFor(head, { rootHash: 'ab'.repeat(32) })) } }))).toBe('audit_witness_invalid');
    expect(await codeOf(api(addAuditWitness, { body: { statement: { payload: toBase64Url(utf8('{"kind":"other"}')), signature: good.signature } } }))).toBe('audit_witness_invalid');
    expect(await codeOf(org.admin.client.api(addAuditWitness, { body: { statement: good } }))).toBe('forbidden');
    expect((await api(getAuditHead, {})).latestWitnessed).toBeNull();
  });

  it('stores a valid countersignature once, shows it to everyone and records it', async () => {
    const api = auditor.client.api;
    const good = await statement(auditor, payloadFor(head));
    const { witness } = await api(addAuditWitness, { body: { statement: good } });
    expect(witness).toMatchObject({ treeSize: head.treeSize, witnessId: auditor.userId, witnessEmail: auditor.email, statement: good });
    expect(await codeOf(api(addAuditWitness, { body: { statement: await statement(auditor, payloadFor(head)) } }))).toBe('conflict');
    const seen = await org.admin.client.api(getAuditHead, {});
    expect(seen.latestWitnessed).toEqual({ treeHead: head, witnesses: [witness] });
    expect(await org.admin.client.api(listAuditWitnesses, { query: {} })).toEqual({ witnesses: [witness], heads: [head] });
    const recorded = await org.testApp.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.witnessed').execute();
    expect(recorded).toMatchObject([{ actor_id: auditor.userId, target_id: String(head.treeSize), details: JSON.stringify({ treeSize: head.treeSize }) }]);
  });
});

describe('retention and pruning', () => {
  let org: TestOrganisation;
  const clock = testClock();

  beforeAll(async () => {
    org = await createTestOrganisation(['auditor'], { now: clock.now });
  }, 120_000);
  afterAll(async () => {
    await org.close();
  });

  it('is set by an Administrator with a recent sign-in, and recorded', async () => {
    const { auditLog } = org.testApp.services;
    expect(await codeOf(org.members.auditor!.client.api(setAuditRetention, { body: { retentionDays: 30 } }))).toBe('forbidden');
    const stale = { userId: org.admin.userId, role: 'admin' as const, sessionId: 'x', authenticatedAt: new Date(clock.now().getTime() - 16 * 60_000).toISOString(), ip: null };
    expect(await codeOf(auditLog.setAuditRetention(stale, 30))).toBe('reauthentication_required');
    expect(await org.admin.client.api(setAuditRetention, { body: { retentionDays: 30 } })).toEqual({ retentionDays: 30 });
    expect(await org.members.auditor!.client.api(getAuditRetention, {})).toEqual({ retentionDays: 30, checkpoints: [] });
    const [changed] = await org.testApp.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.retention_changed').execute();
    expect(changed).toMatchObject({ actor_id: org.admin.userId, details: JSON.stringify({ from: null, to: 30 }) });
    // Nothing is old enough yet.
    expect(await auditLog.pruneExpiredEvents()).toBeNull();
  });

  it('publishes a signed checkpoint, removes only signed old events, and the log still verifies', async () => {
    const { auditLog } = org.testApp.services;
    const db = org.testApp.db;
    await auditLog.signHeadIfDue({ force: true });
    const before = (await auditLog.getAuditChain({})).events;
    const hashes = before.map((event) => event.hash);
    clock.advance(31 * 86_400_000);
    // Two events no head covers yet: they must survive however old they are.
    await record(db, 2);
    const headSize = (await auditLog.getAuditHead()).treeHead!.treeSize;
    expect(headSize).toBe(before.length);
    const checkpoint = (await auditLog.pruneExpiredEvents())!;
    expect(checkpoint).toMatchObject({ throughSeq: headSize, throughHash: hashes[headSize - 1], treeSize: headSize });
    const { logKey, logId } = await auditLog.getAuditHead();
    expect(await verifyCheckpoint(await importLogKey(logKey), logKey.keyId, logId, checkpoint)).toBe(true);
    expect(await verifyCheckpoint(await importLogKey(logKey), logKey.keyId, logId, { ...checkpoint, throughSeq: checkpoint.throughSeq - 1 })).toBe(false);

    const remaining = await db.selectFrom('audit_events').select(['seq', 'action', 'details']).orderBy('seq').execute();
    expect(remaining.map((row) => row.seq)).toEqual([headSize + 1, headSize + 2, headSize + 3]);
    expect(remaining[2]).toMatchObject({ action: 'audit.pruned', details: JSON.stringify({ count: headSize, throughSeq: headSize }) });
    expect(await auditLog.pruneExpiredEvents()).toBeNull();

    // The trigger: rows above the checkpoint stay append-only.
    const raw = new BetterSqlite3(org.testApp.config.databasePath);
    try {
      expect(() => raw.prepare('delete from audit_events where seq = ?').run(headSize + 1)).toThrow('audit_events is append-only');
    } finally {
      raw.close();
    }

    // Proofs over pruned events still work (leaves stay), and equal RFC 9162 over the old hashes.
    expect((await auditLog.getInclusionProof({ seq: 1, treeSize: headSize })).path).toEqual(hex(path(0, leafInputs(hashes))));
    expect(await codeOf(auditLog.getAuditEvent(1))).toBe('audit_event_pruned');
    expect((await auditLog.getAuditRetention()).checkpoints).toEqual([checkpoint]);

    // The browser's verifier starts from the checkpoint's frontier and checks the rest.
    await auditLog.signHeadIfDue({ force: true });
    const verified = await verifyAuditLog(serviceSource(auditLog), null);
    expect(verified).toMatchObject({ ok: true, verified: 3, checkpoint });
    const exported = await auditLog.getAuditChain({ after: headSize });
    expect(exported.frontier).not.toBeNull();
  });
});
