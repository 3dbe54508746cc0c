// Escrow rotation (migrations/0009): the rotations, the old key's grants while one runs, and the
// items (space escrow seals and user-key escrow copies) with the fingerprint each is sealed to.
import { sql, type Insertable } from 'kysely';
import type { Db, EscrowGrantsTable, EscrowRotationsTable, Trx } from '../db/database';

type Executor = Db | Trx;

export type RotationItemKind = 'space' | 'user';

export function findRunningRotation(db: Executor) {
  return db.selectFrom('escrow_rotations').selectAll().where('finished_at', 'is', null).executeTakeFirst();
}

/** The running rotation, else the one started last. */
export function findLatestRotation(db: Executor) {
  return db
    .selectFrom('escrow_rotations')
    .selectAll()
    .orderBy(sql`finished_at IS NULL`, 'desc')
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Every rotation statement ever made, oldest first (the chain browsers follow). */
export function listRotationStatements(db: Executor) {
  return db
    .selectFrom('escrow_rotations')
    .select(['statement_payload', 'statement_signature', 'started_by'])
    .orderBy('started_at')
    .orderBy('id')
    .execute();
}

/**
 * WARNING: the unique index escrow_rotations_one_running refuses a second running rotation; the
 * caller turns that into rotation_in_progress. Returns false when the database refused it.
 */
export async function insertRotation(trx: Trx, row: Insertable<EscrowRotationsTable>): Promise<boolean> {
  try {
    await trx.insertInto('escrow_rotations').values(row).execute();
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

export async function addRotationDone(db: Executor, id: string, n: number): Promise<void> {
  if (n === 0) return;
  await db
    .updateTable('escrow_rotations')
    .set((eb) => ({ done: eb('done', '+', n) }))
    .where('id', '=', id)
    .execute();
}

/** Marks the rotation finished; false when it was not running (a parallel finish won). */
export async function markRotationFinished(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await db.updateTable('escrow_rotations').set({ finished_at: at }).where('id', '=', id).where('finished_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Moves every current grant to escrow_previous_grants (emptied first: one rotation at a time). */
export async function moveGrantsToPrevious(trx: Trx): Promise<number> {
  await trx.deleteFrom('escrow_previous_grants').execute();
  const result = await trx
    .insertInto('escrow_previous_grants')
    .columns(['user_id', 'kind', 'value', 'granted_by', 'granted_at', 'statement_payload', 'statement_signature'])
    .expression((eb) =>
      eb.selectFrom('escrow_grants').select(['user_id', 'kind', 'value', 'granted_by', 'granted_at', 'statement_payload', 'statement_signature']),
    )
    .executeTakeFirst();
  await trx.deleteFrom('escrow_grants').execute();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

export async function insertGrants(trx: Trx, rows: readonly Insertable<EscrowGrantsTable>[]): Promise<void> {
  if (rows.length > 0) await trx.insertInto('escrow_grants').values([...rows]).execute();
}

export function findPreviousGrant(db: Executor, userId: string) {
  return db.selectFrom('escrow_previous_grants').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function deletePreviousGrants(trx: Trx): Promise<number> {
  const result = await trx.deleteFrom('escrow_previous_grants').executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function listGrantHolderIds(db: Executor) {
  return db.selectFrom('escrow_grants').select('user_id').execute();
}

// --- items --------------------------------------------------------------------------------------

/** Spaces whose escrow seal still exists (a purged client's is destroyed: ''). */
function spaceItems(db: Executor) {
  return db.selectFrom('spaces').where('sealed_for_escrow', '!=', '');
}

/** Users whose escrow copy still exists (purged accounts' copies are destroyed). */
function userItems(db: Executor) {
  return db.selectFrom('users').where('status', '!=', 'purged').where('escrow_user_key', '!=', '');
}

/** How many items are sealed to another key than `fingerprint` (NULL counts as another key). */
export async function countItemsNotSealedTo(db: Executor, fingerprint: string): Promise<number> {
  const notTo = sql<boolean>`escrow_fingerprint IS NOT ${fingerprint}`;
  const [spaces, users] = await Promise.all([
    spaceItems(db).select((eb) => eb.fn.countAll<number>().as('n')).where(notTo).executeTakeFirstOrThrow(),
    userItems(db).select((eb) => eb.fn.countAll<number>().as('n')).where(notTo).executeTakeFirstOrThrow(),
  ]);
  return Number(spaces.n) + Number(users.n);
}

export interface StoredItem {
  readonly kind: RotationItemKind;
  readonly id: string;
  readonly seal: string;
  readonly escrowFingerprint: string | null;
  /** Entry 0 (spaces) or the escrow-copy statement (users), as stored. */
  readonly authority: { payload: string; signature: string } | null;
  readonly authorityAuthor: string | null;
  /** Whose key it is, for the escrow-use record: the client of a client space, the user. */
  readonly personId: string | null;
}

/**
 * A page of items in (kind, id) order after `after`; `pendingFor`: only those not sealed to that
 * fingerprint. Spaces come before users ('space' < 'user').
 */
export async function listItems(
  db: Executor,
  options: { pendingFor: string | null; after: { kind: RotationItemKind; id: string } | null; limit: number },
): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  const notTo = (column: 'spaces.escrow_fingerprint' | 'users.escrow_fingerprint') => sql<boolean>`${sql.ref(column)} IS NOT ${options.pendingFor}`;
  if (options.after === null || options.after.kind === 'space') {
    let query = spaceItems(db)
      .leftJoin('space_entries', (join) => join.onRef('space_entries.space_id', '=', 'spaces.id').on('space_entries.seq', '=', 0))
      .select([
        'spaces.id',
        'spaces.sealed_for_escrow',
        'spaces.escrow_fingerprint',
        'spaces.client_id',
        'space_entries.payload',
        'space_entries.signature',
        'space_entries.author_id',
      ])
      .orderBy('spaces.id')
      .limit(options.limit);
    if (options.after) query = query.where('spaces.id', '>', options.after.id);
    if (options.pendingFor !== null) query = query.where(notTo('spaces.escrow_fingerprint'));
    for (const row of await query.execute()) {
      items.push({
        kind: 'space',
        id: row.id,
        seal: row.sealed_for_escrow,
        escrowFingerprint: row.escrow_fingerprint,
        authority: row.payload !== null && row.signature !== null ? { payload: row.payload, signature: row.signature } : null,
        authorityAuthor: row.author_id,
        personId: row.client_id,
      });
    }
  }
  if (items.length < options.limit) {
    let query = userItems(db)
      .select(['users.id', 'users.escrow_user_key', 'users.escrow_fingerprint', 'users.escrow_copy_statement'])
      .orderBy('users.id')
      .limit(options.limit - items.length);
    if (options.after?.kind === 'user') query = query.where('users.id', '>', options.after.id);
    if (options.pendingFor !== null) query = query.where(notTo('users.escrow_fingerprint'));
    for (const row of await query.execute()) {
      const authority = parseStatement(row.escrow_copy_statement);
      items.push({
        kind: 'user',
        id: row.id,
        seal: row.escrow_user_key,
        escrowFingerprint: row.escrow_fingerprint,
        authority,
        authorityAuthor: authority ? row.id : null,
        personId: row.id,
      });
    }
  }
  return items;
}

function parseStatement(json: string | null): { payload: string; signature: string } | null {
  if (json === null) return null;
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value === 'object' && value !== null && 'payload' in value && 'signature' in value) {
      const { payload, signature } = value;
      if (typeof payload === 'string' && typeof signature === 'string') return { payload, signature };
    }
  } catch {
    // A stored statement that does not parse vouches for nothing.
  }
  return null;
}

/** The stored seal of one item (to compare with the digest the browser names). */
export async function findItemSeal(db: Executor, kind: RotationItemKind, id: string): Promise<{ seal: string; fingerprint: string | null; personId: string | null } | undefined> {
  if (kind === 'space') {
    const row = await spaceItems(db).select(['sealed_for_escrow', 'escrow_fingerprint', 'client_id']).where('id', '=', id).executeTakeFirst();
    return row && { seal: row.sealed_for_escrow, fingerprint: row.escrow_fingerprint, personId: row.client_id };
  }
  const row = await userItems(db).select(['escrow_user_key', 'escrow_fingerprint']).where('id', '=', id).executeTakeFirst();
  return row && { seal: row.escrow_user_key, fingerprint: row.escrow_fingerprint, personId: id };
}

/**
 * WARNING: compare-and-swap, one statement per item: the seal and its fingerprint change together,
 * and only if the stored seal is still exactly `expected` (never an item sealed to neither key).
 */
export async function swapItemSeal(db: Executor, kind: RotationItemKind, id: string, expected: string, seal: string, fingerprint: string): Promise<boolean> {
  const result =
    kind === 'space'
      ? await db.updateTable('spaces').set({ sealed_for_escrow: seal, escrow_fingerprint: fingerprint }).where('id', '=', id).where('sealed_for_escrow', '=', expected).executeTakeFirst()
      : await db
          .updateTable('users')
          .set({ escrow_user_key: seal, escrow_fingerprint: fingerprint })
          .where('id', '=', id)
          .where('status', '!=', 'purged')
          .where('escrow_user_key', '=', expected)
          .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Whether `userId` already has a 'rotation' escrow use for this rotation (one per person). */
export async function hasRotationUse(db: Executor, userId: string, rotationId: string): Promise<boolean> {
  const row = await db
    .selectFrom('escrow_uses')
    .select('id')
    .where('user_id', '=', userId)
    .where('kind', '=', 'rotation')
    .where('subject_id', '=', rotationId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Who lost the escrow key since `since` (null: ever), newest loss per person, with their e-mail. */
export function listRevocationsSince(db: Executor, since: string | null) {
  let query = db
    .selectFrom('escrow_revocations')
    .innerJoin('users', 'users.id', 'escrow_revocations.user_id')
    .select(['escrow_revocations.user_id', 'users.email', (eb) => eb.fn.max('escrow_revocations.revoked_at').as('since')])
    .groupBy(['escrow_revocations.user_id', 'users.email'])
    .orderBy('since');
  if (since !== null) query = query.where('escrow_revocations.revoked_at', '>', since);
  return query.execute();
}
