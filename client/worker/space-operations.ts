// The crypto worker's space operations: verifies each space's signed history, decrypts listings, threads and requests, and signs and seals what the user writes.
import {
  type DocumentSummary,
  type DocumentVersion,
  type Folder,
  type DocumentRequest,
  type Message,
  type Thread,
  closeRequest as closeRequestEndpoint,
  createFolder as createFolderEndpoint,
  createRequest as createRequestEndpoint,
  createSpace,
  createThread,
  deleteDocument as deleteDocumentEndpoint,
  deleteFolder as deleteFolderEndpoint,
  getDocument,
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
} from '../../shared/flows/space-entries';
import type { SpaceState } from '../../shared/flows/space-history';
import {
  type Reconciliation,
  reconcileDocumentHistory,
  reconcileDocumentListing,
  reconcileRequests,
  reconcileThread,
  reconcileThreadList,
} from '../../shared/flows/space-reconcile';
import {
  type DocumentMetadata,
  createSpaceKey,
  newClientId,
  openFolderName,
  openMessageBody,
  openRequestBody,
  openRequestItem,
  openThreadSubject,
  openVersionMetadata,
  sealFolderName,
  sealMessageBody,
  sealRequestBody,
  sealRequestItem,
  sealThreadSubject,
} from '../../shared/flows/spaces';
import type { UnlockedVault } from '../../shared/flows/vault';
import { ApiError, isApiError, type CallApi } from '../../shared/api/client';
import type { AccountSlot, HeldAccount } from './account-operations';
import { escrowKeyForSealing } from './escrow-pin';
import { NotSignedInError, SpaceUntrustedError, UnsignedItemError } from './outcome';
import { type SpaceVerifier, createSpaceVerifier } from './space-verification';
import { type Verification, documentViewOf, versionViewOf } from './space-views';
import type {
  DocumentHistoryView,
  DocumentListing,
  DocumentView,
  FolderView,
  MessageView,
  NewRequest,
  RequestList,
  RequestView,
  SpaceDirectory,
  SpaceOperations,
  SpaceSecurity,
  SpaceView,
  ThreadDetailView,
  ThreadList,
  ThreadView,
  VersionView,
} from './space-types';
import type { DirectoryTrust, Trust } from './trust';

/**
 * WARNING: runs only inside the crypto worker. Space keys and verified histories are cached per
 * unlocked vault (./space-verification.ts) and never returned; the page gets decrypted views whose
 * authors come from the verified history, with the space's SpaceSecurity. A field that cannot be
 * decrypted becomes null (the page says "cannot decrypt this item") instead of failing the whole
 * listing; a space whose key nothing vouches for is shown with its warning and nothing decrypted.
 */

/** Settles to null instead of rejecting: one bad record must not hide the others. */
function orNull<T>(promise: Promise<T>): Promise<T | null> {
  return promise.then(
    (value) => value,
    () => null,
  );
}

/** Decrypts with the space key when there is a trusted one; null otherwise. */
function withKey<T>(key: SecretKey<'space'> | null, open: (key: SecretKey<'space'>) => Promise<T>): Promise<T | null> {
  return key ? orNull(open(key)) : Promise.resolve(null);
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
  /**
   * What this worker trusts (./trust.ts): whose signing key is whose, and the remembered heads, for
   * whoever is signed in now; its verified directory vouches for the escrow copies staff open profiles with.
   */
  readonly trust: Trust & Pick<DirectoryTrust, 'directory' | 'escrowHistory'>;
}

export interface WorkerSpaceOperations extends SpaceOperations {
  /** The trusted key of a space this user may use: for the transfer engine, never for the page. */
  spaceKeyOf(spaceId: string): Promise<SecretKey<'space'>>;
  /** The verification of each space, shared with the transfer engine (signed writes, verified state). */
  readonly verifier: SpaceVerifier;
}

