// Message threads in a space: first message, replies, revisions that never overwrite, attachments, read markers.
import type { CreateThreadBody, Message, NewMessage, Thread } from '../../shared/api';
import { messagePostDraft, messageReviseDraft, threadCreateDraft } from '../../shared/flows/space-entries';
import type { SignedEntry } from '../../shared/flows/space-history';
import type { Db, SpaceRow, ThreadRow, Trx } from '../db/database';
import { relaxedTransaction } from '../db/relaxed';
import { fail } from '../errors';
import { findLiveDocumentIds } from '../repositories/documents.repository';
import {
  advanceMessageRevision,
  findMessage,
  findThread,
  findThreadFor,
  insertAttachments,
  insertMessage,
  insertRevision,
  insertThread,
  listMessagesWithHistory,
  listThreads,
  markRead,
  updateThread,
  type ThreadWithUnread,
} from '../repositories/messages.repository';
import { touchSpace } from '../repositories/spaces.repository';
import type { Actor } from './account-deps';
import { recordAuditEvent } from './audit.service';
import { requireInUsableSpace, requireSpace } from './space-access';
import { appendEntry, checkEntry } from './space-history';
import type { SpaceNotifier } from './space-notifications';

export interface MessagesDeps {
  readonly db: Db;
  readonly spaceNotifier: SpaceNotifier;
  readonly now: () => Date;
}

const threadNotFound = () => fail('thread_not_found', 'There is no such thread.');
const messageNotFound = () => fail('message_not_found', 'There is no such message.');
const idTaken = () => fail('id_taken', 'This id is in use; make a new one.');

function threadView(row: ThreadWithUnread): Thread {
  return {
    id: row.id,
    spaceId: row.space_id,
    subject: row.subject,
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastMessageAt: row.last_message_at,
    messageCount: row.message_count,
    unreadCount: row.unread_count,
  };
}

/** Rows by message id, in their order (Map.groupBy needs Node 21). */
function groupByMessage<T extends { readonly message_id: string }>(rows: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(row.message_id);
    if (group) group.push(row);
    else groups.set(row.message_id, [row]);
  }
  return groups;
}

/** Messages with their revisions (oldest first) and attachments, from the three lists the repository reads. */
function messageViews(history: Awaited<ReturnType<typeof listMessagesWithHistory>>): Message[] {
  const revisions = groupByMessage(history.revisions);
  const attachments = groupByMessage(history.attachments);
  return history.messages.map((row) => ({
    id: row.id,
    threadId: row.thread_id,
    authorId: row.author_id,
    createdAt: row.created_at,
    revisions: (revisions.get(row.id) ?? []).map((r) => ({ revision: r.revision, body: r.body, createdAt: r.created_at })),
    attachments: (attachments.get(row.id) ?? []).map((a) => a.document_id),
  }));
}

