// The history entry each space change carries, built from the request itself: the browser signs what
// these return, and the server recomputes them from the request it received and refuses any difference.
import type {
  CreateDocumentBody,
  CreateRequestBody,
  CreateSpaceBody,
  NewMessage,
  NewVersion,
} from '../api';
import { type EntryBody, type EntryDraft, type EntryPayload, type EntryType, recordDigest } from './space-history';

/*
 * WARNING: one function per entry type, used by both sides, so the signed entry and the stored rows
 * describe the same change. A server that stores something else is caught by the browser (the
 * listing is reconciled against the verified history); a browser that signs something else is
 * refused by the server with `entry_invalid`.
 */

const versionFields = async (version: NewVersion) => ({
  version: version.versionId,
  blob: version.blobId,
  fileKey: await recordDigest(version.wrappedFileKey),
  metadata: await recordDigest(version.metadata),
});

/** Entry 0 of a new space. `key` is the space key's commitment (the server cannot compute it and takes it from the entry). */
export async function spaceCreateDraft(
  body: Omit<CreateSpaceBody, 'entry'>,
  client: string | null,
  key: string,
): Promise<EntryDraft<'space.create'>> {
  return {
    type: 'space.create',
    body: {
      spaceKind: body.kind,
      client,
      escrowSeal: await recordDigest(body.sealedForEscrow),
      clientWrap: body.wrappedForClient === undefined ? null : await recordDigest(body.wrappedForClient),
      key,
    },
  };
}

export async function documentCreateDraft(body: Omit<CreateDocumentBody, 'entry'>): Promise<EntryDraft<'document.create'>> {
  return {
    type: 'document.create',
    body: { document: body.documentId, folder: body.folderId, requestItem: body.requestItemId, ...(await versionFields(body.version)) },
  };
}

export async function versionAddDraft(documentId: string, version: NewVersion): Promise<EntryDraft<'version.add'>> {
  return { type: 'version.add', body: { document: documentId, ...(await versionFields(version)) } };
}

export const documentMoveDraft = (documentId: string, folderId: string | null): EntryDraft<'document.move'> => ({
  type: 'document.move',
  body: { document: documentId, folder: folderId },
});

export const documentDeleteDraft = (documentId: string): EntryDraft<'document.delete'> => ({
  type: 'document.delete',
  body: { document: documentId },
});

export async function folderCreateDraft(folder: { id: string; parentId: string | null; name: string }): Promise<EntryDraft<'folder.create'>> {
  return { type: 'folder.create', body: { folder: folder.id, parent: folder.parentId, name: await recordDigest(folder.name) } };
}

export async function folderRenameDraft(folderId: string, name: string): Promise<EntryDraft<'folder.rename'>> {
  return { type: 'folder.rename', body: { folder: folderId, name: await recordDigest(name) } };
}

export const folderDeleteDraft = (folderId: string): EntryDraft<'folder.delete'> => ({ type: 'folder.delete', body: { folder: folderId } });

export async function threadCreateDraft(body: { threadId: string; subject: string; message: NewMessage }): Promise<EntryDraft<'thread.create'>> {
  return {
    type: 'thread.create',
    body: {
      thread: body.threadId,
      subject: await recordDigest(body.subject),
      message: body.message.messageId,
      text: await recordDigest(body.message.body),
      attachments: [...body.message.attachments],
    },
  };
}

export async function messagePostDraft(threadId: string, message: NewMessage): Promise<EntryDraft<'message.post'>> {
  return {
    type: 'message.post',
    body: { thread: threadId, message: message.messageId, text: await recordDigest(message.body), attachments: [...message.attachments] },
  };
}

export async function messageReviseDraft(threadId: string, messageId: string, revision: number, body: string): Promise<EntryDraft<'message.revise'>> {
  return { type: 'message.revise', body: { thread: threadId, message: messageId, revision, text: await recordDigest(body) } };
}

export async function requestCreateDraft(body: Omit<CreateRequestBody, 'entry'>): Promise<EntryDraft<'request.create'>> {
  return {
    type: 'request.create',
    body: {
      request: body.requestId,
      text: await recordDigest(body.body),
      dueDate: body.dueDate,
      items: await Promise.all(body.items.map(async (item) => ({ item: item.itemId, text: await recordDigest(item.body) }))),
    },
  };
}

export const requestCloseDraft = (requestId: string): EntryDraft<'request.close'> => ({ type: 'request.close', body: { request: requestId } });

/** Canonical JSON with sorted keys: how two bodies are compared (never how an entry is signed). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Does a parsed entry describe exactly this change? `ignore` lists body fields only the browser can compute. */
export function entryMatchesDraft<T extends EntryType>(
  payload: EntryPayload,
  draft: EntryDraft<T>,
  ignore: readonly (keyof EntryBody<T>)[] = [],
): boolean {
  if (payload.type !== draft.type) return false;
  const actual: Record<string, unknown> = { ...payload.body };
  const expected: Record<string, unknown> = { ...draft.body };
  for (const field of ignore) {
    delete actual[field as string];
    delete expected[field as string];
  }
  return canonical(actual) === canonical(expected);
}
