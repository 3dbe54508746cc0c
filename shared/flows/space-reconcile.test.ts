// Listings reconciled against a real signed, verified and folded history: every tampering a server can do to its rows is named.
import { beforeAll, describe, expect, it } from 'vitest';
import type { DocumentRequest, DocumentSummary, DocumentVersion, Folder, Message, Thread } from '../api';
import { type SigningPrivateKey, createSha256, fromBase64Url, generateSecretKey, generateSigningKeyPair, randomBytes, toBase64Url, toHex } from '../crypto';

/** SHA-256 through hash-wasm (WASM), a second implementation next to the WebCrypto one the code under test uses. */
async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = await createSha256();
  hash.update(bytes);
  return toHex(hash.digest());
}
import {
  type EntryDraft,
  type HistoryHead,
  type SignedEntry,
  type SpaceState,
  foldEntries,
  signEntry,
  verifyEntries,
} from './space-history';
import {
  reconcileDocumentHistory,
  reconcileDocumentListing,
  reconcileRequests,
  reconcileThread,
  reconcileThreadList,
} from './space-reconcile';

/** Ids and ciphertexts as a browser makes them; digests computed here with hash-wasm, not by the code under test (WebCrypto). */
const newId = () => toBase64Url(randomBytes(16));
const record = () => toBase64Url(randomBytes(60));
const digest = (base64url: string) => sha256(fromBase64Url(base64url));
const at = '2025-01-01T00:00:00.000Z';

interface Person {
  readonly userId: string;
  readonly role: string;
  readonly signingKey: SigningPrivateKey;
}

async function person(role: string): Promise<Person> {
  const wrapping = await generateSecretKey('user');
  const userId = newId();
  const { privateKey } = await generateSigningKeyPair(wrapping, { id: userId, owner: userId });
  return { userId, role, signingKey: privateKey };
}

let client: Person;
let staff: Person;
let state: SpaceState;
const spaceId = newId();
const ids = {
  folder: newId(),
  doc: newId(),
  v1: newId(),
  v2: newId(),
  doc2: newId(),
  doc2v: newId(),
  gone: newId(),
  goneV: newId(),
  thread: newId(),
  message: newId(),
  request: newId(),
  item1: newId(),
  item2: newId(),
};
const rec = {
  folderName: record(),
  v1Key: record(),
  v1Meta: record(),
  v2Key: record(),
  v2Meta: record(),
  doc2Key: record(),
  doc2Meta: record(),
  goneKey: record(),
  goneMeta: record(),
  subject: record(),
  text1: record(),
  text2: record(),
  requestBody: record(),
  item1: record(),
  item2: record(),
};

// The server's honest rows for the history built below.
let folder: Folder;
let v1: DocumentVersion;
let v2: DocumentVersion;
let doc: DocumentSummary;
let doc2: DocumentSummary;
let gone: DocumentSummary;
let thread: Thread;
let message: Message;
let request: DocumentRequest;

const version = (id: string, documentId: string, number: number, by: string, key: string, meta: string): DocumentVersion => ({
  id,
  documentId,
  number,
  createdAt: at,
  uploadedBy: by,
  size: 100,
  wrappedFileKey: key,
  metadata: meta,
});