export function createMessagesService(deps: MessagesDeps) {
  const { db, spaceNotifier } = deps;
  const nowIso = () => deps.now().toISOString();

  async function requireThread(actor: Actor, threadId: string): Promise<{ row: ThreadRow; space: SpaceRow }> {
    return requireInUsableSpace(db, actor, await findThread(db, threadId), threadNotFound);
  }

  /**
   * Adds message number `seq` with its first revision and attachments, marks the author as having
   * read up to it, and audits it. Attachments must be live documents of the same space.
   */
  async function addMessage(trx: Trx, actor: Actor, space: SpaceRow, threadId: string, seq: number, message: NewMessage, at: string): Promise<void> {
    if (await findMessage(trx, message.messageId)) throw idTaken();
    const attachments = [...new Set(message.attachments)];
    const live = await findLiveDocumentIds(trx, space.id, attachments);
    if (live.length !== attachments.length) {
      throw fail('attachment_invalid', 'An attachment is not a document of this space, or it was deleted.', {
        issues: attachments.filter((id) => !live.includes(id)).map((id) => ({ path: 'body.attachments', message: `${id} is not a live document of this space` })),
      });
    }
    await insertMessage(trx, { id: message.messageId, thread_id: threadId, seq, author_id: actor.userId, created_at: at, revision_count: 1 });
    await insertRevision(trx, { message_id: message.messageId, revision: 1, body: message.body, created_at: at });
    await insertAttachments(trx, message.messageId, attachments);
    await markRead(trx, threadId, actor.userId, seq);
    await touchSpace(trx, space.id, at);
    await recordAuditEvent(trx, {
      action: 'message.posted',
      actorId: actor.userId,
      targetType: 'message',
      targetId: message.messageId,
      ip: actor.ip,
      details: { spaceId: space.id, threadId, seq, attachments },
    });
  }

  async function oneMessage(threadId: string, messageId: string): Promise<Message> {
    const [message] = messageViews(await listMessagesWithHistory(db, threadId, messageId));
    if (!message) throw messageNotFound();
    return message;
  }

  async function threadWithMessages(actor: Actor, threadId: string) {
    const thread = await findThreadFor(db, threadId, actor.userId);
    if (!thread) throw threadNotFound();
    return { thread: threadView(thread), messages: messageViews(await listMessagesWithHistory(db, threadId)) };
  }

  return {
    async listThreads(actor: Actor, spaceId: string) {
      await requireSpace(db, actor, spaceId);
      return { threads: (await listThreads(db, spaceId, actor.userId)).map(threadView) };
    },

    async createThread(actor: Actor, spaceId: string, body: CreateThreadBody) {
      const space = await requireSpace(db, actor, spaceId);
      const checked = await checkEntry(db, actor, space.id, body.entry, threadCreateDraft(body));
      const at = nowIso();
      await db.transaction().execute(async (trx) => {
        if (await findThread(trx, body.threadId)) throw idTaken();
        await insertThread(trx, { id: body.threadId, space_id: space.id, subject: body.subject, created_by: actor.userId, created_at: at, last_message_at: at, message_count: 1 });
        await recordAuditEvent(trx, { action: 'thread.created', actorId: actor.userId, targetType: 'thread', targetId: body.threadId, ip: actor.ip, details: { spaceId: space.id } });
        await addMessage(trx, actor, space, body.threadId, 1, body.message, at);
        await appendEntry(trx, checked, at);
      });
      await spaceNotifier.notifySpaceActivity(actor, space, 'message');
      return threadWithMessages(actor, body.threadId);
    },

    async getThread(actor: Actor, threadId: string) {
      await requireThread(actor, threadId);
      return threadWithMessages(actor, threadId);
    },

    async postMessage(actor: Actor, threadId: string, body: NewMessage & { entry: SignedEntry }): Promise<Message> {
      const { entry, ...message } = body;
      const { row: thread, space } = await requireThread(actor, threadId);
      const checked = await checkEntry(db, actor, space.id, entry, messagePostDraft(thread.id, message));
      const at = nowIso();
      await db.transaction().execute(async (trx) => {
        const thread = await findThread(trx, threadId);
        if (!thread) throw threadNotFound();
        const seq = thread.message_count + 1;
        await updateThread(trx, threadId, { message_count: seq, last_message_at: at });
        await addMessage(trx, actor, space, threadId, seq, message, at);
        await appendEntry(trx, checked, at);
      });
      await spaceNotifier.notifySpaceActivity(actor, space, 'message');
      return oneMessage(threadId, message.messageId);
    },

    /** Adds revision `revision` (must be the current one + 1) of one's own message; earlier revisions stay. */
    async reviseMessage(actor: Actor, messageId: string, body: { revision: number; body: string; entry: SignedEntry }): Promise<Message> {
      const message = await findMessage(db, messageId);
      const thread = message && (await findThread(db, message.thread_id));
      const { space } = await requireInUsableSpace(db, actor, thread ?? undefined, messageNotFound);
      if (!message) throw messageNotFound();
      if (message.author_id !== actor.userId) throw fail('message_not_editable', 'Only the author can edit a message.');
      const checked = await checkEntry(db, actor, space.id, body.entry, messageReviseDraft(message.thread_id, message.id, body.revision, body.body));
      const at = nowIso();
      await db.transaction().execute(async (trx) => {
        const current = await findMessage(trx, messageId);
        const from = current?.revision_count ?? 0;
        if (body.revision !== from + 1 || !(await advanceMessageRevision(trx, messageId, from))) {
          throw fail('message_revision_conflict', `This message is at revision ${from}; load it again and edit the newest text.`);
        }
        await insertRevision(trx, { message_id: messageId, revision: body.revision, body: body.body, created_at: at });
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, {
          action: 'message.revised',
          actorId: actor.userId,
          targetType: 'message',
          targetId: messageId,
          ip: actor.ip,
          details: { spaceId: space.id, threadId: message.thread_id, revision: body.revision },
        });
      });
      return oneMessage(message.thread_id, messageId);
    },

    /** Marks every message of the thread so far as read by the actor. */
    async markThreadRead(actor: Actor, threadId: string): Promise<void> {
      const { space } = await requireThread(actor, threadId);
      // A read marker is bookkeeping nobody is told is saved: the relaxed commit. Audited (who read
      // a thread up to which message), as a download is.
      await relaxedTransaction(db, async (trx) => {
        const thread = await findThread(trx, threadId);
        if (!thread) throw threadNotFound();
        await markRead(trx, threadId, actor.userId, thread.message_count);
        await recordAuditEvent(trx, { action: 'thread.read', actorId: actor.userId, targetType: 'thread', targetId: threadId, ip: actor.ip, details: { spaceId: space.id, messages: thread.message_count } });
      });
    },
  };
}

export type MessagesService = ReturnType<typeof createMessagesService>;
