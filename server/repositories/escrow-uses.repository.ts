// Escrow uses (migrations/0009): every time someone opened (or re-sealed) a person's key through escrow.
import type { Insertable } from 'kysely';
import type { Db, EscrowUsesTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertEscrowUse(db: Executor, row: Insertable<EscrowUsesTable>): Promise<void> {
  await db.insertInto('escrow_uses').values(row).execute();
}

/**
 * Records a staff member's first access to a person's data, once (a unique index on kind
 * 'first-access'): true only for the call that inserted it, so the notice goes out once.
 */
export async function insertFirstAccessOnce(db: Executor, row: Insertable<EscrowUsesTable> & { kind: 'first-access' }): Promise<boolean> {
  const result = await db
    .insertInto('escrow_uses')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'actor_id']).where('kind', '=', 'first-access').doNothing())
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
