// Integration: who sees which history (a hand-written table), paging, limits and error codes, over real HTTP and SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getDocumentHistory,
  getMyHistory,
  getSpace,
  versionContentPath,
  type AuditEventView,
} from '../../shared/api';
import { newId } from '../lib/ids';
import { budget } from '../test/budget';
import { inSpace } from '../test/history-fixture';
import { createTestOrganisation, type Member, type TestOrganisation } from '../test/org-fixture';
import { addDocument, addMember, openSpace, rawCall } from '../test/space-fixture';
import { recordAuditEvent } from './audit.service';

let org: TestOrganisation;
let clientA: Member;
let clientB: Member;
let team: Member;
let auditor: Member;
let spaceA: string;
let spaceB: string;
let teamSpace: string;
let docA: { id: string; versionId: string };
let docB: { id: string; versionId: string };
let docT: { id: string; versionId: string };

async function download(member: Member, versionId: string) {
  const answer = await rawCall(org, member, 'GET', versionContentPath(versionId));
  expect(answer.status).toBe(200);
}

async function documentIn(member: Member, spaceId: string) {
  const created = await addDocument(org, member, spaceId);
  return { id: created.id, versionId: created.current.id };
}

const seqs = (events: readonly AuditEventView[]) => events.map((e) => e.seq);

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor']);
  clientA = org.members.client!;
  team = org.members.team!;
  auditor = org.members.auditor!;
  clientB = await addMember(org, 'client', 'tweede-klant@kluis.test');
  spaceA = await openSpace(clientA);
  spaceB = await openSpace(clientB);
  teamSpace = await openSpace(team);
  // Client A uploads; the team member opens A's space (first access through escrow), downloads and moves it.
  docA = await documentIn(clientA, spaceA);
  await team.client.api(getSpace, { params: { spaceId: spaceA } });
  await download(team, docA.versionId);
  const folder = await inSpace(team, spaceA).createFolder({
    id: newId(),
    parentId: null,
    name: 'c2VhbGVkLWZvbGRlci1uYW1l',
  });
  await inSpace(team, spaceA).moveDocument(docA.id, folder.id);
  // Client B and the team have documents of their own, downloaded by their owners.
  docB = await documentIn(clientB, spaceB);
  await download(clientB, docB.versionId);
  docT = await documentIn(team, teamSpace);
  await download(team, docT.versionId);
}, budget(180_000));
afterAll(() => org?.close());

describe('document history', () => {
  // Written by hand from the rule "those who may see the document": a client their own space, staff every space, Auditors none.
  const table: readonly [viewer: string, doc: 'A' | 'B' | 'T', sees: boolean][] = [
    ['clientA', 'A', true],
    ['clientA', 'B', false],
    ['clientA', 'T', false],
    ['clientB', 'A', false],
    ['clientB', 'B', true],
    ['clientB', 'T', false],
    ['team', 'A', true],
    ['team', 'B', true],
    ['team', 'T', true],
    ['admin', 'A', true],
    ['admin', 'B', true],
    ['admin', 'T', true],
    ['auditor', 'A', false],
    ['auditor', 'B', false],
    ['auditor', 'T', false],
  ];

  it.each(table)('%s sees the history of document %s: %s', async (viewerName, docName, sees) => {
    const viewer = { clientA, clientB, team, admin: org.admin, auditor }[viewerName]!;
    const doc = { A: docA, B: docB, T: docT }[docName];
    const answer = await rawCall(org, viewer, 'GET', `/api/documents/${doc.id}/history`);
    if (!sees) {
      // Exactly the answer for an id that does not exist: no existence oracle.
      const missing = await rawCall(org, viewer, 'GET', `/api/documents/${newId()}/history`);
      expect([answer.status, answer.json.error?.code]).toEqual([404, 'document_not_found']);
      expect({ ...answer.json.error, requestId: null }).toEqual({
        ...missing.json.error,
        requestId: null,
      });
      return;
    }
    expect(answer.status).toBe(200);
    const events = answer.json.events as AuditEventView[];
    // Every event is about this document or one of its versions, and each one in the table is there.
    for (const event of events) expect([doc.id, doc.versionId]).toContain(event.targetId);
    const stored = await org.testApp.db
      .selectFrom('audit_events')
      .select('seq')
      .where((eb) => eb.or([eb('target_id', '=', doc.id), eb('target_id', '=', doc.versionId)]))
      .orderBy('seq', 'desc')
      .execute();
    expect(seqs(events)).toEqual(stored.map((row) => row.seq));
  });

  it("tells what happened to client A's document, newest first, with who and from where", async () => {
    const history = await clientA.client.api(getDocumentHistory, {
      params: { id: docA.id },
      query: {},
    });
    expect(history.events.map((e) => [e.action, e.actorId])).toEqual([
      ['document.moved', team.userId],
      ['document.downloaded', team.userId],
      ['document.created', clientA.userId],
    ]);
    expect(history.events[1]).toMatchObject({
      targetType: 'version',
      targetId: docA.versionId,
      actorEmail: team.email,
      actorRole: 'team',
      result: 'success',
      encoding: 2,
    });
    expect(history.events[1]?.ip).toBeTruthy();
    expect(history.nextCursor).toBeNull();
  });

  it('keeps the history of a deleted document', async () => {
    const doc = await documentIn(clientA, spaceA);
    await inSpace(clientA, spaceA).deleteDocument(doc.id);
    const history = await clientA.client.api(getDocumentHistory, {
      params: { id: doc.id },
      query: {},
    });
    expect(history.events.map((e) => e.action)).toEqual(['document.deleted', 'document.created']);
  });
});