beforeAll(async () => {
  client = await person('client');
  staff = await person('team');
  const drafts: [Person, EntryDraft][] = [
    [client, { type: 'space.create', body: { spaceKind: 'client', client: client.userId, escrowSeal: await digest(record()), clientWrap: await digest(record()), key: '1'.repeat(64) } }],
    [client, { type: 'folder.create', body: { folder: ids.folder, parent: null, name: await digest(rec.folderName) } }],
    [client, { type: 'document.create', body: { document: ids.doc, folder: ids.folder, requestItem: null, version: ids.v1, blob: newId(), fileKey: await digest(rec.v1Key), metadata: await digest(rec.v1Meta) } }],
    [staff, { type: 'version.add', body: { document: ids.doc, version: ids.v2, blob: newId(), fileKey: await digest(rec.v2Key), metadata: await digest(rec.v2Meta) } }],
    [staff, { type: 'thread.create', body: { thread: ids.thread, subject: await digest(rec.subject), message: ids.message, text: await digest(rec.text1), attachments: [ids.doc] } }],
    [staff, { type: 'message.revise', body: { thread: ids.thread, message: ids.message, revision: 2, text: await digest(rec.text2) } }],
    [staff, { type: 'request.create', body: { request: ids.request, text: await digest(rec.requestBody), dueDate: '2099-05-01', items: [{ item: ids.item1, text: await digest(rec.item1) }, { item: ids.item2, text: await digest(rec.item2) }] } }],
    [client, { type: 'document.create', body: { document: ids.doc2, folder: null, requestItem: ids.item1, version: ids.doc2v, blob: newId(), fileKey: await digest(rec.doc2Key), metadata: await digest(rec.doc2Meta) } }],
    [client, { type: 'document.create', body: { document: ids.gone, folder: null, requestItem: null, version: ids.goneV, blob: newId(), fileKey: await digest(rec.goneKey), metadata: await digest(rec.goneMeta) } }],
    [staff, { type: 'document.delete', body: { document: ids.gone } }],
    [staff, { type: 'request.close', body: { request: ids.request } }],
  ];
  const entries: SignedEntry[] = [];
  let head: HistoryHead | null = null;
  for (const [author, draft] of drafts) {
    const entry: SignedEntry = await signEntry(author, spaceId, head, draft);
    entries.push(entry);
    head = (await verifyEntries({ spaceId, from: head, entries: [entry], resolveAuthor: resolver })).head;
  }
  const verified = await verifyEntries({ spaceId, from: null, entries, resolveAuthor: resolver });
  state = foldEntries(null, verified.entries);

  folder = { id: ids.folder, parentId: null, name: rec.folderName, createdAt: at, createdBy: client.userId, deletedAt: null, deletedBy: null };
  v1 = version(ids.v1, ids.doc, 1, client.userId, rec.v1Key, rec.v1Meta);
  v2 = version(ids.v2, ids.doc, 2, staff.userId, rec.v2Key, rec.v2Meta);
  const summary = (id: string, current: DocumentVersion, extra: Partial<DocumentSummary>): DocumentSummary => ({
    id,
    spaceId,
    folderId: null,
    requestItemId: null,
    createdAt: at,
    createdBy: client.userId,
    deletedAt: null,
    deletedBy: null,
    versionCount: 1,
    current,
    ...extra,
  });
  doc = summary(ids.doc, v2, { folderId: ids.folder, versionCount: 2 });
  doc2 = summary(ids.doc2, version(ids.doc2v, ids.doc2, 1, client.userId, rec.doc2Key, rec.doc2Meta), { requestItemId: ids.item1 });
  gone = summary(ids.gone, version(ids.goneV, ids.gone, 1, client.userId, rec.goneKey, rec.goneMeta), { deletedAt: at, deletedBy: staff.userId });
  thread = { id: ids.thread, spaceId, subject: rec.subject, createdAt: at, createdBy: staff.userId, lastMessageAt: at, messageCount: 1, unreadCount: 0 };
  message = {
    id: ids.message,
    threadId: ids.thread,
    authorId: staff.userId,
    createdAt: at,
    revisions: [
      { revision: 1, body: rec.text1, createdAt: at },
      { revision: 2, body: rec.text2, createdAt: at },
    ],
    attachments: [ids.doc],
  };
  request = {
    id: ids.request,
    spaceId,
    body: rec.requestBody,
    dueDate: '2099-05-01',
    createdAt: at,
    createdBy: staff.userId,
    closedAt: at,
    closedBy: staff.userId,
    reminderSentAt: null,
    items: [
      { id: ids.item1, body: rec.item1, documentIds: [ids.doc2] },
      { id: ids.item2, body: rec.item2, documentIds: [] },
    ],
  };
});

