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

// ---------------------------------------------------------------------------------------------
// Passkeys (server/services/second-factors/passkeys.ts)

/** A user's passkeys, oldest first. */
export function listPasskeyRows(db: Executor, userId: string) {
  return db.selectFrom('second_factors').selectAll().where('user_id', '=', userId).where('kind', '=', 'passkey').orderBy('created_at').execute();
}

/** The passkey with this WebAuthn credential id (base64url), whoever owns it. */
export function findPasskeyByCredentialId(db: Executor, credentialId: string) {
  return db.selectFrom('second_factors').selectAll().where('credential_id', '=', credentialId).where('kind', '=', 'passkey').executeTakeFirst();
}

/** One of `userId`'s own passkeys by factor id. */
export function findOwnPasskey(db: Executor, userId: string, factorId: string) {
  return db.selectFrom('second_factors').selectAll().where('id', '=', factorId).where('user_id', '=', userId).where('kind', '=', 'passkey').executeTakeFirst();
}

/**
 * Records a verified assertion's signature counter, atomically: only when it is higher than the
 * stored one, or when both are 0 (an authenticator that does not count). False when another
 * assertion got there first or the counter went backwards (W3C WebAuthn Level 3, 7.2 step 22).
 */
export async function advancePasskeyCounter(db: Executor, factorId: string, received: number, now: string): Promise<boolean> {
  const result = await db
    .updateTable('second_factors')
    .set({ sign_count: received, last_used_at: now })
    .where('id', '=', factorId)
    // A counting authenticator must move forward; one that always says 0 must keep saying 0.
    .where('sign_count', received > 0 ? '<' : '=', received)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Stores (or, with null, drops) a passkey's PRF wrapping of the user key; false when `userId` has no such passkey. */
export async function setPasskeyWrapping(db: Executor, userId: string, factorId: string, wrapped: string | null): Promise<boolean> {
  const result = await db
    .updateTable('second_factors')
    .set({ prf_wrapped_user_key: wrapped })
    .where('id', '=', factorId)
    .where('user_id', '=', userId)
    .where('kind', '=', 'passkey')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
