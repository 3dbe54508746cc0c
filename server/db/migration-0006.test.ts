// 0006 upgrades a database made by 0001–0005 in place: every row kept, spaces marked legacy, references and checks intact.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createMigrator, migrateToLatest } from './migrator';
import { openSqliteDatabase } from './sqlite';
import type { Db } from './database';

const at = '2025-01-02T03:04:05.000Z';
const id = (n: number) => `id${String(n).padStart(20, '0')}`;
const admin = id(1);
const client = id(2);
const teamSpace = id(3);
const clientSpace = id(4);
const folder = id(5);
const blob = id(6);
const doc = id(7);
const version = id(8);
const thread = id(9);
const message = id(10);
const request = id(11);
const item = id(12);

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A database at 0005 with one row in every space table: what a data directory of the previous main holds. */
async function databaseAt0005(): Promise<Db> {
  const dir = await mkdtemp(join(tmpdir(), 'kluis-0006-'));
  const db = openSqliteDatabase(join(dir, 'kluis.db'));
  cleanup = async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  const { error } = await createMigrator(db).migrateTo('0005_part_digests');
  if (error) throw new Error('migrating to 0005 failed', { cause: error });
  const raw = db as unknown as Kysely<unknown>;
  const user = (userId: string, role: string, email: string) =>
    sql`INSERT INTO users (id, email, role, language, created_at, opaque_record, wrapped_user_key, key_safe, public_key, public_key_fingerprint,
        wrapped_private_key, escrow_user_key, profile, password_changed_at)
      VALUES (${userId}, ${email}, ${role}, 'en', ${at}, 'o', 'w', 'k', 'p', 'f', 'wp', 'e', 'pr', ${at})`.execute(raw);
  await user(admin, 'admin', 'a@kluis.test');
  await user(client, 'client', 'c@kluis.test');
  await sql`INSERT INTO spaces (id, kind, client_id, sealed_for_client, sealed_for_escrow, created_by, created_at, last_activity_at)
    VALUES (${teamSpace}, 'team', NULL, NULL, 'escrow-seal-team', ${admin}, ${at}, ${at}),
           (${clientSpace}, 'client', ${client}, 'client-seal', 'escrow-seal-client', ${client}, ${at}, ${at})`.execute(raw);
  await sql`INSERT INTO folders (id, space_id, parent_id, name, created_by, created_at) VALUES (${folder}, ${clientSpace}, NULL, 'name', ${client}, ${at})`.execute(raw);
  await sql`INSERT INTO blobs (id, size, sha256, created_by, created_at) VALUES (${blob}, 10, ${'a'.repeat(64)}, ${client}, ${at})`.execute(raw);
  await sql`INSERT INTO document_requests (id, space_id, body, due_date, created_by, created_at) VALUES (${request}, ${clientSpace}, 'req', '2025-02-01', ${admin}, ${at})`.execute(raw);
  await sql`INSERT INTO request_items (id, request_id, position, body) VALUES (${item}, ${request}, 0, 'item')`.execute(raw);
  await sql`INSERT INTO documents (id, space_id, folder_id, request_item_id, created_by, created_at, version_count, current_version_id)
    VALUES (${doc}, ${clientSpace}, ${folder}, ${item}, ${client}, ${at}, 1, ${version})`.execute(raw);
  await sql`INSERT INTO document_versions (id, document_id, number, blob_id, size, wrapped_file_key, metadata, uploaded_by, created_at)
    VALUES (${version}, ${doc}, 1, ${blob}, 10, 'fk', 'md', ${client}, ${at})`.execute(raw);
  await sql`INSERT INTO threads (id, space_id, subject, created_by, created_at, last_message_at, message_count) VALUES (${thread}, ${teamSpace}, 's', ${admin}, ${at}, ${at}, 1)`.execute(raw);
  await sql`INSERT INTO messages (id, thread_id, seq, author_id, created_at, revision_count) VALUES (${message}, ${thread}, 1, ${admin}, ${at}, 1)`.execute(raw);
  await sql`INSERT INTO message_revisions (message_id, revision, body, created_at) VALUES (${message}, 1, 'body', ${at})`.execute(raw);
  await sql`INSERT INTO message_attachments (message_id, document_id) VALUES (${message}, ${doc})`.execute(raw);
  await sql`INSERT INTO thread_reads (thread_id, user_id, read_seq) VALUES (${thread}, ${admin}, 1)`.execute(raw);
  await sql`INSERT INTO notification_marks (user_id, space_id, kind, last_sent_at) VALUES (${client}, ${clientSpace}, 'document', ${at})`.execute(raw);
  return db;
}

/** A copy of the database of a real data directory made by main d9a4625 (server/test/fixtures/legacy-d9a4625). */
async function legacyFixtureDatabase(): Promise<Db> {
  const dir = await mkdtemp(join(tmpdir(), 'kluis-0006-'));
  await copyFile(fileURLToPath(new URL('../test/fixtures/legacy-d9a4625/data/kluis.db', import.meta.url)), join(dir, 'kluis.db'));
  const db = openSqliteDatabase(join(dir, 'kluis.db'));
  cleanup = async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  return db;
}

/** Applies exactly 0006 (later migrations change other tables and are tested on their own). */
async function migrateTo0006(db: Db): Promise<void> {
  const { error, results } = await createMigrator(db).migrateTo('0006_space_histories');
  if (error) throw new Error('migrating to 0006 failed', { cause: error });
  expect(results?.map((r) => [r.migrationName, r.status])).toEqual([['0006_space_histories', 'Success']]);
}

