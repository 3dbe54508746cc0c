// Second factors, backup codes and trusted devices (migration 0008).
import type { Insertable } from 'kysely';
import type { Db, SecondFactorsTable, Trx } from '../db/database';

type Executor = Db | Trx;

export function listSecondFactorRows(db: Executor, userId: string) {
  return db.selectFrom('second_factors').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

/** Whether the user has at least one second factor (backup codes alone do not count). */
export async function hasSecondFactor(db: Executor, userId: string): Promise<boolean> {
  const row = await db.selectFrom('second_factors').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function insertSecondFactor(db: Executor, row: Insertable<SecondFactorsTable>): Promise<void> {
  await db.insertInto('second_factors').values(row).execute();
}

/** Unused backup codes of a user. */
export async function countUnusedBackupCodes(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom('backup_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
