// Reconciles what the server lists (documents, folders, threads, messages, requests) with the state its verified signed history describes.
import type { DocumentHistory, DocumentRequest, DocumentSummary, DocumentVersion, Folder, Message, Thread } from '../api';
import { type SpaceState, type VersionState, recordDigest } from './space-history';

/*
 * WARNING (SECURITY.md §4.9): the server's rows are only a cache of the history. Every listed item
 * must be in the verified state with the same ids, digests of its ciphertexts, folder, deletion,
 * versions and authors, and every item of the state must be listed. What does not match is reported
 * here; the browser shows the verified authors from the state, never the server's columns.
 *
 * An item the server lists but the history does not contain is `unsigned`: either made before the
 * space got a signed history (an adopted legacy space: the entry format has no way to vouch for those)
 * or made up by the server. The browser cannot tell the two apart and marks such items "not in the
 * signed history".
 */

export type ListedItemKind = 'document' | 'version' | 'folder' | 'thread' | 'message' | 'request';

export interface ListingProblem {
  /**
   * mismatch: listed, but differs from the signed history (altered, re-attributed, rolled back);
   * missing: in the signed history, but not listed (hidden or dropped by the server);
   * unsigned: listed, but not in the signed history.
   */
  readonly problem: 'mismatch' | 'missing' | 'unsigned';
  readonly kind: ListedItemKind;
  readonly id: string;
  /** Which fields differ (English, for support). */
  readonly detail: string;
}

export interface Reconciliation {
  readonly problems: readonly ListingProblem[];
  /** Ids of listed items that are not exactly as the signed history says (mismatch or unsigned). */
  readonly unverified: ReadonlySet<string>;
}

/** Collects problems while one listing is compared. */
class Comparison {
  readonly problems: ListingProblem[] = [];
  readonly unverified = new Set<string>();

  unsigned(kind: ListedItemKind, id: string): void {
    this.problems.push({ problem: 'unsigned', kind, id, detail: 'not in the signed history' });
    this.unverified.add(id);
  }

  /** Records a mismatch when `differences` is non-empty; `flag` is the listed item to mark. */
  differs(kind: ListedItemKind, id: string, differences: readonly string[], flag: string = id): void {
    if (differences.length === 0) return;
    this.problems.push({ problem: 'mismatch', kind, id, detail: `differs from the signed history: ${differences.join(', ')}` });
    this.unverified.add(flag);
  }

  missing(kind: ListedItemKind, id: string, detail = 'in the signed history but not listed'): void {
    this.problems.push({ problem: 'missing', kind, id, detail });
  }

