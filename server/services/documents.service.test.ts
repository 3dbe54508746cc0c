// Integration: spaces, folders, documents and versions over real HTTP and SQLite: access, every error code, history, downloads, pagination, quota.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_DOCUMENT_PAGE,
  MAX_HISTORY_PAGE,
  adoptSpace,
  blobPath,
  createSpace,
  getHistory,
  getDocument,
  getSpace,
  listDocuments,
  listSpaces,
  spaceUploadPurpose,
  updateProfile,
  versionContentPath,
  type SpaceKind,
} from '../../shared/api';
import { documentCreateDraft, folderCreateDraft, spaceCreateDraft } from '../../shared/flows/space-entries';
import { parseEntryPayload } from '../../shared/flows/space-history';
import { createLocalDiskBlobStore } from '../blobs/local-disk-blob-store';
import { newId } from '../lib/ids';
import { headOf, inSpace, signFor } from '../test/history-fixture';
import { createTestOrganisation, type Member, type TestOrganisation } from '../test/org-fixture';
import { addDocument, addMember, newVersion, opaque, openSpace, rawCall, uploadBlob } from '../test/space-fixture';
import type { Actor } from './account-deps';
import { createDocumentsService } from './documents.service';
import { createSpaceNotifier } from './space-notifications';
import { createUploadsService } from './uploads.service';
import { budget } from '../test/budget';

let org: TestOrganisation;
let client: Member;
let team: Member;
let clientSpace: string;
let teamSpace: string;

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor']);
  client = org.members.client!;
  team = org.members.team!;
  clientSpace = await openSpace(client);
  teamSpace = await openSpace(team);
}, budget(120_000));
afterAll(() => org?.close());

const today = () => new Date().toISOString().slice(0, 10);
const auditOf = (action: string, targetId: string) =>
  org.testApp.db.selectFrom('audit_events').selectAll().where('action', '=', action).where('target_id', '=', targetId).execute();

async function folderIn(member: Member, spaceId: string, parentId: string | null = null, id = newId()) {
  return inSpace(member, spaceId).createFolder({ id, parentId, name: opaque() });
}

async function openRequest(spaceId: string) {
  const itemId = newId();
  const request = await inSpace(team, spaceId).createRequest({ requestId: newId(), body: opaque(), dueDate: today(), items: [{ itemId, body: opaque() }] });
  return { requestId: request.id, itemId };
}

/** A createSpace body for `member` with entry 0 signed by them (`keys`: the copies of the key it names and sends). */
async function spaceBody(member: Member, kind: SpaceKind, keys: { id?: string; wrappedForClient?: string; sealedForEscrow?: string } = {}) {
  const body = { id: keys.id ?? newId(), kind, sealedForEscrow: keys.sealedForEscrow ?? opaque(256), ...(keys.wrappedForClient === undefined ? {} : { wrappedForClient: keys.wrappedForClient }) };
  const draft = spaceCreateDraft(body, kind === 'client' ? member.userId : null, randomBytes(32).toString('hex'));
  return { ...body, entry: await signFor(member, body.id, draft, null) };
}

