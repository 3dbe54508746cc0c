// Integration: another client's ids answer exactly like unknown ids on every space endpoint; staff reach every space.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spaceUploadPurpose, versionContentPath, type ErrorCode } from '../../shared/api';
import {
  documentCreateDraft,
  documentDeleteDraft,
  documentMoveDraft,
  folderCreateDraft,
  folderDeleteDraft,
  folderRenameDraft,
  messagePostDraft,
  messageReviseDraft,
  spaceCreateDraft,
  threadCreateDraft,
  versionAddDraft,
} from '../../shared/flows/space-entries';
import type { EntryDraft, EntryType } from '../../shared/flows/space-history';
import { newId } from '../lib/ids';
import { inSpace, signFor } from '../test/history-fixture';
import { createTestOrganisation, type Member, type TestOrganisation } from '../test/org-fixture';
import { addDocument, addMember, newVersion, opaque, openSpace, rawCall, uploadBlob, type RawAnswer } from '../test/space-fixture';
import { budget } from '../test/budget';

let org: TestOrganisation;
let owner: Member;
let intruder: Member;
/** Ids of things in the owner's client space. */
let ids: { space: string; folder: string; document: string; version: string; thread: string; message: string; request: string; item: string };
/** Things in the intruder's own space, to combine with the owner's ids. */
let own: { space: string; document: string; blob: () => Promise<string> };

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client']);
  owner = org.members.client!;
  const team = org.members.team!;
  intruder = await addMember(org, 'client', 'intruder@kluis.test');
  const space = await openSpace(owner);
  const folder = await inSpace(owner, space).createFolder({ id: newId(), parentId: null, name: opaque() });
  const document = await addDocument(org, owner, space, { folderId: folder.id });
  const thread = await inSpace(owner, space).createThread({ threadId: newId(), subject: opaque(), message: { messageId: newId(), body: opaque(), attachments: [document.id] } });
  const item = newId();
  const request = await inSpace(team, space).createRequest({ requestId: newId(), body: opaque(), dueDate: new Date().toISOString().slice(0, 10), items: [{ itemId: item, body: opaque() }] });
  ids = { space, folder: folder.id, document: document.id, version: document.current.id, thread: thread.thread.id, message: thread.messages[0]!.id, request: request.id, item };
  const intruderSpace = await openSpace(intruder);
  const ownDocument = await addDocument(org, intruder, intruderSpace);
  own = { space: intruderSpace, document: ownDocument.id, blob: () => uploadBlob(org, intruder, spaceUploadPurpose(intruderSpace), randomBytes(100)) };
}, budget(120_000));
afterAll(() => org?.close());

type Ids = typeof ids;
type Call = (member: Member, ids: Ids) => Promise<RawAnswer>;

const post = (path: string, json: unknown): Call => (member) => rawCall(org, member, 'POST', path, { json });

/**
 * A write's body with the entry the member signs for it. In another client's space the member
 * cannot read the history, so it signs as entry 0 (`own`: on the head of their own space): either
 * way the access check answers before the entry is looked at.
 */
async function signed<T extends EntryType>(m: Member, spaceId: string, body: object, draft: EntryDraft<T> | Promise<EntryDraft<T>>, head: 'own' | 'none' = 'none') {
  return { ...body, entry: await signFor(m, spaceId, draft, head === 'own' ? undefined : null) };
}

