// Transactions whose commit need not wait for the disk: bookkeeping nobody is told is saved.
import { sql } from 'kysely';
import type { Db, Trx } from './database';

/**
 * Runs `fn` in a transaction committed with `synchronous=NORMAL`: in WAL mode the commit is atomic
 * and survives a process crash, and becomes durable against power loss with the next FULL commit
 * or checkpoint. WARNING: use it only for what nobody is told is saved (login counters, sessions,
 * their audit events); everything a user saves stays on the default FULL path.
 * PostgreSQL equivalent (scale-out): `SET LOCAL synchronous_commit = off` inside the transaction.
 */
export async function relaxedTransaction<T>(db: Db, fn: (trx: Trx) => Promise<T>): Promise<T> {
  // One connection for pragma, transaction and pragma: no other query can run in between.
  return db.connection().execute(async (connection) => {
    await sql`PRAGMA synchronous = NORMAL`.execute(connection);
    try {
      return await connection.transaction().execute(fn);
    } finally {
      await sql`PRAGMA synchronous = FULL`.execute(connection);
    }
  });
}
