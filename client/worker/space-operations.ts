// The crypto worker's space operations: opens space keys, decrypts listings, threads and requests, and seals what the user writes.
import {
  type DocumentSummary,
  type DocumentVersion,
  type Folder,
  type DocumentRequest,
  type Message,
  type Space,
  type Thread,
  closeRequest as closeRequestEndpoint,
  createFolder as createFolderEndpoint,
  createRequest as createRequestEndpoint,
  createSpace,
  createThread,
  deleteDocument as deleteDocumentEndpoint,
  deleteFolder as deleteFolderEndpoint,
  getDocument,
  getSpace,
  getThread,
  listDocuments as listDocumentsEndpoint,
  listRequests as listRequestsEndpoint,
  listSpaces as listSpacesEndpoint,
  listThreads as listThreadsEndpoint,
  listUsers,
  markThreadRead as markThreadReadEndpoint,
  moveDocument as moveDocumentEndpoint,
  postMessage,
  renameFolder as renameFolderEndpoint,
  reviseMessage,
  updateProfile as updateProfileEndpoint,
  MAX_DOCUMENT_PAGE,
} from '../../shared/api';
import type { SecretKey } from '../../shared/crypto';
import { openProfile, sealProfile, type Profile } from '../../shared/flows/account-flows';
import {
  createSpaceKey,
  newClientId,
  openFolderName,
  openMessageBody,
  openRequestBody,
  openRequestItem,
  openSpaceKey,
  openThreadSubject,
  openVersionMetadata,
  sealFolderName,
  sealMessageBody,
  sealRequestBody,
  sealRequestItem,
  sealThreadSubject,
} from '../../shared/flows/spaces';
import { importPinnedEscrowKey, type UnlockedVault } from '../../shared/flows/vault';
import { ApiError, isApiError } from '../api/api-error';
import type { CallApi } from '../api/call-api';
import type { AccountSlot, HeldAccount } from './account-operations';
import { NotSignedInError } from './outcome';
import { documentViewOf, versionViewOf } from './space-views';
import type {
  DocumentHistoryView,
  DocumentListing,
  DocumentView,
  FolderView,
  MessageView,
  NewRequest,
  RequestView,
  SpaceDirectory,
  SpaceOperations,
  SpaceView,
  ThreadDetailView,
  ThreadView,
  VersionView,
} from './space-types';

/**
 * WARNING: runs only inside the crypto worker. Space keys are cached here per unlocked vault and
 * never returned; the page gets decrypted views. A field that cannot be decrypted becomes null
 * (the page says "cannot decrypt this item") instead of failing the whole listing.
 */

/** Settles to null instead of rejecting: one bad record must not hide the others. */
function orNull<T>(promise: Promise<T>): Promise<T | null> {
  return promise.then(
    (value) => value,
    () => null,
  );
}

/** Runs `map` over `items` with at most `limit` at a time (WebCrypto calls queue anyway; this bounds memory). */
async function mapLimited<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

const nameCollator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export interface SpaceOperationsDeps {
  readonly api: CallApi;
  /** The account slot the account operations fill at sign-in (./account-operations.ts). */
  readonly account: AccountSlot;
}

export interface WorkerSpaceOperations extends SpaceOperations {
  /** The opened key of a space this user may use: for the transfer engine, never for the page. */
  spaceKeyOf(spaceId: string): Promise<SecretKey<'space'>>;
}