/** Every row of every application table, as sorted JSON per table. */
async function snapshot(db: Db): Promise<Record<string, string[]>> {
  const raw = db as unknown as Kysely<unknown>;
  const { rows: tables } = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'kysely_%' AND name NOT LIKE 'sqlite_%'`.execute(raw);
  const result: Record<string, string[]> = {};
  for (const { name } of tables) {
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(name)}`.execute(raw);
    result[name] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return result;
}

describe('0006_space_histories on a database made by 0001–0005', () => {
  it('keeps every row, marks existing spaces legacy with no client wrap, and adds an empty history table', async () => {
    const db = await databaseAt0005();
    const before = await snapshot(db);
    await migrateTo0006(db);
    const after = await snapshot(db);

    for (const [table, rows] of Object.entries(before)) {
      if (table !== 'spaces') expect(after[table], table).toEqual(rows);
    }
    const spaces = await db.selectFrom('spaces').selectAll().orderBy('id').execute();
    expect(spaces).toEqual([
      { id: teamSpace, kind: 'team', client_id: null, sealed_for_client: null, sealed_for_escrow: 'escrow-seal-team', created_by: admin, created_at: at, last_activity_at: at, wrapped_for_client: null, legacy: 1 },
      { id: clientSpace, kind: 'client', client_id: client, sealed_for_client: 'client-seal', sealed_for_escrow: 'escrow-seal-client', created_by: client, created_at: at, last_activity_at: at, wrapped_for_client: null, legacy: 1 },
    ]);
    expect(after.space_entries).toEqual([]);
  });

  it('upgrades the real data directory of main d9a4625: every row kept, both spaces legacy, each with its seals', async () => {
    const db = await legacyFixtureDatabase();
    const before = await snapshot(db);
    expect(before.spaces).toHaveLength(2);
    await migrateTo0006(db);
    const after = await snapshot(db);
    for (const [table, rows] of Object.entries(before)) {
      if (table === 'spaces') {
        expect(after.spaces!.map((row) => JSON.parse(row) as Record<string, unknown>)).toEqual(
          rows.map((row) => ({ ...(JSON.parse(row) as Record<string, unknown>), wrapped_for_client: null, legacy: 1 })),
        );
      } else expect(after[table], table).toEqual(rows);
    }
    expect(after.space_entries).toEqual([]);
  });

  it('leaves foreign keys on and every reference to spaces enforced, with the one-team-space index and the new check', async () => {
    const db = await databaseAt0005();
    await migrateToLatest(db);
    const raw = db as unknown as Kysely<unknown>;
    expect((await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(raw)).rows[0]?.foreign_keys).toBe(1);
    // The referencing tables point at the rebuilt table: a row of theirs still blocks deleting its space, an unknown space is refused.
    await expect(db.deleteFrom('spaces').where('id', '=', clientSpace).execute()).rejects.toThrow(/FOREIGN KEY/);
    await expect(db.insertInto('folders').values({ id: id(50), space_id: id(99), parent_id: null, name: 'n', created_by: client, created_at: at, deleted_at: null, deleted_by: null }).execute()).rejects.toThrow(/FOREIGN KEY/);
    const space = { created_by: admin, created_at: at, last_activity_at: at, sealed_for_escrow: 'e', sealed_for_client: null };
    // A second team space.
    await expect(db.insertInto('spaces').values({ ...space, id: id(60), kind: 'team', client_id: null, wrapped_for_client: null, legacy: 0 }).execute()).rejects.toThrow(/UNIQUE/);
    // A new client space needs the client's wrap; a legacy one its seal; the team space neither.
    await expect(db.insertInto('spaces').values({ ...space, id: id(61), kind: 'client', client_id: admin, wrapped_for_client: null, legacy: 0 }).execute()).rejects.toThrow(/CHECK/);
    await expect(db.insertInto('spaces').values({ ...space, id: id(62), kind: 'client', client_id: admin, wrapped_for_client: null, legacy: 1 }).execute()).rejects.toThrow(/CHECK/);
    await expect(db.updateTable('spaces').set({ wrapped_for_client: 'w' }).where('id', '=', teamSpace).execute()).rejects.toThrow(/CHECK/);
    await db.insertInto('spaces').values({ ...space, id: id(63), kind: 'client', client_id: admin, wrapped_for_client: 'w', legacy: 0 }).execute();
    // Adopting a legacy client space: wrap set, legacy 0 (the old seal may stay).
    await db.updateTable('spaces').set({ wrapped_for_client: 'w', legacy: 0 }).where('id', '=', clientSpace).execute();
  });

  it('space_entries are append-only: no update, no delete', async () => {
    const db = await databaseAt0005();
    await migrateToLatest(db);
    await db.insertInto('space_entries').values({ space_id: teamSpace, seq: 0, payload: 'p', signature: 's', author_id: admin, entry_hash: 'b'.repeat(64), created_at: at }).execute();
    await expect(db.updateTable('space_entries').set({ payload: 'q' }).execute()).rejects.toThrow(/space_entries is append-only/);
    await expect(db.deleteFrom('space_entries').execute()).rejects.toThrow(/space_entries is append-only/);
    // One entry per position: a fork cannot be stored.
    await expect(db.insertInto('space_entries').values({ space_id: teamSpace, seq: 0, payload: 'x', signature: 's', author_id: admin, entry_hash: 'c'.repeat(64), created_at: at }).execute()).rejects.toThrow(/UNIQUE|PRIMARY/);
    expect(await db.selectFrom('space_entries').select('payload').execute()).toEqual([{ payload: 'p' }]);
  });
});
