// Space endpoints: client spaces and the team space, folders, documents and their versions,
// message threads, document requests. Every name, message and description travels encrypted.
//
// WARNING: what the server sees, and nothing more (SECURITY.md 4.4.2, 4.9): opaque ids, who did what and
// when (server time), exact ciphertext sizes, which documents are attached to which message or request
// item, folder nesting, and the due date of a request (it sends the reminders). Every other value
// below named `name`, `metadata`, `subject`, `body` is a record envelope made by shared/crypto.
//
// Ids of spaces, folders, documents, versions, threads, messages, requests and request items are
// made by the browser (128 random bits) because the ciphertext binds them before the server sees
// it; the server refuses an id it already has (`id_taken`).
import { z } from 'zod';
import { STAFF_ROLES, defineEndpoint } from './contract';
import { base64url, idSchema, isoDateTime, signedPayloadSchema, type Role } from './wire';

/** Who works in spaces: everyone signed in except Auditors (they read the audit log only). */
export const SPACE_ROLES = ['admin', 'team', 'client'] as const satisfies readonly Role[];

const sealedKey = base64url(600);
const wrappedKey = base64url(256);
/** Small encrypted records: names, subjects, metadata (≤ 4 KiB of ciphertext). */
const smallRecord = base64url(4096);
/** Message bodies and request descriptions (≤ 64 KiB of ciphertext). */
const largeRecord = base64url(65_536);

export const MAX_MESSAGE_ATTACHMENTS = 20;
export const MAX_REQUEST_ITEMS = 50;
/** Documents per listing page (the browser fetches every page, then sorts by decrypted name). */
export const MAX_DOCUMENT_PAGE = 5000;

export const spaceKindSchema = z.enum(['client', 'team']);
export type SpaceKind = z.infer<typeof spaceKindSchema>;

/** What each viewer learns about a space. */
export const spaceSchema = z
  .object({
    id: idSchema,
    kind: spaceKindSchema,
    /** The client whose portal this is; null for the team space. */
    clientId: idSchema.nullable(),
    createdAt: isoDateTime,
    /**
     * Staff: the space key sealed to the organisation escrow key, context {id: spaceId, owner: "escrow"};
     * the browser accepts what it opens only if the signed first history entry names its key commitment.
     * The client of a space made before signed histories (`legacy`): the key sealed to their public key.
     * Otherwise null.
     */
    sealedKey: sealedKey.nullable(),
    /**
     * The client of the space: the space key wrapped (AES-256-GCM record) under their own user key,
     * context {id: spaceId, owner: clientId}. Null for staff and for legacy spaces.
     */
    wrappedKey: wrappedKey.nullable(),
    /** Made before signed histories and not yet adopted: the browser adopts it (POST …/adopt) or warns. */
    legacy: z.boolean(),
    /** Number of entries in the space's signed history (0 for legacy spaces). */
    historyLength: z.number().int(),
    documentCount: z.number().int(),
    /** Ciphertext bytes of every version of every document (tombstoned ones included). */
    storedBytes: z.number().int(),
    unreadMessages: z.number().int(),
    openRequestItems: z.number().int(),
    lastActivityAt: isoDateTime,
  })
  .meta({ id: 'Space' });
export type Space = z.infer<typeof spaceSchema>;

export const createSpaceBodySchema = z
  .strictObject({
    id: idSchema,
    kind: spaceKindSchema,
    /** Client spaces: the space key wrapped under the client's own user key. Absent for the team space. */
    wrappedForClient: wrappedKey.optional(),
    /** The space key sealed to the organisation escrow public key. */
    sealedForEscrow: sealedKey,
    /**
     * Fingerprint (hex) of the escrow key the browser sealed to, after following the signed rotation
     * chain from its pin (issue 21). Must be the organisation's current key: else `escrow_key_changed`.
     */
    escrowFingerprint: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** History entry 0 ("space.create"), signed by the creator: names the digests of both and the key commitment. */
    entry: signedPayloadSchema,
  })
  .meta({ id: 'CreateSpaceBody' });
export type CreateSpaceBody = z.infer<typeof createSpaceBodySchema>;

