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

// --- Codes and factor management (issue 20, helper B) ---------------------------------------

/** One of `userId`'s factors by id; undefined when there is none with that id (or it is someone else's). */
export function findSecondFactor(db: Executor, userId: string, id: string) {
  return db.selectFrom('second_factors').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

/** A user's factors of one kind, oldest first. */
export function listSecondFactorsOfKind(db: Executor, userId: string, kind: SecondFactorsTable['kind']) {
  return db.selectFrom('second_factors').selectAll().where('user_id', '=', userId).where('kind', '=', kind).orderBy('created_at').execute();
}

/**
 * Claims TOTP time step `step` of a factor: true when it was later than every step accepted
 * before, false when it was not (a replay, or a parallel use of the same code that won the race).
 * WARNING: the condition is in the UPDATE itself, so two parallel uses of one code cannot both pass.
 */
export async function claimTotpStep(db: Executor, factorId: string, step: number, now: string): Promise<boolean> {
  const result = await db
    .updateTable('second_factors')
    .set({ totp_last_step: step, last_used_at: now })
    .where('id', '=', factorId)
    .where('kind', '=', 'totp')
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function touchSecondFactor(db: Executor, id: string, now: string): Promise<void> {
  await db.updateTable('second_factors').set({ last_used_at: now }).where('id', '=', id).execute();
}

/** Renames one of `userId`'s factors; false when there is none with that id. */
export async function renameSecondFactorRow(db: Executor, userId: string, id: string, name: string): Promise<boolean> {
  const result = await db.updateTable('second_factors').set({ name }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Deletes one of `userId`'s factors (a passkey's PRF wrapping is in the same row and goes with it); false when there is none. */
export async function deleteSecondFactorRow(db: Executor, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('second_factors').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows === 1n;
}

/** The kinds of second factor each user has (users without any are absent). */
export async function listSecondFactorKindsByUser(db: Executor): Promise<Map<string, Set<SecondFactorsTable['kind']>>> {
  const rows = await db.selectFrom('second_factors').select(['user_id', 'kind']).distinct().execute();
  const kinds = new Map<string, Set<SecondFactorsTable['kind']>>();
  for (const row of rows) {
    const set = kinds.get(row.user_id) ?? new Set();
    set.add(row.kind);
    kinds.set(row.user_id, set);
  }
  return kinds;
}

/** Replaces a user's backup codes with a new set (the old ones stop working); must run in a transaction. */
export async function replaceBackupCodes(trx: Trx, userId: string, codeHashes: readonly string[], createdAt: string): Promise<void> {
  await trx.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
  await trx
    .insertInto('backup_codes')
    .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: createdAt, used_at: null })))
    .execute();
}

/** When the user's current set of backup codes was made, or null without one. */
export async function findBackupCodesCreatedAt(db: Executor, userId: string): Promise<string | null> {
  const row = await db.selectFrom('backup_codes').select((eb) => eb.fn.max('created_at').as('created_at')).where('user_id', '=', userId).executeTakeFirst();
  return row?.created_at ?? null;
}

/** Whether the user has any backup codes at all (used or not). */
export async function hasBackupCodes(db: Executor, userId: string): Promise<boolean> {
  const row = await db.selectFrom('backup_codes').select('code_hash').where('user_id', '=', userId).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Uses one backup code by its hash: 'used' when it was unused (it is marked now), 'reused' when it
 * was used before, 'unknown' when the user has no such code. WARNING: the mark is a conditional
 * UPDATE, so two parallel uses of one code cannot both pass.
 */
export async function useBackupCode(db: Executor, userId: string, codeHash: string, now: string): Promise<'used' | 'reused' | 'unknown'> {
  const result = await db
    .updateTable('backup_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 1n) return 'used';
  const row = await db.selectFrom('backup_codes').select('code_hash').where('user_id', '=', userId).where('code_hash', '=', codeHash).executeTakeFirst();
  return row ? 'reused' : 'unknown';
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

/**
 * Deletes what only the server secret can check: every TOTP factor (sealed under its key) and every
 * backup code (HMAC'd under its key). For recovery mode, which starts with a new secret.
 */
export async function deleteSecretBoundFactors(trx: Trx): Promise<{ totpFactors: number; backupCodes: number }> {
  const factors = await trx.deleteFrom('second_factors').where('kind', '=', 'totp').executeTakeFirst();
  const codes = await trx.deleteFrom('backup_codes').executeTakeFirst();
  return { totpFactors: Number(factors.numDeletedRows), backupCodes: Number(codes.numDeletedRows) };
}

/** Removes every second factor and backup code of one person (an escrow reset that asked for it). */
export async function deleteSecondFactorsOf(trx: Trx, userId: string): Promise<{ factors: number; backupCodes: number }> {
  const factors = await trx.deleteFrom('second_factors').where('user_id', '=', userId).executeTakeFirst();
  const codes = await trx.deleteFrom('backup_codes').where('user_id', '=', userId).executeTakeFirst();
  return { factors: Number(factors.numDeletedRows), backupCodes: Number(codes.numDeletedRows) };
}
