// Password resets through escrow (migrations/0009): one row per reset, its state and counters.
import { type Insertable, type Updateable, sql } from 'kysely';
import type { Db, PasswordResetsTable, RoleColumn, Trx } from '../db/database';

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

/** The resets still open (awaiting approval or sent) are the only ones any step may change. */
const OPEN = ['awaiting_approval', 'sent'] as const;

/** A reset with both people's e-mail addresses (for views). */
export function findResetView(db: Executor, id: string) {
  return resetViews(db).where('password_resets.id', '=', id).executeTakeFirst();
}

function resetViews(db: Executor) {
  return db
    .selectFrom('password_resets')
    .innerJoin('users as person', 'person.id', 'password_resets.user_id')
    .innerJoin('users as resetter', 'resetter.id', 'password_resets.created_by')
    .selectAll('password_resets')
    .select(['person.email as user_email', 'person.role as user_role', 'resetter.email as created_by_email']);
}

/** Open, unexpired resets of people with one of `roles`, newest first. */
export function listOpenResetViews(db: Executor, roles: readonly RoleColumn[], now: string) {
  if (roles.length === 0) return Promise.resolve([]);
  return resetViews(db)
    .where('password_resets.status', 'in', OPEN)
    .where('password_resets.expires_at', '>', now)
    .where('person.role', 'in', roles)
    .orderBy('password_resets.created_at', 'desc')
    .execute();
}

/** Cancels a person's open resets (but `exceptId`); returns how many. */
export async function cancelOpenResetsOf(db: Executor, userId: string, now: string, exceptId?: string): Promise<number> {
  let query = db
    .updateTable('password_resets')
    .set({ status: 'cancelled', link_secret_sealed: null, finished_at: now })
    .where('user_id', '=', userId)
    .where('status', 'in', OPEN);
  if (exceptId) query = query.where('id', '!=', exceptId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Compare-and-swap: changes a reset only while its status is still `from` (so two approvals, an
 * approval and a cancellation, or two completions cannot both win). True when it changed.
 */
export async function updateResetIf(db: Executor, id: string, from: PasswordResetsTable['status'] | readonly PasswordResetsTable['status'][], changes: Updateable<PasswordResetsTable>): Promise<boolean> {
  const statuses = typeof from === 'string' ? [from] : from;
  const result = await db.updateTable('password_resets').set(changes).where('id', '=', id).where('status', 'in', statuses).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Counts a wrong proof in one statement: `failed_attempts + 1`, and status `failed` when that reaches
 * `max`. Only a sent reset counts. Returns the new count and status, or undefined when nothing changed.
 */
export function countWrongProof(db: Executor, id: string, max: number, now: string) {
  return db
    .updateTable('password_resets')
    .set({
      failed_attempts: sql<number>`failed_attempts + 1`,
      status: sql<PasswordResetsTable['status']>`CASE WHEN failed_attempts + 1 >= ${max} THEN 'failed' ELSE status END`,
      finished_at: sql<string | null>`CASE WHEN failed_attempts + 1 >= ${max} THEN ${now} ELSE finished_at END`,
    })
    .where('id', '=', id)
    .where('status', '=', 'sent')
    .returning(['failed_attempts', 'status'])
    .executeTakeFirst();
}
