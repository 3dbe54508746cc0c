// All SQL of signed space histories: the head of a space, appending an entry, paging entries out, counting them.
import type { Insertable } from 'kysely';
import type { Db, SpaceEntriesTable, SpaceEntryRow, Trx } from '../db/database';

type Executor = Db | Trx;

/** The newest entry's seq and hash, or undefined for a space without entries (legacy or not yet created). */
export function findSpaceHead(db: Executor, spaceId: string): Promise<{ seq: number; entry_hash: string } | undefined> {
  return db.selectFrom('space_entries').select(['seq', 'entry_hash']).where('space_id', '=', spaceId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

export async function insertSpaceEntry(trx: Trx, row: Insertable<SpaceEntriesTable>): Promise<void> {
  await trx.insertInto('space_entries').values(row).execute();
}

/** Up to `limit` entries with seq greater than `afterSeq` (-1: from entry 0), in order. */
export function listSpaceEntries(db: Executor, spaceId: string, afterSeq: number, limit: number): Promise<SpaceEntryRow[]> {
  return db.selectFrom('space_entries').selectAll().where('space_id', '=', spaceId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
}

/** The stored signing public key (base64url SPKI) of a user, or null when they have none. */
export async function findSigningPublicKey(db: Executor, userId: string): Promise<string | null> {
  const row = await db.selectFrom('users').select('signing_public_key').where('id', '=', userId).executeTakeFirst();
  return row?.signing_public_key ?? null;
}

/** Every entry with seq greater than `afterSeq`, in order, with its author's role (folding needs who may do what). */
export function listEntriesWithAuthorRoles(db: Executor, spaceId: string, afterSeq: number): Promise<(SpaceEntryRow & { author_role: string })[]> {
  return db
    .selectFrom('space_entries')
    .innerJoin('users', 'users.id', 'space_entries.author_id')
    .selectAll('space_entries')
    .select('users.role as author_role')
    .where('space_entries.space_id', '=', spaceId)
    .where('space_entries.seq', '>', afterSeq)
    .orderBy('space_entries.seq')
    .execute();
}

/** Which of `ids` are rows of this space in the table of `kind` (items made before the space's signed history, when the history lacks them). */
export async function findSpaceItemIds(db: Executor, spaceId: string, kind: 'document' | 'folder' | 'thread' | 'message' | 'request', ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows =
    kind === 'message'
      ? await db.selectFrom('messages').innerJoin('threads', 'threads.id', 'messages.thread_id').select('messages.id').where('threads.space_id', '=', spaceId).where('messages.id', 'in', ids).execute()
      : await db.selectFrom(TABLE_OF[kind]).select('id').where('space_id', '=', spaceId).where('id', 'in', ids).execute();
  return rows.map((row) => row.id);
}

const TABLE_OF = { document: 'documents', folder: 'folders', thread: 'threads', request: 'document_requests' } as const;
