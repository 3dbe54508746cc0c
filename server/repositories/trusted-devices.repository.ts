// Trusted devices: browsers that skip the second factor for 30 days (migration 0008).
import type { Insertable } from 'kysely';
import type { Db, TrustedDevicesTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertTrustedDevice(db: Executor, row: Insertable<TrustedDevicesTable>): Promise<void> {
  await db.insertInto('trusted_devices').values(row).execute();
}

/** The device behind a cookie token's hash, whatever its state (the caller tells expired, revoked and other accounts apart). */
export function findTrustedDeviceByHash(db: Executor, tokenHash: string) {
  return db.selectFrom('trusted_devices').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** A user's devices that are neither revoked nor expired at `now`, newest first. */
export function listLiveTrustedDevices(db: Executor, userId: string, now: string) {
  return db
    .selectFrom('trusted_devices')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
}

/** Revokes one live device of `userId`; false when there is none with that id. */
export async function revokeTrustedDevice(db: Executor, userId: string, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('trusted_devices')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function touchTrustedDevice(db: Executor, id: string, now: string): Promise<void> {
  await db.updateTable('trusted_devices').set({ last_used_at: now }).where('id', '=', id).execute();
}

/** Revokes every live trusted device of a user (a password change or reset); returns how many. */
export async function revokeAllTrustedDevices(db: Executor, userId: string, now: string): Promise<number> {
  const result = await db.updateTable('trusted_devices').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Revokes every live trusted device of everyone (recovery mode: every password is reset); returns how many. */
export async function revokeEveryTrustedDevice(db: Executor, now: string): Promise<number> {
  const result = await db.updateTable('trusted_devices').set({ revoked_at: now }).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