/** Every space endpoint a client may call, with an id from the owner's space in the place under test. */
const cases: readonly (readonly [string, ErrorCode, Call])[] = [
  ['getSpace', 'space_not_found', (m, i) => rawCall(org, m, 'GET', `/api/spaces/${i.space}`)],
  ['listDocuments', 'space_not_found', (m, i) => rawCall(org, m, 'GET', `/api/spaces/${i.space}/documents`)],
  ['createFolder', 'space_not_found', async (m, i) => {
    const body = { id: newId(), parentId: null, name: opaque() };
    return post(`/api/spaces/${i.space}/folders`, await signed(m, i.space, body, folderCreateDraft(body)))(m, i);
  }],
  ['renameFolder', 'folder_not_found', async (m, i) => {
    const name = opaque();
    return rawCall(org, m, 'PUT', `/api/folders/${i.folder}/name`, { json: await signed(m, i.space, { name }, folderRenameDraft(i.folder, name)) });
  }],
  ['deleteFolder', 'folder_not_found', async (m, i) => rawCall(org, m, 'DELETE', `/api/folders/${i.folder}`, { json: await signed(m, i.space, {}, folderDeleteDraft(i.folder)) })],
  ['createDocument', 'space_not_found', async (m, i) => {
    const body = { documentId: newId(), folderId: null, requestItemId: null, version: newVersion(await own.blob()) };
    return post(`/api/spaces/${i.space}/documents`, await signed(m, i.space, body, documentCreateDraft(body)))(m, i);
  }],
  ['getDocument', 'document_not_found', (m, i) => rawCall(org, m, 'GET', `/api/documents/${i.document}`)],
  ['addVersion', 'document_not_found', async (m, i) => {
    const version = newVersion(await own.blob());
    return post(`/api/documents/${i.document}/versions`, await signed(m, i.space, version, versionAddDraft(i.document, version)))(m, i);
  }],
  ['moveDocument', 'document_not_found', async (m, i) => rawCall(org, m, 'PUT', `/api/documents/${i.document}/folder`, { json: await signed(m, i.space, { folderId: null }, documentMoveDraft(i.document, null)) })],
  ['deleteDocument', 'document_not_found', async (m, i) => rawCall(org, m, 'DELETE', `/api/documents/${i.document}`, { json: await signed(m, i.space, {}, documentDeleteDraft(i.document)) })],
  ['downloadVersion', 'version_not_found', (m, i) => rawCall(org, m, 'GET', versionContentPath(i.version))],
  ['listThreads', 'space_not_found', (m, i) => rawCall(org, m, 'GET', `/api/spaces/${i.space}/threads`)],
  ['createThread', 'space_not_found', async (m, i) => {
    const body = { threadId: newId(), subject: opaque(), message: { messageId: newId(), body: opaque(), attachments: [] } };
    return post(`/api/spaces/${i.space}/threads`, await signed(m, i.space, body, threadCreateDraft(body)))(m, i);
  }],
  ['getThread', 'thread_not_found', (m, i) => rawCall(org, m, 'GET', `/api/threads/${i.thread}`)],
  ['postMessage', 'thread_not_found', async (m, i) => {
    const message = { messageId: newId(), body: opaque(), attachments: [] };
    return post(`/api/threads/${i.thread}/messages`, await signed(m, i.space, message, messagePostDraft(i.thread, message)))(m, i);
  }],
  ['reviseMessage', 'message_not_found', async (m, i) => {
    const body = opaque();
    return post(`/api/messages/${i.message}/revisions`, await signed(m, i.space, { revision: 2, body }, messageReviseDraft(i.thread, i.message, 2, body)))(m, i);
  }],
  ['markThreadRead', 'thread_not_found', (m, i) => rawCall(org, m, 'POST', `/api/threads/${i.thread}/read`)],
  ['listRequests', 'space_not_found', (m, i) => rawCall(org, m, 'GET', `/api/spaces/${i.space}/requests`)],
  ['createUpload', 'space_not_found', (m, i) => post('/api/uploads', { size: 10, partSize: 1024 * 1024, purpose: spaceUploadPurpose(i.space) })(m, i)],
  // The owner's ids used together with the intruder's own space and documents.
  // (Entries signed on the head of the intruder's own space: they pass, the change itself is refused.)
  ['createFolder (parent)', 'folder_not_found', async (m, i) => {
    const body = { id: newId(), parentId: i.folder, name: opaque() };
    return post(`/api/spaces/${own.space}/folders`, await signed(m, own.space, body, folderCreateDraft(body), 'own'))(m, i);
  }],
  ['moveDocument (folder)', 'folder_not_found', async (m, i) =>
    rawCall(org, m, 'PUT', `/api/documents/${own.document}/folder`, { json: await signed(m, own.space, { folderId: i.folder }, documentMoveDraft(own.document, i.folder), 'own') })],
  ['createDocument (folder)', 'folder_not_found', async (m, i) => {
    const body = { documentId: newId(), folderId: i.folder, requestItemId: null, version: newVersion(await own.blob()) };
    return post(`/api/spaces/${own.space}/documents`, await signed(m, own.space, body, documentCreateDraft(body), 'own'))(m, i);
  }],
  ['createDocument (request item)', 'request_item_not_found', async (m, i) => {
    const body = { documentId: newId(), folderId: null, requestItemId: i.item, version: newVersion(await own.blob()) };
    return post(`/api/spaces/${own.space}/documents`, await signed(m, own.space, body, documentCreateDraft(body), 'own'))(m, i);
  }],
  ['createThread (attachment)', 'attachment_invalid', async (m, i) => {
    const body = { threadId: newId(), subject: opaque(), message: { messageId: newId(), body: opaque(), attachments: [i.document] } };
    return post(`/api/spaces/${own.space}/threads`, await signed(m, own.space, body, threadCreateDraft(body), 'own'))(m, i);
  }],
  ['getHistory', 'space_not_found', (m, i) => rawCall(org, m, 'GET', `/api/spaces/${i.space}/history`)],
  ['adoptSpace', 'space_not_found', async (m, i) => {
    const body = { wrappedForClient: opaque(60) };
    const draft = spaceCreateDraft({ id: i.space, kind: 'client', sealedForEscrow: opaque(256), ...body }, m.userId, '0'.repeat(64));
    return post(`/api/spaces/${i.space}/adopt`, await signed(m, i.space, body, draft))(m, i);
  }],
];

