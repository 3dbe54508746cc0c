// All SQL of spaces: rows, the per-viewer summary (counts, bytes, unread, open items) and quota sums.
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db, SpaceRow, SpacesTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertSpace(trx: Trx, row: Insertable<SpacesTable>): Promise<void> {
  await trx.insertInto('spaces').values(row).execute();
}

export function findSpace(db: Executor, id: string): Promise<SpaceRow | undefined> {
  return db.selectFrom('spaces').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The client space of `clientId`, or the team space when `clientId` is null. */
export function findSpaceOf(db: Executor, clientId: string | null): Promise<SpaceRow | undefined> {
  const query = db.selectFrom('spaces').selectAll();
  return (clientId === null ? query.where('kind', '=', 'team') : query.where('client_id', '=', clientId)).executeTakeFirst();
}

export async function updateSpace(trx: Trx, id: string, changes: Updateable<SpacesTable>): Promise<void> {
  await trx.updateTable('spaces').set(changes).where('id', '=', id).execute();
}

export async function touchSpace(trx: Trx, id: string, at: string): Promise<void> {
  await trx.updateTable('spaces').set({ last_activity_at: at }).where('id', '=', id).execute();
}

export interface SpaceSummaryRow extends SpaceRow {
  document_count: number;
  stored_bytes: number;
  unread_messages: number;
  open_request_items: number;
  history_length: number;
}

/**
 * Spaces with their counts as `viewerId` sees them, newest activity first: every space, only the
 * client space of `onlyClientId` when given, or only space `onlySpaceId`. One query (correlated
 * subqueries over indexed columns), however many spaces.
 */
export function listSpaceSummaries(
  db: Executor,
  viewerId: string,
  filter: { readonly onlyClientId?: string; readonly onlySpaceId?: string },
): Promise<SpaceSummaryRow[]> {
  let query = db
    .selectFrom('spaces as s')
    .selectAll('s')
    .select((eb) => [
      eb
        .selectFrom('documents as d')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('d.space_id', '=', 's.id')
        .where('d.deleted_at', 'is', null)
        .as('document_count'),
      eb.fn
        .coalesce(
          eb
            .selectFrom('document_versions as v')
            .innerJoin('documents as d', 'd.id', 'v.document_id')
            .select((sub) => sub.fn.sum<number>('v.size').as('n'))
            .whereRef('d.space_id', '=', 's.id'),
          eb.lit(0),
        )
        .as('stored_bytes'),
      eb
        .selectFrom('messages as m')
        .innerJoin('threads as t', 't.id', 'm.thread_id')
        .leftJoin('thread_reads as r', (join) => join.onRef('r.thread_id', '=', 't.id').on('r.user_id', '=', viewerId))
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('t.space_id', '=', 's.id')
        .where('m.author_id', '!=', viewerId)
        .where('m.seq', '>', sql<number>`coalesce(r.read_seq, 0)`)
        .as('unread_messages'),
      eb
        .selectFrom('request_items as i')
        .innerJoin('document_requests as q', 'q.id', 'i.request_id')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('q.space_id', '=', 's.id')
        .where('q.closed_at', 'is', null)
        .where((w) =>
          w.not(
            w.exists(
              w.selectFrom('documents as d').select('d.id').whereRef('d.request_item_id', '=', 'i.id').where('d.deleted_at', 'is', null),
            ),
          ),
        )
        .as('open_request_items'),
      eb.selectFrom('space_entries as e').select(eb.fn.countAll<number>().as('n')).whereRef('e.space_id', '=', 's.id').as('history_length'),
    ]);
  // A purged client's space: its keys were destroyed (sealed_for_escrow '', server/repositories/
  // lifecycle.repository.ts); nobody can open it, so nobody is shown it.
  query = query.where('s.sealed_for_escrow', '!=', '');
  if (filter.onlyClientId !== undefined) query = query.where('s.client_id', '=', filter.onlyClientId);
  if (filter.onlySpaceId !== undefined) query = query.where('s.id', '=', filter.onlySpaceId);
  return query
    .orderBy('s.last_activity_at', 'desc')
    .orderBy('s.id')
    .execute()
    .then((rows) =>
      rows.map((row) => ({
        ...row,
        document_count: Number(row.document_count ?? 0),
        stored_bytes: Number(row.stored_bytes),
        unread_messages: Number(row.unread_messages ?? 0),
        open_request_items: Number(row.open_request_items ?? 0),
        history_length: Number(row.history_length ?? 0),
      })),
    );
}

/**
 * Bytes a space holds against its quota: every version (tombstoned documents included), plus
 * uploads with purpose `purpose` that are open and unexpired or completed but not yet a version.
 */
export async function spaceBytesInUse(db: Executor, spaceId: string, purpose: string, now: string): Promise<number> {
  const versions = await db
    .selectFrom('document_versions as v')
    .innerJoin('documents as d', 'd.id', 'v.document_id')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('v.size'), eb.lit(0)).as('n'))
    .where('d.space_id', '=', spaceId)
    .executeTakeFirstOrThrow();
  const pending = await db
    .selectFrom('uploads as u')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('u.size'), eb.lit(0)).as('n'))
    .where('u.purpose', '=', purpose)
    .where((eb) =>
      eb.or([
        eb.and([eb('u.status', '=', 'open'), eb('u.expires_at', '>', now)]),
        eb.and([
          eb('u.status', '=', 'completed'),
          eb.not(eb.exists(eb.selectFrom('document_versions as v').select('v.id').whereRef('v.blob_id', '=', 'u.blob_id'))),
        ]),
      ]),
    )
    .executeTakeFirstOrThrow();
  return Number(versions.n) + Number(pending.n);
}