describe('spaces', () => {
  it('a client creates only their own client space, once; staff only the team space, once', async () => {
    const newcomer = await addMember(org, 'client', 'newcomer@kluis.test');
    const api = newcomer.client.api;
    await expect(api(createSpace, { body: await spaceBody(newcomer, 'team') })).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(api(createSpace, { body: await spaceBody(newcomer, 'client') })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    // Someone else's space id is taken.
    await expect(api(createSpace, { body: await spaceBody(newcomer, 'client', { id: clientSpace, wrappedForClient: opaque(60) }) })).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    const wrappedForClient = opaque(60);
    const sealedForEscrow = opaque(256);
    const id = newId();
    const created = await api(createSpace, { body: await spaceBody(newcomer, 'client', { id, wrappedForClient, sealedForEscrow }) });
    expect(created).toMatchObject({ id, kind: 'client', clientId: newcomer.userId, sealedKey: null, wrappedKey: wrappedForClient, legacy: false, historyLength: 1, documentCount: 0, storedBytes: 0, unreadMessages: 0, openRequestItems: 0 });
    await expect(api(createSpace, { body: await spaceBody(newcomer, 'client', { wrappedForClient, sealedForEscrow }) })).rejects.toMatchObject({ status: 409, code: 'space_exists' });
    // Staff see it with the copy sealed to escrow, never the client's wrap.
    expect(await team.client.api(getSpace, { params: { spaceId: id } })).toMatchObject({ sealedKey: sealedForEscrow, wrappedKey: null });
    expect(await auditOf('space.created', id)).toHaveLength(1);

    await expect(team.client.api(createSpace, { body: await spaceBody(team, 'client', { wrappedForClient, sealedForEscrow }) })).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(team.client.api(createSpace, { body: await spaceBody(team, 'team', { wrappedForClient, sealedForEscrow }) })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    await expect(org.admin.client.api(createSpace, { body: await spaceBody(org.admin, 'team', { sealedForEscrow }) })).rejects.toMatchObject({ status: 409, code: 'space_exists' });
  });

  it('lists a client only their own space; staff every space; with the escrow public key of the organisation', async () => {
    const organisation = await org.testApp.db.selectFrom('organisation').select('escrow_public_key').executeTakeFirstOrThrow();
    const mine = await client.client.api(listSpaces, {});
    expect(mine.spaces.map((s) => s.id)).toEqual([clientSpace]);
    expect(mine.escrowPublicKey).toBe(organisation.escrow_public_key);
    const all = await team.client.api(listSpaces, {});
    expect(all.spaces.map((s) => s.id)).toEqual(expect.arrayContaining([clientSpace, teamSpace]));
    const rows = await org.testApp.db.selectFrom('spaces').select(['id', 'wrapped_for_client', 'sealed_for_escrow']).execute();
    for (const space of all.spaces) expect([space.sealedKey, space.wrappedKey]).toEqual([rows.find((r) => r.id === space.id)?.sealed_for_escrow, null]);
    expect([mine.spaces[0]?.sealedKey, mine.spaces[0]?.wrappedKey]).toEqual([null, rows.find((r) => r.id === clientSpace)?.wrapped_for_client]);
    // Clients never reach the team space.
    await expect(client.client.api(getSpace, { params: { spaceId: teamSpace } })).rejects.toMatchObject({ status: 404, code: 'space_not_found' });
    await expect(org.members.auditor!.client.api(listSpaces, {})).rejects.toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('counts live documents, stored bytes of every version (tombstones too) and open request items', async () => {
    const newcomer = await addMember(org, 'client', 'counter@kluis.test');
    const spaceId = await openSpace(newcomer);
    const { itemId } = await openRequest(spaceId);
    expect(await newcomer.client.api(getSpace, { params: { spaceId } })).toMatchObject({ documentCount: 0, storedBytes: 0, openRequestItems: 1 });
    const kept = await addDocument(org, newcomer, spaceId, { bytes: randomBytes(300), requestItemId: itemId });
    const gone = await addDocument(org, newcomer, spaceId, { bytes: randomBytes(200) });
    await inSpace(newcomer, spaceId).deleteDocument(gone.id);
    const space = await team.client.api(getSpace, { params: { spaceId } });
    expect(space).toMatchObject({ documentCount: 1, storedBytes: 500, openRequestItems: 0 });
    expect(space.lastActivityAt >= kept.createdAt).toBe(true);
  });
});

describe('documents and versions', () => {
  it('files an uploaded blob as version 1, adds versions 2 and 3, keeps the history and serves every version', async () => {
    const first = randomBytes(1000);
    const doc = await addDocument(org, client, clientSpace, { bytes: first });
    expect(doc).toMatchObject({ spaceId: clientSpace, folderId: null, versionCount: 1, createdBy: client.userId, deletedAt: null, current: { number: 1, size: 1000, uploadedBy: client.userId } });
    const second = randomBytes(2000);
    const v2 = await inSpace(team, clientSpace).addVersion(doc.id, newVersion(await uploadBlob(org, team, spaceUploadPurpose(clientSpace), second)));
    expect(v2).toMatchObject({ versionCount: 2, current: { number: 2, size: 2000, uploadedBy: team.userId } });
    const v3 = await inSpace(client, clientSpace).addVersion(doc.id, newVersion(await uploadBlob(org, client, spaceUploadPurpose(clientSpace), randomBytes(10))));
    expect(v3.current.number).toBe(3);
    const history = await team.client.api(getDocument, { params: { documentId: doc.id } });
    expect(history.versions.map((v) => [v.number, v.size])).toEqual([[1, 1000], [2, 2000], [3, 10]]);
    expect(history.document.current.id).toBe(v3.current.id);

    const old = await rawCall(org, team, 'GET', versionContentPath(doc.current.id));
    expect([old.status, old.headers.get('content-type')]).toEqual([200, 'application/octet-stream']);
    expect(old.bytes.equals(first)).toBe(true);
    const part = await rawCall(org, client, 'GET', versionContentPath(v2.current.id), { headers: { Range: 'bytes=100-199' } });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, 'bytes 100-199/2000']);
    expect(part.bytes.equals(second.subarray(100, 200))).toBe(true);
    const outside = await rawCall(org, client, 'GET', versionContentPath(v2.current.id), { headers: { Range: 'bytes=5000-' } });
    expect([outside.status, outside.json.error?.code, outside.headers.get('content-range')]).toEqual([416, 'range_not_satisfiable', 'bytes */2000']);
  });

  it('audits a download once: the whole file or a range from byte 0, not the later ranges', async () => {
    const doc = await addDocument(org, client, clientSpace, { bytes: randomBytes(3000) });
    const path = versionContentPath(doc.current.id);
    expect((await rawCall(org, client, 'GET', path)).status).toBe(200);
    expect((await rawCall(org, team, 'GET', path, { headers: { Range: 'bytes=0-999' } })).status).toBe(206);
    expect((await rawCall(org, team, 'GET', path, { headers: { Range: 'bytes=1000-' } })).status).toBe(206);
    const events = await auditOf('document.downloaded', doc.current.id);
    expect(events.map((e) => e.actor_id)).toEqual([client.userId, team.userId]);
    expect(JSON.parse(events[0]!.details)).toEqual({ spaceId: clientSpace, documentId: doc.id });
  });

  it('blob_not_found for a blob of someone else or of another space; blob_in_use for a blob already filed; id_taken', async () => {
    const teamsBlob = await uploadBlob(org, team, spaceUploadPurpose(clientSpace), randomBytes(100));
    const body = (blobId: string) => ({ documentId: newId(), folderId: null, requestItemId: null, version: newVersion(blobId) });
    const asClient = inSpace(client, clientSpace);
    const asTeam = inSpace(team, clientSpace);
    await expect(asClient.createDocument(body(teamsBlob))).rejects.toMatchObject({ status: 404, code: 'blob_not_found' });
    const forTeamSpace = await uploadBlob(org, team, spaceUploadPurpose(teamSpace), randomBytes(100));
    await expect(asTeam.createDocument(body(forTeamSpace))).rejects.toMatchObject({ status: 404, code: 'blob_not_found' });

    const doc = await asTeam.createDocument(body(teamsBlob));
    await expect(asTeam.createDocument(body(teamsBlob))).rejects.toMatchObject({ status: 409, code: 'blob_in_use' });
    await expect(asTeam.addVersion(doc.id, newVersion(teamsBlob))).rejects.toMatchObject({ status: 409, code: 'blob_in_use' });

    const fresh = await uploadBlob(org, team, spaceUploadPurpose(clientSpace), randomBytes(100));
    await expect(asTeam.createDocument({ ...body(fresh), documentId: doc.id })).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    await expect(asTeam.createDocument({ ...body(fresh), version: { ...newVersion(fresh), versionId: doc.current.id } })).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    await expect(asTeam.addVersion(doc.id, { ...newVersion(fresh), versionId: doc.current.id })).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    // The refused attempts left the blob usable.
    expect((await asTeam.addVersion(doc.id, newVersion(fresh))).versionCount).toBe(2);
  });

  it('folders: nested, renamed, deleted only when empty; folder_not_found, folder_deleted, folder_not_empty, id_taken', async () => {
    const parent = await folderIn(client, clientSpace);
    const child = await folderIn(client, clientSpace, parent.id);
    expect(child.parentId).toBe(parent.id);
    const asClient = inSpace(client, clientSpace);
    await expect(folderIn(client, clientSpace, null, child.id)).rejects.toMatchObject({ status: 409, code: 'id_taken' });
    const name = opaque();
    expect(await inSpace(team, clientSpace).renameFolder(child.id, name)).toMatchObject({ id: child.id, name });
    await expect(asClient.deleteFolder(parent.id)).rejects.toMatchObject({ status: 409, code: 'folder_not_empty' });

    const doc = await addDocument(org, client, clientSpace, { folderId: child.id });
    await expect(asClient.deleteFolder(child.id)).rejects.toMatchObject({ status: 409, code: 'folder_not_empty' });
    await asClient.moveDocument(doc.id, null);
    const deleted = await asClient.deleteFolder(child.id);
    expect(deleted).toMatchObject({ deletedBy: client.userId });
    expect(deleted.deletedAt).not.toBeNull();
    await expect(asClient.deleteFolder(child.id)).rejects.toMatchObject({ status: 410, code: 'folder_deleted' });
    await expect(asClient.renameFolder(child.id, name)).rejects.toMatchObject({ status: 410, code: 'folder_deleted' });
    await expect(asClient.moveDocument(doc.id, child.id)).rejects.toMatchObject({ status: 410, code: 'folder_deleted' });
    await expect(folderIn(client, clientSpace, child.id)).rejects.toMatchObject({ status: 410, code: 'folder_deleted' });
    await expect(addDocument(org, client, clientSpace, { folderId: child.id })).rejects.toMatchObject({ status: 410, code: 'folder_deleted' });
    // A deleted subfolder no longer keeps its parent from being deleted.
    await asClient.deleteFolder(parent.id);

    // A folder of another space is unknown here.
    const teamFolder = await folderIn(team, teamSpace);
    await expect(inSpace(team, clientSpace).moveDocument(doc.id, teamFolder.id)).rejects.toMatchObject({ status: 404, code: 'folder_not_found' });
    await expect(folderIn(team, clientSpace, teamFolder.id)).rejects.toMatchObject({ status: 404, code: 'folder_not_found' });
    await expect(addDocument(org, team, clientSpace, { folderId: teamFolder.id })).rejects.toMatchObject({ status: 404, code: 'folder_not_found' });
    expect((await auditOf('folder.deleted', child.id)).length).toBe(1);
  });

  it('uploads against a request item of this space, not of another space or a closed request', async () => {
    const { requestId, itemId } = await openRequest(clientSpace);
    const doc = await addDocument(org, client, clientSpace, { requestItemId: itemId });
    expect(doc.requestItemId).toBe(itemId);
    await expect(addDocument(org, client, clientSpace, { requestItemId: newId() })).rejects.toMatchObject({ status: 404, code: 'request_item_not_found' });
    const other = await addMember(org, 'client', 'items@kluis.test');
    const otherSpace = await openSpace(other);
    const foreign = await openRequest(otherSpace);
    await expect(addDocument(org, team, clientSpace, { requestItemId: foreign.itemId })).rejects.toMatchObject({ status: 404, code: 'request_item_not_found' });
    await inSpace(team, clientSpace).closeRequest(requestId);
    await expect(addDocument(org, client, clientSpace, { requestItemId: itemId })).rejects.toMatchObject({ status: 409, code: 'request_closed' });
  });

  it('deleting leaves a tombstone (who, when), stops serving the content and refuses changes; clients delete only their own', async () => {
    const staffDoc = await addDocument(org, team, clientSpace);
    const asClient = inSpace(client, clientSpace);
    await expect(asClient.deleteDocument(staffDoc.id)).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    const own = await addDocument(org, client, clientSpace);
    const tombstone = await asClient.deleteDocument(own.id);
    expect(tombstone).toMatchObject({ id: own.id, deletedBy: client.userId, versionCount: 1 });
    expect(tombstone.deletedAt).not.toBeNull();
    expect(await inSpace(team, clientSpace).deleteDocument(staffDoc.id)).toMatchObject({ deletedBy: team.userId });

    await expect(asClient.deleteDocument(own.id)).rejects.toMatchObject({ status: 410, code: 'document_deleted' });
    const blob = await uploadBlob(org, client, spaceUploadPurpose(clientSpace), randomBytes(10));
    await expect(asClient.addVersion(own.id, newVersion(blob))).rejects.toMatchObject({ status: 410, code: 'document_deleted' });
    await expect(asClient.moveDocument(own.id, null)).rejects.toMatchObject({ status: 410, code: 'document_deleted' });
    const content = await rawCall(org, team, 'GET', versionContentPath(own.current.id));
    expect([content.status, content.json.error?.code]).toEqual([410, 'document_deleted']);

    // Still listed, with its history; nothing was removed from the database.
    expect((await client.client.api(getDocument, { params: { documentId: own.id } })).versions).toHaveLength(1);
    const listed = await collectAll(client, clientSpace, MAX_DOCUMENT_PAGE);
    expect(listed.find((d) => d.id === own.id)).toMatchObject({ deletedBy: client.userId, deletedAt: tombstone.deletedAt });
    expect(await org.testApp.db.selectFrom('document_versions').select('id').where('id', '=', own.current.id).executeTakeFirst()).toBeDefined();
    expect(await auditOf('document.deleted', own.id)).toHaveLength(1);
  });

  it('a filed blob is served only through its version: /api/blobs answers blob_not_found, before and after deletion', async () => {
    // Each uploader files a blob of their own into the client space; staff delete one, the client the other.
    const filed = async (member: Member) => {
      const bytes = randomBytes(700);
      const blobId = await uploadBlob(org, member, spaceUploadPurpose(clientSpace), bytes);
      // Before filing, the uploader reads the upload back.
      const unfiled = await rawCall(org, member, 'GET', blobPath(blobId));
      expect([unfiled.status, unfiled.bytes.equals(bytes)]).toEqual([200, true]);
      const doc = await inSpace(member, clientSpace).createDocument({ documentId: newId(), folderId: null, requestItemId: null, version: newVersion(blobId) });
      return { blobId, bytes, doc };
    };
    const byClient = await filed(client);
    const byStaff = await filed(team);
    const refusedFor = async (member: Member, blobId: string) => {
      const answer = await rawCall(org, member, 'GET', blobPath(blobId));
      return [answer.status, answer.json.error?.code, answer.bytes.length > 0 && answer.json.error === undefined];
    };
    const notFound = [404, 'blob_not_found', false];
    const unknown = await refusedFor(client, newId());
    expect(unknown).toEqual(notFound);

    // Filed, live: the uploader (client or staff), a Range request, and another member all get what an unknown id gets.
    for (const { blobId } of [byClient, byStaff]) {
      for (const member of [client, team, org.admin]) expect(await refusedFor(member, blobId)).toEqual(notFound);
    }
    const ranged = await rawCall(org, client, 'GET', blobPath(byClient.blobId), { headers: { Range: 'bytes=0-9' } });
    expect([ranged.status, ranged.json.error?.code]).toEqual([404, 'blob_not_found']);
    // The versions still serve the bytes, to the uploader and to the other side.
    for (const { doc, bytes } of [byClient, byStaff]) {
      for (const member of [client, team]) {
        const content = await rawCall(org, member, 'GET', versionContentPath(doc.current.id));
        expect([content.status, content.bytes.equals(bytes)]).toEqual([200, true]);
      }
    }

    // Deleted by the uploader (client) and by staff (a staff upload): still nothing through /api/blobs; the version answers 410.
    await inSpace(client, clientSpace).deleteDocument(byClient.doc.id);
    await inSpace(org.admin, clientSpace).deleteDocument(byStaff.doc.id);
    for (const { blobId, doc } of [byClient, byStaff]) {
      for (const member of [client, team, org.admin]) {
        expect(await refusedFor(member, blobId)).toEqual(notFound);
        const content = await rawCall(org, member, 'GET', versionContentPath(doc.current.id));
        expect([content.status, content.json.error?.code]).toEqual([410, 'document_deleted']);
      }
    }
  });

  it('versions cannot be changed or removed, whatever the code does (triggers)', async () => {
    const doc = await addDocument(org, client, clientSpace);
    const db = org.testApp.db;
    await expect(db.updateTable('document_versions').set({ size: 1 }).where('id', '=', doc.current.id).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('document_versions').where('id', '=', doc.current.id).execute()).rejects.toThrow(/append-only/);
  });

  it('records events with ids only, never an envelope', async () => {
    const doc = await addDocument(org, client, clientSpace);
    const [event] = await auditOf('document.created', doc.id);
    const details = JSON.parse(event!.details) as Record<string, unknown>;
    expect(Object.keys(details).sort()).toEqual(['blobId', 'folderId', 'requestItemId', 'size', 'spaceId', 'versionId']);
    expect(details).toMatchObject({ spaceId: clientSpace, versionId: doc.current.id, size: 500, folderId: null, requestItemId: null });
    expect(event!.details).not.toContain(doc.current.metadata);
    expect(event!.details).not.toContain(doc.current.wrappedFileKey);
  });
});

async function collectAll(member: Member, spaceId: string, limit: number) {
  const documents = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await member.client.api(listDocuments, { params: { spaceId }, query: { limit, ...(cursor ? { cursor } : {}) } });
    if (pages > 0) expect(page.folders).toEqual([]);
    documents.push(...page.documents);
    pages += 1;
    if (!page.nextCursor) return Object.assign(documents, { pages });
    cursor = page.nextCursor;
  }
}

describe('listing', () => {
  it('returns every document exactly once across pages, folders on the first page, over 10,000 documents (their speed: npm run bench, files:list)', async () => {
    const spaceId = await openSpace(await addMember(org, 'client', 'busy@kluis.test'));
    const folder = await folderIn(team, spaceId);
    const ids: string[] = [];
    const now = new Date().toISOString();
    await org.testApp.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 10_000; i++) {
        const id = newId();
        const versionId = newId();
        const blobId = newId();
        ids.push(id);
        await trx.insertInto('blobs').values({ id: blobId, size: 100, sha256: '0'.repeat(64), created_by: team.userId, created_at: now }).execute();
        await trx.insertInto('documents').values({ id, space_id: spaceId, folder_id: null, request_item_id: null, created_by: team.userId, created_at: now, deleted_at: null, deleted_by: null, version_count: 1, current_version_id: versionId }).execute();
        await trx.insertInto('document_versions').values({ id: versionId, document_id: id, number: 1, blob_id: blobId, size: 100, wrapped_file_key: opaque(60), metadata: opaque(120), uploaded_by: team.userId, created_at: now }).execute();
      }
    });
    const all = await collectAll(team, spaceId, MAX_DOCUMENT_PAGE);
    expect(all.pages).toBe(2);
    expect(all.map((d) => d.id).sort()).toEqual([...ids].sort());

    const small = await collectAll(team, spaceId, 777);
    expect(small.pages).toBe(13);
    expect(new Set(small.map((d) => d.id)).size).toBe(10_000);
    const first = await team.client.api(listDocuments, { params: { spaceId }, query: { limit: 1 } });
    expect(first.folders.map((f) => f.id)).toEqual([folder.id]);
    expect((await team.client.api(getSpace, { params: { spaceId } })).documentCount).toBe(10_000);
  }, budget(60_000));

  it('bad_request for a cursor it did not hand out; validation_failed for a limit out of range', async () => {
    await expect(client.client.api(listDocuments, { params: { spaceId: clientSpace }, query: { cursor: 'not a cursor' } })).rejects.toMatchObject({ status: 400, code: 'bad_request' });
    await expect(client.client.api(listDocuments, { params: { spaceId: clientSpace }, query: { limit: MAX_DOCUMENT_PAGE + 1 } })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

describe('space quota (KLUIS_SPACE_QUOTA_BYTES)', () => {
  it('space_quota_exceeded for an upload or a filing that would not fit: versions and unfiled uploads count', async () => {
    const spaceId = await openSpace(await addMember(org, 'client', 'full@kluis.test'));
    const config = { ...org.testApp.config, spaces: { ...org.testApp.config.spaces, quotaBytes: 1000 } };
    const deps = { db: org.testApp.db, config, logger: org.testApp.logger, now: () => new Date() };
    const actor: Actor = { userId: team.userId, role: 'team', sessionId: 'test', authenticatedAt: new Date().toISOString(), ip: null };
    const uploads = createUploadsService({ ...deps, blobs: blobStoreOf() });
    const documents = createDocumentsService({ ...deps, blobs: blobStoreOf(), spaceNotifier: createSpaceNotifier({ ...deps, notifier: org.testApp.notifier }) });
    const purpose = spaceUploadPurpose(spaceId);

    await expect(uploads.createUpload(actor, { size: 1001, partSize: 1024 * 1024, purpose })).rejects.toMatchObject({ code: 'space_quota_exceeded' });
    // 600 bytes filed as a version over HTTP (the real quota is large), then only 400 are left.
    const filed = await uploadBlob(org, team, purpose, randomBytes(600));
    const file = async (blobId: string) => {
      const body = { documentId: newId(), folderId: null, requestItemId: null, version: newVersion(blobId) };
      return documents.createDocument(actor, spaceId, { ...body, entry: await signFor(team, spaceId, documentCreateDraft(body)) });
    };
    await file(filed);
    await expect(uploads.createUpload(actor, { size: 401, partSize: 1024 * 1024, purpose })).rejects.toMatchObject({ code: 'space_quota_exceeded' });
    const open = await uploads.createUpload(actor, { size: 400, partSize: 1024 * 1024, purpose });
    await expect(uploads.createUpload(actor, { size: 1, partSize: 1024 * 1024, purpose })).rejects.toMatchObject({ code: 'space_quota_exceeded' });
    await uploads.abortUpload(actor, open.uploadId);
    // A blob uploaded while the quota was larger does not fit when filed.
    const late = await uploadBlob(org, team, purpose, randomBytes(500));
    await expect(file(late)).rejects.toMatchObject({ code: 'space_quota_exceeded' });
    // Over HTTP, another space's purpose is refused like an unknown space.
    const refused = await rawCall(org, client, 'POST', '/api/uploads', { json: { size: 10, partSize: 1024 * 1024, purpose } });
    expect([refused.status, refused.json.error?.code]).toEqual([404, 'space_not_found']);
  });
});

/** The real blob store of the app, in its temp directory. */
const blobStoreOf = () => createLocalDiskBlobStore({ root: org.testApp.config.blobDir });

describe('updateProfile', () => {
  it('replaces the caller\'s encrypted profile and audits it', async () => {
    const profile = opaque(200);
    expect(await client.client.api(updateProfile, { body: { profile } })).toBeNull();
    const row = await org.testApp.db.selectFrom('users').select('profile').where('id', '=', client.userId).executeTakeFirstOrThrow();
    expect(row.profile).toBe(profile);
    const events = await auditOf('profile.updated', client.userId);
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)!.details).toBe('{}');
  });
});

describe('signed histories over HTTP', () => {
  it('getHistory pages the entries (limit, after), refuses a limit above the page size and another client', async () => {
    const member = await addMember(org, 'client', 'history@kluis.test');
    const spaceId = await openSpace(member);
    for (let i = 0; i < 3; i++) await folderIn(member, spaceId);
    const page = (query: { after?: number; limit?: number }) => member.client.api(getHistory, { params: { spaceId }, query });
    const seqs = (entries: { payload: string; signature: string }[]) => entries.map((e) => parseEntryPayload(e)?.seq);
    const first = await page({ limit: 3 });
    expect([seqs(first.entries), first.more]).toEqual([[0, 1, 2], true]);
    const rest = await page({ after: 2 });
    expect([seqs(rest.entries), rest.more]).toEqual([[3], false]);
    expect(parseEntryPayload(rest.entries[0]!)).toMatchObject({ type: 'folder.create', author: member.userId });
    await expect(page({ limit: MAX_HISTORY_PAGE + 1 })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    await expect(client.client.api(getHistory, { params: { spaceId }, query: {} })).rejects.toMatchObject({ status: 404, code: 'space_not_found' });
    expect((await team.client.api(getHistory, { params: { spaceId }, query: {} })).entries).toHaveLength(4);
    expect((await team.client.api(getSpace, { params: { spaceId } })).historyLength).toBe(4);
  });

  it('answers entry_invalid (400) for an entry of another change and history_conflict (409) for a stale one; one of two concurrent writers wins', async () => {
    const body = { id: newId(), parentId: null, name: opaque() };
    const path = `/api/spaces/${clientSpace}/folders`;
    const other = await signFor(client, clientSpace, folderCreateDraft({ ...body, name: opaque() }));
    const invalid = await rawCall(org, client, 'POST', path, { json: { ...body, entry: other } });
    expect([invalid.status, invalid.json.error?.code]).toEqual([400, 'entry_invalid']);

    const head = await headOf(team, clientSpace);
    const stale = head && { seq: head.seq - 1, hash: head.hash };
    const conflict = await rawCall(org, client, 'POST', path, { json: { ...body, entry: await signFor(client, clientSpace, folderCreateDraft(body), stale) } });
    expect([conflict.status, conflict.json.error?.code]).toEqual([409, 'history_conflict']);

    const a = { id: newId(), parentId: null, name: opaque() };
    const b = { id: newId(), parentId: null, name: opaque() };
    const [entryA, entryB] = [await signFor(client, clientSpace, folderCreateDraft(a), head), await signFor(team, clientSpace, folderCreateDraft(b), head)];
    const answers = await Promise.all([rawCall(org, client, 'POST', path, { json: { ...a, entry: entryA } }), rawCall(org, team, 'POST', path, { json: { ...b, entry: entryB } })]);
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(answers.find((r) => r.status === 409)?.json.error?.code).toBe('history_conflict');
  });

  it('a legacy client space is shown with its old seal, refuses changes, and is adopted by its client with entry 0', async () => {
    const member = await addMember(org, 'client', 'legacy@kluis.test');
    const id = newId();
    const sealedForClient = opaque(256);
    const sealedForEscrow = opaque(256);
    const now = new Date().toISOString();
    // As migration 0006 leaves a space made before signed histories.
    await org.testApp.db
      .insertInto('spaces')
      .values({ id, kind: 'client', client_id: member.userId, sealed_for_client: sealedForClient, wrapped_for_client: null, sealed_for_escrow: sealedForEscrow, legacy: 1, created_by: member.userId, created_at: now, last_activity_at: now })
      .execute();
    expect(await member.client.api(getSpace, { params: { spaceId: id } })).toMatchObject({ legacy: true, sealedKey: sealedForClient, wrappedKey: null, historyLength: 0 });
    const folder = { id: newId(), parentId: null, name: opaque() };
    const refused = await rawCall(org, member, 'POST', `/api/spaces/${id}/folders`, { json: { ...folder, entry: await signFor(member, id, folderCreateDraft(folder), null) } });
    expect([refused.status, refused.json.error?.code, refused.json.error?.message]).toEqual([409, 'history_conflict', 'This space must first get its signed history; reload.']);

    const wrappedForClient = opaque(60);
    const freshSeal = opaque(256);
    const draft = spaceCreateDraft({ id, kind: 'client', sealedForEscrow: freshSeal, wrappedForClient }, member.userId, randomBytes(32).toString('hex'));
    const body = async () => ({ wrappedForClient, sealedForEscrow: freshSeal, entry: await signFor(member, id, draft, null) });
    const adopted = await member.client.api(adoptSpace, { params: { spaceId: id }, body: await body() });
    expect(adopted).toMatchObject({ legacy: false, sealedKey: null, wrappedKey: wrappedForClient, historyLength: 1 });
    await expect(member.client.api(adoptSpace, { params: { spaceId: id }, body: await body() })).rejects.toMatchObject({ status: 409, code: 'space_adopted' });
    expect(await auditOf('space.adopted', id)).toHaveLength(1);
    expect((await inSpace(member, id).createFolder(folder)).id).toBe(folder.id);
  });
});
