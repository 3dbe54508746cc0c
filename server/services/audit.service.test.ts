// The audit log on a real, migrated SQLite file: chaining, append-only triggers, atomicity, tamper detection.
import { createHash } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_PREV_HASH, canonicalAuditBytes } from '../../shared/audit';
import type { AuditEventRow, Db, Trx } from '../db/database';
import { makeTestDatabase } from '../test/make-test-app';
import { recordAuditEvent, verifyAuditChain, type AuditEventInput } from './audit.service';

let database: Awaited<ReturnType<typeof makeTestDatabase>>;
let db: Db;

beforeEach(async () => {
  database = await makeTestDatabase();
  db = database.db;
});

afterEach(async () => {
  await database.close();
});

async function record(event: AuditEventInput) {
  return db.transaction().execute((trx) => recordAuditEvent(trx, event));
}

async function allRows(): Promise<AuditEventRow[]> {
  return db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
}

/** A second, raw connection to the same file: what an attacker with file access could run. */
function rawConnection(): BetterSqlite3.Database {
  return new BetterSqlite3(database.databasePath);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('recordAuditEvent', () => {
  it('links each row to the previous one and hashes its canonical encoding', async () => {
    await record({ action: 'account.signed_in', actorId: 'u1', ip: '192.0.2.1' });
    await record({ action: 'document.shared', actorId: 'u1', targetType: 'document', targetId: 'd1', details: { to: 'u2' } });
    await record({ action: 'account.signed_out', actorId: 'u1' });

    const rows = await allRows();
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3]);
    expect(rows[0]?.prev_hash).toBe(GENESIS_PREV_HASH);
    expect(rows[1]?.prev_hash).toBe(rows[0]?.hash);
    expect(rows[2]?.prev_hash).toBe(rows[1]?.hash);
    for (const row of rows) {
      const recomputed = sha256Hex(
        canonicalAuditBytes({
          seq: row.seq,
          id: row.id,
          occurredAt: row.occurred_at,
          action: row.action,
          actorId: row.actor_id,
          targetType: row.target_type,
          targetId: row.target_id,
          ip: row.ip,
          details: row.details,
          prevHash: row.prev_hash,
          encoding: 2,
          actorRole: row.actor_role,
          userAgent: row.user_agent,
          result: row.result,
        }),
      );
      expect(row.encoding).toBe(2);
      expect(row.result).toBe('success');
      expect(row.hash).toBe(recomputed);
      expect(row.occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect(rows[1]).toMatchObject({ target_type: 'document', target_id: 'd1', details: '{"to":"u2"}', ip: null });
    expect(await verifyAuditChain(db)).toEqual({ ok: true, count: 3, headHash: rows[2]?.hash });
  });

  it('keeps one unbroken chain when many transactions record at once', async () => {
    await Promise.all(Array.from({ length: 25 }, (_, i) => record({ action: 'test.concurrent', details: { i } })));
    const rows = await allRows();
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 25 });
  });

  it('rolls back with the change it describes when the transaction fails', async () => {
    await sql`create table widgets (id text primary key)`.execute(db);
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`insert into widgets (id) values ('w1')`.execute(trx);
        await recordAuditEvent(trx, { action: 'widget.created', targetType: 'widget', targetId: 'w1' });
        throw new Error('the change failed after its event was recorded');
      }),
    ).rejects.toThrow('the change failed after its event was recorded');
    expect((await sql`select id from widgets`.execute(db)).rows).toEqual([]);
    expect(await allRows()).toEqual([]);
  });

  it('commits with the change it describes', async () => {
    await sql`create table widgets (id text primary key)`.execute(db);
    await db.transaction().execute(async (trx) => {
      await sql`insert into widgets (id) values ('w1')`.execute(trx);
      await recordAuditEvent(trx, { action: 'widget.created', targetType: 'widget', targetId: 'w1' });
    });
    expect((await sql`select id from widgets`.execute(db)).rows).toEqual([{ id: 'w1' }]);
    expect(await allRows()).toHaveLength(1);
  });

  it('refuses to run outside a transaction', async () => {
    // @ts-expect-error -- the type already refuses a plain database handle
    const outside: Trx = db;
    await expect(recordAuditEvent(outside, { action: 'test.outside' })).rejects.toThrow(TypeError);
    expect(await allRows()).toEqual([]);
  });

  it('refuses malformed actions and ill-formed text', async () => {
    await expect(record({ action: 'Document Shared' })).rejects.toThrow(TypeError);
    await expect(record({ action: 'test.bad_text', actorId: 'u_\uD800' })).rejects.toThrow(TypeError);
    expect(await allRows()).toEqual([]);
  });

  it('hashes with SHA-256 in lowercase hex (golden value, so an Auditor can recompute it)', () => {
    const golden = {
      seq: 2,
      id: '5f0c6a3e-2b1d-4c8e-9a7f-1e2d3c4b5a69',
      occurredAt: '2026-01-02T03:04:05.678Z',
      action: 'document.shared',
      actorId: 'u_Ænne',
      targetType: 'document',
      targetId: null,
      ip: '192.0.2.7',
      details: '{"count":1,"to":"u_2"}',
      prevHash: 'ab'.repeat(32),
    };
    expect(sha256Hex(canonicalAuditBytes(golden))).toBe('a2dcb552079a4bdfb187f3ba047bbbe27c994856090b08d0d6e421b651ad638b');
  });
});

