// The SQLite dialect: opens the database file with durability pragmas; the only SQLite-specific setup.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, SqliteDriver, CompiledQuery, type DatabaseConnection, type Driver } from 'kysely';
import type { Database, Db } from './database';

/** How long a statement waits for another process's lock (e.g. `npm run db:migrate`), in ms. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Starts transactions with BEGIN IMMEDIATE: the write lock is taken up front, so a transaction
 * that reads and then writes (the audit chain head) waits via busy_timeout instead of failing
 * with SQLITE_BUSY when another process wrote in between. Within this process Kysely's SQLite
 * driver already serialises everything over its single connection.
 */
class ImmediateTransactionSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateTransactionSqliteDialect extends SqliteDialect {
  readonly #database: BetterSqlite3.Database;

  constructor(database: BetterSqlite3.Database) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    return new ImmediateTransactionSqliteDriver({ database: this.#database });
  }
}

/**
 * Opens (creating if needed, with its directory) the SQLite database at `path`.
 * WAL lets readers run beside the writer; synchronous=FULL makes each commit durable on power loss.
 */
export function openSqliteDatabase(path: string): Db {
  mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  try {
    const journalMode: unknown = sqlite.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') throw new Error(`SQLite refused WAL mode for ${path} (got ${String(journalMode)})`);
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return new Kysely<Database>({ dialect: new ImmediateTransactionSqliteDialect(sqlite) });
}