describe('my history', () => {
  const idsOf = (events: readonly AuditEventView[]) =>
    new Set(events.flatMap((e) => [e.targetId, e.actorId]));

  async function allMine(member: Member): Promise<AuditEventView[]> {
    const events: AuditEventView[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await member.client.api(getMyHistory, {
        query: before === undefined ? { limit: 200 } : { limit: 200, before },
      });
      events.push(...page.events);
      if (page.nextCursor === null) return events;
      before = page.nextCursor;
    }
  }

  it("shows client A their space, documents and the team member's escrow first access, and nothing of client B", async () => {
    const events = await allMine(clientA);
    const actions = events.map((e) => `${e.action} ${e.targetId}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        `document.created ${docA.id}`,
        `document.downloaded ${docA.versionId}`,
        `document.moved ${docA.id}`,
        `escrow.first_access ${clientA.userId}`,
        `space.created ${spaceA}`,
      ]),
    );
    expect(events.find((e) => e.action === 'escrow.first_access')).toMatchObject({
      actorId: team.userId,
      actorEmail: team.email,
    });
    expect(
      events.some((e) => e.action === 'auth.login_succeeded' && e.actorId === clientA.userId),
    ).toBe(true);
    // Nothing about client B, the team space or the team's own documents.
    const foreign = [
      clientB.userId,
      spaceB,
      docB.id,
      docB.versionId,
      teamSpace,
      docT.id,
      docT.versionId,
    ];
    for (const id of foreign) expect(idsOf(events)).not.toContain(id);
  });

  it('shows client B only their own events', async () => {
    const events = await allMine(clientB);
    expect(events.map((e) => `${e.action} ${e.targetId}`)).toEqual(
      expect.arrayContaining([
        `document.created ${docB.id}`,
        `document.downloaded ${docB.versionId}`,
        `space.created ${spaceB}`,
      ]),
    );
    const foreign = [
      clientA.userId,
      spaceA,
      docA.id,
      docA.versionId,
      teamSpace,
      docT.id,
      docT.versionId,
    ];
    for (const id of foreign) expect(idsOf(events)).not.toContain(id);
  });

  it("shows staff and Auditors their own account events, never a client's space", async () => {
    for (const member of [team, auditor, org.admin]) {
      const events = await allMine(member);
      expect(
        events.some((e) => e.action === 'auth.login_succeeded' && e.actorId === member.userId),
      ).toBe(true);
      for (const event of events) {
        // About this person, or their own account deeds: never a document, space or client.
        expect(event.targetId === member.userId || event.actorId === member.userId).toBe(true);
        expect([docA.id, docA.versionId, spaceA, clientA.userId, clientB.userId]).not.toContain(
          event.targetId,
        );
      }
    }
  });
});

describe('paging and limits', () => {
  it('pages newest first with a cursor, 50 by default, up to 200', async () => {
    const person = await addMember(org, 'client', 'veel-gebeurtenissen@kluis.test');
    await org.testApp.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 120; i += 1)
        await recordAuditEvent(trx, {
          action: 'profile.updated',
          actorId: person.userId,
          targetType: 'user',
          targetId: person.userId,
          ip: null,
          userAgent: null,
        });
    });
    const stored = await org.testApp.db
      .selectFrom('audit_events')
      .select('seq')
      .where((eb) =>
        eb.or([eb('target_id', '=', person.userId), eb('actor_id', '=', person.userId)]),
      )
      .orderBy('seq', 'desc')
      .execute();
    expect(stored.length).toBeGreaterThan(120);

    const first = await person.client.api(getMyHistory, { query: {} });
    expect(first.events).toHaveLength(50);
    expect(seqs(first.events)).toEqual(stored.slice(0, 50).map((r) => r.seq));
    expect(first.nextCursor).toBe(stored[49]?.seq);

    const walked: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await person.client.api(getMyHistory, {
        query: before === undefined ? { limit: 7 } : { limit: 7, before },
      });
      expect(page.events.length).toBeLessThanOrEqual(7);
      walked.push(...seqs(page.events));
      if (page.nextCursor === null) break;
      before = page.nextCursor;
    }
    expect(walked).toEqual(stored.map((r) => r.seq));

    const whole = await person.client.api(getMyHistory, { query: { limit: 200 } });
    expect(seqs(whole.events)).toEqual(stored.map((r) => r.seq));
    expect(whole.nextCursor).toBeNull();
  });

  it('refuses pages over 200 and malformed cursors with stable codes', async () => {
    const cases: [path: string, status: number, code: string][] = [
      ['/api/me/history?limit=201', 400, 'audit_page_too_large'],
      [`/api/documents/${docA.id}/history?limit=201`, 400, 'audit_page_too_large'],
      ['/api/me/history?limit=0', 400, 'validation_failed'],
      ['/api/me/history?before=0', 400, 'validation_failed'],
      ['/api/me/history?before=abc', 400, 'validation_failed'],
      [`/api/documents/${docA.id}/history?before=-1`, 400, 'validation_failed'],
      ['/api/documents/not-an-id/history', 400, 'validation_failed'],
    ];
    for (const [path, status, code] of cases) {
      const answer = await rawCall(org, clientA, 'GET', path);
      expect([path, answer.status, answer.json.error?.code]).toEqual([path, status, code]);
      expect(answer.json.error?.message).toBeTruthy();
    }
    const signedOut = await fetch(`${org.server.baseUrl}/api/me/history`);
    expect(signedOut.status).toBe(401);
  });
});