  result(): Reconciliation {
    return { problems: this.problems, unverified: this.unverified };
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((value, index) => value === b[index]);
const sameSet = (a: readonly string[], b: readonly string[]) => sameList([...a].sort(), [...b].sort());

async function versionDifferences(listed: DocumentVersion, signed: VersionState, documentId: string): Promise<string[]> {
  const differences: string[] = [];
  if (listed.id !== signed.id) differences.push('version id');
  if (listed.documentId !== documentId) differences.push('document of the version');
  if (listed.number !== signed.number) differences.push('version number');
  if (listed.uploadedBy !== signed.author) differences.push('uploader');
  if ((await recordDigest(listed.wrappedFileKey)) !== signed.fileKey) differences.push('wrapped file key');
  if ((await recordDigest(listed.metadata)) !== signed.metadata) differences.push('metadata');
  return differences;
}

async function compareDocument(c: Comparison, state: SpaceState, listed: DocumentSummary): Promise<void> {
  const signed = state.documents.get(listed.id);
  if (!signed) return c.unsigned('document', listed.id);
  const differences: string[] = [];
  if (listed.spaceId !== state.spaceId) differences.push('space');
  if (listed.folderId !== signed.folder) differences.push('folder');
  if (listed.requestItemId !== signed.requestItem) differences.push('request item');
  if (listed.createdBy !== signed.createdBy) differences.push('creator');
  if (listed.deletedBy !== signed.deletedBy || (listed.deletedAt === null) !== (signed.deletedBy === null)) differences.push('deletion');
  if (listed.versionCount !== signed.versions.length) differences.push('version count');
  const current = signed.versions.at(-1);
  const currentDifferences = current ? await versionDifferences(listed.current, current, listed.id) : ['versions'];
  differences.push(...currentDifferences.map((field) => `current ${field}`));
  c.differs('document', listed.id, differences);
  // The listed current version is then not the signed one either.
  if (currentDifferences.length > 0) c.unverified.add(listed.current.id);
}

async function compareFolder(c: Comparison, state: SpaceState, listed: Folder): Promise<void> {
  const signed = state.folders.get(listed.id);
  if (!signed) return c.unsigned('folder', listed.id);
  const differences: string[] = [];
  if (listed.parentId !== signed.parent) differences.push('parent folder');
  if ((await recordDigest(listed.name)) !== signed.name) differences.push('name');
  if (listed.createdBy !== signed.createdBy) differences.push('creator');
  if (listed.deletedBy !== signed.deletedBy || (listed.deletedAt === null) !== (signed.deletedBy === null)) differences.push('deletion');
  c.differs('folder', listed.id, differences);
}

/** The whole document listing of a space (every page): folders and documents, tombstones included. */
export async function reconcileDocumentListing(
  state: SpaceState | null,
  listing: { readonly folders: readonly Folder[]; readonly documents: readonly DocumentSummary[] },
): Promise<Reconciliation> {
  const c = new Comparison();
  if (!state) {
    for (const folder of listing.folders) c.unsigned('folder', folder.id);
    for (const document of listing.documents) c.unsigned('document', document.id);
    return c.result();
  }
  await Promise.all([
    ...listing.folders.map((folder) => compareFolder(c, state, folder)),
    ...listing.documents.map((document) => compareDocument(c, state, document)),
  ]);
  const listedFolders = new Set(listing.folders.map((folder) => folder.id));
  const listedDocuments = new Set(listing.documents.map((document) => document.id));
  for (const id of state.folders.keys()) if (!listedFolders.has(id)) c.missing('folder', id);
  for (const id of state.documents.keys()) if (!listedDocuments.has(id)) c.missing('document', id);
  return c.result();
}

/** One document with every version. */
export async function reconcileDocumentHistory(state: SpaceState | null, history: DocumentHistory): Promise<Reconciliation> {
  const c = new Comparison();
  const signed = state?.documents.get(history.document.id);
  if (!state || !signed) {
    c.unsigned('document', history.document.id);
    for (const version of history.versions) c.unsigned('version', version.id);
    return c.result();
  }
  await compareDocument(c, state, history.document);
  const byId = new Map(signed.versions.map((version) => [version.id, version]));
  await Promise.all(
    history.versions.map(async (version) => {
      const signedVersion = byId.get(version.id);
      if (!signedVersion) return c.unsigned('version', version.id);
      c.differs('version', version.id, await versionDifferences(version, signedVersion, history.document.id));
    }),
  );
  const listed = new Set(history.versions.map((version) => version.id));
  for (const version of signed.versions) if (!listed.has(version.id)) c.missing('version', version.id);
  return c.result();
}

async function compareThread(c: Comparison, state: SpaceState, listed: Thread, messageCount: number | null): Promise<void> {
  const signed = state.threads.get(listed.id);
  if (!signed) return c.unsigned('thread', listed.id);
  const differences: string[] = [];
  if (listed.spaceId !== state.spaceId) differences.push('space');
  if ((await recordDigest(listed.subject)) !== signed.subject) differences.push('subject');
  if (listed.createdBy !== signed.createdBy) differences.push('creator');
  if ((messageCount ?? listed.messageCount) !== signed.messages.length) differences.push('message count');
  c.differs('thread', listed.id, differences);
}

/** The thread list of a space (no messages). */
export async function reconcileThreadList(state: SpaceState | null, threads: readonly Thread[]): Promise<Reconciliation> {
  const c = new Comparison();
  if (!state) {
    for (const thread of threads) c.unsigned('thread', thread.id);
    return c.result();
  }
  await Promise.all(threads.map((thread) => compareThread(c, state, thread, null)));
  const listed = new Set(threads.map((thread) => thread.id));
  for (const id of state.threads.keys()) if (!listed.has(id)) c.missing('thread', id);
  return c.result();
}

/** One thread with every message and every revision. */
export async function reconcileThread(
  state: SpaceState | null,
  detail: { readonly thread: Thread; readonly messages: readonly Message[] },
): Promise<Reconciliation> {
  const c = new Comparison();
  const signedThread = state?.threads.get(detail.thread.id);
  if (!state || !signedThread) {
    c.unsigned('thread', detail.thread.id);
    for (const message of detail.messages) c.unsigned('message', message.id);
    return c.result();
  }
  await compareThread(c, state, detail.thread, detail.messages.length);
  await Promise.all(
    detail.messages.map(async (message) => {
      const signed = state.messages.get(message.id);
      if (!signed || signed.thread !== detail.thread.id) return c.unsigned('message', message.id);
      const differences: string[] = [];
      if (message.threadId !== signed.thread) differences.push('thread');
      if (message.authorId !== signed.author) differences.push('author');
      if (!sameList(message.attachments, signed.attachments)) differences.push('attachments');
      if (message.revisions.length !== signed.revisions.length) differences.push('revision count');
      const digests = await Promise.all(message.revisions.map((revision) => recordDigest(revision.body)));
      message.revisions.forEach((revision, index) => {
        if (revision.revision !== index + 1 || digests[index] !== signed.revisions[index]) differences.push(`revision ${revision.revision}`);
      });
      c.differs('message', message.id, differences);
    }),
  );
  const listed = new Set(detail.messages.map((message) => message.id));
  for (const id of signedThread.messages) if (!listed.has(id)) c.missing('message', id);
  return c.result();
}

/** The document requests of a space. */
export async function reconcileRequests(state: SpaceState | null, requests: readonly DocumentRequest[]): Promise<Reconciliation> {
  const c = new Comparison();
  if (!state) {
    for (const request of requests) c.unsigned('request', request.id);
    return c.result();
  }
  /** Live documents uploaded against each request item, as the history says. */
  const uploads = new Map<string, string[]>();
  for (const document of state.documents.values()) {
    if (document.requestItem === null || document.deletedBy !== null) continue;
    uploads.set(document.requestItem, [...(uploads.get(document.requestItem) ?? []), document.id]);
  }
  await Promise.all(
    requests.map(async (request) => {
      const signed = state.requests.get(request.id);
      if (!signed) return c.unsigned('request', request.id);
      const differences: string[] = [];
      if (request.spaceId !== state.spaceId) differences.push('space');
      if ((await recordDigest(request.body)) !== signed.text) differences.push('title or description');
      if (request.dueDate !== signed.dueDate) differences.push('due date');
      if (request.createdBy !== signed.createdBy) differences.push('creator');
      if (request.closedBy !== signed.closedBy || (request.closedAt === null) !== (signed.closedBy === null)) differences.push('closing');
      if (!sameSet(request.items.map((item) => item.id), [...signed.items.keys()])) differences.push('items');
      for (const item of request.items) {
        const text = signed.items.get(item.id);
        if (text !== undefined && (await recordDigest(item.body)) !== text) differences.push(`item ${item.id} text`);
        if (!sameSet(item.documentIds, uploads.get(item.id) ?? [])) differences.push(`item ${item.id} uploads`);
      }
      c.differs('request', request.id, differences);
    }),
  );
  const listed = new Set(requests.map((request) => request.id));
  for (const id of state.requests.keys()) if (!listed.has(id)) c.missing('request', id);
  return c.result();
}
