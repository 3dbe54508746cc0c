// All SQL of uploads, their stored parts and blobs.
import type { Insertable } from 'kysely';
import type { BlobRow, Db, Trx, UploadRow, UploadsTable } from '../db/database';

export async function insertUpload(db: Db | Trx, row: Insertable<UploadsTable>): Promise<void> {
  await db.insertInto('uploads').values(row).execute();
}

export async function findUpload(db: Db | Trx, id: string): Promise<UploadRow | undefined> {
  return db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Open, unexpired uploads of `userId`: how many and their declared bytes. */
export async function sumOpenUploads(db: Db | Trx, userId: string, now: string): Promise<{ count: number; bytes: number }> {
  const row = await db
    .selectFrom('uploads')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes')])
    .where('user_id', '=', userId)
    .where('status', '=', 'open')
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), bytes: Number(row.bytes) };
}

/**
 * Bytes that open, unexpired uploads have declared but not yet stored: room the blob store must
 * keep for them.
 */
export async function sumUnwrittenUploadBytes(db: Db | Trx, now: string): Promise<number> {
  const declared = await db
    .selectFrom('uploads')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'))
    .where('status', '=', 'open')
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  const stored = await db
    .selectFrom('upload_parts')
    .innerJoin('uploads', 'uploads.id', 'upload_parts.upload_id')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('upload_parts.size'), eb.lit(0)).as('bytes'))
    .where('uploads.status', '=', 'open')
    .where('uploads.expires_at', '>', now)
    .where('upload_parts.sha256', '!=', '')
    .executeTakeFirstOrThrow();
  return Math.max(0, Number(declared.bytes) - Number(stored.bytes));
}

/** Records part `partNumber` as stored (replacing an earlier record of the same part). */
export async function upsertUploadPart(
  db: Db | Trx,
  row: { upload_id: string; part_number: number; size: number; stored_at: string; sha256: string },
): Promise<void> {
  await db
    .insertInto('upload_parts')
    .values(row)
    .onConflict((oc) => oc.columns(['upload_id', 'part_number']).doUpdateSet({ size: row.size, stored_at: row.stored_at, sha256: row.sha256 }))
    .execute();
}

/** The stored parts with their verified digests, by part number (a part without a digest counts as not stored). */
export async function listUploadParts(db: Db | Trx, uploadId: string): Promise<{ part_number: number; size: number; sha256: string }[]> {
  return db
    .selectFrom('upload_parts')
    .select(['part_number', 'size', 'sha256'])
    .where('upload_id', '=', uploadId)
    .where('sha256', '!=', '')
    .orderBy('part_number')
    .execute();
}

export async function listUploadPartNumbers(db: Db | Trx, uploadId: string): Promise<number[]> {
  return (await listUploadParts(db, uploadId)).map((row) => row.part_number);
}

/** Forgets one stored part (its file no longer matches its digest): it is then missing until sent again. */
export async function deleteUploadPart(db: Db | Trx, uploadId: string, partNumber: number): Promise<void> {
  await db.deleteFrom('upload_parts').where('upload_id', '=', uploadId).where('part_number', '=', partNumber).execute();
}

export async function deleteUploadParts(db: Db | Trx, uploadId: string): Promise<void> {
  await db.deleteFrom('upload_parts').where('upload_id', '=', uploadId).execute();
}

/** Moves an open upload to `completed` or `aborted`; false when it was no longer open. */
export async function finishUpload(
  db: Db | Trx,
  id: string,
  change: { status: 'completed' | 'aborted'; finished_at: string; blob_id: string | null; parts_sha256?: string },
): Promise<boolean> {
  const result = await db.updateTable('uploads').set(change).where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Uploads whose time is up (any status), oldest first. */
export async function listExpiredUploads(db: Db | Trx, now: string, limit: number): Promise<UploadRow[]> {
  return db.selectFrom('uploads').selectAll().where('expires_at', '<=', now).orderBy('expires_at').limit(limit).execute();
}

export async function deleteUpload(db: Db | Trx, id: string): Promise<void> {
  await db.deleteFrom('uploads').where('id', '=', id).execute();
}

export async function insertBlob(db: Db | Trx, row: BlobRow): Promise<void> {
  await db.insertInto('blobs').values(row).execute();
}

/** Only for a blob no version uses (the caller checks, in the same transaction). */
export async function deleteBlobRow(db: Db | Trx, id: string): Promise<void> {
  await db.deleteFrom('blobs').where('id', '=', id).execute();
}

/** Which of `ids` have a blob row. */
export async function findBlobIds(db: Db | Trx, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('blobs').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((row) => row.id));
}

export async function findBlob(db: Db | Trx, id: string): Promise<BlobRow | undefined> {
  return db.selectFrom('blobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The blob, if no document version was made from it yet (a filed blob is served only through its version). */
export async function findUnfiledBlob(db: Db | Trx, id: string): Promise<BlobRow | undefined> {
  return db
    .selectFrom('blobs as b')
    .selectAll('b')
    .where('b.id', '=', id)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('document_versions as v').select('v.id').whereRef('v.blob_id', '=', 'b.id'))))
    .executeTakeFirst();
}