/** The same ids, all replaced by fresh random ones. */
function unknownIds(): Ids {
  return { space: newId(), folder: newId(), document: newId(), version: newId(), thread: newId(), message: newId(), request: newId(), item: newId() };
}

describe('another client', () => {
  it.each(cases)('%s: %s, exactly as for an unknown id', async (_name, code, call) => {
    const foreign = await call(intruder, ids);
    const unknown = await call(intruder, unknownIds());
    expect(foreign.json.error?.code).toBe(code);
    expect([foreign.status, foreign.json.error?.code, foreign.json.error?.message]).toEqual([unknown.status, unknown.json.error?.code, unknown.json.error?.message]);
  });

  it('closeRequest and createRequest are refused by role, before any id is looked at', async () => {
    expect((await rawCall(org, intruder, 'POST', `/api/requests/${ids.request}/close`)).json.error?.code).toBe('forbidden');
    const create = await rawCall(org, intruder, 'POST', `/api/spaces/${ids.space}/requests`, { json: { requestId: newId(), body: opaque(), dueDate: '2100-01-01', items: [{ itemId: newId(), body: opaque() }] } });
    expect(create.json.error?.code).toBe('forbidden');
  });

  it('changed nothing in the owner\'s space', async () => {
    const folder = await org.testApp.db.selectFrom('folders').selectAll().where('id', '=', ids.folder).executeTakeFirstOrThrow();
    const document = await org.testApp.db.selectFrom('documents').selectAll().where('id', '=', ids.document).executeTakeFirstOrThrow();
    expect([folder.deleted_at, document.deleted_at, document.version_count, document.folder_id]).toEqual([null, null, 1, ids.folder]);
    expect(await org.testApp.db.selectFrom('message_revisions').select('revision').where('message_id', '=', ids.message).execute()).toEqual([{ revision: 1 }]);
  });
});

describe('staff', () => {
  it.each(['admin', 'team'] as const)('%s reaches every client space and the team space', async (role) => {
    const member = role === 'admin' ? org.admin : org.members.team!;
    const teamSpace = await openSpace(org.members.team!);
    for (const spaceId of [ids.space, own.space, teamSpace]) {
      for (const path of [`/api/spaces/${spaceId}`, `/api/spaces/${spaceId}/documents`, `/api/spaces/${spaceId}/threads`, `/api/spaces/${spaceId}/requests`]) {
        expect((await rawCall(org, member, 'GET', path)).status, path).toBe(200);
      }
    }
    for (const path of [`/api/documents/${ids.document}`, `/api/threads/${ids.thread}`, versionContentPath(ids.version)]) {
      expect((await rawCall(org, member, 'GET', path)).status, path).toBe(200);
    }
  });

  it('clients get space_not_found for the team space', async () => {
    const teamSpace = await openSpace(org.members.team!);
    expect((await rawCall(org, owner, 'GET', `/api/spaces/${teamSpace}/documents`)).json.error?.code).toBe('space_not_found');
  });
});