/** Refuses a change that names an item the signed history does not hold. */
const requireSigned = (present: (state: SpaceState) => boolean) => (state: SpaceState) => {
  if (!present(state)) throw new UnsignedItemError();
};

export function createSpaceOperations({ api, account, trust }: SpaceOperationsDeps): WorkerSpaceOperations {
  const verifier = createSpaceVerifier({ api, account, trust });

  function held(): HeldAccount {
    if (!account.current) throw new NotSignedInError();
    return account.current;
  }

  async function spaceKeyOf(spaceId: string): Promise<SecretKey<'space'>> {
    const { key } = await verifier.open(spaceId);
    if (!key) throw new SpaceUntrustedError(verifier.security(spaceId).warnings);
    return key;
  }

  /**
   * Reads a listing and reconciles it with the verified state. When they disagree the history is
   * fetched once more: if it moved (someone wrote meanwhile) the listing is read again, so a race is
   * not reported as tampering; if not, the disagreement is real.
   */
  async function reconciledRead<L>(
    spaceId: string,
    scope: string,
    fetchListing: (key: SecretKey<'space'> | null) => Promise<L>,
    reconcile: (state: SpaceState | null, listing: L) => Promise<Reconciliation>,
  ) {
    let opened = await verifier.open(spaceId);
    let listing = await fetchListing(opened.key);
    let result = await reconcile(opened.state, listing);
    if (result.problems.length > 0 && opened.state) {
      const before = opened.state.head.seq;
      opened = await verifier.open(spaceId);
      if (opened.state && opened.state.head.seq !== before) {
        listing = await fetchListing(opened.key);
        result = await reconcile(opened.state, listing);
      }
    }
    const security = verifier.reconciled(spaceId, scope, result);
    const verification: Verification = { state: opened.state, unverified: result.unverified };
    return { key: opened.key, listing, verification, security };
  }

  /** Creates the space this user is missing (a client's own, or the team space) and keeps its key. */
  async function createMissingSpace(vault: UnlockedVault, kind: 'client' | 'team', escrowPublicKey: string): Promise<void> {
    // The pinned escrow key, or the one the signed rotation chain leads to (never the server's word alone).
    const escrowKey = await escrowKeyForSealing(api, held().keySafe, escrowPublicKey, () => trust.directory());
    const { body, spaceKey } = await createSpaceKey(vault, kind, escrowKey.publicKey);
    try {
      verifier.created(await api(createSpace, { body: { ...body, escrowFingerprint: escrowKey.fingerprint } }), spaceKey);
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

    // WARNING: the directory brings up to date the histories of the spaces already read in this
    // session and the user's own (a client's space, the team space); for the others it compares the
    // server's history length with the head remembered in the key safe (a full verification of every
    // client space on each listing would not scale), and each is verified in full when opened.
    await mapLimited(listed.spaces, 4, async (space) => {
      verifier.checkLength(space);
      const own = space.kind === 'team' ? staff && vault.escrow !== undefined : space.clientId === vault.userId;
      if (own || verifier.isKnown(space.id)) await verifier.open(space.id, { known: space }).catch(() => undefined);
    });

    const people = new Map<string, { name: string | null; email: string }>();
    if (staff) {
      const { users } = await api(listUsers, {});
      const verified = vault.escrow ? await trust.directory() : null;
      // Escrow copies signed for an escrow key a verified rotation replaced (issue 21).
      const previousFingerprints = vault.escrow ? (await trust.escrowHistory()).previousFingerprints : [];
      await Promise.all(
        users
          .filter((user) => user.role === 'client')
          .map(async (user) => {
            // The escrow copy opens only when its certified owner vouched for it (not on the server's word).
            const proof = verified && {
              owner: verified.identities.get(user.id) ?? null,
              statement: verified.entries.find((entry) => entry.id === user.id)?.escrowCopyStatement ?? null,
              previousFingerprints,
            };
            const profile = proof ? await orNull(openProfile(vault, user, proof)) : null;
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
        security: verifier.security(space.id),
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

  async function versionView(key: SecretKey<'space'> | null, spaceId: string, version: DocumentVersion, verification: Verification): Promise<VersionView> {
    return versionViewOf(version, await withKey(key, (k) => openVersionMetadata(k, spaceId, version)), verification);
  }

  async function documentView(key: SecretKey<'space'> | null, document: DocumentSummary, verification: Verification): Promise<DocumentView> {
    return documentViewOf(document, await versionView(key, document.spaceId, document.current, verification), verification);
  }

  async function folderView(key: SecretKey<'space'> | null, spaceId: string, folder: Folder, verification: Verification): Promise<FolderView> {
    const signed = verification.state?.folders.get(folder.id);
    return {
      id: folder.id,
      parentId: folder.parentId,
      name: await withKey(key, (k) => openFolderName(k, spaceId, folder.id, folder.name)),
      createdAt: folder.createdAt,
      createdBy: signed?.createdBy ?? null,
      deletedAt: folder.deletedAt,
      deletedBy: signed ? signed.deletedBy : null,
      unverified: !signed || verification.unverified.has(folder.id),
    };
  }

  async function messageView(key: SecretKey<'space'> | null, spaceId: string, message: Message, verification: Verification): Promise<MessageView> {
    const signed = verification.state?.messages.get(message.id);
    const revisions = await Promise.all(
      message.revisions.map(async (revision) => ({
        revision: revision.revision,
        text: (await withKey(key, (k) => openMessageBody(k, spaceId, message.threadId, message.id, revision.revision, revision.body)))?.text ?? null,
        createdAt: revision.createdAt,
      })),
    );
    return {
      id: message.id,
      threadId: message.threadId,
      authorId: signed?.author ?? null,
      unverified: !signed || verification.unverified.has(message.id),
      createdAt: message.createdAt,
      revisions,
      attachments: message.attachments,
    };
  }

  async function threadView(key: SecretKey<'space'> | null, thread: Thread, verification: Verification): Promise<ThreadView> {
    const signed = verification.state?.threads.get(thread.id);
    return {
      id: thread.id,
      spaceId: thread.spaceId,
      subject: await withKey(key, (k) => openThreadSubject(k, thread.spaceId, thread.id, thread.subject)),
      createdAt: thread.createdAt,
      createdBy: signed?.createdBy ?? null,
      unverified: !signed || verification.unverified.has(thread.id),
      lastMessageAt: thread.lastMessageAt,
      messageCount: thread.messageCount,
      unreadCount: thread.unreadCount,
    };
  }

  async function threadDetail(
    key: SecretKey<'space'> | null,
    detail: { thread: Thread; messages: readonly Message[] },
    verification: Verification,
    security: SpaceSecurity,
  ): Promise<ThreadDetailView> {
    return {
      thread: await threadView(key, detail.thread, verification),
      messages: await Promise.all(detail.messages.map((message) => messageView(key, detail.thread.spaceId, message, verification))),
      security,
    };
  }

  async function requestView(key: SecretKey<'space'> | null, request: DocumentRequest, verification: Verification): Promise<RequestView> {
    const signed = verification.state?.requests.get(request.id);
    const [body, items] = await Promise.all([
      withKey(key, (k) => openRequestBody(k, request.spaceId, request.id, request.body)),
      Promise.all(
        request.items.map(async (item) => ({
          id: item.id,
          description: (await withKey(key, (k) => openRequestItem(k, request.spaceId, request.id, item.id, item.body)))?.description ?? null,
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
      createdBy: signed?.createdBy ?? null,
      closedAt: request.closedAt,
      closedBy: signed ? signed.closedBy : null,
      items,
      unverified: !signed || verification.unverified.has(request.id),
    };
  }

  /**
   * One item (a document with its versions, a thread with its messages) read and reconciled with
   * its space's history; the server checks access. The first read names the space; a second read
   * (after a race with a writer) fetches again.
   */
  async function verifiedItem<L>(scope: string, fetchItem: () => Promise<L>, spaceIdOf: (item: L) => string, reconcile: (state: SpaceState | null, item: L) => Promise<Reconciliation>) {
    let fresh: L | null = await fetchItem();
    const spaceId = spaceIdOf(fresh);
    const read = await reconciledRead(
      spaceId,
      scope,
      async () => {
        const item = fresh ?? (await fetchItem());
        fresh = null;
        return item;
      },
      reconcile,
    );
    return { spaceId, ...read };
  }

  const verifiedDocument = (documentId: string) =>
    verifiedItem(`document:${documentId}`, () => api(getDocument, { params: { documentId } }), (history) => history.document.spaceId, reconcileDocumentHistory);

  const verifiedThread = (threadId: string) =>
    verifiedItem(`thread:${threadId}`, () => api(getThread, { params: { threadId } }), (detail) => detail.thread.spaceId, reconcileThread);

  /** The view of a document the server returned after a write, against the state that now holds the write. */
  async function documentAfterWrite(document: DocumentSummary): Promise<DocumentView> {
    const { key, state } = await verifier.open(document.spaceId);
    return documentView(key, document, { state, unverified: new Set() });
  }

  return {
    spaceKeyOf,
    verifier,

    listSpaces: directory,

    async listDocuments(spaceId: string): Promise<DocumentListing> {
      let started: number | undefined;
      const { key, listing, verification, security } = await reconciledRead(
        spaceId,
        'documents',
        async (spaceKey) => {
          const folders: Folder[] = [];
          const documents: DocumentSummary[] = [];
          // Each page's metadata is decrypted while the next page is fetched (WebCrypto runs off this thread).
          const pages: Promise<(DocumentMetadata | null)[]>[] = [];
          let cursor: string | undefined;
          try {
            do {
              const page = await api(listDocumentsEndpoint, {
                params: { spaceId },
                query: { limit: MAX_DOCUMENT_PAGE, ...(cursor !== undefined && { cursor }) },
              });
              started ??= performance.now();
              folders.push(...page.folders);
              documents.push(...page.documents);
              pages.push(mapLimited(page.documents, 256, (d) => withKey(spaceKey, (k) => openVersionMetadata(k, spaceId, d.current))));
              cursor = page.nextCursor ?? undefined;
            } while (cursor !== undefined);
          } catch (error) {
            // Pages already decrypting settle unobserved otherwise.
            await Promise.allSettled(pages);
            throw error;
          }
          return { folders, documents, metadata: (await Promise.all(pages)).flat() };
        },
        reconcileDocumentListing,
      );
      const folderViews = await Promise.all(listing.folders.map((folder) => folderView(key, spaceId, folder, verification)));
      const documents = listing.documents.map((document, index) =>
        documentViewOf(document, versionViewOf(document.current, listing.metadata[index] ?? null, verification), verification),
      );
      started ??= performance.now();
      const decryptMs = Math.round(performance.now() - started);
      documents.sort((a, b) => {
        const an = a.current.name;
        const bn = b.current.name;
        if (an === null || bn === null) return an === bn ? a.id.localeCompare(b.id) : an === null ? 1 : -1;
        return nameCollator.compare(an, bn) || a.id.localeCompare(b.id);
      });
      folderViews.sort((a, b) => nameCollator.compare(a.name ?? '\uffff', b.name ?? '\uffff') || a.id.localeCompare(b.id));
      return { folders: folderViews, documents, decryptMs, security };
    },

    async documentHistory(documentId: string): Promise<DocumentHistoryView> {
      const { spaceId, key, listing, verification, security } = await verifiedDocument(documentId);
      return {
        document: await documentView(key, listing.document, verification),
        versions: await Promise.all(listing.versions.map((version) => versionView(key, spaceId, version, verification))),
        security,
      };
    },

    async deleteDocument(documentId: string): Promise<DocumentView> {
      const { document } = await api(getDocument, { params: { documentId } });
      const deleted = await verifier.signedWrite(
        document.spaceId,
        documentDeleteDraft(documentId),
        (entry) => api(deleteDocumentEndpoint, { params: { documentId }, body: { entry } }),
        requireSigned((state) => state.documents.has(documentId)),
      );
      return documentAfterWrite(deleted);
    },

    async moveDocument(documentId: string, folderId: string | null): Promise<DocumentView> {
      const { document } = await api(getDocument, { params: { documentId } });
      const moved = await verifier.signedWrite(
        document.spaceId,
        documentMoveDraft(documentId, folderId),
        (entry) => api(moveDocumentEndpoint, { params: { documentId }, body: { folderId, entry } }),
        requireSigned((state) => state.documents.has(documentId) && (folderId === null || state.folders.has(folderId))),
      );
      return documentAfterWrite(moved);
    },

    async createFolder(spaceId: string, parentId: string | null, name: string): Promise<FolderView> {
      const key = await spaceKeyOf(spaceId);
      const id = newClientId();
      const sealed = await sealFolderName(key, spaceId, id, name);
      const folder = await verifier.signedWrite(
        spaceId,
        await folderCreateDraft({ id, parentId, name: sealed }),
        (entry) => api(createFolderEndpoint, { params: { spaceId }, body: { id, parentId, name: sealed, entry } }),
        requireSigned((state) => parentId === null || state.folders.has(parentId)),
      );
      const { state } = await verifier.open(spaceId);
      return folderView(key, spaceId, folder, { state, unverified: new Set() });
    },

    async renameFolder(spaceId: string, folderId: string, name: string): Promise<FolderView> {
      const key = await spaceKeyOf(spaceId);
      const sealed = await sealFolderName(key, spaceId, folderId, name);
      const folder = await verifier.signedWrite(
        spaceId,
        await folderRenameDraft(folderId, sealed),
        (entry) => api(renameFolderEndpoint, { params: { folderId }, body: { name: sealed, entry } }),
        requireSigned((state) => state.folders.has(folderId)),
      );
      const { state } = await verifier.open(spaceId);
      return folderView(key, spaceId, folder, { state, unverified: new Set() });
    },

    async deleteFolder(spaceId: string, folderId: string): Promise<FolderView> {
      const folder = await verifier.signedWrite(
        spaceId,
        folderDeleteDraft(folderId),
        (entry) => api(deleteFolderEndpoint, { params: { folderId }, body: { entry } }),
        requireSigned((state) => state.folders.has(folderId)),
      );
      const { key, state } = await verifier.open(spaceId);
      return folderView(key, spaceId, folder, { state, unverified: new Set() });
    },

    async listThreads(spaceId: string): Promise<ThreadList> {
      const { key, listing, verification, security } = await reconciledRead(
        spaceId,
        'threads',
        async () => (await api(listThreadsEndpoint, { params: { spaceId } })).threads,
        reconcileThreadList,
      );
      return { threads: await Promise.all(listing.map((thread) => threadView(key, thread, verification))), security };
    },

    async openThread(threadId: string): Promise<ThreadDetailView> {
      const { key, listing, verification, security } = await verifiedThread(threadId);
      return threadDetail(key, listing, verification, security);
    },

    async startThread(spaceId: string, subject: string, text: string, attachments: readonly string[]): Promise<ThreadDetailView> {
      const key = await spaceKeyOf(spaceId);
      const threadId = newClientId();
      const messageId = newClientId();
      const [sealedSubject, body] = await Promise.all([
        sealThreadSubject(key, spaceId, threadId, subject),
        sealMessageBody(key, spaceId, threadId, messageId, 1, { text }),
      ]);
      const message = { messageId, body, attachments: [...attachments] };
      const created = await verifier.signedWrite(
        spaceId,
        await threadCreateDraft({ threadId, subject: sealedSubject, message }),
        (entry) => api(createThread, { params: { spaceId }, body: { threadId, subject: sealedSubject, message, entry } }),
        requireSigned((state) => attachments.every((id) => state.documents.has(id))),
      );
      const { state } = await verifier.open(spaceId);
      return threadDetail(key, created, { state, unverified: new Set() }, verifier.security(spaceId));
    },

    async reply(threadId: string, text: string, attachments: readonly string[]): Promise<MessageView> {
      const { spaceId } = await verifiedThread(threadId);
      const key = await spaceKeyOf(spaceId);
      const messageId = newClientId();
      const body = await sealMessageBody(key, spaceId, threadId, messageId, 1, { text });
      const message = { messageId, body, attachments: [...attachments] };
      const posted = await verifier.signedWrite(
        spaceId,
        await messagePostDraft(threadId, message),
        (entry) => api(postMessage, { params: { threadId }, body: { ...message, entry } }),
        requireSigned((state) => state.threads.has(threadId) && attachments.every((id) => state.documents.has(id))),
      );
      const { state } = await verifier.open(spaceId);
      return messageView(key, spaceId, posted, { state, unverified: new Set() });
    },

    async editMessage(threadId: string, messageId: string, text: string): Promise<MessageView> {
      const { spaceId, listing } = await verifiedThread(threadId);
      const key = await spaceKeyOf(spaceId);
      const message = listing.messages.find((m) => m.id === messageId);
      if (!message) throw new ApiError({ status: 404, code: 'message_not_found', message: 'This message does not exist (any more).' });
      // The next revision number comes from the signed history when the message is in it.
      const { state: before } = await verifier.open(spaceId);
      const signedRevisions = before?.messages.get(messageId)?.revisions.length;
      const revision = (signedRevisions ?? Math.max(...message.revisions.map((r) => r.revision))) + 1;
      const body = await sealMessageBody(key, spaceId, threadId, messageId, revision, { text });
      const revised = await verifier.signedWrite(
        spaceId,
        await messageReviseDraft(threadId, messageId, revision, body),
        (entry) => api(reviseMessage, { params: { messageId }, body: { revision, body, entry } }),
        requireSigned((state) => state.messages.has(messageId)),
      );
      const { state } = await verifier.open(spaceId);
      return messageView(key, spaceId, revised, { state, unverified: new Set() });
    },

    async markThreadRead(threadId: string): Promise<void> {
      await api(markThreadReadEndpoint, { params: { threadId } });
    },

    async listRequests(spaceId: string): Promise<RequestList> {
      const { key, listing, verification, security } = await reconciledRead(
        spaceId,
        'requests',
        async () => (await api(listRequestsEndpoint, { params: { spaceId } })).requests,
        reconcileRequests,
      );
      return { requests: await Promise.all(listing.map((request) => requestView(key, request, verification))), security };
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
      const fields = { requestId, body, dueDate: request.dueDate, items };
      const created = await verifier.signedWrite(spaceId, await requestCreateDraft(fields), (entry) =>
        api(createRequestEndpoint, { params: { spaceId }, body: { ...fields, entry } }),
      );
      const { state } = await verifier.open(spaceId);
      return requestView(key, created, { state, unverified: new Set() });
    },

    async closeRequest(spaceId: string, requestId: string): Promise<RequestView> {
      const closed = await verifier.signedWrite(
        spaceId,
        requestCloseDraft(requestId),
        (entry) => api(closeRequestEndpoint, { params: { requestId }, body: { entry } }),
        requireSigned((state) => state.requests.has(requestId)),
      );
      const { key, state } = await verifier.open(spaceId);
      return requestView(key, closed, { state, unverified: new Set() });
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
