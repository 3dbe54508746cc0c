// The account life-cycle (migrations/0009): status changes, escrow-grant removal with its revocation
// row, and the purge that destroys a deleted account's key material (crypto-shredding).
import { sql } from 'kysely';
import type { Db, RoleColumn, Trx, UserStatus } from '../db/database';

type Executor = Db | Trx;

/**
 * Moves `userId` from one of `from` to `to` in ONE conditional statement: false when the account
 * was in another state meanwhile (two managers acting at once; only one wins).
 */
export async function changeUserStatus(db: Executor, userId: string, from: readonly UserStatus[], to: UserStatus, at: string, by: string | null): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ status: to, status_changed_at: at, status_changed_by: by })
    .where('id', '=', userId)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Active Administrators other than `exceptId`. */
export async function countOtherActiveAdmins(db: Executor, exceptId: string): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('status', '=', 'active')
    .where('id', '!=', exceptId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Escrow holders other than `exceptId` whose account is active (sealed grants count: they can be accepted). */
export async function countOtherActiveHolders(db: Executor, exceptId: string): Promise<number> {
  const row = await db
    .selectFrom('escrow_grants')
    .innerJoin('users', 'users.id', 'escrow_grants.user_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('users.status', '=', 'active')
    .where('escrow_grants.user_id', '!=', exceptId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Removes `userId`'s escrow grant (and, while a rotation runs, their grant for the old key) and
 * records who lost the key and why, so a rotation is known to be due. Returns whether they held it.
 */
export async function revokeEscrowGrant(
  trx: Trx,
  row: { id: string; userId: string; at: string; by: string; reason: 'demoted' | 'deactivated' | 'deleted' },
): Promise<boolean> {
  const current = await trx.deleteFrom('escrow_grants').where('user_id', '=', row.userId).executeTakeFirst();
  const previous = await trx.deleteFrom('escrow_previous_grants').where('user_id', '=', row.userId).executeTakeFirst();
  const held = Number(current.numDeletedRows) + Number(previous.numDeletedRows) > 0;
  if (held) {
    await trx.insertInto('escrow_revocations').values({ id: row.id, user_id: row.userId, revoked_at: row.at, revoked_by: row.by, reason: row.reason }).execute();
  }
  return held;
}

/** Withdraws `userId`'s open resets (their links stop working). Returns how many. */
export async function cancelOpenResetsOf(db: Executor, userId: string, at: string, by: string | null): Promise<number> {
  const result = await db
    .updateTable('password_resets')
    .set({ status: 'cancelled', finished_at: at, finished_by: by, link_secret_sealed: null })
    .where('user_id', '=', userId)
    .where('status', 'in', ['awaiting_approval', 'sent'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deleted accounts whose 30 days ended at `deletedBefore` or earlier. */
export function listAccountsDueForPurge(db: Executor, deletedBefore: string) {
  return db
    .selectFrom('users')
    .select(['id', 'role', 'status_changed_by'])
    .where('status', '=', 'deleted')
    .where('status_changed_at', '<=', deletedBefore)
    .orderBy('status_changed_at')
    .execute();
}

/**
 * The blobs a purge of `userId` destroys: every version of their client space, and blobs they
 * uploaded that no version names (finished uploads never attached). Staff's versions in client
 * spaces are those clients' data and stay.
 */
export async function listBlobsToShred(db: Executor, userId: string): Promise<string[]> {
  const inSpace = await db
    .selectFrom('document_versions as v')
    .innerJoin('documents as d', 'd.id', 'v.document_id')
    .innerJoin('spaces as s', 's.id', 'd.space_id')
    .select('v.blob_id')
    .where('s.client_id', '=', userId)
    .execute();
  const loose = await db
    .selectFrom('blobs as b')
    .select('b.id')
    .where('b.created_by', '=', userId)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('document_versions as v').select('v.id').whereRef('v.blob_id', '=', 'b.id'))))
    .execute();
  return [...new Set([...inSpace.map((r) => r.blob_id), ...loose.map((r) => r.id)])];
}

/** What a purge destroyed, for the audit event (counts only). */
export interface ShredCounts {
  secondFactors: number;
  backupCodes: number;
  trustedDevices: number;
  sessions: number;
  escrowGrants: number;
  resets: number;
  spaceKeys: number;
}

/**
 * WARNING: crypto-shredding. Destroys every key the account's data could be opened with: the
 * wrapped user, private and signing keys, the key safe, the escrow copy, the OPAQUE record (the
 * columns are NOT NULL: '' is "none"), the encrypted profile; deletes second factors, backup codes,
 * trusted devices, sessions, escrow grants and resets; for a client, the space key in all three of
 * its forms. Public keys stay (signatures in histories remain verifiable); append-only rows stay.
 * Only for an account still `deleted` (the caller moved it to `purged` in the same transaction).
 */
export async function shredAccount(trx: Trx, userId: string): Promise<ShredCounts> {
  await trx
    .updateTable('users')
    .set({
      opaque_record: '',
      wrapped_user_key: '',
      key_safe: '',
      wrapped_private_key: '',
      wrapped_signing_key: null,
      escrow_user_key: '',
      escrow_copy_statement: null,
      escrow_fingerprint: null,
      profile: '',
      binding_mac: null,
      binding_invitation_id: null,
    })
    .where('id', '=', userId)
    .execute();
  const n = (result: { numDeletedRows?: bigint; numUpdatedRows?: bigint }) => Number(result.numDeletedRows ?? result.numUpdatedRows ?? 0n);
  const secondFactors = n(await trx.deleteFrom('second_factors').where('user_id', '=', userId).executeTakeFirst());
  const backupCodes = n(await trx.deleteFrom('backup_codes').where('user_id', '=', userId).executeTakeFirst());
  const trustedDevices = n(await trx.deleteFrom('trusted_devices').where('user_id', '=', userId).executeTakeFirst());
  const sessions = n(await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst());
  const escrowGrants =
    n(await trx.deleteFrom('escrow_grants').where('user_id', '=', userId).executeTakeFirst()) +
    n(await trx.deleteFrom('escrow_previous_grants').where('user_id', '=', userId).executeTakeFirst());
  const resets = n(await trx.deleteFrom('password_resets').where('user_id', '=', userId).executeTakeFirst());
  // '' is "destroyed" (sealed_for_escrow is NOT NULL, and the spaces_kind_client check wants the
  // client's form of the key present): a present form becomes '', an absent one stays NULL. A null
  // fingerprint keeps the space out of rotations.
  const destroyed = (column: 'wrapped_for_client' | 'sealed_for_client') => sql<string | null>`case when ${sql.ref(column)} is null then null else '' end`;
  const spaceKeys = n(
    await trx
      .updateTable('spaces')
      .set({ wrapped_for_client: destroyed('wrapped_for_client'), sealed_for_client: destroyed('sealed_for_client'), sealed_for_escrow: '', escrow_fingerprint: null })
      .where('client_id', '=', userId)
      .executeTakeFirst(),
  );
  return { secondFactors, backupCodes, trustedDevices, sessions, escrowGrants, resets, spaceKeys };
}

export async function holdsEscrowGrant(db: Executor, userId: string): Promise<boolean> {
  return (await db.selectFrom('escrow_grants').select('user_id').where('user_id', '=', userId).executeTakeFirst()) !== undefined;
}

export function findUserStanding(db: Executor, userId: string) {
  return db.selectFrom('users').select(['status', 'role']).where('id', '=', userId).executeTakeFirst();
}

/** Changes the role only if it is still `from` (compare-and-swap); false otherwise. */
export async function swapUserRole(db: Executor, userId: string, from: RoleColumn, to: RoleColumn): Promise<boolean> {
  const result = await db.updateTable('users').set({ role: to }).where('id', '=', userId).where('role', '=', from).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deleted → deactivated, only if it is still the same deletion (its time unchanged). */
export async function restoreDeletedUser(db: Executor, userId: string, deletedAt: string | null, at: string, by: string): Promise<boolean> {
  let query = db.updateTable('users').set({ status: 'deactivated', status_changed_at: at, status_changed_by: by }).where('id', '=', userId).where('status', '=', 'deleted');
  query = deletedAt === null ? query.where('status_changed_at', 'is', null) : query.where('status_changed_at', '=', deletedAt);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
