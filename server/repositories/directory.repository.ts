// Kysely access to the key directory: certificates, and the key columns of users a directory lists.
import type { Insertable } from 'kysely';
import type { CertificatesTable, Db, RoleColumn, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertCertificate(trx: Trx, row: Insertable<CertificatesTable>): Promise<void> {
  await trx.insertInto('certificates').values(row).execute();
}

/** Certificates of these people, oldest first. */
export function listCertificatesFor(db: Executor, userIds: readonly string[]) {
  if (userIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('certificates')
    .select(['user_id', 'payload', 'signature'])
    .where('user_id', 'in', userIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** The directory columns of everyone with one of `roles`, plus `alsoId` (a client sees themselves). */
export function listDirectoryUsers(db: Executor, roles: readonly RoleColumn[], alsoId?: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'role', 'public_key', 'signing_public_key', 'binding_invitation_id', 'binding_mac', 'escrow_copy_statement'])
    .where((eb) => (alsoId ? eb.or([eb('role', 'in', roles), eb('id', '=', alsoId)]) : eb('role', 'in', roles)))
    .orderBy('created_at')
    .execute();
}

/**
 * Compare-and-swap of the key safe: writes only when the stored revision is still `expected`.
 * @returns whether it was written
 */
export async function swapKeySafe(db: Executor, userId: string, expected: number, keySafe: string): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ key_safe: keySafe, key_safe_revision: expected + 1 })
    .where('id', '=', userId)
    .where('key_safe_revision', '=', expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
