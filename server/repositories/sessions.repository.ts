// Kysely access to sessions, pending OPAQUE registrations and logins, invitations and rate-limit windows.
import type { Insertable } from 'kysely';
import type { Db, InvitationsTable, LoginAttemptsTable, RegistrationsTable, SessionsTable, Trx } from '../db/database';

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
    .where('sessions.expires_at', '>', now)
    .executeTakeFirst();
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

export async function markSessionAuthenticated(db: Executor, id: string, now: string): Promise<void> {
  await db.updateTable('sessions').set({ authenticated_at: now, last_seen_at: now }).where('id', '=', id).execute();
}

export async function insertRegistration(db: Executor, row: Insertable<RegistrationsTable>): Promise<void> {
  await db.insertInto('registrations').values(row).execute();
}

/** Takes (deletes and returns) a pending registration: a registration id works exactly once. */
export async function takeRegistration(db: Executor, id: string) {
  const row = await db.selectFrom('registrations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const deleted = await db.deleteFrom('registrations').where('id', '=', id).executeTakeFirst();
  return Number(deleted.numDeletedRows) === 1 ? row : undefined;
}

export async function insertLoginAttempt(db: Executor, row: Insertable<LoginAttemptsTable>): Promise<void> {
  await db.insertInto('login_attempts').values(row).execute();
}

/**
 * Closes an open login attempt exactly once and returns it (with its secret state, which is wiped
 * from the row at the same time). A replayed finish finds nothing.
 */
export async function takeLoginAttempt(db: Executor, id: string, outcome: 'succeeded' | 'failed' | 'abandoned') {
  const row = await db.selectFrom('login_attempts').selectAll().where('id', '=', id).where('outcome', 'is', null).executeTakeFirst();
  if (!row) return undefined;
  const updated = await db
    .updateTable('login_attempts')
    .set({ outcome, server_state: '' })
    .where('id', '=', id)
    .where('outcome', 'is', null)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1 ? row : undefined;
}

export async function setLoginAttemptOutcome(db: Executor, id: string, outcome: 'succeeded' | 'failed' | 'abandoned'): Promise<void> {
  await db.updateTable('login_attempts').set({ outcome }).where('id', '=', id).execute();
}

/** Housekeeping: expired pending rows hold OPAQUE state that must not linger. */
export async function deleteExpiredPending(db: Executor, now: string): Promise<void> {
  await db.updateTable('login_attempts').set({ outcome: 'abandoned', server_state: '' }).where('outcome', 'is', null).where('expires_at', '<=', now).execute();
  await db.deleteFrom('registrations').where('expires_at', '<=', now).execute();
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

/**
 * Fixed-window counter: adds one hit to `key` and returns the count in the current window. One
 * upsert statement, so concurrent requests are counted exactly.
 */
export async function hitRateLimit(db: Executor, key: string, windowStart: string): Promise<number> {
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        count: eb.case().when('rate_limits.window_start', '=', windowStart).then(eb('rate_limits.count', '+', 1)).else(1).end(),
        window_start: windowStart,
      })),
    )
    .returning('count')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