export const adoptSpaceBodySchema = z
  .strictObject({
    /** Client spaces: the space key wrapped under the client's own user key. Absent for the team space. */
    wrappedForClient: wrappedKey.optional(),
    /**
     * Client spaces: the space key the client opened from its old seal, sealed afresh to the PINNED
     * organisation escrow public key, context {id: spaceId, owner: "escrow"}; it replaces the stored
     * escrow seal. Absent for the team space (staff name the stored escrow seal, which they can open).
     */
    sealedForEscrow: sealedKey.optional(),
    /** With `sealedForEscrow`: the escrow key it is sealed to, which must be the current one (as createSpace). */
    escrowFingerprint: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    /** History entry 0 ("space.create"), signed by the client (or staff for the team space), naming the digests of the escrow seal and the wrap. */
    entry: signedPayloadSchema,
  })
  .meta({ id: 'AdoptSpaceBody' });
export const folderSchema = z
  .object({
    id: idSchema,
    parentId: idSchema.nullable(),
    /** Encrypted folder name: record "folder-name" {id: folderId, owner: spaceId}. */
    name: smallRecord,
    createdAt: isoDateTime,
    createdBy: idSchema,
    deletedAt: isoDateTime.nullable(),
    deletedBy: idSchema.nullable(),
  })
  .meta({ id: 'Folder' });
export type Folder = z.infer<typeof folderSchema>;

export const versionSchema = z
  .object({
    id: idSchema,
    documentId: idSchema,
    /** 1, 2, 3 … in upload order. */
    number: z.number().int(),
    createdAt: isoDateTime,
    uploadedBy: idSchema,
    /** Ciphertext bytes (the browser shows the plaintext size from the metadata). */
    size: z.number().int(),
    /** The file key wrapped under the space key, context {id: documentId/versionId, owner: spaceId}. */
    wrappedFileKey: wrappedKey,
    /** Encrypted metadata (name, size, type, last modified): record "document-metadata" {id: versionId, owner: spaceId/documentId}. */
    metadata: smallRecord,
  })
  .meta({ id: 'DocumentVersion' });
export type DocumentVersion = z.infer<typeof versionSchema>;

export const documentSchema = z
  .object({
    id: idSchema,
    spaceId: idSchema,
    folderId: idSchema.nullable(),
    requestItemId: idSchema.nullable(),
    createdAt: isoDateTime,
    createdBy: idSchema,
    /** A deleted document stays listed as a tombstone: who deleted it and when. */
    deletedAt: isoDateTime.nullable(),
    deletedBy: idSchema.nullable(),
    versionCount: z.number().int(),
    /** The newest version. */
    current: versionSchema,
  })
  .meta({ id: 'Document' });
export type DocumentSummary = z.infer<typeof documentSchema>;

export const newVersionSchema = z
  .strictObject({
    versionId: idSchema,
    /** A blob this user uploaded (POST /api/uploads with purpose `space:<spaceId>`) and not yet used. */
    blobId: idSchema,
    wrappedFileKey: wrappedKey,
    metadata: smallRecord,
  })
  .meta({ id: 'NewVersion' });
export type NewVersion = z.infer<typeof newVersionSchema>;

export const createDocumentBodySchema = z
  .strictObject({
    documentId: idSchema,
    folderId: idSchema.nullable(),
    /** Uploading against an item of a document request. */
    requestItemId: idSchema.nullable(),
    version: newVersionSchema,
    /** The signed "document.create" history entry describing exactly this request. */
    entry: signedPayloadSchema,
  })
  .meta({ id: 'CreateDocumentBody' });
export type CreateDocumentBody = z.infer<typeof createDocumentBodySchema>;

export const documentPageSchema = z
  .object({
    /** Every folder of the space (first page only; empty on later pages). */
    folders: z.array(folderSchema),
    documents: z.array(documentSchema),
    /** Pass as `cursor` for the next page; null on the last page. */
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'DocumentPage' });
export type DocumentPage = z.infer<typeof documentPageSchema>;

export const documentHistorySchema = z
  .object({ document: documentSchema, versions: z.array(versionSchema) })
  .meta({ id: 'DocumentHistory' });
export type DocumentHistory = z.infer<typeof documentHistorySchema>;

export const messageRevisionSchema = z
  .object({
    revision: z.number().int(),
    /** Encrypted body: record "message" {id: messageId/revision, owner: spaceId/threadId}. */
    body: largeRecord,
    createdAt: isoDateTime,
  })
  .meta({ id: 'MessageRevision' });

export const messageSchema = z
  .object({
    id: idSchema,
    threadId: idSchema,
    authorId: idSchema,
    createdAt: isoDateTime,
    /** Every revision, oldest first: an edit adds one, nothing is overwritten. */
    revisions: z.array(messageRevisionSchema).min(1),
    /** Ids of documents of the same space attached to the message. */
    attachments: z.array(idSchema),
  })
  .meta({ id: 'Message' });
