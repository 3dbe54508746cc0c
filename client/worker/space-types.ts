// What the page sees of spaces, documents, messages and requests: decrypted views and the signatures
// of the crypto worker's space operations (implemented in ./space-operations.ts and ./transfers.ts).
// WARNING: nothing here is key material; a field that could not be decrypted is null, and the row
// says so ("cannot decrypt this item") without breaking the page (one bad row never breaks a listing).
import type { Profile } from '../../shared/flows/account-flows';
import type { HistoryProblem } from '../../shared/flows/space-history';
import type { ListedItemKind } from '../../shared/flows/space-reconcile';

export type { Profile };

/**
 * What is wrong with a space, as the crypto worker found it (SECURITY.md §4.9). Each has its own text:
 * - rollback: the server shows an older history than this account verified before;
 * - broken-chain: a history entry is missing, reordered or duplicated;
 * - bad-signature: an entry is altered (its signature does not verify);
 * - unknown-author: an entry is signed by a key nobody vouches for (re-attributed or forged);
 * - invalid-entry: an entry is malformed or describes an impossible change;
 * - mismatch: the server lists an item differently from its signed history (altered, re-attributed, rolled back);
 * - missing: an item of the signed history is not listed (hidden or dropped);
 * - unsigned: an item is listed that is not in the signed history (made before signed histories, or made up),
 *   or the whole space has no signed history yet (legacy, not yet adopted by its client);
 * - key-substituted: the space key the server offers is not the one its creator signed.
 */
export type SecurityProblem = HistoryProblem | 'missing' | 'unsigned' | 'key-substituted';

export interface SecurityWarning {
  readonly problem: SecurityProblem;
  /** The history entry concerned (its seq), when known. */
  readonly entry: number | null;
  /** The listed item concerned, when a listing disagrees with the history. */
  readonly item: { readonly kind: ListedItemKind; readonly id: string } | null;
  /** English, technical: what exactly failed (for support; the page words each problem itself). */
  readonly detail: string;
}

/** The verification verdict on a space that comes with every read of it. */
export interface SpaceSecurity {
  /** Every problem found; empty when everything shown was verified against the signed history. */
  readonly warnings: readonly SecurityWarning[];
  /**
   * False while a warning other than "not in the signed history" is open: writes are refused then
   * (failure code `space_untrusted`). Items that are only unsigned (legacy) leave the space writable.
   */
  readonly writable: boolean;
}

/** A calendar date, YYYY-MM-DD. */
export type DueDate = string;

export interface SpaceView {
  readonly id: string;
  readonly kind: 'client' | 'team';
  /** The client of a client space; null for the team space. */
  readonly clientId: string | null;
  /** The client's decrypted name (staff decrypt it through escrow; a client sees their own). */
  readonly clientName: string | null;
  readonly clientEmail: string | null;
  readonly createdAt: string;
  readonly documentCount: number;
  /** Ciphertext bytes stored in the space. */
  readonly storedBytes: number;
  readonly unreadMessages: number;
  readonly openRequestItems: number;
  readonly lastActivityAt: string;
  /** What this worker knows is wrong with the space (from earlier reads, or a history shorter than this account verified). */
  readonly security: SpaceSecurity;
}

/** Spaces this user can open, and why some cannot be opened yet. */
export interface SpaceDirectory {
  readonly spaces: readonly SpaceView[];
  /** Staff without the escrow key: an Administrator must grant it before client spaces open. */
  readonly needsEscrowAccess: boolean;
}

export interface FolderView {
  readonly id: string;
  readonly parentId: string | null;
  /** Null when the name could not be decrypted. */
  readonly name: string | null;
  readonly createdAt: string;
  /** Authors come from the verified history; null when the item is not in it. */
  readonly createdBy: string | null;
  readonly deletedAt: string | null;
  readonly deletedBy: string | null;
  /** Not exactly as the signed history says (not in it, or listed differently): see the listing's security. */
  readonly unverified: boolean;
}

export interface VersionView {
  readonly id: string;
  readonly documentId: string;
  readonly number: number;
  /** Server time of the upload; cannot be changed by anyone. */
  readonly createdAt: string;
  /** From the verified history; null when the version is not in it. */
  readonly uploadedBy: string | null;
  readonly unverified: boolean;
  /** Ciphertext bytes on the server. */
  readonly cipherSize: number;
  /** Decrypted metadata; all null when it could not be decrypted. */
  readonly name: string | null;
  /** Plaintext bytes. */
  readonly size: number | null;
  readonly type: string | null;
  readonly lastModified: number | null;
}

export interface DocumentView {
  readonly id: string;
  readonly spaceId: string;
  readonly folderId: string | null;
  readonly requestItemId: string | null;
  readonly createdAt: string;
  /** Authors come from the verified history; null when the document is not in it. */
  readonly createdBy: string | null;
  /** Tombstone: who deleted it and when (the row stays listed). */
  readonly deletedAt: string | null;
  readonly deletedBy: string | null;
  readonly versionCount: number;
  readonly current: VersionView;
  /** Not exactly as the signed history says (not in it, or listed differently). */
  readonly unverified: boolean;
}

export interface DocumentListing {
  readonly folders: readonly FolderView[];
  /** Sorted by decrypted name (locale-aware, numeric), undecryptable rows last. */
  readonly documents: readonly DocumentView[];
  /** Milliseconds from the first page's arrival until every document was decrypted (shown nowhere; for profiling). */
  readonly decryptMs: number;
  readonly security: SpaceSecurity;
}

