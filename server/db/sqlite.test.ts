// The SQLite dialect: data directory creation, durability pragmas read back, BEGIN IMMEDIATE.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from './database';
import { openSqliteDatabase } from './sqlite';

let dir: string;
let db: Db | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kluis-sqlite-'));
});

afterEach(async () => {
  await db?.destroy();
  db = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function pragma(database: Db, name: string): Promise<unknown> {
  const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(database);
  return Object.values(rows[0] ?? {})[0];
}

describe('openSqliteDatabase', () => {
  it('creates the data directory', async () => {
    db = openSqliteDatabase(join(dir, 'nested', 'data', 'kluis.db'));
    await sql`select 1`.execute(db);
    expect((await stat(join(dir, 'nested', 'data', 'kluis.db'))).isFile()).toBe(true);
  });

  it('sets the durability pragmas on the connection the app uses', async () => {
    db = openSqliteDatabase(join(dir, 'kluis.db'));
    expect(await pragma(db, 'journal_mode')).toBe('wal');
    expect(await pragma(db, 'synchronous')).toBe(2); // FULL
    expect(await pragma(db, 'foreign_keys')).toBe(1);
    expect(await pragma(db, 'busy_timeout')).toBe(5000);
  });

  it('begins transactions IMMEDIATE: the write lock is held before the first write', async () => {
    const path = join(dir, 'kluis.db');
    db = openSqliteDatabase(path);
    await sql`create table t (x integer)`.execute(db);
    const other = new BetterSqlite3(path);
    other.pragma('busy_timeout = 0');
    try {
      await db.transaction().execute(async (trx) => {
        await sql`select count(*) from t`.execute(trx);
        // A deferred transaction that has only read holds no write lock; this one must.
        expect(() => other.exec('begin immediate')).toThrow(/database is locked/);
      });
      other.exec('begin immediate');
      other.exec('rollback');
    } finally {
      other.close();
    }
  });

  it('a transaction that fills the database rejects with SQLITE_FULL itself (not a failed rollback), keeps nothing, and the next one commits', async () => {
    db = openSqliteDatabase(join(dir, 'kluis.db'));
    await sql`create table t (x blob)`.execute(db);
    await sql`insert into t values (x'01')`.execute(db);
    const pages = Number(await pragma(db, 'page_count'));
    // Like a full disk: the database may not grow by one page.
    await sql.raw(`pragma max_page_count = ${pages}`).execute(db);
    const filling = db.transaction().execute(async (trx) => {
      await sql`insert into t values (x'02')`.execute(trx);
      await sql`insert into t values (randomblob(100000))`.execute(trx);
    });
    await expect(filling).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows).toEqual([{ n: 1 }]);
    await sql.raw('pragma max_page_count = 4294967294').execute(db);
    await db.transaction().execute(async (trx) => {
      await sql`insert into t values (randomblob(100000))`.execute(trx);
    });
    expect((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows).toEqual([{ n: 2 }]);
    expect(await pragma(db, 'integrity_check')).toBe('ok');
  });
});
