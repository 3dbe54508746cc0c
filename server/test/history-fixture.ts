// Test helper: signs the history entry of each space change for a Member as the browser does, on the newest head of the space.
import {
  addVersion,
  closeRequest,
  createDocument,
  createFolder,
  createRequest,
  createThread,
  deleteDocument,
  deleteFolder,
  getHistory,
  moveDocument,
  postMessage,
  renameFolder,
  reviseMessage,
  type CreateDocumentBody,
  type CreateRequestBody,
  type NewMessage,
  type NewVersion,
} from '../../shared/api';
import { fromBase64Url } from '../../shared/crypto';
import {
  documentCreateDraft,
  documentDeleteDraft,
  documentMoveDraft,
  folderCreateDraft,
  folderDeleteDraft,
  folderRenameDraft,
  messagePostDraft,
  messageReviseDraft,
  requestCloseDraft,
  requestCreateDraft,
  threadCreateDraft,
  versionAddDraft,
} from '../../shared/flows/space-entries';
import { entryHash, parseEntryPayload, signEntry, type EntryDraft, type EntryType, type HistoryHead, type SignedEntry } from '../../shared/flows/space-history';
import type { Member } from './org-fixture';

/** The newest head each member has seen per space (like the browser's remembered head). */
const heads = new WeakMap<Member, Map<string, HistoryHead>>();

/** `member`'s signing key: every account has one (shared/api/accounts.ts). */
export function signerOf(member: Member) {
  const signingKey = member.vault.signingKey;
  if (!signingKey) throw new Error(`${member.email} has no signing key in their vault`);
  return { userId: member.userId, signingKey };
}

/** The head of `spaceId` as the server has it now: the member's known head plus the entries after it (GET …/history). */
export async function headOf(member: Member, spaceId: string): Promise<HistoryHead | null> {
  const known = heads.get(member) ?? new Map<string, HistoryHead>();
  heads.set(member, known);
  let head = known.get(spaceId) ?? null;
  for (;;) {
    const page = await member.client.api(getHistory, { params: { spaceId }, query: head ? { after: head.seq } : {} });
    for (const entry of page.entries) {
      const payload = parseEntryPayload(entry);
      if (!payload) throw new Error('the server sent a malformed history entry');
      head = { seq: payload.seq, hash: await entryHash(fromBase64Url(entry.payload)) };
    }
    if (!page.more) break;
  }
  if (head) known.set(spaceId, head);
  return head;
}

/** `member` signs `draft` for `spaceId` on the current head (`head`: on that one instead; null: as entry 0). */
export async function signFor<T extends EntryType>(
  member: Member,
  spaceId: string,
  draft: EntryDraft<T> | Promise<EntryDraft<T>>,
  head?: HistoryHead | null,
): Promise<SignedEntry> {
  return signEntry(signerOf(member), spaceId, head === undefined ? await headOf(member, spaceId) : head, await draft);
}

/** Every space write of `member` in `spaceId`, each with its entry signed on the current head, over the real API. */
export function inSpace(member: Member, spaceId: string) {
  const api = member.client.api;
  const sign = <T extends EntryType>(draft: EntryDraft<T> | Promise<EntryDraft<T>>) => signFor(member, spaceId, draft);
  return {
    createFolder: async (body: { id: string; parentId: string | null; name: string }) =>
      api(createFolder, { params: { spaceId }, body: { ...body, entry: await sign(folderCreateDraft(body)) } }),
    renameFolder: async (folderId: string, name: string) => api(renameFolder, { params: { folderId }, body: { name, entry: await sign(folderRenameDraft(folderId, name)) } }),
    deleteFolder: async (folderId: string) => api(deleteFolder, { params: { folderId }, body: { entry: await sign(folderDeleteDraft(folderId)) } }),
    createDocument: async (body: Omit<CreateDocumentBody, 'entry'>) => api(createDocument, { params: { spaceId }, body: { ...body, entry: await sign(documentCreateDraft(body)) } }),
    addVersion: async (documentId: string, version: NewVersion) =>
      api(addVersion, { params: { documentId }, body: { ...version, entry: await sign(versionAddDraft(documentId, version)) } }),
    moveDocument: async (documentId: string, folderId: string | null) =>
      api(moveDocument, { params: { documentId }, body: { folderId, entry: await sign(documentMoveDraft(documentId, folderId)) } }),
    deleteDocument: async (documentId: string) => api(deleteDocument, { params: { documentId }, body: { entry: await sign(documentDeleteDraft(documentId)) } }),
    createThread: async (body: { threadId: string; subject: string; message: NewMessage }) =>
      api(createThread, { params: { spaceId }, body: { ...body, entry: await sign(threadCreateDraft(body)) } }),
    postMessage: async (threadId: string, message: NewMessage) => api(postMessage, { params: { threadId }, body: { ...message, entry: await sign(messagePostDraft(threadId, message)) } }),
    reviseMessage: async (threadId: string, messageId: string, revision: number, body: string) =>
      api(reviseMessage, { params: { messageId }, body: { revision, body, entry: await sign(messageReviseDraft(threadId, messageId, revision, body)) } }),
    createRequest: async (body: Omit<CreateRequestBody, 'entry'>) => api(createRequest, { params: { spaceId }, body: { ...body, entry: await sign(requestCreateDraft(body)) } }),
    closeRequest: async (requestId: string) => api(closeRequest, { params: { requestId }, body: { entry: await sign(requestCloseDraft(requestId)) } }),
  };
}