export type Message = z.infer<typeof messageSchema>;

export const threadSchema = z
  .object({
    id: idSchema,
    spaceId: idSchema,
    /** Encrypted subject: record "thread-subject" {id: threadId, owner: spaceId}. */
    subject: smallRecord,
    createdAt: isoDateTime,
    createdBy: idSchema,
    lastMessageAt: isoDateTime,
    messageCount: z.number().int(),
    /** Messages by others after this viewer last read the thread. */
    unreadCount: z.number().int(),
  })
  .meta({ id: 'Thread' });
export type Thread = z.infer<typeof threadSchema>;

export const newMessageSchema = z
  .strictObject({
    messageId: idSchema,
    body: largeRecord,
    attachments: z.array(idSchema).max(MAX_MESSAGE_ATTACHMENTS),
  })
  .meta({ id: 'NewMessage' });
export type NewMessage = z.infer<typeof newMessageSchema>;

export const createThreadBodySchema = z
  .strictObject({ threadId: idSchema, subject: smallRecord, message: newMessageSchema, entry: signedPayloadSchema })
  .meta({ id: 'CreateThreadBody' });
export type CreateThreadBody = z.infer<typeof createThreadBodySchema>;

export const threadMessagesSchema = z
  .object({ thread: threadSchema, messages: z.array(messageSchema) })
  .meta({ id: 'ThreadMessages' });

export const reviseMessageBodySchema = z
  .strictObject({
    /** Must be the current revision + 1 (a concurrent edit answers `message_revision_conflict`). */
    revision: z.number().int().min(2).max(10_000),
    body: largeRecord,
    entry: signedPayloadSchema,
  })
  .meta({ id: 'ReviseMessageBody' });

/** Calendar date, YYYY-MM-DD (the organisation's local date). */
export const dueDateSchema = z.iso.date();

export const requestItemSchema = z
  .object({
    id: idSchema,
    /** Encrypted description: record "request-item" {id: itemId, owner: spaceId/requestId}. */
    body: smallRecord,
    /** Documents uploaded against this item that are not deleted. */
    documentIds: z.array(idSchema),
  })
  .meta({ id: 'RequestItem' });

export const documentRequestSchema = z
  .object({
    id: idSchema,
    spaceId: idSchema,
    /** Encrypted title and description: record "document-request" {id: requestId, owner: spaceId}. */
    body: largeRecord,
    dueDate: dueDateSchema,
    createdAt: isoDateTime,
    createdBy: idSchema,
    closedAt: isoDateTime.nullable(),
    closedBy: idSchema.nullable(),
    reminderSentAt: isoDateTime.nullable(),
    items: z.array(requestItemSchema).min(1),
  })
  .meta({ id: 'DocumentRequest' });
export type DocumentRequest = z.infer<typeof documentRequestSchema>;

export const createRequestBodySchema = z
  .strictObject({
    requestId: idSchema,
    body: largeRecord,
    dueDate: dueDateSchema,
    items: z
      .array(z.strictObject({ itemId: idSchema, body: smallRecord }))
      .min(1)
      .max(MAX_REQUEST_ITEMS),
    entry: signedPayloadSchema,
  })
  .meta({ id: 'CreateRequestBody' });

/** The body of a change that carries nothing but its signed history entry (delete, close). */
export const entryOnlyBodySchema = z.strictObject({ entry: signedPayloadSchema }).meta({ id: 'EntryOnlyBody' });

/** How many history entries one page holds. */
export const MAX_HISTORY_PAGE = 5000;

export const historyPageSchema = z
  .object({
    /** Entries after `after`, in order (seq after+1, after+2, …). */
    entries: z.array(signedPayloadSchema),
    /** True when more entries follow: ask again with after = the last seq of this page. */
    more: z.boolean(),
  })
  .meta({ id: 'HistoryPage' });
export type HistoryPage = z.infer<typeof historyPageSchema>;
export type CreateRequestBody = z.infer<typeof createRequestBodySchema>;

const spaceParams = z.strictObject({ spaceId: idSchema });
const documentParams = z.strictObject({ documentId: idSchema });
const threadParams = z.strictObject({ threadId: idSchema });

/**
 * The description of a space write: every one carries its signed history entry, and answers
 * `history_conflict` when the entry does not follow the space's newest entry (the browser loads the
 * newer entries, signs again and retries) or when the space was made before signed histories and is
 * not adopted yet ("This space must first get its signed history; reload.").
 */
