// Tampering with a copy of the database (issue 22, "Bad input"): a changed field, a deleted row, two
// reordered rows and a row inserted with every later hash recomputed are each found by BOTH the
// browser's verifier over the API of an app started on the copy and `npm run audit:verify` on an
// export of it, at the first bad event (the seq the test tampered with). Forged and replayed heads
// are refused, and a head rewritten with the real key is caught by the pinned head.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuditExport,
  getAuditChain,
  getAuditHead,
  getAuditTreeSplit,
  getConsistencyProof,
} from '../shared/api';
import type { CallApi } from '../shared/api/client';
import { rechain } from '../shared/audit/memory-log';
import {
  type AuditLogSource,
  type AuditPin,
  type AuditVerification,
  type VerifiableEvent,
  verifyAuditLog,
} from '../shared/audit/verify';
import { createApp, createServices } from './app';
import { createOpaqueServer } from './auth/opaque-server';
import type { AuditEventRow } from './db/database';
import { openSqliteDatabase } from './db/sqlite';
import { loadConfig } from './env';
import { browserLikeClient, listen } from './lib/node-api-client';
import { recordAuditEvent } from './services/audit.service';
import { createRecordingNotifier } from './services/notifications';
import { runAuditVerify } from './test/audit-verify-cli';
import { testServerSetup } from './test/make-test-app';
import { type Member, type TestOrganisation, createTestOrganisation } from './test/org-fixture';

/** The browser's verifier reads exactly these four calls. */
function apiSource(api: CallApi): AuditLogSource {
  return {
    head: () => api(getAuditHead, {}),
    chain: (after) => api(getAuditChain, { query: { after } }),
    consistency: async (first, second) =>
      (await api(getConsistencyProof, { query: { first, second } })).proof,
    split: (start, end) => api(getAuditTreeSplit, { query: { start, end } }),
  };
}

let org: TestOrganisation;
let auditor: Member;
let work = '';
let pin: AuditPin;
/** Events in the signed head of the original. */
let signed = 0;

beforeAll(async () => {
  org = await createTestOrganisation(['auditor'], {
    env: { KLUIS_AUDIT_HEAD_EVERY_EVENTS: '1000' },
  });
  auditor = org.members.auditor!;
  work = await mkdtemp(join(tmpdir(), 'kluis-audit-tamper-'));
  // The sign-ups made a few events through the app; more events through the real service, one transaction each.
  for (let i = 0; i < 45; i += 1) {
    await org.testApp.db
      .transaction()
      .execute((trx) =>
        recordAuditEvent(trx, {
          action: 'document.downloaded',
          actorId: auditor.userId,
          targetType: 'document',
          targetId: `doc-${i}`,
          details: { version: i },
        }),
      );
  }
  const head = await org.testApp.services.auditLog.signHeadIfDue({ force: true });
  signed = head!.treeSize;
  const original = await verifyAuditLog(apiSource(auditor.client.api), null);
  if (!original.ok)
    throw new Error(`the untouched log does not verify: ${original.failure.message}`);
  pin = original.pin;
}, 180_000);

