// Escrow uses (migrations/0009): every time someone opened (or re-sealed) a person's key through escrow.
import { type Insertable, sql } from 'kysely';
import type { Db, EscrowUsesTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertEscrowUse(db: Executor, row: Insertable<EscrowUsesTable>): Promise<void> {
  await db.insertInto('escrow_uses').values(row).execute();
}

/**
 * Records a staff member's first access to a person's data, once (a unique index on kind
 * 'first-access'): true only for the call that inserted it, so the notice goes out once.
 */
// The conflict target's WHERE must match the partial unique index literally: SQLite does not match a bound parameter.
export async function insertFirstAccessOnce(db: Executor, row: Insertable<EscrowUsesTable> & { kind: 'first-access' }): Promise<boolean> {
  const result = await db
    .insertInto('escrow_uses')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'actor_id']).where('kind', '=', sql.lit('first-access')).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** A person's escrow uses, newest first, with the actor's e-mail address. */
export function listEscrowUsesOf(db: Executor, userId: string) {
  return db
    .selectFrom('escrow_uses')
    .innerJoin('users as actor', 'actor.id', 'escrow_uses.actor_id')
    .selectAll('escrow_uses')
    .select(['actor.email as actor_email', 'actor.role as actor_role'])
    .where('escrow_uses.user_id', '=', userId)
    .orderBy('escrow_uses.occurred_at', 'desc')
    .execute();
}

/** The people whose data `actorId` was recorded as having accessed through escrow already. */
export async function listFirstAccessedBy(db: Executor, actorId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('escrow_uses').select('user_id').where('kind', '=', 'first-access').where('actor_id', '=', actorId).execute();
  return new Set(rows.map((row) => row.user_id));
}
