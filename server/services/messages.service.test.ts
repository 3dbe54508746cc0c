// Integration: threads, messages and revisions, attachments, unread counts, and the throttled notification e-mails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getThread, listSpaces, listThreads, markThreadRead, type NewMessage } from '../../shared/api';
import { newId } from '../lib/ids';
import { inSpace } from '../test/history-fixture';
import { createTestOrganisation, type Member, type TestOrganisation } from '../test/org-fixture';
import { addDocument, addMember, opaque, openSpace } from '../test/space-fixture';
import type { Notification } from './notifications';
import { budget } from '../test/budget';

/** The clock moves one second per step, so message times are distinct and ordered. */
const clock = { offsetMs: 0 };
const now = () => new Date(Date.now() + clock.offsetMs);
const tick = () => {
  clock.offsetMs += 1000;
};

let org: TestOrganisation;
let client: Member;
let team: Member;
let clientSpace: string;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client'], { now });
  client = org.members.client!;
  team = org.members.team!;
  clientSpace = await openSpace(client);
}, budget(120_000));
afterAll(() => org?.close());

const message = (attachments: string[] = []): NewMessage => ({ messageId: newId(), body: opaque(200), attachments });

/** The space of each thread the tests started (a reply's entry is signed for it). */
const spaceOf = new Map<string, string>();

async function startThread(member: Member, spaceId: string, attachments: string[] = [], threadId = newId()) {
  tick();
  spaceOf.set(threadId, spaceId);
  return inSpace(member, spaceId).createThread({ threadId, subject: opaque(), message: message(attachments) });
}

async function reply(member: Member, threadId: string, attachments: string[] = [], messageId = newId()) {
  tick();
  return inSpace(member, spaceOf.get(threadId)!).postMessage(threadId, { ...message(attachments), messageId });
}

const revise = (member: Member, threadId: string, messageId: string, revision: number, body: string) =>
  inSpace(member, spaceOf.get(threadId) ?? clientSpace).reviseMessage(threadId, messageId, revision, body);

const unreadOf = async (member: Member, threadId: string) =>
  (await member.client.api(listThreads, { params: { spaceId: clientSpace } })).threads.find((t) => t.id === threadId)?.unreadCount;

describe('threads and messages', () => {
  it('starts a thread with message 1, replies get 2, 3…; unread counts only others\' messages after the read marker', async () => {
    const document = await addDocument(org, client, clientSpace);
    const started = await startThread(client, clientSpace, [document.id]);
    expect(started.thread).toMatchObject({ spaceId: clientSpace, createdBy: client.userId, messageCount: 1, unreadCount: 0 });
    expect(started.messages).toEqual([expect.objectContaining({ authorId: client.userId, attachments: [document.id], revisions: [expect.objectContaining({ revision: 1 })] })]);
    const threadId = started.thread.id;
    expect(await unreadOf(team, threadId)).toBe(1);

    await reply(team, threadId);
    await reply(team, threadId);
    expect(await unreadOf(team, threadId)).toBe(0);
    expect(await unreadOf(client, threadId)).toBe(2);
    expect(await unreadOf(org.admin, threadId)).toBe(3);
    const spaces = await client.client.api(listSpaces, {});
    expect(spaces.spaces.find((s) => s.id === clientSpace)?.unreadMessages).toBeGreaterThanOrEqual(2);

    expect(await client.client.api(markThreadRead, { params: { threadId } })).toBeNull();
    expect(await unreadOf(client, threadId)).toBe(0);
    await reply(client, threadId);
    expect(await unreadOf(client, threadId)).toBe(0);
    expect(await unreadOf(team, threadId)).toBe(1);
    const thread = await team.client.api(getThread, { params: { threadId } });
    expect(thread.thread.messageCount).toBe(4);
    expect(thread.messages.map((m) => m.authorId)).toEqual([client.userId, team.userId, team.userId, client.userId]);
    const seqs = await org.testApp.db.selectFrom('messages').select('seq').where('thread_id', '=', threadId).orderBy('seq').execute();
    expect(seqs.map((row) => row.seq)).toEqual([1, 2, 3, 4]);
  });

  it('lists threads by their newest message first', async () => {
    const spaceId = await openSpace(await addMember(org, 'client', 'sorted@kluis.test'));
    const a = await startThread(team, spaceId);
    const b = await startThread(team, spaceId);
    const order = async () => (await team.client.api(listThreads, { params: { spaceId } })).threads.map((t) => t.id);
    expect(await order()).toEqual([b.thread.id, a.thread.id]);
    await reply(team, a.thread.id);
    expect(await order()).toEqual([a.thread.id, b.thread.id]);
  });

  it('revisions: only the author, only the next number; earlier text stays, oldest first', async () => {
    const { thread, messages } = await startThread(client, clientSpace);
    const messageId = messages[0]!.id;
    const body = opaque(300);
    await expect(revise(team, thread.id, messageId, 2, body)).rejects.toMatchObject({ status: 403, code: 'message_not_editable' });
    await expect(revise(client, thread.id, messageId, 3, body)).rejects.toMatchObject({ status: 409, code: 'message_revision_conflict' });
    tick();
    const revised = await revise(client, thread.id, messageId, 2, body);
    expect(revised.revisions.map((r) => [r.revision, r.body])).toEqual([[1, messages[0]!.revisions[0]!.body], [2, body]]);
    await expect(revise(client, thread.id, messageId, 2, opaque())).rejects.toMatchObject({ status: 409, code: 'message_revision_conflict' });
    const shown = await team.client.api(getThread, { params: { threadId: thread.id } });
    expect(shown.messages[0]!.revisions.map((r) => r.revision)).toEqual([1, 2]);
    await expect(revise(client, thread.id, newId(), 2, body)).rejects.toMatchObject({ status: 404, code: 'message_not_found' });
  });

  it('message revisions cannot be changed or removed (triggers)', async () => {
    const { messages } = await startThread(client, clientSpace);
    const db = org.testApp.db;
    await expect(db.updateTable('message_revisions').set({ body: 'x' }).where('message_id', '=', messages[0]!.id).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('message_revisions').where('message_id', '=', messages[0]!.id).execute()).rejects.toThrow(/append-only/);
  });

  it('attachment_invalid for deleted or unknown documents; id_taken for a thread or message id in use; thread_not_found', async () => {
    const gone = await addDocument(org, client, clientSpace);
    await inSpace(client, clientSpace).deleteDocument(gone.id);
    const { thread, messages } = await startThread(client, clientSpace);
    await expect(reply(client, thread.id, [gone.id])).rejects.toMatchObject({ status: 422, code: 'attachment_invalid' });
    await expect(startThread(client, clientSpace, [newId()])).rejects.toMatchObject({ status: 422, code: 'attachment_invalid' });
    await expect(startThread(client, clientSpace, [], thread.id)).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    await expect(reply(client, thread.id, [], messages[0]!.id)).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    await expect(client.client.api(getThread, { params: { threadId: newId() } })).rejects.toMatchObject({ status: 404, code: 'thread_not_found' });
    // Nothing of the refused replies was kept.
    expect((await client.client.api(getThread, { params: { threadId: thread.id } })).thread.messageCount).toBe(1);
  });
});

