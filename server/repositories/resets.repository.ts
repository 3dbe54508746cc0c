// Password resets through escrow (migrations/0009): one row per reset, its state and counters.
import type { Insertable } from 'kysely';
import type { Db, PasswordResetsTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertReset(db: Executor, row: Insertable<PasswordResetsTable>): Promise<void> {
  await db.insertInto('password_resets').values(row).execute();
}

export function findReset(db: Executor, id: string) {
  return db.selectFrom('password_resets').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Each person's newest open reset (awaiting approval or sent, not expired), for the people list. */
export async function listOpenResetsByUser(db: Executor, now: string) {
  const rows = await db
    .selectFrom('password_resets')
    .select(['id', 'user_id', 'status', 'expires_at', 'created_at'])
    .where('status', 'in', ['awaiting_approval', 'sent'])
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
  const byUser = new Map<string, { id: string; status: 'awaiting_approval' | 'sent'; expiresAt: string }>();
  for (const row of rows) {
    if (byUser.has(row.user_id)) continue;
    if (row.status !== 'awaiting_approval' && row.status !== 'sent') continue;
    byUser.set(row.user_id, { id: row.id, status: row.status, expiresAt: row.expires_at });
  }
  return byUser;
}