describe('audit_events is append-only at the database', () => {
  beforeEach(async () => {
    await record({ action: 'account.signed_in', actorId: 'u1' });
    await record({ action: 'account.signed_out', actorId: 'u1' });
  });

  it('rejects UPDATE, whatever the column', () => {
    const raw = rawConnection();
    try {
      expect(() => raw.prepare("update audit_events set action = 'account.deleted' where seq = 1").run()).toThrow(
        'audit_events is append-only',
      );
      expect(() => raw.prepare('update audit_events set hash = prev_hash').run()).toThrow('audit_events is append-only');
    } finally {
      raw.close();
    }
  });

  it('rejects DELETE of one row and of all rows', () => {
    const raw = rawConnection();
    try {
      expect(() => raw.prepare('delete from audit_events where seq = 2').run()).toThrow('audit_events is append-only');
      expect(() => raw.prepare('delete from audit_events').run()).toThrow('audit_events is append-only');
    } finally {
      raw.close();
    }
  });

  it('rejects a second row claiming the same predecessor (no forks)', async () => {
    const [first] = await allRows();
    const raw = rawConnection();
    try {
      expect(() =>
        raw
          .prepare(
            `insert into audit_events (seq, id, occurred_at, action, details, prev_hash, hash)
             values (3, 'fork', '2026-01-01T00:00:00.000Z', 'test.fork', '{}', ?, ?)`,
          )
          .run(first?.prev_hash, 'f'.repeat(64)),
      ).toThrow(/UNIQUE constraint failed: audit_events.prev_hash/);
    } finally {
      raw.close();
    }
  });

  it('leaves every row as it was', async () => {
    const before = await allRows();
    const raw = rawConnection();
    try {
      expect(() => raw.prepare('update audit_events set ip = ?').run('203.0.113.9')).toThrow();
    } finally {
      raw.close();
    }
    expect(await allRows()).toEqual(before);
  });
});

describe('verifyAuditChain', () => {
  /** Simulates an attacker with raw file access: drops the triggers, then runs `statement`. */
  function tamper(statement: string, ...params: unknown[]): void {
    const raw = rawConnection();
    try {
      raw.exec('drop trigger audit_events_no_update; drop trigger audit_events_no_delete;');
      raw.prepare(statement).run(...params);
    } finally {
      raw.close();
    }
  }

  beforeEach(async () => {
    for (const action of ['account.signed_in', 'document.uploaded', 'document.shared', 'account.signed_out']) {
      await record({ action, actorId: 'u1' });
    }
  });

  it('accepts an empty log', async () => {
    await database.close();
    database = await makeTestDatabase();
    db = database.db;
    expect(await verifyAuditChain(db)).toEqual({ ok: true, count: 0, headHash: GENESIS_PREV_HASH });
  });

  it('finds a row whose content was changed', async () => {
    tamper("update audit_events set actor_id = 'u2' where seq = 3");
    expect(await verifyAuditChain(db)).toEqual({ ok: false, brokenSeq: 3, reason: 'hash_mismatch' });
  });

  it('finds a row whose content and hash were both rewritten (the next link breaks)', async () => {
    const rows = await allRows();
    const second = rows[1];
    if (!second) throw new Error('fixture');
    const forged = sha256Hex(
      canonicalAuditBytes({
        seq: 2,
        id: second.id,
        occurredAt: second.occurred_at,
        action: 'document.deleted',
        actorId: second.actor_id,
        targetType: null,
        targetId: null,
        ip: null,
        details: second.details,
        prevHash: second.prev_hash,
        encoding: 2,
        actorRole: second.actor_role,
        userAgent: second.user_agent,
        result: second.result,
      }),
    );
    tamper("update audit_events set action = 'document.deleted', hash = ? where seq = 2", forged);
    expect(await verifyAuditChain(db)).toEqual({ ok: false, brokenSeq: 3, reason: 'prev_hash_mismatch' });
  });

  it('finds a deleted row', async () => {
    tamper('delete from audit_events where seq = 2');
    expect(await verifyAuditChain(db)).toEqual({ ok: false, brokenSeq: 3, reason: 'seq_gap' });
  });

  it('finds a row inserted with a wrong hash', async () => {
    const rows = await allRows();
    tamper(
      `insert into audit_events (seq, id, occurred_at, action, details, prev_hash, hash)
       values (5, 'raw', '2026-01-01T00:00:00.000Z', 'test.raw', '{}', ?, ?)`,
      rows[3]?.hash,
      'e'.repeat(64),
    );
    expect(await verifyAuditChain(db)).toEqual({ ok: false, brokenSeq: 5, reason: 'hash_mismatch' });
  });

  it('finds a row that cannot even be encoded', async () => {
    tamper("update audit_events set occurred_at = 'yesterday' where seq = 1");
    expect(await verifyAuditChain(db)).toEqual({ ok: false, brokenSeq: 1, reason: 'malformed_row' });
  });
});