export function createSpaceOperations({ api, account }: SpaceOperationsDeps): WorkerSpaceOperations {
  // Keys of the vault that opened them; a new sign-in or a lock starts an empty cache.
  let cache: { vault: UnlockedVault; keys: Map<string, Promise<SecretKey<'space'>>> } | null = null;

  function held(): HeldAccount {
    if (!account.current) throw new NotSignedInError();
    return account.current;
  }

  function keysOf(vault: UnlockedVault): Map<string, Promise<SecretKey<'space'>>> {
    if (cache?.vault !== vault) cache = { vault, keys: new Map() };
    return cache.keys;
  }

  function keyOfSpace(vault: UnlockedVault, space: Pick<Space, 'id' | 'kind' | 'clientId' | 'sealedKey'>): Promise<SecretKey<'space'>> {
    const keys = keysOf(vault);
    let key = keys.get(space.id);
    if (!key) {
      key = openSpaceKey(vault, space);
      // A failed open is not cached: an escrow grant accepted later must be able to open it.
      key.catch(() => keys.delete(space.id));
      keys.set(space.id, key);
    }
    return key;
  }

  async function spaceKeyOf(spaceId: string): Promise<SecretKey<'space'>> {
    const { vault } = held();
    const cached = keysOf(vault).get(spaceId);
    if (cached) return cached;
    const space = await api(getSpace, { params: { spaceId } });
    return keyOfSpace(vault, space);
  }

  /** Creates the space this user is missing (a client's own, or the team space) and caches its key. */
  async function createMissingSpace(vault: UnlockedVault, kind: 'client' | 'team', escrowPublicKey: string): Promise<void> {
    const escrowKey = await importPinnedEscrowKey(escrowPublicKey, vault.keySafe.escrowFingerprint);
    const { body, spaceKey } = await createSpaceKey(vault, kind, escrowKey);
    try {
      await api(createSpace, { body });
      keysOf(vault).set(body.id, Promise.resolve(spaceKey));
    } catch (error) {
      // Another tab or a colleague created it first: theirs is the one, listed on the next read.
      if (!(isApiError(error) && error.code === 'space_exists')) throw error;
    }
  }

  async function directory(): Promise<SpaceDirectory> {
    const me = held();
    const { vault } = me;
    const staff = vault.role === 'admin' || vault.role === 'team';
    let listed = await api(listSpacesEndpoint, {});
    const missing: 'client' | 'team' | null =
      vault.role === 'client'
        ? listed.spaces.some((space) => space.kind === 'client' && space.clientId === vault.userId)
          ? null
          : 'client'
        : staff && vault.escrow && !listed.spaces.some((space) => space.kind === 'team')
          ? 'team'
          : null;
    if (missing) {
      await createMissingSpace(vault, missing, listed.escrowPublicKey);
      listed = await api(listSpacesEndpoint, {});
    }

    const people = new Map<string, { name: string | null; email: string }>();
    if (staff) {
      const { users } = await api(listUsers, {});
      await Promise.all(
        users
          .filter((user) => user.role === 'client')
          .map(async (user) => {
            const profile = vault.escrow ? await orNull(openProfile(vault, user)) : null;
            people.set(user.id, { name: profile?.name ?? null, email: user.email });
          }),
      );
    } else {
      people.set(vault.userId, { name: me.name, email: vault.email });
    }

    const spaces = listed.spaces.map((space): SpaceView => {
      const person = space.clientId ? people.get(space.clientId) : undefined;
      return {
        id: space.id,
        kind: space.kind,
        clientId: space.clientId,
        clientName: person?.name ?? null,
        clientEmail: person?.email ?? null,
        createdAt: space.createdAt,
        documentCount: space.documentCount,
        storedBytes: space.storedBytes,
        unreadMessages: space.unreadMessages,
        openRequestItems: space.openRequestItems,
        lastActivityAt: space.lastActivityAt,
      };
    });
    spaces.sort(
      (a, b) =>
        (a.kind === b.kind ? 0 : a.kind === 'team' ? -1 : 1) ||
        nameCollator.compare(a.clientName ?? a.clientEmail ?? '', b.clientName ?? b.clientEmail ?? '') ||
        a.id.localeCompare(b.id),
    );
    return { spaces, needsEscrowAccess: staff && !vault.escrow };
  }

  async function versionView(key: SecretKey<'space'>, spaceId: string, version: DocumentVersion): Promise<VersionView> {
    return versionViewOf(version, await orNull(openVersionMetadata(key, spaceId, version)));
  }

  async function documentView(key: SecretKey<'space'>, document: DocumentSummary): Promise<DocumentView> {
    return documentViewOf(document, await versionView(key, document.spaceId, document.current));
  }

  async function folderView(key: SecretKey<'space'>, spaceId: string, folder: Folder): Promise<FolderView> {
    return {
      id: folder.id,
      parentId: folder.parentId,
      name: await orNull(openFolderName(key, spaceId, folder.id, folder.name)),
      createdAt: folder.createdAt,
      createdBy: folder.createdBy,
      deletedAt: folder.deletedAt,
      deletedBy: folder.deletedBy,
    };
  }

  async function messageView(key: SecretKey<'space'>, spaceId: string, message: Message): Promise<MessageView> {
    const revisions = await Promise.all(
      message.revisions.map(async (revision) => ({
        revision: revision.revision,
        text: (await orNull(openMessageBody(key, spaceId, message.threadId, message.id, revision.revision, revision.body)))?.text ?? null,
        createdAt: revision.createdAt,
      })),
    );
    return {
      id: message.id,
      threadId: message.threadId,
      authorId: message.authorId,
      createdAt: message.createdAt,
      revisions,
      attachments: message.attachments,
    };
  }

  async function threadView(key: SecretKey<'space'>, thread: Thread): Promise<ThreadView> {
    return {
      id: thread.id,
      spaceId: thread.spaceId,
      subject: await orNull(openThreadSubject(key, thread.spaceId, thread.id, thread.subject)),
      createdAt: thread.createdAt,
      createdBy: thread.createdBy,
      lastMessageAt: thread.lastMessageAt,
      messageCount: thread.messageCount,
      unreadCount: thread.unreadCount,
    };
  }

  async function threadDetail(key: SecretKey<'space'>, thread: Thread, messages: readonly Message[]): Promise<ThreadDetailView> {
    return {
      thread: await threadView(key, thread),
      messages: await Promise.all(messages.map((message) => messageView(key, thread.spaceId, message))),
    };
  }

  async function requestView(key: SecretKey<'space'>, request: DocumentRequest): Promise<RequestView> {
    const [body, items] = await Promise.all([
      orNull(openRequestBody(key, request.spaceId, request.id, request.body)),
      Promise.all(
        request.items.map(async (item) => ({
          id: item.id,
          description: (await orNull(openRequestItem(key, request.spaceId, request.id, item.id, item.body)))?.description ?? null,
          documentIds: item.documentIds,
        })),
      ),
    ]);
    return {
      id: request.id,
      spaceId: request.spaceId,
      title: body?.title ?? null,
      description: body?.description ?? null,
      dueDate: request.dueDate,
      createdAt: request.createdAt,
      createdBy: request.createdBy,
      closedAt: request.closedAt,
      closedBy: request.closedBy,
      items,
    };
  }

  /** The space key of the document's space, through its history (the server checks access). */
  async function keyOfDocument(documentId: string) {
    const history = await api(getDocument, { params: { documentId } });
    return { history, key: await spaceKeyOf(history.document.spaceId) };
  }

  async function keyOfThread(threadId: string) {
    const detail = await api(getThread, { params: { threadId } });
    return { detail, key: await spaceKeyOf(detail.thread.spaceId) };
  }

  return {
    spaceKeyOf,

    listSpaces: directory,

    async listDocuments(spaceId: string): Promise<DocumentListing> {
      // The space key (a request and an RSA unwrap when not cached) is opened while the first page loads.
      const opening = spaceKeyOf(spaceId);
      opening.catch(() => undefined); // observed below, or superseded by the page's own error
      const folders: Folder[] = [];
      // Each page is decrypted while the next one is fetched (WebCrypto runs off this thread).
      const pages: Promise<DocumentView[]>[] = [];
      let started: number | undefined;
      let cursor: string | undefined;
      try {
        do {
          const page = await api(listDocumentsEndpoint, {
            params: { spaceId },
            query: { limit: MAX_DOCUMENT_PAGE, ...(cursor !== undefined && { cursor }) },
          });
          const spaceKey = await opening;
          started ??= performance.now();
          folders.push(...page.folders);
          pages.push(mapLimited(page.documents, 256, (document) => documentView(spaceKey, document)));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
      } catch (error) {
        // Pages already decrypting settle unobserved otherwise.
        await Promise.allSettled(pages);
        throw error;
      }
      const key = await opening;
      const [folderViews, documents] = await Promise.all([
        Promise.all(folders.map((folder) => folderView(key, spaceId, folder))),
        Promise.all(pages).then((decrypted) => decrypted.flat()),
      ]);
      started ??= performance.now();
      const decryptMs = Math.round(performance.now() - started);
      documents.sort((a, b) => {
        const an = a.current.name;
        const bn = b.current.name;
        if (an === null || bn === null) return an === bn ? a.id.localeCompare(b.id) : an === null ? 1 : -1;
        return nameCollator.compare(an, bn) || a.id.localeCompare(b.id);
      });
      folderViews.sort((a, b) => nameCollator.compare(a.name ?? '\uffff', b.name ?? '\uffff') || a.id.localeCompare(b.id));
      return { folders: folderViews, documents, decryptMs };
    },

    async documentHistory(documentId: string): Promise<DocumentHistoryView> {
      const { history, key } = await keyOfDocument(documentId);
      const spaceId = history.document.spaceId;
      return {
        document: await documentView(key, history.document),
        versions: await Promise.all(history.versions.map((version) => versionView(key, spaceId, version))),
      };
    },

    async deleteDocument(documentId: string): Promise<DocumentView> {
      const deleted = await api(deleteDocumentEndpoint, { params: { documentId } });
      return documentView(await spaceKeyOf(deleted.spaceId), deleted);
    },

    async moveDocument(documentId: string, folderId: string | null): Promise<DocumentView> {
      const moved = await api(moveDocumentEndpoint, { params: { documentId }, body: { folderId } });
      return documentView(await spaceKeyOf(moved.spaceId), moved);
    },

    async createFolder(spaceId: string, parentId: string | null, name: string): Promise<FolderView> {
      const key = await spaceKeyOf(spaceId);
      const id = newClientId();
      const sealed = await sealFolderName(key, spaceId, id, name);
      const folder = await api(createFolderEndpoint, { params: { spaceId }, body: { id, parentId, name: sealed } });
      return folderView(key, spaceId, folder);
    },

    async renameFolder(spaceId: string, folderId: string, name: string): Promise<FolderView> {
      const key = await spaceKeyOf(spaceId);
      const sealed = await sealFolderName(key, spaceId, folderId, name);
      const folder = await api(renameFolderEndpoint, { params: { folderId }, body: { name: sealed } });
      return folderView(key, spaceId, folder);
    },

    async deleteFolder(folderId: string): Promise<FolderView> {
      const folder = await api(deleteFolderEndpoint, { params: { folderId } });
      // The answer does not name the space; the name is not needed for a tombstone.
      return {
        id: folder.id,
        parentId: folder.parentId,
        name: null,
        createdAt: folder.createdAt,
        createdBy: folder.createdBy,
        deletedAt: folder.deletedAt,
        deletedBy: folder.deletedBy,
      };
    },

    async listThreads(spaceId: string): Promise<readonly ThreadView[]> {
      const key = await spaceKeyOf(spaceId);
      const { threads } = await api(listThreadsEndpoint, { params: { spaceId } });
      return Promise.all(threads.map((thread) => threadView(key, thread)));
    },

    async openThread(threadId: string): Promise<ThreadDetailView> {
      const { detail, key } = await keyOfThread(threadId);
      return threadDetail(key, detail.thread, detail.messages);
    },

    async startThread(spaceId: string, subject: string, text: string, attachments: readonly string[]): Promise<ThreadDetailView> {
      const key = await spaceKeyOf(spaceId);
      const threadId = newClientId();
      const messageId = newClientId();
      const [sealedSubject, body] = await Promise.all([
        sealThreadSubject(key, spaceId, threadId, subject),
        sealMessageBody(key, spaceId, threadId, messageId, 1, { text }),
      ]);
      const created = await api(createThread, {
        params: { spaceId },
        body: { threadId, subject: sealedSubject, message: { messageId, body, attachments: [...attachments] } },
      });
      return threadDetail(key, created.thread, created.messages);
    },

    async reply(threadId: string, text: string, attachments: readonly string[]): Promise<MessageView> {
      const { detail, key } = await keyOfThread(threadId);
      const spaceId = detail.thread.spaceId;
      const messageId = newClientId();
      const body = await sealMessageBody(key, spaceId, threadId, messageId, 1, { text });
      const message = await api(postMessage, { params: { threadId }, body: { messageId, body, attachments: [...attachments] } });
      return messageView(key, spaceId, message);
    },

    async editMessage(threadId: string, messageId: string, text: string): Promise<MessageView> {
      const { detail, key } = await keyOfThread(threadId);
      const message = detail.messages.find((m) => m.id === messageId);
      if (!message) throw new ApiError({ status: 404, code: 'message_not_found', message: 'This message does not exist (any more).' });
      const revision = Math.max(...message.revisions.map((r) => r.revision)) + 1;
      const body = await sealMessageBody(key, detail.thread.spaceId, threadId, messageId, revision, { text });
      const revised = await api(reviseMessage, { params: { messageId }, body: { revision, body } });
      return messageView(key, detail.thread.spaceId, revised);
    },

    async markThreadRead(threadId: string): Promise<void> {
      await api(markThreadReadEndpoint, { params: { threadId } });
    },

    async listRequests(spaceId: string): Promise<readonly RequestView[]> {
      const key = await spaceKeyOf(spaceId);
      const { requests } = await api(listRequestsEndpoint, { params: { spaceId } });
      return Promise.all(requests.map((request) => requestView(key, request)));
    },

    async createRequest(spaceId: string, request: NewRequest): Promise<RequestView> {
      const key = await spaceKeyOf(spaceId);
      const requestId = newClientId();
      const body = await sealRequestBody(key, spaceId, requestId, { title: request.title, description: request.description });
      const items = await Promise.all(
        request.items.map(async (description) => {
          const itemId = newClientId();
          return { itemId, body: await sealRequestItem(key, spaceId, requestId, itemId, { description }) };
        }),
      );
      const created = await api(createRequestEndpoint, { params: { spaceId }, body: { requestId, body, dueDate: request.dueDate, items } });
      return requestView(key, created);
    },

    async closeRequest(requestId: string): Promise<RequestView> {
      const closed = await api(closeRequestEndpoint, { params: { requestId } });
      return requestView(await spaceKeyOf(closed.spaceId), closed);
    },

    async getProfile(): Promise<Profile> {
      const me = held();
      return openProfile(me.vault, { id: me.vault.userId, profile: me.profile, escrowUserKey: '' });
    },

    async updateProfile(profile: Profile): Promise<void> {
      const me = held();
      const sealed = await sealProfile(me.vault, profile);
      await api(updateProfileEndpoint, { body: { profile: sealed } });
      // Only if the same account is still signed in (a lock in between drops everything).
      if (account.current === me) account.current = { ...me, name: profile.name, profile: sealed };
    },
  };
}