describe('notification e-mails', () => {
  const sent = () => (org.testApp.notifier as unknown as { sent: { to: string; notification: Notification }[] }).sent;
  // A staff member's first look at a client's space also e-mails the client (escrow_used, issue 21,
  // tested in resets.flows.test.ts); these tests are about the new-message and new-document notices.
  const mailsSince = (mark: number) =>
    sent()
      .slice(mark)
      .filter((m) => m.notification.kind !== 'escrow_used')
      .map((m) => [m.to, m.notification.kind]);
  const resetThrottle = () => org.testApp.db.deleteFrom('notification_marks').execute();

  it('tell the other side, at most once per 15 minutes per recipient, space and kind, with nothing but a link', async () => {
    await resetThrottle();
    let mark = sent().length;
    const { thread } = await startThread(client, clientSpace);
    expect(mailsSince(mark).sort()).toEqual([[org.admin.email, 'new_message'], [team.email, 'new_message']].sort());
    const mail = sent().at(-1)!.notification;
    expect(mail).toEqual({ kind: 'new_message', organisationName: 'Kantoor De Vries', link: `${org.testApp.config.publicOrigin}/spaces/${clientSpace}` });

    mark = sent().length;
    await reply(client, thread.id);
    expect(mailsSince(mark)).toEqual([]);
    // Documents are another kind: they still get through.
    await addDocument(org, client, clientSpace);
    expect(mailsSince(mark).sort()).toEqual([[org.admin.email, 'new_document'], [team.email, 'new_document']].sort());

    // Staff writing: the client hears of it.
    mark = sent().length;
    await reply(team, thread.id);
    expect(mailsSince(mark)).toEqual([[client.email, 'new_message']]);

    // After the quiet period, the next message is told again.
    await org.testApp.db.updateTable('notification_marks').set({ last_sent_at: new Date(now().getTime() - 16 * 60_000).toISOString() }).execute();
    mark = sent().length;
    await reply(client, thread.id);
    expect(mailsSince(mark).sort()).toEqual([[org.admin.email, 'new_message'], [team.email, 'new_message']].sort());
  });

  it('skip locked staff and the team space', async () => {
    await resetThrottle();
    await org.testApp.db.updateTable('users').set({ locked_until: new Date(now().getTime() + 3_600_000).toISOString() }).where('id', '=', org.admin.userId).execute();
    try {
      const mark = sent().length;
      await startThread(client, clientSpace);
      expect(mailsSince(mark)).toEqual([[team.email, 'new_message']]);
      await startThread(team, await openSpace(team));
      await addDocument(org, team, await openSpace(team));
      expect(mailsSince(mark)).toEqual([[team.email, 'new_message']]);
    } finally {
      await org.testApp.db.updateTable('users').set({ locked_until: null }).where('id', '=', org.admin.userId).execute();
    }
  });
});
