// Kysely access to the organisation, users, escrow grants and one-time tokens.
import type { Insertable, Updateable } from 'kysely';
import type { Db, EscrowGrantsTable, OrganisationTable, RoleColumn, Trx, UsersTable } from '../db/database';

type Executor = Db | Trx;

export function findOrganisation(db: Executor) {
  return db.selectFrom('organisation').selectAll().where('id', '=', 1).executeTakeFirst();
}

export async function insertOrganisation(trx: Trx, row: Insertable<OrganisationTable>): Promise<void> {
  await trx.insertInto('organisation').values(row).execute();
}

export async function updateOrganisation(db: Executor, changes: Updateable<OrganisationTable>): Promise<void> {
  await db.updateTable('organisation').set(changes).where('id', '=', 1).execute();
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export function findUserById(db: Executor, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findUserByEmail(db: Executor, email: string) {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function insertUser(trx: Trx, row: Insertable<UsersTable>): Promise<void> {
  await trx.insertInto('users').values(row).execute();
}

export async function updateUser(db: Executor, id: string, changes: Updateable<UsersTable>): Promise<void> {
  await db.updateTable('users').set(changes).where('id', '=', id).execute();
}

/** Recovery mode: every account must set a new password (its OPAQUE record no longer works). */
export async function markEveryUserForReset(trx: Trx): Promise<void> {
  await trx.updateTable('users').set({ needs_reset: 1 }).execute();
}

/** Stores a first signing key; false when the user has one already (never replaced this way). */
export async function addSigningKeyIfAbsent(db: Executor, userId: string, keys: { signing_public_key: string; wrapped_signing_key: string }): Promise<boolean> {
  const result = await db.updateTable('users').set(keys).where('id', '=', userId).where('signing_public_key', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function listUsersByRoles(db: Executor, roles: readonly RoleColumn[]) {
  return db
    .selectFrom('users')
    .leftJoin('escrow_grants', 'escrow_grants.user_id', 'users.id')
    .selectAll('users')
    .select('escrow_grants.kind as grant_kind')
    .where('users.role', 'in', roles)
    .orderBy('users.created_at')
    .execute();
}

/**
 * Counts one more failed (or not yet finished) login and locks the account when it reaches
 * `maxFailures`, in ONE conditional statement: concurrent starts cannot both slip under the limit.
 * Returns false when the account is already locked (nothing was counted). Call resetExpiredLock
 * first in the same transaction, so an expired lock starts a fresh count.
 */
export async function countLoginFailure(db: Executor, userId: string, now: string, maxFailures: number, lockedUntil: string): Promise<boolean> {
  return (await chargeLoginAttempt(db, userId, now, maxFailures, lockedUntil)).counted;
}

/**
 * countLoginFailure, also saying whether this very count set the lock (`locked`): the only lock a
 * later refund of this attempt may lift (refundLoginCharge). One statement, like countLoginFailure.
 */
export async function chargeLoginAttempt(
  db: Executor,
  userId: string,
  now: string,
  maxFailures: number,
  lockedUntil: string,
): Promise<{ readonly counted: boolean; readonly locked: boolean }> {
  const row = await db
    .updateTable('users')
    .set((eb) => ({
      failed_logins: eb('failed_logins', '+', 1),
      locked_until: eb.case().when('failed_logins', '>=', maxFailures - 1).then(lockedUntil).else(eb.ref('locked_until')).end(),
      lock_notified: eb.case().when('failed_logins', '>=', maxFailures - 1).then(0).else(eb.ref('lock_notified')).end(),
    }))
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .returning('failed_logins')
    .executeTakeFirst();
  return { counted: row !== undefined, locked: row !== undefined && row.failed_logins >= maxFailures };
}

/** Resets the failure counter of an account whose lock has run out (before counting anew). */
export async function resetExpiredLock(db: Executor, userId: string, now: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ failed_logins: 0, locked_until: null, lock_notified: 0 })
    .where('id', '=', userId)
    .where('locked_until', '<=', now)
    .execute();
}

/** Locked accounts whose lock nobody has been told about yet. */
export function findUnnotifiedLocks(db: Executor, now: string) {
  return db.selectFrom('users').selectAll().where('locked_until', '>', now).where('lock_notified', '=', 0).execute();
}

/** Marks a lock as told, once: true only for the one caller that flipped the flag (parallel sweeps race for it). */
export async function claimLockNotice(db: Executor, userId: string): Promise<boolean> {
  const result = await db.updateTable('users').set({ lock_notified: 1 }).where('id', '=', userId).where('lock_notified', '=', 0).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export function findEscrowGrant(db: Executor, userId: string) {
  return db.selectFrom('escrow_grants').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function upsertEscrowGrant(db: Executor, row: Insertable<EscrowGrantsTable>): Promise<void> {
  await db
    .insertInto('escrow_grants')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet(row))
    .execute();
}

export async function updateEscrowGrant(db: Executor, userId: string, changes: Updateable<EscrowGrantsTable>): Promise<void> {
  await db.updateTable('escrow_grants').set(changes).where('user_id', '=', userId).execute();
}

export function listEscrowGrantStatements(db: Executor) {
  return db
    .selectFrom('escrow_grants')
    .select(['statement_payload', 'statement_signature', 'granted_by', 'user_id'])
    .orderBy('granted_at')
    .execute();
}

export function listSigningKeys(db: Executor) {
  return db
    .selectFrom('users')
    .select(['id', 'signing_public_key'])
    .where('signing_public_key', 'is not', null)
    .execute();
}

/** Makes every unused token of `purpose` stop working (a newer one replaces them). */
export async function deleteUnusedOneTimeTokens(db: Executor, purpose: 'setup' | 'recovery'): Promise<void> {
  await db.deleteFrom('one_time_tokens').where('purpose', '=', purpose).where('used_at', 'is', null).execute();
}

export async function insertOneTimeToken(db: Executor, row: { token_hash: string; purpose: 'setup' | 'recovery'; created_at: string; expires_at: string }) {
  await db.insertInto('one_time_tokens').values(row).execute();
}

/** Marks a valid, unused, unexpired token used; returns whether it was one. */
export async function consumeOneTimeToken(db: Executor, tokenHash: string, purpose: 'setup' | 'recovery', now: string): Promise<boolean> {
  const result = await db
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function isOneTimeTokenValid(db: Executor, tokenHash: string, purpose: 'setup' | 'recovery', now: string): Promise<boolean> {
  const row = await db
    .selectFrom('one_time_tokens')
    .select('token_hash')
    .where('token_hash', '=', tokenHash)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Takes back one counted attempt whose password turned out right (the second factor is asked next):
 * the counter goes down by one, never below 0. WARNING: the lock is lifted only when this attempt's
 * own count set it (`ownLock`, the locked_until it wrote) and it is still that lock; a lock set by
 * anyone else's attempts stays. One statement: no read-modify-write race with parallel attempts.
 */
export async function refundLoginCharge(db: Executor, userId: string, ownLock: string | null): Promise<void> {
  await db
    .updateTable('users')
    .set((eb) => ({
      failed_logins: eb.case().when('failed_logins', '>', 0).then(eb('failed_logins', '-', 1)).else(0).end(),
      ...(ownLock === null
        ? {}
        : {
            locked_until: eb.case().when('locked_until', '=', ownLock).then(null).else(eb.ref('locked_until')).end(),
            lock_notified: eb.case().when('locked_until', '=', ownLock).then(0).else(eb.ref('lock_notified')).end(),
          }),
    }))
    .where('id', '=', userId)
    .execute();
}