afterAll(async () => {
  await org?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

let copies = 0;

/**
 * Copies the database (SQLite's online backup, so the WAL is included), lets `tamper` change the
 * copy over its own connection with the append-only triggers dropped, then starts an app on the
 * copy as the real server starts (Merkle backfill, head signing) and gives the auditor's session on it.
 */
async function tamperedCopy(tamper: (sqlite: Database.Database) => void | Promise<void>) {
  const dir = join(work, `copy-${(copies += 1)}`);
  const dataDir = join(dir, 'data');
  const source = new Database(join(org.testApp.dataDir, 'kluis.db'), { readonly: true });
  await mkdir(dataDir, { recursive: true });
  await source.backup(join(dataDir, 'kluis.db'));
  source.close();

  const sqlite = new Database(join(dataDir, 'kluis.db'));
  for (const { name } of sqlite
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit%'`)
    .all() as { name: string }[]) {
    sqlite.exec(`DROP TRIGGER "${name}"`);
  }
  await tamper(sqlite);
  sqlite.close();

  const config = loadConfig({
    LOG_LEVEL: 'warn',
    KLUIS_AUDIT_HEAD_EVERY_EVENTS: '1000',
    KLUIS_DATA_DIR: dataDir,
    KLUIS_SECRETS_DIR: join(dir, 'secrets'),
  });
  const db = openSqliteDatabase(join(dataDir, 'kluis.db'));
  const deps = {
    config,
    db,
    logger: pino({ level: 'silent' }),
    // The same server secret as the original, so the same log key.
    opaque: await createOpaqueServer(await testServerSetup()),
    notifier: createRecordingNotifier(),
    clientDir: join(dataDir, 'no-client-build'),
  };
  const services = createServices(deps);
  await services.auditLog.backfillMerkleTree();
  await services.auditLog.signHeadIfDue();
  const server = await listen({ app: createApp(deps, services) });
  const client = browserLikeClient(server.baseUrl, config.publicOrigin);
  for (const [name, value] of auditor.client.cookies) client.cookies.set(name, value);
  return {
    api: client.api,
    /** Writes an export of the whole copy (the server's own export endpoint) to a file for the CLI. */
    async exportFile(): Promise<string> {
      const exported = await client.api(createAuditExport, {
        body: { filter: {}, format: 'json' },
      });
      const path = join(dir, 'export.json');
      await writeFile(path, JSON.stringify(exported));
      return path;
    },
    close: async () => {
      await server.close();
      await db.destroy();
    },
  };
}

type Row = AuditEventRow;
const rowsOf = (sqlite: Database.Database) =>
  sqlite.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Row[];

function toEvent(row: Row): VerifiableEvent & { seq: number; prevHash: string; hash: string } {
  return {
    seq: row.seq,
    id: row.id,
    occurredAt: row.occurred_at,
    action: row.action,
    actorId: row.actor_id,
    actorRole: row.actor_role,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    userAgent: row.user_agent,
    result: row.result,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
    encoding: row.encoding === 2 ? 2 : 1,
  };
}

/** Replaces every row of audit_events (the forger's rewrite; the Merkle nodes are left alone). */
function replaceAllRows(sqlite: Database.Database, events: readonly ReturnType<typeof toEvent>[]) {
  const insert = sqlite.prepare(
    `INSERT INTO audit_events (seq, id, occurred_at, action, actor_id, actor_role, target_type, target_id, ip, user_agent, result, details, prev_hash, hash, encoding)
     VALUES (@seq, @id, @occurredAt, @action, @actorId, @actorRole, @targetType, @targetId, @ip, @userAgent, @result, @details, @prevHash, @hash, @encoding)`,
  );
  sqlite.transaction(() => {
    sqlite.exec('DELETE FROM audit_events');
    for (const event of events) insert.run(event);
  })();
}

function expectFirstBad(result: AuditVerification, seq: number) {
  if (result.ok)
    throw new Error(`the tampered copy verified (expected a failure at event #${seq})`);
  expect(result.failure.seq, result.failure.message).toBe(seq);
}

async function expectBothFind(
  copy: Awaited<ReturnType<typeof tamperedCopy>>,
  seq: number,
  kind: string,
) {
  const browser = await verifyAuditLog(apiSource(copy.api), null);
  expectFirstBad(browser, seq);
  expect(browser.ok ? null : browser.failure.kind).toBe(kind);
  const cli = await runAuditVerify([await copy.exportFile()]);
  expect(cli.code, cli.stdout + cli.stderr).toBe(1);
  expect(cli.stderr).toMatch(new RegExp(`^FAILED: event #${seq}: `));
}

describe('a tampered copy of the database', () => {
  it('an untouched copy verifies in both verifiers (the copy itself changes nothing)', async () => {
    const copy = await tamperedCopy(() => undefined);
    try {
      expect(await verifyAuditLog(apiSource(copy.api), pin)).toMatchObject({ ok: true });
      const cli = await runAuditVerify([await copy.exportFile(), '--key-id', pin.keyId]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/^verified \d+ events up to head \d+/);
    } finally {
      await copy.close();
    }
  }, 120_000);

  it('(a) one changed field: the changed event', async () => {
    const k = signed - 20;
    const copy = await tamperedCopy((sqlite) => {
      sqlite
        .prepare('UPDATE audit_events SET target_id = ? WHERE seq = ?')
        .run('doc-someone-else', k);
    });
    try {
      await expectBothFind(copy, k, 'chain_break');
    } finally {
      await copy.close();
    }
  }, 120_000);

  it('(b) a deleted row: the missing event', async () => {
    const k = signed - 15;
    const copy = await tamperedCopy((sqlite) => {
      sqlite.prepare('DELETE FROM audit_events WHERE seq = ?').run(k);
    });
    try {
      await expectBothFind(copy, k, 'chain_break');
    } finally {
      await copy.close();
    }
  }, 120_000);

  it('(c) two reordered rows: the first of them', async () => {
    const k = signed - 12;
    const copy = await tamperedCopy((sqlite) => {
      const swap = sqlite.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?');
      sqlite.transaction(() => {
        swap.run(1_000_000, k);
        swap.run(k, k + 1);
        swap.run(k + 1, 1_000_000);
      })();
    });
    try {
      await expectBothFind(copy, k, 'chain_break');
    } finally {
      await copy.close();
    }
  }, 120_000);

  it('(d) a row inserted with recomputed hashes for it and every later row: the inserted event', async () => {
    const k = signed - 9;
    const copy = await tamperedCopy(async (sqlite) => {
      const rows = rowsOf(sqlite);
      const events = rows.map(toEvent);
      const forged = {
        ...events[k - 1]!,
        id: '6f1d2c3b-0000-4000-8000-000000000001',
        action: 'account.role_changed',
        details: '{"to":"admin"}',
      };
      events.splice(k - 1, 0, forged);
      await rechain(events, k - 1);
      replaceAllRows(sqlite, events);
    });
    try {
      await expectBothFind(copy, k, 'event_not_signed');
    } finally {
      await copy.close();
    }
  }, 120_000);
});

describe('tree heads on a tampered copy', () => {
  it('refuses a forged head signature (the newest head row changed)', async () => {
    const copy = await tamperedCopy((sqlite) => {
      sqlite
        .prepare(
          'UPDATE audit_tree_heads SET root_hash = ? WHERE tree_size = (SELECT MAX(tree_size) FROM audit_tree_heads)',
        )
        .run('ab'.repeat(32));
    });
    try {
      const result = await verifyAuditLog(apiSource(copy.api), null);
      expect(result.ok ? null : result.failure.kind).toBe('head_signature');
      const cli = await runAuditVerify([await copy.exportFile()]);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain('(head_signature)');
    } finally {
      await copy.close();
    }
  }, 120_000);

  it('refuses an older head replayed after the newer one was verified', async () => {
    const copy = await tamperedCopy((sqlite) => {
      // The server drops its newest events (and their part of the tree) and serves the older heads again.
      sqlite.prepare('DELETE FROM audit_tree_heads WHERE tree_size > ?').run(signed - 5);
      sqlite
        .prepare('DELETE FROM audit_merkle_nodes WHERE (idx + 1) * (1 << level) > ?')
        .run(signed - 5);
      sqlite.prepare('DELETE FROM audit_events WHERE seq > ?').run(signed - 5);
    });
    try {
      const result = await verifyAuditLog(apiSource(copy.api), pin);
      expect(result.ok ? null : result.failure.kind).toBe('head_rollback');
      const path = join(work, 'pin.json');
      await writeFile(path, JSON.stringify(pin));
      const cli = await runAuditVerify([await copy.exportFile(), '--pin', path]);
      expect(cli.code, cli.stdout).toBe(1);
      expect(cli.stderr).toContain('(head_rollback)');
    } finally {
      await copy.close();
    }
  }, 120_000);

  it('warns when a head re-signed with the real key over rewritten history is not consistent with the remembered one', async () => {
    const k = 7;
    const copy = await tamperedCopy(async (sqlite) => {
      // An operator with the key: changes an event, recomputes every hash, rebuilds the tree (the
      // app's backfill on start) and signs new heads. Internally consistent, so only the pin catches it.
      const rows = rowsOf(sqlite);
      const events = rows.map(toEvent);
      events[k - 1] = { ...events[k - 1]!, result: 'denied' };
      await rechain(events, k - 1);
      replaceAllRows(sqlite, events);
      sqlite.exec(
        'DELETE FROM audit_merkle_nodes; DELETE FROM audit_tree_heads; DELETE FROM audit_witness_signatures;',
      );
    });
    try {
      expect((await verifyAuditLog(apiSource(copy.api), null)).ok).toBe(true);
      const result = await verifyAuditLog(apiSource(copy.api), pin);
      expect(result.ok ? null : result.failure.kind).toBe('head_inconsistent');
      const path = join(work, 'pin-rewritten.json');
      await writeFile(path, JSON.stringify(pin));
      const cli = await runAuditVerify([await copy.exportFile(), '--pin', path]);
      expect(cli.code, cli.stdout).toBe(1);
      expect(cli.stderr).toContain('(head_inconsistent)');
    } finally {
      await copy.close();
    }
  }, 120_000);
});
