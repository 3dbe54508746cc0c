// Folders, documents and their versions in a space: filing uploaded blobs, history, tombstones, downloads.
import type { Logger } from 'pino';
import {
  MAX_DOCUMENT_PAGE,
  spaceUploadPurpose,
  type CreateDocumentBody,
  type DocumentHistory,
  type DocumentPage,
  type DocumentSummary,
  type DocumentVersion,
  type Folder,
  type NewVersion,
} from '../../shared/api';
import { openBlobRange, resolveRange, type BlobRead, type RangeRequest } from '../blobs/blob-range';
import { BlobNotFoundError, type BlobStore } from '../blobs/blob-store';
import {
  documentCreateDraft,
  documentDeleteDraft,
  documentMoveDraft,
  folderCreateDraft,
  folderDeleteDraft,
  folderRenameDraft,
  versionAddDraft,
} from '../../shared/flows/space-entries';
import type { SignedEntry } from '../../shared/flows/space-history';
import type { Db, DocumentRow, DocumentVersionRow, FolderRow, SpaceRow, Trx } from '../db/database';
import { relaxedTransaction } from '../db/relaxed';
import type { Config } from '../env';
import { fail } from '../errors';
import {
  findDocument,
  findDocumentWithCurrent,
  findFolder,
  findUploadedBlob,
  findVersion,
  findVersionByBlob,
  folderHasLiveContent,
  insertDocument,
  insertFolder,
  insertVersion,
  listDocumentPage,
  listFolders,
  listVersions,
  updateDocument,
  updateFolder,
  type DocumentWithCurrent,
} from '../repositories/documents.repository';
import { findRequestItem } from '../repositories/requests.repository';
import { touchSpace } from '../repositories/spaces.repository';
import { findBlob } from '../repositories/uploads.repository';
import type { Actor } from './account-deps';
import { recordAuditEvent } from './audit.service';
import { assertSpaceRoom, isStaff, requireInUsableSpace, requireSpace } from './space-access';
import { appendEntry, checkEntry } from './space-history';
import type { SpaceNotifier } from './space-notifications';

export interface DocumentsDeps {
  readonly db: Db;
  readonly config: Config;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly spaceNotifier: SpaceNotifier;
  readonly now: () => Date;
}

const idPattern = /^[A-Za-z0-9_-]{22}$/;

const folderNotFound = () => fail('folder_not_found', 'There is no such folder in this space.');
const documentNotFound = () => fail('document_not_found', 'There is no such document.');
const versionNotFound = () => fail('version_not_found', 'There is no such document version.');
const idTaken = () => fail('id_taken', 'This id is in use; make a new one.');

export function folderView(row: FolderRow): Folder {
  return {
    id: row.id,
    parentId: row.parent_id,
    name: row.name,
    createdAt: row.created_at,
    createdBy: row.created_by,
    deletedAt: row.deleted_at,
    deletedBy: row.deleted_by,
  };
}

export function versionView(row: DocumentVersionRow): DocumentVersion {
  return {
    id: row.id,
    documentId: row.document_id,
    number: row.number,
    createdAt: row.created_at,
    uploadedBy: row.uploaded_by,
    size: row.size,
    wrappedFileKey: row.wrapped_file_key,
    metadata: row.metadata,
  };
}

export function documentView(row: DocumentWithCurrent): DocumentSummary {
  return {
    id: row.id,
    spaceId: row.space_id,
    folderId: row.folder_id,
    requestItemId: row.request_item_id,
    createdAt: row.created_at,
    createdBy: row.created_by,
    deletedAt: row.deleted_at,
    deletedBy: row.deleted_by,
    versionCount: row.version_count,
    current: versionView(row.current),
  };
}