export interface DocumentHistoryView {
  readonly document: DocumentView;
  /** Oldest first. */
  readonly versions: readonly VersionView[];
  readonly security: SpaceSecurity;
}

export interface MessageRevisionView {
  readonly revision: number;
  /** Null when it could not be decrypted. */
  readonly text: string | null;
  readonly createdAt: string;
}

export interface MessageView {
  readonly id: string;
  readonly threadId: string;
  /** From the verified history; null when the message is not in it. */
  readonly authorId: string | null;
  readonly unverified: boolean;
  readonly createdAt: string;
  /** Oldest first; the last one is the current text. More than one means "edited". */
  readonly revisions: readonly MessageRevisionView[];
  readonly attachments: readonly string[];
}

export interface ThreadView {
  readonly id: string;
  readonly spaceId: string;
  readonly subject: string | null;
  readonly createdAt: string;
  /** From the verified history; null when the thread is not in it. */
  readonly createdBy: string | null;
  readonly unverified: boolean;
  readonly lastMessageAt: string;
  readonly messageCount: number;
  readonly unreadCount: number;
}

export interface ThreadDetailView {
  readonly thread: ThreadView;
  readonly messages: readonly MessageView[];
  readonly security: SpaceSecurity;
}

export interface ThreadList {
  readonly threads: readonly ThreadView[];
  readonly security: SpaceSecurity;
}

export interface RequestItemView {
  readonly id: string;
  readonly description: string | null;
  /** Live (not deleted) documents uploaded against the item: non-empty means "uploaded". */
  readonly documentIds: readonly string[];
}

export interface RequestView {
  readonly id: string;
  readonly spaceId: string;
  readonly title: string | null;
  readonly description: string | null;
  readonly dueDate: DueDate;
  readonly createdAt: string;
  /** From the verified history; null when the request is not in it. */
  readonly createdBy: string | null;
  readonly closedAt: string | null;
  readonly closedBy: string | null;
  readonly items: readonly RequestItemView[];
  readonly unverified: boolean;
}

export interface RequestList {
  readonly requests: readonly RequestView[];
  readonly security: SpaceSecurity;
}

export interface NewRequest {
  readonly title: string;
  readonly description: string;
  readonly dueDate: DueDate;
  readonly items: readonly string[];
}

/** Where an upload goes: a new document (in a folder, optionally for a request item) or a new version. */
export type UploadTarget =
  | { readonly kind: 'new-document'; readonly spaceId: string; readonly folderId: string | null; readonly requestItemId: string | null }
  | { readonly kind: 'new-version'; readonly spaceId: string; readonly documentId: string };

/** Progress of one transfer, reported a few times a second. The page computes MiB/s and time left. */
export interface TransferProgress {
  readonly transferId: string;
  readonly phase: 'preparing' | 'encrypting' | 'finishing' | 'decrypting';
  /** Plaintext bytes processed so far and in all. */
  readonly doneBytes: number;
  readonly totalBytes: number;
}

export type ProgressCallback = (progress: TransferProgress) => void;

/** The space operations of the crypto worker as the page calls them (each returns a WorkerOutcome). */
export interface SpaceOperations {
  listSpaces(): Promise<SpaceDirectory>;
  listDocuments(spaceId: string): Promise<DocumentListing>;
  documentHistory(documentId: string): Promise<DocumentHistoryView>;
  deleteDocument(documentId: string): Promise<DocumentView>;
  moveDocument(documentId: string, folderId: string | null): Promise<DocumentView>;
  createFolder(spaceId: string, parentId: string | null, name: string): Promise<FolderView>;
  renameFolder(spaceId: string, folderId: string, name: string): Promise<FolderView>;
  deleteFolder(spaceId: string, folderId: string): Promise<FolderView>;
  listThreads(spaceId: string): Promise<ThreadList>;
  openThread(threadId: string): Promise<ThreadDetailView>;
  startThread(spaceId: string, subject: string, text: string, attachments: readonly string[]): Promise<ThreadDetailView>;
  reply(threadId: string, text: string, attachments: readonly string[]): Promise<MessageView>;
  editMessage(threadId: string, messageId: string, text: string): Promise<MessageView>;
  markThreadRead(threadId: string): Promise<void>;
  listRequests(spaceId: string): Promise<RequestList>;
  createRequest(spaceId: string, request: NewRequest): Promise<RequestView>;
  closeRequest(spaceId: string, requestId: string): Promise<RequestView>;
  getProfile(): Promise<Profile>;
  updateProfile(profile: Profile): Promise<void>;
}

/**
 * The transfer operations of the crypto worker (./transfers.ts). Callbacks cross the worker boundary
 * with comlink's `proxy(fn)`, ports with `transfer(port, [port])`.
 */
export interface TransferOperations {
  /** Encrypts and uploads one file in parts (retrying dropped parts); resolves with the document. */
  uploadFile(transferId: string, file: File, target: UploadTarget, onProgress: ProgressCallback): Promise<DocumentView>;
  /** Cancels an upload or in-worker decryption; its promise rejects with code `cancelled`. */
  cancelTransfer(transferId: string): Promise<void>;
  /**
   * Hands the download service worker what it needs to decrypt one version as a stream: the worker
   * sends the file key and context over `port` (one-time, never through the page).
   */
  prepareStreamedDownload(versionId: string, documentId: string, port: MessagePort): Promise<void>;
  /** Decrypts a (small) version into a Blob: previews, and browsers without the service worker. */
  decryptToBlob(transferId: string, versionId: string, documentId: string, onProgress: ProgressCallback): Promise<Blob>;
}
