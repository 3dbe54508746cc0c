// All SQL of document requests, their items, the documents uploaded against them, and due reminders.
import type { Insertable } from 'kysely';
import type { Db, DocumentRequestRow, DocumentRequestsTable, RequestItemRow, RequestItemsTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertRequest(trx: Trx, row: Insertable<DocumentRequestsTable>, items: readonly Insertable<RequestItemsTable>[]): Promise<void> {
  await trx.insertInto('document_requests').values(row).execute();
  await trx.insertInto('request_items').values([...items]).execute();
}

export function findRequest(db: Executor, id: string): Promise<DocumentRequestRow | undefined> {
  return db.selectFrom('document_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Which of `ids` exist as request items (of any request). */
export async function findExistingItemIds(db: Executor, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('request_items').select('id').where('id', 'in', ids).execute();
  return rows.map((row) => row.id);
}

/** A request item with the space and state of its request. */
export function findRequestItem(db: Executor, itemId: string) {
  return db
    .selectFrom('request_items as i')
    .innerJoin('document_requests as q', 'q.id', 'i.request_id')
    .select(['i.id', 'i.request_id', 'q.space_id', 'q.closed_at'])
    .where('i.id', '=', itemId)
    .executeTakeFirst();
}

/** Closes an open request; false when it was closed already. */
export async function closeRequestRow(trx: Trx, id: string, by: string, at: string): Promise<boolean> {
  const result = await trx.updateTable('document_requests').set({ closed_at: at, closed_by: by }).where('id', '=', id).where('closed_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Requests of a space (newest first), or only `onlyRequestId`, with their items in order and the live documents filed against each. */
export async function listRequestsWithItems(db: Executor, spaceId: string, onlyRequestId?: string) {
  let requests = db.selectFrom('document_requests').selectAll().where('space_id', '=', spaceId);
  let items = db.selectFrom('request_items as i').innerJoin('document_requests as q', 'q.id', 'i.request_id').selectAll('i').where('q.space_id', '=', spaceId);
  let documents = db
    .selectFrom('documents as d')
    .innerJoin('request_items as i', 'i.id', 'd.request_item_id')
    .innerJoin('document_requests as q', 'q.id', 'i.request_id')
    .select(['d.id', 'd.request_item_id'])
    .where('q.space_id', '=', spaceId)
    .where('d.space_id', '=', spaceId)
    .where('d.deleted_at', 'is', null);
  if (onlyRequestId !== undefined) {
    requests = requests.where('id', '=', onlyRequestId);
    items = items.where('q.id', '=', onlyRequestId);
    documents = documents.where('q.id', '=', onlyRequestId);
  }
  return {
    requests: await requests.orderBy('created_at', 'desc').orderBy('id').execute(),
    items: (await items.orderBy('i.request_id').orderBy('i.position').execute()) as RequestItemRow[],
    documents: await documents.orderBy('d.created_at').orderBy('d.id').execute(),
  };
}

/**
 * Open requests in client spaces, due on or before `lastDueDate`, not reminded yet, with at least
 * one item no live document was uploaded against: with the client to remind.
 */
export function listDueReminders(db: Executor, lastDueDate: string) {
  return db
    .selectFrom('document_requests as q')
    .innerJoin('spaces as s', 's.id', 'q.space_id')
    .innerJoin('users as u', 'u.id', 's.client_id')
    .select(['q.id', 'q.space_id', 'q.due_date', 'u.id as client_id', 'u.email', 'u.language'])
    .where('q.closed_at', 'is', null)
    .where('q.reminder_sent_at', 'is', null)
    .where('q.due_date', '<=', lastDueDate)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('request_items as i')
          .select('i.id')
          .whereRef('i.request_id', '=', 'q.id')
          .where((w) => w.not(w.exists(w.selectFrom('documents as d').select('d.id').whereRef('d.request_item_id', '=', 'i.id').where('d.deleted_at', 'is', null)))),
      ),
    )
    .orderBy('q.due_date')
    .execute();
}

/** Sets or clears the reminder mark; setting succeeds only when none was set (false otherwise). */
export async function setReminderSent(trx: Trx, id: string, at: string | null): Promise<boolean> {
  const query = trx.updateTable('document_requests').set({ reminder_sent_at: at }).where('id', '=', id);
  const result = await (at === null ? query : query.where('reminder_sent_at', 'is', null)).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
