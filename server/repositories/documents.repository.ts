// All SQL of folders, documents and their append-only versions, and of the blobs versions are made from.
import type { Insertable, Updateable } from 'kysely';
import type { BlobRow, Db, DocumentRow, DocumentsTable, DocumentVersionRow, DocumentVersionsTable, FolderRow, FoldersTable, Trx } from '../db/database';

type Executor = Db | Trx;

export async function insertFolder(trx: Trx, row: Insertable<FoldersTable>): Promise<void> {
  await trx.insertInto('folders').values(row).execute();
}

export function findFolder(db: Executor, id: string): Promise<FolderRow | undefined> {
  return db.selectFrom('folders').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateFolder(trx: Trx, id: string, changes: Updateable<FoldersTable>): Promise<void> {
  await trx.updateTable('folders').set(changes).where('id', '=', id).execute();
}

/** Every folder of a space, tombstones included. */
export function listFolders(db: Executor, spaceId: string): Promise<FolderRow[]> {
  return db.selectFrom('folders').selectAll().where('space_id', '=', spaceId).orderBy('id').execute();
}

/** Whether a folder holds a document or a subfolder that is not deleted. */
export async function folderHasLiveContent(db: Executor, folderId: string): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.exists(eb.selectFrom('documents').select('id').where('folder_id', '=', folderId).where('deleted_at', 'is', null)).as('documents'),
      eb.exists(eb.selectFrom('folders').select('id').where('parent_id', '=', folderId).where('deleted_at', 'is', null)).as('folders'),
    ])
    .executeTakeFirstOrThrow();
  return Boolean(row.documents) || Boolean(row.folders);
}

export async function insertDocument(trx: Trx, row: Insertable<DocumentsTable>): Promise<void> {
  await trx.insertInto('documents').values(row).execute();
}

export function findDocument(db: Executor, id: string): Promise<DocumentRow | undefined> {
  return db.selectFrom('documents').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateDocument(trx: Trx, id: string, changes: Updateable<DocumentsTable>): Promise<void> {
  await trx.updateTable('documents').set(changes).where('id', '=', id).execute();
}

export async function insertVersion(trx: Trx, row: Insertable<DocumentVersionsTable>): Promise<void> {
  await trx.insertInto('document_versions').values(row).execute();
}

export function findVersion(db: Executor, id: string): Promise<DocumentVersionRow | undefined> {
  return db.selectFrom('document_versions').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findVersionByBlob(db: Executor, blobId: string): Promise<DocumentVersionRow | undefined> {
  return db.selectFrom('document_versions').selectAll().where('blob_id', '=', blobId).executeTakeFirst();
}

/** Every version of a document, oldest first. */
export function listVersions(db: Executor, documentId: string): Promise<DocumentVersionRow[]> {
  return db.selectFrom('document_versions').selectAll().where('document_id', '=', documentId).orderBy('number').execute();
}

export type DocumentWithCurrent = DocumentRow & { readonly current: DocumentVersionRow };

function selectWithCurrent(db: Executor) {
  return db
    .selectFrom('documents as d')
    .innerJoin('document_versions as v', 'v.id', 'd.current_version_id')
    .selectAll('d')
    .select([
      'v.id as v_id',
      'v.document_id as v_document_id',
      'v.number as v_number',
      'v.blob_id as v_blob_id',
      'v.size as v_size',
      'v.wrapped_file_key as v_wrapped_file_key',
      'v.metadata as v_metadata',
      'v.uploaded_by as v_uploaded_by',
      'v.created_at as v_created_at',
    ]);
}

type JoinedRow = Awaited<ReturnType<ReturnType<typeof selectWithCurrent>['executeTakeFirstOrThrow']>>;

function splitJoined(row: JoinedRow): DocumentWithCurrent {
  const { v_id, v_document_id, v_number, v_blob_id, v_size, v_wrapped_file_key, v_metadata, v_uploaded_by, v_created_at, ...document } = row;
  return {
    ...document,
    current: {
      id: v_id,
      document_id: v_document_id,
      number: v_number,
      blob_id: v_blob_id,
      size: v_size,
      wrapped_file_key: v_wrapped_file_key,
      metadata: v_metadata,
      uploaded_by: v_uploaded_by,
      created_at: v_created_at,
    },
  };
}

export async function findDocumentWithCurrent(db: Executor, id: string): Promise<DocumentWithCurrent | undefined> {
  const row = await selectWithCurrent(db).where('d.id', '=', id).executeTakeFirst();
  return row && splitJoined(row);
}

/**
 * One page of a space's documents (tombstones included) in id order after `afterId`, each joined
 * with its current version: ONE query walking the (space_id, id) index.
 */
export async function listDocumentPage(db: Executor, spaceId: string, afterId: string | null, limit: number): Promise<DocumentWithCurrent[]> {
  let query = selectWithCurrent(db).where('d.space_id', '=', spaceId);
  if (afterId !== null) query = query.where('d.id', '>', afterId);
  const rows = await query.orderBy('d.id').limit(limit).execute();
  return rows.map(splitJoined);
}

/** Which of `ids` are documents of `spaceId` that are not deleted. */
export async function findLiveDocumentIds(db: Executor, spaceId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('documents').select('id').where('space_id', '=', spaceId).where('deleted_at', 'is', null).where('id', 'in', ids).execute();
  return rows.map((row) => row.id);
}

/** The blob of a completed upload by `userId` with `purpose`: a blob that user may make a version of. */
export function findUploadedBlob(db: Executor, blobId: string, userId: string, purpose: string): Promise<BlobRow | undefined> {
  return db
    .selectFrom('blobs as b')
    .innerJoin('uploads as u', 'u.blob_id', 'b.id')
    .selectAll('b')
    .where('b.id', '=', blobId)
    .where('b.created_by', '=', userId)
    .where('u.user_id', '=', userId)
    .where('u.status', '=', 'completed')
    .where('u.purpose', '=', purpose)
    .executeTakeFirst();
}