export function createDocumentsService(deps: DocumentsDeps) {
  const { db, config, blobs, spaceNotifier } = deps;
  const nowIso = () => deps.now().toISOString();

  async function withCurrent(db_: Db | Trx, documentId: string): Promise<DocumentSummary> {
    const row = await findDocumentWithCurrent(db_, documentId);
    if (!row) throw documentNotFound();
    return documentView(row);
  }

  /** A document of a space the actor may use (a tombstone too). */
  async function requireDocument(actor: Actor, documentId: string): Promise<{ row: DocumentRow; space: SpaceRow }> {
    return requireInUsableSpace(db, actor, await findDocument(db, documentId), documentNotFound);
  }

  /** The folder `folderId` of `spaceId`, not deleted: a folder of another space is unknown here. */
  async function requireLiveFolder(trx: Trx, spaceId: string, folderId: string): Promise<FolderRow> {
    const folder = await findFolder(trx, folderId);
    if (!folder || folder.space_id !== spaceId) throw folderNotFound();
    if (folder.deleted_at) throw fail('folder_deleted', 'This folder was deleted.');
    return folder;
  }

  /** The re-read document inside the transaction: tombstones take no new versions and do not move. */
  async function requireLiveDocument(trx: Trx, documentId: string): Promise<DocumentRow> {
    const row = await findDocument(trx, documentId);
    if (!row) throw documentNotFound();
    if (row.deleted_at) throw fail('document_deleted', 'This document was deleted.');
    return row;
  }

  /**
   * Checks a new version inside the transaction that adds it: a fresh version id, a blob the actor
   * uploaded for this very space (anything else answers like an unknown blob) that no version uses
   * yet, and room in the space. Returns the blob's size, which becomes the version's size.
   */
  async function checkNewVersion(trx: Trx, actor: Actor, spaceId: string, version: NewVersion): Promise<number> {
    if (await findVersion(trx, version.versionId)) throw idTaken();
    const blob = await findUploadedBlob(trx, version.blobId, actor.userId, spaceUploadPurpose(spaceId));
    if (!blob) throw fail('blob_not_found', 'There is no such uploaded file for this space. Upload it (purpose space:<spaceId>) first.');
    if (await findVersionByBlob(trx, blob.id)) throw fail('blob_in_use', 'This uploaded file is already a document version; upload the file again.');
    // The blob is already counted (as an upload not yet filed): filing it adds nothing.
    await assertSpaceRoom(trx, spaceId, 0, config.spaces.quotaBytes, nowIso());
    return blob.size;
  }

  function versionRow(actor: Actor, documentId: string, number: number, size: number, version: NewVersion, at: string): DocumentVersionRow {
    return {
      id: version.versionId,
      document_id: documentId,
      number,
      blob_id: version.blobId,
      size,
      wrapped_file_key: version.wrappedFileKey,
      metadata: version.metadata,
      uploaded_by: actor.userId,
      created_at: at,
    };
  }

  return {
    /** Folders (first page only) and a page of documents in id order, each with its current version. */
    async listDocuments(actor: Actor, spaceId: string, query: { cursor?: string | undefined; limit?: number | undefined }): Promise<DocumentPage> {
      await requireSpace(db, actor, spaceId);
      const cursor = query.cursor ?? null;
      if (cursor !== null && !idPattern.test(cursor)) throw fail('bad_request', 'The cursor is not one this server handed out; start from the first page.');
      const limit = Math.min(query.limit ?? MAX_DOCUMENT_PAGE, MAX_DOCUMENT_PAGE);
      const rows = await listDocumentPage(db, spaceId, cursor, limit + 1);
      const page = rows.slice(0, limit);
      return {
        folders: cursor === null ? (await listFolders(db, spaceId)).map(folderView) : [],
        documents: page.map(documentView),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async createFolder(actor: Actor, spaceId: string, body: { id: string; parentId: string | null; name: string; entry: SignedEntry }): Promise<Folder> {
      const space = await requireSpace(db, actor, spaceId);
      const checked = await checkEntry(db, actor, space.id, body.entry, folderCreateDraft(body));
      const row: FolderRow = {
        id: body.id,
        space_id: space.id,
        parent_id: body.parentId,
        name: body.name,
        created_by: actor.userId,
        created_at: nowIso(),
        deleted_at: null,
        deleted_by: null,
      };
      await db.transaction().execute(async (trx) => {
        if (body.parentId !== null) await requireLiveFolder(trx, space.id, body.parentId);
        if (await findFolder(trx, body.id)) throw idTaken();
        await insertFolder(trx, row);
        await touchSpace(trx, space.id, row.created_at);
        await appendEntry(trx, checked, row.created_at);
        await recordAuditEvent(trx, { action: 'folder.created', actorId: actor.userId, targetType: 'folder', targetId: row.id, ip: actor.ip, details: { spaceId: space.id, parentId: body.parentId } });
      });
      return folderView(row);
    },

    async renameFolder(actor: Actor, folderId: string, body: { name: string; entry: SignedEntry }): Promise<Folder> {
      const { name } = body;
      const { row: folder, space } = await requireInUsableSpace(db, actor, await findFolder(db, folderId), folderNotFound);
      const checked = await checkEntry(db, actor, space.id, body.entry, folderRenameDraft(folder.id, name));
      return db.transaction().execute(async (trx) => {
        const at = nowIso();
        await requireLiveFolder(trx, space.id, folder.id);
        await updateFolder(trx, folder.id, { name });
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, { action: 'folder.renamed', actorId: actor.userId, targetType: 'folder', targetId: folder.id, ip: actor.ip, details: { spaceId: space.id } });
        return folderView({ ...folder, name });
      });
    },

    /** Deletes an empty folder; it stays listed as a tombstone. */
    async deleteFolder(actor: Actor, folderId: string, body: { entry: SignedEntry }): Promise<Folder> {
      const { row: folder, space } = await requireInUsableSpace(db, actor, await findFolder(db, folderId), folderNotFound);
      const checked = await checkEntry(db, actor, space.id, body.entry, folderDeleteDraft(folder.id));
      return db.transaction().execute(async (trx) => {
        const change = { deleted_at: nowIso(), deleted_by: actor.userId };
        const live = await requireLiveFolder(trx, space.id, folder.id);
        if (await folderHasLiveContent(trx, folder.id)) throw fail('folder_not_empty', 'Move or delete the documents and folders in this folder first.');
        await updateFolder(trx, folder.id, change);
        await touchSpace(trx, space.id, change.deleted_at);
        await appendEntry(trx, checked, change.deleted_at);
        await recordAuditEvent(trx, { action: 'folder.deleted', actorId: actor.userId, targetType: 'folder', targetId: folder.id, ip: actor.ip, details: { spaceId: space.id } });
        return folderView({ ...live, ...change });
      });
    },

    async createDocument(actor: Actor, spaceId: string, body: CreateDocumentBody): Promise<DocumentSummary> {
      const space = await requireSpace(db, actor, spaceId);
      const checked = await checkEntry(db, actor, space.id, body.entry, documentCreateDraft(body));
      const at = nowIso();
      const document = await db.transaction().execute(async (trx) => {
        if (body.folderId !== null) await requireLiveFolder(trx, space.id, body.folderId);
        if (body.requestItemId !== null) {
          const item = await findRequestItem(trx, body.requestItemId);
          if (!item || item.space_id !== space.id) throw fail('request_item_not_found', 'There is no such request item in this space.');
          if (item.closed_at) throw fail('request_closed', 'This document request is closed; upload the document without it.');
        }
        if (await findDocument(trx, body.documentId)) throw idTaken();
        const size = await checkNewVersion(trx, actor, space.id, body.version);
        await insertDocument(trx, {
          id: body.documentId,
          space_id: space.id,
          folder_id: body.folderId,
          request_item_id: body.requestItemId,
          created_by: actor.userId,
          created_at: at,
          deleted_at: null,
          deleted_by: null,
          version_count: 1,
          current_version_id: body.version.versionId,
        });
        await insertVersion(trx, versionRow(actor, body.documentId, 1, size, body.version, at));
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, {
          action: 'document.created',
          actorId: actor.userId,
          targetType: 'document',
          targetId: body.documentId,
          ip: actor.ip,
          details: { spaceId: space.id, versionId: body.version.versionId, blobId: body.version.blobId, size, folderId: body.folderId, requestItemId: body.requestItemId },
        });
        return withCurrent(trx, body.documentId);
      });
      await spaceNotifier.notifySpaceActivity(actor, space, 'document');
      return document;
    },

    async getDocument(actor: Actor, documentId: string): Promise<DocumentHistory> {
      const { row } = await requireDocument(actor, documentId);
      return { document: await withCurrent(db, row.id), versions: (await listVersions(db, row.id)).map(versionView) };
    },

    /** A new version (number = count + 1); older versions stay and stay downloadable. */
    async addVersion(actor: Actor, documentId: string, body: NewVersion & { entry: SignedEntry }): Promise<DocumentSummary> {
      const { entry, ...version } = body;
      const { row: found, space } = await requireDocument(actor, documentId);
      const checked = await checkEntry(db, actor, space.id, entry, versionAddDraft(found.id, version));
      const at = nowIso();
      const document = await db.transaction().execute(async (trx) => {
        const row = await requireLiveDocument(trx, documentId);
        const size = await checkNewVersion(trx, actor, space.id, version);
        const number = row.version_count + 1;
        await insertVersion(trx, versionRow(actor, row.id, number, size, version, at));
        await updateDocument(trx, row.id, { version_count: number, current_version_id: version.versionId });
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, {
          action: 'document.version_added',
          actorId: actor.userId,
          targetType: 'document',
          targetId: row.id,
          ip: actor.ip,
          details: { spaceId: space.id, versionId: version.versionId, number, blobId: version.blobId, size },
        });
        return withCurrent(trx, row.id);
      });
      await spaceNotifier.notifySpaceActivity(actor, space, 'document');
      return document;
    },

    async moveDocument(actor: Actor, documentId: string, body: { folderId: string | null; entry: SignedEntry }): Promise<DocumentSummary> {
      const { folderId } = body;
      const { row: found, space } = await requireDocument(actor, documentId);
      const checked = await checkEntry(db, actor, space.id, body.entry, documentMoveDraft(found.id, folderId));
      return db.transaction().execute(async (trx) => {
        const at = nowIso();
        const row = await requireLiveDocument(trx, documentId);
        if (folderId !== null) await requireLiveFolder(trx, space.id, folderId);
        await updateDocument(trx, row.id, { folder_id: folderId });
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, { action: 'document.moved', actorId: actor.userId, targetType: 'document', targetId: row.id, ip: actor.ip, details: { spaceId: space.id, from: row.folder_id, to: folderId } });
        return withCurrent(trx, row.id);
      });
    },

    /** Tombstones a document (who, when): it stays listed, nothing is removed, its content is no longer served. */
    async deleteDocument(actor: Actor, documentId: string, body: { entry: SignedEntry }): Promise<DocumentSummary> {
      const { row: found, space } = await requireDocument(actor, documentId);
      const checked = await checkEntry(db, actor, space.id, body.entry, documentDeleteDraft(found.id));
      return db.transaction().execute(async (trx) => {
        const at = nowIso();
        const row = await requireLiveDocument(trx, documentId);
        if (!isStaff(actor) && row.created_by !== actor.userId) {
          throw fail('forbidden', 'You can only delete documents you uploaded yourself; ask your contact at the office to delete this one.');
        }
        await updateDocument(trx, row.id, { deleted_at: at, deleted_by: actor.userId });
        await touchSpace(trx, space.id, at);
        await appendEntry(trx, checked, at);
        await recordAuditEvent(trx, { action: 'document.deleted', actorId: actor.userId, targetType: 'document', targetId: row.id, ip: actor.ip, details: { spaceId: space.id } });
        return withCurrent(trx, row.id);
      });
    },

    /**
     * Opens a version's ciphertext (or the requested range). A download (the whole file, or a range
     * from byte 0) is recorded in the audit log; later ranges of the same download are not.
     */
    async readVersion(actor: Actor, versionId: string, range: RangeRequest | null): Promise<BlobRead> {
      const version = await findVersion(db, versionId);
      const document = version && (await findDocument(db, version.document_id));
      const { row, space } = await requireInUsableSpace(db, actor, document ?? undefined, versionNotFound);
      if (!version) throw versionNotFound();
      if (row.deleted_at) throw fail('document_deleted', 'This document was deleted; its content is no longer available.');
      const blob = await findBlob(db, version.blob_id);
      if (!blob) throw fail('blob_not_found', 'The content of this version is missing on the server.');
      let read: BlobRead;
      try {
        read = await openBlobRange(blobs, blob.id, resolveRange(blob.size, range));
      } catch (error) {
        if (error instanceof BlobNotFoundError) throw fail('blob_not_found', 'The content of this version is missing on the server.', { cause: error });
        throw error;
      }
      if (read.kind === 'whole' || (read.kind === 'partial' && read.start === 0)) {
        try {
          // A read, not a save: the relaxed commit (SECURITY.md 6 still gets the event in the chain).
          await relaxedTransaction(db, (trx) =>
            recordAuditEvent(trx, { action: 'document.downloaded', actorId: actor.userId, targetType: 'version', targetId: version.id, ip: actor.ip, details: { spaceId: space.id, documentId: row.id } }),
          );
        } catch (error) {
          read.stream.destroy();
          throw error;
        }
      }
      return read;
    },
  };
}

export type DocumentsService = ReturnType<typeof createDocumentsService>;