const spaceWrite = (summary: string) =>
  `${summary}. Carries its signed history entry (entry_invalid when it does not describe exactly this change by the signed-in user); history_conflict when it does not follow the newest entry of the space, or when the space must first get its signed history (a legacy space: POST /api/spaces/:spaceId/adopt)`;

export const listSpaces = defineEndpoint({
  method: 'get',
  path: '/api/spaces',
  operationId: 'listSpaces',
  summary: 'The spaces this user may open (a client: their own; staff: every client space and the team space)',
  tags: ['spaces'],
  access: { roles: SPACE_ROLES },
  response: z
    .object({
      spaces: z.array(spaceSchema),
      /**
       * The organisation escrow public key (DER SPKI), to seal a new space key to. WARNING: the
       * browser uses it only after checking it against the fingerprint pinned in its key safe.
       */
      escrowPublicKey: base64url(1024),
    })
    .meta({ id: 'SpaceList' }),
  errors: [],
});

export const createSpace = defineEndpoint({
  method: 'post',
  path: '/api/spaces',
  operationId: 'createSpace',
  summary: 'Create the caller’s client space (clients) or the team space (staff), with its sealed keys',
  tags: ['spaces'],
  access: { roles: SPACE_ROLES },
  body: createSpaceBodySchema,
  status: 201,
  response: spaceSchema,
  errors: ['space_exists', 'id_taken', 'entry_invalid', 'escrow_key_changed'],
});