function resolver(authorId: string) {
  const found = [client, staff].find((p) => p.userId === authorId);
  return Promise.resolve(found ? { key: found.signingKey.publicKey, role: found.role } : null);
}

const listing = (over: { folders?: Folder[]; documents?: DocumentSummary[] } = {}) => ({
  folders: over.folders ?? [folder],
  documents: over.documents ?? [doc, doc2, gone],
});

describe('an honest server', () => {
  it('lists exactly what the signed history says: no problem anywhere', async () => {
    expect(await reconcileDocumentListing(state, listing())).toEqual({ problems: [], unverified: new Set() });
    expect(await reconcileDocumentHistory(state, { document: doc, versions: [v1, v2] })).toEqual({ problems: [], unverified: new Set() });
    expect(await reconcileThreadList(state, [thread])).toEqual({ problems: [], unverified: new Set() });
    expect(await reconcileThread(state, { thread, messages: [message] })).toEqual({ problems: [], unverified: new Set() });
    expect(await reconcileRequests(state, [request])).toEqual({ problems: [], unverified: new Set() });
  });
});

describe('a server that tampers with its rows', () => {
  it('re-attributes an upload: the document and the version disagree with the signed uploader', async () => {
    const forged = { ...v2, uploadedBy: client.userId };
    const page = await reconcileDocumentListing(state, listing({ documents: [{ ...doc, current: forged }, doc2, gone] }));
    expect(page.problems).toEqual([{ problem: 'mismatch', kind: 'document', id: ids.doc, detail: 'differs from the signed history: current uploader' }]);
    expect(page.unverified).toEqual(new Set([ids.doc, ids.v2]));
    const history = await reconcileDocumentHistory(state, { document: doc, versions: [v1, forged] });
    expect(history.problems).toEqual([{ problem: 'mismatch', kind: 'version', id: ids.v2, detail: 'differs from the signed history: uploader' }]);
  });

  it('swaps a wrapped file key or metadata for another version’s', async () => {
    const swapped = await reconcileDocumentHistory(state, { document: doc, versions: [{ ...v1, wrappedFileKey: v2.wrappedFileKey }, v2] });
    expect(swapped.problems.map((p) => [p.kind, p.id, p.detail])).toEqual([['version', ids.v1, 'differs from the signed history: wrapped file key']]);
    const meta = await reconcileDocumentListing(state, listing({ documents: [{ ...doc, current: { ...v2, metadata: v1.metadata } }, doc2, gone] }));
    expect(meta.problems[0]?.detail).toBe('differs from the signed history: current metadata');
  });

  it('rolls a document back to an older version, moves it, or revives a deleted one', async () => {
    const rolledBack = await reconcileDocumentListing(state, listing({ documents: [{ ...doc, current: v1, versionCount: 1 }, doc2, gone] }));
    expect(rolledBack.problems[0]?.detail).toMatch(/version count.*current version id.*current version number.*current uploader.*wrapped file key.*metadata/);
    const moved = await reconcileDocumentListing(state, listing({ documents: [{ ...doc, folderId: null }, doc2, gone] }));
    expect(moved.problems[0]?.detail).toBe('differs from the signed history: folder');
    const revived = await reconcileDocumentListing(state, listing({ documents: [doc, doc2, { ...gone, deletedAt: null, deletedBy: null }] }));
    expect(revived.problems).toEqual([{ problem: 'mismatch', kind: 'document', id: ids.gone, detail: 'differs from the signed history: deletion' }]);
    const blamed = await reconcileDocumentListing(state, listing({ documents: [doc, doc2, { ...gone, deletedBy: client.userId }] }));
    expect(blamed.problems[0]?.detail).toBe('differs from the signed history: deletion');
  });

  it('hides a document or a tombstone, and makes one up', async () => {
    const hidden = await reconcileDocumentListing(state, listing({ documents: [doc, doc2] }));
    expect(hidden.problems).toEqual([{ problem: 'missing', kind: 'document', id: ids.gone, detail: 'in the signed history but not listed' }]);
    expect(hidden.unverified.size).toBe(0);
    const fake: DocumentSummary = { ...doc2, id: newId() };
    const invented = await reconcileDocumentListing(state, listing({ documents: [doc, doc2, gone, fake] }));
    expect(invented.problems).toEqual([{ problem: 'unsigned', kind: 'document', id: fake.id, detail: 'not in the signed history' }]);
    expect(invented.unverified).toEqual(new Set([fake.id]));
    const noFolder = await reconcileDocumentListing(state, listing({ folders: [] }));
    expect(noFolder.problems).toEqual([{ problem: 'missing', kind: 'folder', id: ids.folder, detail: 'in the signed history but not listed' }]);
  });

  it('renames a folder with an older name', async () => {
    const page = await reconcileDocumentListing(state, listing({ folders: [{ ...folder, name: record() }] }));
    expect(page.problems).toEqual([{ problem: 'mismatch', kind: 'folder', id: ids.folder, detail: 'differs from the signed history: name' }]);
  });

  it('shows an edited message with its old text, or as written by someone else', async () => {
    const old = await reconcileThread(state, { thread, messages: [{ ...message, revisions: message.revisions.slice(0, 1) }] });
    expect(old.problems).toEqual([{ problem: 'mismatch', kind: 'message', id: ids.message, detail: 'differs from the signed history: revision count' }]);
    const reattributed = await reconcileThread(state, { thread, messages: [{ ...message, authorId: client.userId }] });
    expect(reattributed.problems[0]?.detail).toBe('differs from the signed history: author');
    const altered = await reconcileThread(state, { thread, messages: [{ ...message, revisions: [message.revisions[0]!, { ...message.revisions[1]!, body: rec.text1 }] }] });
    expect(altered.problems[0]?.detail).toBe('differs from the signed history: revision 2');
    const dropped = await reconcileThread(state, { thread: { ...thread, messageCount: 0 }, messages: [] });
    expect(dropped.problems.map((p) => [p.problem, p.kind])).toEqual([
      ['mismatch', 'thread'],
      ['missing', 'message'],
    ]);
  });

  it('changes a thread’s subject or hides the thread', async () => {
    expect((await reconcileThreadList(state, [{ ...thread, subject: record() }])).problems[0]?.detail).toBe('differs from the signed history: subject');
    expect((await reconcileThreadList(state, [])).problems).toEqual([{ problem: 'missing', kind: 'thread', id: ids.thread, detail: 'in the signed history but not listed' }]);
  });

  it('reopens a closed request, drops an item or an upload against it', async () => {
    const reopened = await reconcileRequests(state, [{ ...request, closedAt: null, closedBy: null }]);
    expect(reopened.problems[0]?.detail).toBe('differs from the signed history: closing');
    const fewer = await reconcileRequests(state, [{ ...request, items: request.items.slice(0, 1) }]);
    expect(fewer.problems[0]?.detail).toBe('differs from the signed history: items');
    const noUpload = await reconcileRequests(state, [{ ...request, items: [{ ...request.items[0]!, documentIds: [] }, request.items[1]!] }]);
    expect(noUpload.problems[0]?.detail).toBe(`differs from the signed history: item ${ids.item1} uploads`);
    expect((await reconcileRequests(state, [{ ...request, dueDate: '2099-06-01' }])).problems[0]?.detail).toBe('differs from the signed history: due date');
    expect((await reconcileRequests(state, [])).problems.map((p) => p.problem)).toEqual(['missing']);
  });
});

describe('a space without a verified history', () => {
  it('marks every listed item as not in the signed history', async () => {
    const page = await reconcileDocumentListing(null, listing());
    expect(page.problems.every((p) => p.problem === 'unsigned')).toBe(true);
    expect(page.unverified).toEqual(new Set([ids.folder, ids.doc, ids.doc2, ids.gone]));
    expect((await reconcileThread(null, { thread, messages: [message] })).unverified).toEqual(new Set([ids.thread, ids.message]));
    expect((await reconcileRequests(null, [request])).unverified).toEqual(new Set([ids.request]));
  });
});
