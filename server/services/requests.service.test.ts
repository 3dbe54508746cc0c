// Integration: document requests (checklist, due date, close), items filled by uploads, and the one reminder e-mail.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSpace, listRequests } from '../../shared/api';
import { newId } from '../lib/ids';
import { inSpace } from '../test/history-fixture';
import { createMailNotifier } from '../mail/notifier';
import { createTestOrganisation, type Member, type TestOrganisation } from '../test/org-fixture';
import { addDocument, addMember, opaque, openSpace } from '../test/space-fixture';
import type { Notifier } from './notifications';
import { createRequestsService } from './requests.service';
import { budget } from '../test/budget';

let org: TestOrganisation;
let client: Member;
let team: Member;
let clientSpace: string;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client']);
  client = org.members.client!;
  team = org.members.team!;
  clientSpace = await openSpace(client);
}, budget(120_000));
afterAll(() => org?.close());

/** `days` after today (UTC), as YYYY-MM-DD. */
const dayFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
/** Far enough ahead that no reminder is due in the other tests. */
const FAR = '2100-01-01';

async function askFor(spaceId: string, dueDate: string, itemCount = 2) {
  const itemIds = Array.from({ length: itemCount }, () => newId());
  const request = await inSpace(team, spaceId).createRequest({ requestId: newId(), body: opaque(400), dueDate, items: itemIds.map((itemId) => ({ itemId, body: opaque() })) });
  return { request, itemIds };
}

describe('document requests', () => {
  it('staff ask with items in order; uploads against an item show on it until deleted; the client sees them', async () => {
    const { request, itemIds } = await askFor(clientSpace, FAR, 3);
    expect(request).toMatchObject({ spaceId: clientSpace, dueDate: FAR, createdBy: team.userId, closedAt: null, reminderSentAt: null });
    expect(request.items.map((i) => [i.id, i.documentIds])).toEqual(itemIds.map((id) => [id, []]));
    const document = await addDocument(org, client, clientSpace, { requestItemId: itemIds[1]! });
    const listed = (await client.client.api(listRequests, { params: { spaceId: clientSpace } })).requests.find((r) => r.id === request.id);
    expect(listed?.items.map((i) => i.documentIds)).toEqual([[], [document.id], []]);
    await inSpace(client, clientSpace).deleteDocument(document.id);
    const after = (await team.client.api(listRequests, { params: { spaceId: clientSpace } })).requests.find((r) => r.id === request.id);
    expect(after?.items.map((i) => i.documentIds)).toEqual([[], [], []]);
  });

  it('due_date_invalid for a day in the past; forbidden for the team space; id_taken for a request or item id in use', async () => {
    const body = () => ({ requestId: newId(), body: opaque(), dueDate: FAR, items: [{ itemId: newId(), body: opaque() }] });
    const ask = inSpace(team, clientSpace);
    await expect(ask.createRequest({ ...body(), dueDate: dayFromToday(-1) })).rejects.toMatchObject({ status: 400, code: 'due_date_invalid' });
    // Today is still fine (closed at once, so the reminder test sees only its own requests).
    const todays = await ask.createRequest({ ...body(), dueDate: dayFromToday(0) });
    expect(todays.dueDate).toBe(dayFromToday(0));
    await ask.closeRequest(todays.id);
    await expect(inSpace(team, await openSpace(team)).createRequest(body())).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    const { request, itemIds } = await askFor(clientSpace, FAR, 1);
    await expect(ask.createRequest({ ...body(), requestId: request.id })).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    await expect(ask.createRequest({ ...body(), items: [{ itemId: itemIds[0]!, body: opaque() }] })).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    const twice = newId();
    await expect(ask.createRequest({ ...body(), items: [{ itemId: twice, body: opaque() }, { itemId: twice, body: opaque() }] })).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    await expect(inSpace(client, clientSpace).createRequest(body())).rejects.toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('closing: once (request_closed the second time), stays listed; request_not_found for unknown ids', async () => {
    const { request } = await askFor(clientSpace, FAR);
    const closed = await inSpace(org.admin, clientSpace).closeRequest(request.id);
    expect(closed).toMatchObject({ id: request.id, closedBy: org.admin.userId });
    await expect(inSpace(team, clientSpace).closeRequest(request.id)).rejects.toMatchObject({ status: 409, code: 'request_closed' });
    await expect(inSpace(team, clientSpace).closeRequest(newId())).rejects.toMatchObject({ status: 404, code: 'request_not_found' });
    expect((await client.client.api(listRequests, { params: { spaceId: clientSpace } })).requests.find((r) => r.id === request.id)?.closedAt).toBe(closed.closedAt);
    const events = await org.testApp.db.selectFrom('audit_events').select('details').where('action', '=', 'request.closed').where('target_id', '=', request.id).execute();
    expect(events.map((e) => JSON.parse(e.details) as unknown)).toEqual([{ spaceId: clientSpace }]);
  });
});

describe('reminders', () => {
  it('e-mail the client once (through the real outbox) for an open request due soon with an open item; a failed send is retried', async () => {
    const member = await addMember(org, 'client', 'reminded@kluis.test');
    const spaceId = await openSpace(member);
    const due = await askFor(spaceId, dayFromToday(2));
    await askFor(spaceId, dayFromToday(10));
    const done = await askFor(spaceId, dayFromToday(1), 1);
    await addDocument(org, member, spaceId, { requestItemId: done.itemIds[0]! });
    const closed = await askFor(spaceId, dayFromToday(1));
    await inSpace(team, spaceId).closeRequest(closed.request.id);
    expect((await team.client.api(getSpace, { params: { spaceId } })).openRequestItems).toBe(4);

    const base = { db: org.testApp.db, config: org.testApp.config, logger: org.testApp.logger, now: () => new Date() };
    const broken: Notifier = { send: () => Promise.reject(new Error('relay down')) };
    expect(await createRequestsService({ ...base, notifier: broken }).sendDueReminders()).toBe(0);
    const row = () => org.testApp.db.selectFrom('document_requests').select('reminder_sent_at').where('id', '=', due.request.id).executeTakeFirstOrThrow();
    expect((await row()).reminder_sent_at).toBeNull();

    const outbox = await mkdtemp(join(tmpdir(), 'kluis-outbox-'));
    const notifier = createMailNotifier({ mail: { smtpUrl: null, from: 'Kluis <noreply@kluis.test>', outboxDir: outbox } }, org.testApp.logger);
    try {
      const service = createRequestsService({ ...base, notifier });
      expect(await service.sendDueReminders()).toBe(1);
      expect(await service.sendDueReminders()).toBe(0);
      const files = await readdir(outbox);
      expect(files).toHaveLength(1);
      const eml = await readFile(join(outbox, files[0]!), 'utf8');
      expect(eml).toContain('To: reminded@kluis.test');
      expect(eml).toContain(`${org.testApp.config.publicOrigin}/spaces/${spaceId}`);
      expect(eml).not.toContain(due.request.body);
      expect((await row()).reminder_sent_at).not.toBeNull();
      const actions = await org.testApp.db.selectFrom('audit_events').select('action').where('target_id', '=', due.request.id).where('action', 'like', 'request.reminder%').orderBy('seq').execute();
      expect(actions.map((a) => a.action)).toEqual(['request.reminder_sent', 'request.reminder_failed', 'request.reminder_sent']);
      expect((await member.client.api(listRequests, { params: { spaceId } })).requests.find((r) => r.id === due.request.id)?.reminderSentAt).not.toBeNull();
    } finally {
      await notifier.close();
      await rm(outbox, { recursive: true, force: true });
    }
  });
});
