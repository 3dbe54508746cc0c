// All SQL of threads, messages, their append-only revisions, attachments and read markers.
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db, MessageRevisionsTable, MessageRow, MessagesTable, ThreadRow, ThreadsTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertThread(trx: Trx, row: Insertable<ThreadsTable>): Promise<void> {
  await trx.insertInto('threads').values(row).execute();
}

export function findThread(db: Executor, id: string): Promise<ThreadRow | undefined> {
  return db.selectFrom('threads').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateThread(trx: Trx, id: string, changes: Updateable<ThreadsTable>): Promise<void> {
  await trx.updateTable('threads').set(changes).where('id', '=', id).execute();
}

export type ThreadWithUnread = ThreadRow & { readonly unread_count: number };

function selectThreadsFor(db: Executor, viewerId: string) {
  return db
    .selectFrom('threads as t')
    .leftJoin('thread_reads as r', (join) => join.onRef('r.thread_id', '=', 't.id').on('r.user_id', '=', viewerId))
    .selectAll('t')
    .select((eb) =>
      eb
        .selectFrom('messages as m')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('m.thread_id', '=', 't.id')
        .where('m.author_id', '!=', viewerId)
        .where('m.seq', '>', sql<number>`coalesce(r.read_seq, 0)`)
        .as('unread_count'),
    );
}

const withUnread = <T extends { unread_count: number | null }>(row: T) => ({ ...row, unread_count: Number(row.unread_count ?? 0) });

/** The threads of a space, newest message first, with the messages by others `viewerId` has not read. */
export async function listThreads(db: Executor, spaceId: string, viewerId: string): Promise<ThreadWithUnread[]> {
  const rows = await selectThreadsFor(db, viewerId).where('t.space_id', '=', spaceId).orderBy('t.last_message_at', 'desc').orderBy('t.id').execute();
  return rows.map(withUnread);
}

export async function findThreadFor(db: Executor, threadId: string, viewerId: string): Promise<ThreadWithUnread | undefined> {
  const row = await selectThreadsFor(db, viewerId).where('t.id', '=', threadId).executeTakeFirst();
  return row && withUnread(row);
}

export async function insertMessage(trx: Trx, row: Insertable<MessagesTable>): Promise<void> {
  await trx.insertInto('messages').values(row).execute();
}

export function findMessage(db: Executor, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Moves a message from revision `from` to `from + 1`; false when another edit came first. */
export async function advanceMessageRevision(trx: Trx, id: string, from: number): Promise<boolean> {
  const result = await trx.updateTable('messages').set({ revision_count: from + 1 }).where('id', '=', id).where('revision_count', '=', from).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function insertRevision(trx: Trx, row: Insertable<MessageRevisionsTable>): Promise<void> {
  await trx.insertInto('message_revisions').values(row).execute();
}

export async function insertAttachments(trx: Trx, messageId: string, documentIds: readonly string[]): Promise<void> {
  if (documentIds.length === 0) return;
  await trx
    .insertInto('message_attachments')
    .values(documentIds.map((documentId) => ({ message_id: messageId, document_id: documentId })))
    .execute();
}

/** Messages of a thread (oldest first), or only `onlyMessageId`, with every revision and attachment. */
export async function listMessagesWithHistory(db: Executor, threadId: string, onlyMessageId?: string) {
  let messages = db.selectFrom('messages').selectAll().where('thread_id', '=', threadId);
  let revisions = db
    .selectFrom('message_revisions as mr')
    .innerJoin('messages as m', 'm.id', 'mr.message_id')
    .select(['mr.message_id', 'mr.revision', 'mr.body', 'mr.created_at'])
    .where('m.thread_id', '=', threadId);
  let attachments = db
    .selectFrom('message_attachments as a')
    .innerJoin('messages as m', 'm.id', 'a.message_id')
    .select(['a.message_id', 'a.document_id'])
    .where('m.thread_id', '=', threadId);
  if (onlyMessageId !== undefined) {
    messages = messages.where('id', '=', onlyMessageId);
    revisions = revisions.where('m.id', '=', onlyMessageId);
    attachments = attachments.where('m.id', '=', onlyMessageId);
  }
  return {
    messages: await messages.orderBy('seq').execute(),
    revisions: await revisions.orderBy('mr.message_id').orderBy('mr.revision').execute(),
    attachments: await attachments.orderBy('a.message_id').orderBy('a.document_id').execute(),
  };
}

/** Records that `userId` has read `threadId` up to `seq` (never moves the marker back). */
export async function markRead(trx: Trx, threadId: string, userId: string, seq: number): Promise<void> {
  await trx
    .insertInto('thread_reads')
    .values({ thread_id: threadId, user_id: userId, read_seq: seq })
    .onConflict((oc) => oc.columns(['thread_id', 'user_id']).doUpdateSet({ read_seq: sql<number>`max(read_seq, excluded.read_seq)` }))
    .execute();
}