export const adoptSpace = defineEndpoint({
  method: 'post',
  path: '/api/spaces/:spaceId/adopt',
  operationId: 'adoptSpace',
  summary:
    'Give a space made before signed histories its first signed entry (its client, or staff for the team space). A client adopting their own space sends their wrap of the space key and a fresh seal of it to the pinned escrow key; entry 0 names the digests of both. The fresh seal replaces the stored escrow seal: it holds the same space key the client opened from their old seal, so nothing is lost (the audit event records the digest of the replaced escrow seal). Staff adopting the team space send no seal: entry 0 names the digest of the stored escrow seal',
  tags: ['spaces'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  body: adoptSpaceBodySchema,
  response: spaceSchema,
  errors: ['space_not_found', 'space_adopted', 'entry_invalid', 'escrow_key_changed'],
});

export const getHistory = defineEndpoint({
  method: 'get',
  path: '/api/spaces/:spaceId/history',
  operationId: 'getHistory',
  summary: 'The signed history entries of a space after a position (the browser verifies them)',
  tags: ['spaces'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  query: z.strictObject({
    /** The last seq the browser already has; omit for the whole history from entry 0. */
    after: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE).optional(),
  }),
  response: historyPageSchema,
  errors: ['space_not_found', 'bad_request'],
});

export const getSpace = defineEndpoint({
  method: 'get',
  path: '/api/spaces/:spaceId',
  operationId: 'getSpace',
  summary: 'One space',
  tags: ['spaces'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  response: spaceSchema,
  errors: ['space_not_found'],
});

export const listDocuments = defineEndpoint({
  method: 'get',
  path: '/api/spaces/:spaceId/documents',
  operationId: 'listDocuments',
  summary: 'Folders and documents (tombstones included) of a space, a page at a time',
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  query: z.strictObject({
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_DOCUMENT_PAGE).optional(),
  }),
  response: documentPageSchema,
  errors: ['space_not_found', 'bad_request'],
});

export const createFolder = defineEndpoint({
  method: 'post',
  path: '/api/spaces/:spaceId/folders',
  operationId: 'createFolder',
  summary: spaceWrite('Create a folder (encrypted name)'),
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  body: z.strictObject({ id: idSchema, parentId: idSchema.nullable(), name: smallRecord, entry: signedPayloadSchema }).meta({ id: 'CreateFolderBody' }),
  status: 201,
  response: folderSchema,
  errors: ['history_conflict', 'entry_invalid', 'space_not_found', 'folder_not_found', 'folder_deleted', 'id_taken'],
});

export const renameFolder = defineEndpoint({
  method: 'put',
  path: '/api/folders/:folderId/name',
  operationId: 'renameFolder',
  summary: spaceWrite('Rename a folder (a new encrypted name)'),
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: z.strictObject({ folderId: idSchema }),
  body: z.strictObject({ name: smallRecord, entry: signedPayloadSchema }).meta({ id: 'RenameFolderBody' }),
  response: folderSchema,
  errors: ['history_conflict', 'entry_invalid', 'folder_not_found', 'folder_deleted'],
});

export const deleteFolder = defineEndpoint({
  method: 'delete',
  path: '/api/folders/:folderId',
  operationId: 'deleteFolder',
  summary: spaceWrite('Delete an empty folder (it stays as a tombstone)'),
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: z.strictObject({ folderId: idSchema }),
  body: entryOnlyBodySchema,
  response: folderSchema,
  errors: ['history_conflict', 'entry_invalid', 'folder_not_found', 'folder_deleted', 'folder_not_empty'],
});

export const createDocument = defineEndpoint({
  method: 'post',
  path: '/api/spaces/:spaceId/documents',
  operationId: 'createDocument',
  summary: spaceWrite('Turn an uploaded blob into a new document (version 1)'),
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  body: createDocumentBodySchema,
  status: 201,
  response: documentSchema,
  errors: [
    'history_conflict',
    'entry_invalid',
    'space_not_found',
    'folder_not_found',
    'folder_deleted',
    'request_item_not_found',
    'request_closed',
    'blob_not_found',
    'blob_in_use',
    'id_taken',
    'space_quota_exceeded',
  ],
});

export const getDocument = defineEndpoint({
  method: 'get',
  path: '/api/documents/:documentId',
  operationId: 'getDocument',
  summary: 'A document with every version (its history)',
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: documentParams,
  response: documentHistorySchema,
  errors: ['document_not_found'],
});

export const addVersion = defineEndpoint({
  method: 'post',
  path: '/api/documents/:documentId/versions',
  operationId: 'addVersion',
  summary: spaceWrite('Upload a new version; older versions stay downloadable'),
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: documentParams,
  body: newVersionSchema.extend({ entry: signedPayloadSchema }).meta({ id: 'AddVersionBody' }),
  status: 201,
  response: documentSchema,
  errors: ['history_conflict', 'entry_invalid', 'document_not_found', 'document_deleted', 'blob_not_found', 'blob_in_use', 'id_taken', 'space_quota_exceeded'],
});

export const moveDocument = defineEndpoint({
  method: 'put',
  path: '/api/documents/:documentId/folder',
  operationId: 'moveDocument',
  summary: spaceWrite('Move a document to another folder (null: the top level)'),
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: documentParams,
  body: z.strictObject({ folderId: idSchema.nullable(), entry: signedPayloadSchema }).meta({ id: 'MoveDocumentBody' }),
  response: documentSchema,
  errors: ['history_conflict', 'entry_invalid', 'document_not_found', 'document_deleted', 'folder_not_found', 'folder_deleted'],
});

export const deleteDocument = defineEndpoint({
  method: 'delete',
  path: '/api/documents/:documentId',
  operationId: 'deleteDocument',
  summary: spaceWrite('Delete a document: it stays listed as a tombstone (who, when) and its content is no longer served'),
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: documentParams,
  body: entryOnlyBodySchema,
  response: documentSchema,
  errors: ['history_conflict', 'entry_invalid', 'document_not_found', 'document_deleted', 'forbidden'],
});

/**
 * The answer is the version's ciphertext (`application/octet-stream`, 200 or 206 with one `Range`),
 * not JSON. A download (no Range, or a Range from byte 0) is recorded in the audit log.
 */
export const downloadVersion = defineEndpoint({
  method: 'get',
  path: '/api/versions/:versionId/content',
  operationId: 'downloadVersion',
  summary: 'Stream the ciphertext of one document version (Range: bytes=start-end supported)',
  tags: ['documents'],
  access: { roles: SPACE_ROLES },
  params: z.strictObject({ versionId: idSchema }),
  response: z.string().meta({ description: 'The raw bytes (application/octet-stream), not JSON' }),
  errors: ['version_not_found', 'document_deleted', 'blob_not_found', 'range_not_satisfiable'],
});

export const listThreads = defineEndpoint({
  method: 'get',
  path: '/api/spaces/:spaceId/threads',
  operationId: 'listThreads',
  summary: 'Message threads of a space with unread counts, newest activity first',
  tags: ['messages'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  response: z.object({ threads: z.array(threadSchema) }).meta({ id: 'ThreadList' }),
  errors: ['space_not_found'],
});

export const createThread = defineEndpoint({
  method: 'post',
  path: '/api/spaces/:spaceId/threads',
  operationId: 'createThread',
  summary: spaceWrite('Start a thread with its first message'),
  tags: ['messages'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  body: createThreadBodySchema,
  status: 201,
  response: threadMessagesSchema,
  errors: ['history_conflict', 'entry_invalid', 'space_not_found', 'id_taken', 'attachment_invalid'],
});

export const getThread = defineEndpoint({
  method: 'get',
  path: '/api/threads/:threadId',
  operationId: 'getThread',
  summary: 'A thread with every message and every revision',
  tags: ['messages'],
  access: { roles: SPACE_ROLES },
  params: threadParams,
  response: threadMessagesSchema,
  errors: ['thread_not_found'],
});

export const postMessage = defineEndpoint({
  method: 'post',
  path: '/api/threads/:threadId/messages',
  operationId: 'postMessage',
  summary: spaceWrite('Reply in a thread'),
  tags: ['messages'],
  access: { roles: SPACE_ROLES },
  params: threadParams,
  body: newMessageSchema.extend({ entry: signedPayloadSchema }).meta({ id: 'PostMessageBody' }),
  status: 201,
  response: messageSchema,
  errors: ['history_conflict', 'entry_invalid', 'thread_not_found', 'id_taken', 'attachment_invalid'],
});

export const reviseMessage = defineEndpoint({
  method: 'post',
  path: '/api/messages/:messageId/revisions',
  operationId: 'reviseMessage',
  summary: spaceWrite('Edit one’s own message: adds a visible revision, the earlier text stays'),
  tags: ['messages'],
  access: { roles: SPACE_ROLES },
  params: z.strictObject({ messageId: idSchema }),
  body: reviseMessageBodySchema,
  status: 201,
  response: messageSchema,
  errors: ['history_conflict', 'entry_invalid', 'message_not_found', 'message_not_editable', 'message_revision_conflict'],
});

export const markThreadRead = defineEndpoint({
  method: 'post',
  path: '/api/threads/:threadId/read',
  operationId: 'markThreadRead',
  summary: 'Mark every message of a thread as read by this user',
  tags: ['messages'],
  access: { roles: SPACE_ROLES },
  params: threadParams,
  status: 204,
  response: z.null(),
  errors: ['thread_not_found'],
});

export const listRequests = defineEndpoint({
  method: 'get',
  path: '/api/spaces/:spaceId/requests',
  operationId: 'listRequests',
  summary: 'Document requests of a space with the status of each item',
  tags: ['requests'],
  access: { roles: SPACE_ROLES },
  params: spaceParams,
  response: z.object({ requests: z.array(documentRequestSchema) }).meta({ id: 'RequestList' }),
  errors: ['space_not_found'],
});

export const createRequest = defineEndpoint({
  method: 'post',
  path: '/api/spaces/:spaceId/requests',
  operationId: 'createRequest',
  summary: spaceWrite('Ask a client for documents: a checklist with a due date (staff)'),
  tags: ['requests'],
  access: { roles: STAFF_ROLES },
  params: spaceParams,
  body: createRequestBodySchema,
  status: 201,
  response: documentRequestSchema,
  errors: ['history_conflict', 'entry_invalid', 'space_not_found', 'id_taken', 'due_date_invalid'],
});

export const closeRequest = defineEndpoint({
  method: 'post',
  path: '/api/requests/:requestId/close',
  operationId: 'closeRequest',
  summary: spaceWrite('Close a document request (staff); it stays listed as closed'),
  tags: ['requests'],
  access: { roles: STAFF_ROLES },
  params: z.strictObject({ requestId: idSchema }),
  body: entryOnlyBodySchema,
  response: documentRequestSchema,
  errors: ['history_conflict', 'entry_invalid', 'request_not_found', 'request_closed'],
});

export const spaceEndpoints = {
  listSpaces,
  createSpace,
  adoptSpace,
  getSpace,
  getHistory,
  listDocuments,
  createFolder,
  renameFolder,
  deleteFolder,
  createDocument,
  getDocument,
  addVersion,
  moveDocument,
  deleteDocument,
  downloadVersion,
  listThreads,
  createThread,
  getThread,
  postMessage,
  reviseMessage,
  markThreadRead,
  listRequests,
  createRequest,
  closeRequest,
} as const;

/** The upload purpose that reserves quota in a space (POST /api/uploads). */
export function spaceUploadPurpose(spaceId: string): string {
  return `space:${spaceId}`;
}

/** The path of a version's ciphertext, for the service worker and raw fetches. */
export function versionContentPath(versionId: string): string {
  return `/api/versions/${encodeURIComponent(versionId)}/content`;
}
