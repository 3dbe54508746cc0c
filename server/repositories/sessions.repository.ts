// Kysely access to sessions and invitations.
import type { Insertable } from 'kysely';
import type { Db, InvitationsTable, SessionsTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertSession(db: Executor, row: Insertable<SessionsTable>): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/** The live session for a token hash, with its user's role and status. */
export function findLiveSession(db: Executor, tokenHash: string, now: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.user_id',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.authenticated_at',
      'sessions.expires_at',
      'users.role',
      'users.email',
      'users.language',
      'users.password_changed_at',
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.revoked_at', 'is', null)
    // WARNING: a session opened while its account was being deactivated or deleted (a sign-in in
    // flight) must not outlive it: only active accounts have sessions.
    .where('users.status', '=', 'active')
    .where('sessions.expires_at', '>', now)
    .executeTakeFirst();
}

export function listLiveSessions(db: Executor, userId: string, now: string) {
  return db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_seen_at', 'expires_at', 'ip'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('last_seen_at', 'desc')
    .execute();
}

/** Revokes one live session of `userId`; false when it is not theirs or already ended. */
export async function revokeOwnSession(db: Executor, userId: string, id: string, now: string): Promise<boolean> {
  const result = await db.updateTable('sessions').set({ revoked_at: now }).where('id', '=', id).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function touchSession(db: Executor, id: string, now: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function revokeSession(db: Executor, id: string, now: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

/** Ends every session of a user except `keepId` (if given). Returns how many ended. */
export async function revokeUserSessions(db: Executor, userId: string, now: string, keepId?: string): Promise<number> {
  let query = db.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (keepId) query = query.where('id', '!=', keepId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Ends every live session of every user (recovery mode). */
export async function revokeAllSessions(db: Executor, now: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: now }).where('revoked_at', 'is', null).execute();
}

export async function insertInvitation(db: Executor, row: Insertable<InvitationsTable>): Promise<void> {
  await db.insertInto('invitations').values(row).execute();
}

export function findInvitationByTokenHash(db: Executor, tokenHash: string) {
  return db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export function findInvitationById(db: Executor, id: string) {
  return db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listOpenInvitations(db: Executor, roles: readonly string[], now: string) {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('role', 'in', roles as ('admin' | 'team' | 'client' | 'auditor')[])
    .orderBy('created_at', 'desc')
    .execute();
}

export function findOpenInvitationForEmail(db: Executor, email: string, now: string) {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('email', '=', email)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** Marks an invitation used exactly once; returns whether this call did it. */
export async function useInvitation(db: Executor, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('invitations')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function revokeInvitationRow(db: Executor, id: string, now: string): Promise<boolean> {
  const result = await db.updateTable('invitations').set({ revoked_at: now }).where('id', '=', id).where('used_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
