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
