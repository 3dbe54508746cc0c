// The SQLite dialect: opens the database file with durability pragmas; the only SQLite-specific setup.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, SqliteDriver, CompiledQuery, type DatabaseConnection, type Driver } from 'kysely';
import type { Database, Db } from './database';

/** How long a statement waits for another process's lock (e.g. `npm run db:migrate`), in ms. */
const BUSY_TIMEOUT_MS = 5000;

/** What Kysely needs of a SQLite database, and whether a transaction is open. */
type SqliteHandle = Pick<BetterSqlite3.Database, 'close' | 'prepare' | 'inTransaction'>;

/**
 * Starts transactions with BEGIN IMMEDIATE: the write lock is taken up front, so a transaction
 * that reads and then writes (the audit chain head) waits via busy_timeout instead of failing
 * with SQLITE_BUSY when another process wrote in between. Within this process Kysely's SQLite
 * driver already serialises everything over its single connection.
 */
class ImmediateTransactionSqliteDriver extends SqliteDriver {
  readonly #database: SqliteHandle;

  constructor(database: SqliteHandle) {
    super({ database });
    this.#database = database;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR,
   * SQLITE_NOMEM, SQLITE_BUSY). A ROLLBACK then fails with "cannot rollback - no transaction is
   * active", and Kysely would throw that instead of the error that caused it: skip it.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.#database.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}

/** Prepared statements kept per SQL text: Kysely prepares every query anew, ~8 % of a login's server time. */
const STATEMENT_CACHE_SIZE = 500;

function withStatementCache(sqlite: BetterSqlite3.Database): SqliteHandle {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    get inTransaction() {
      return sqlite.inTransaction;
    },
    prepare: ((source: string) => {
      let statement = cache.get(source);
      if (!statement) {
        statement = sqlite.prepare(source);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(source, statement);
      }
      return statement;
    }) as BetterSqlite3.Database['prepare'],
  };
}

class ImmediateTransactionSqliteDialect extends SqliteDialect {
  readonly #database: SqliteHandle;

  constructor(database: SqliteHandle) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    return new ImmediateTransactionSqliteDriver(this.#database);
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
  return new Kysely<Database>({ dialect: new ImmediateTransactionSqliteDialect(withStatementCache(sqlite)) });
}
