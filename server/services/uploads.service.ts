// Resumable part-wise uploads into the blob store, blob downloads, and the sweeper of abandoned uploads.
import type { Logger } from 'pino';
import { MAX_PART_COUNT, partCountOf, partLength, partsDigestInput, type CreateUploadBody, type UploadState } from '../../shared/api';
import { fromHex, sha256 as sha256Of, toHex } from '../../shared/crypto';
import {
  BlobDigestMismatchError,
  BlobLengthError,
  BlobSourceError,
  BlobStoreFullError,
  type BlobStore,
  type StagedPart,
} from '../blobs/blob-store';
import { openBlobRange, resolveRange, type BlobRead, type RangeRequest } from '../blobs/blob-range';
import type { BlobRow, Db, UploadRow } from '../db/database';
import type { Config } from '../env';
import { fail } from '../errors';
import { newId } from '../lib/ids';
import {
  deleteBlobRow,
  deleteUpload,
  deleteUploadPart,
  deleteUploadParts,
  findBlob,
  findBlobIds,
  findUnfiledBlob,
  findUpload,
  finishUpload,
  insertBlob,
  insertUpload,
  listExpiredUploads,
  listUploadPartNumbers,
  listUploadParts,
  sumOpenUploads,
  sumUnwrittenUploadBytes,
  upsertUploadPart,
} from '../repositories/uploads.repository';
import type { Actor } from './account-deps';
import { findVersionByBlob } from '../repositories/documents.repository';
import { recordAuditEvent } from './audit.service';
import { assertSpaceRoom, requireSpace, spaceIdOfPurpose } from './space-access';

export interface UploadsDeps {
  readonly db: Db;
  readonly config: Config;
  readonly logger: Logger;
  readonly blobs: BlobStore;
  readonly now: () => Date;
}

/** Open uploads one user may have at once (besides the byte quota): bounds rows and directories. */
export const MAX_OPEN_UPLOADS_PER_USER = 1000;
const SWEEP_PAGE = 100;
/**
 * A blob file with no row this long after it was written is left over from a crash between
 * publishing a joined blob and recording it (or a failed clean-up), never one still being recorded.
 */
export const ORPHAN_BLOB_GRACE_MS = 3_600_000;
/** How often the periodic sweep also looks for such files (it reads the whole store's listing). */
const ORPHAN_SWEEP_INTERVAL_MS = 6 * 3_600_000;
const ORPHAN_PAGE = 500;

export interface PartBody {
  readonly source: AsyncIterable<Uint8Array>;
  /** The Content-Length header, when the client sent one. */
  readonly contentLength: number | null;
  /** The part's SHA-256 from its Content-Digest header (32 bytes). */
  readonly sha256: Uint8Array;
}

/** Runs functions one at a time per key (this process). Scale-out would need a lock in the database instead. */
function createKeyedLock() {
  const tails = new Map<string, Promise<void>>();
  return async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** "Parts 3, 7 and 12 are missing", naming at most 20. */
function describeMissing(missing: readonly number[]): string {
  const shown = missing.slice(0, 20).join(', ');
  const more = missing.length > 20 ? ` and ${missing.length - 20} more` : '';
  return `${missing.length === 1 ? 'Part' : 'Parts'} ${shown}${more} ${missing.length === 1 ? 'is' : 'are'} missing. Upload ${missing.length === 1 ? 'it' : 'them'}, then complete again.`;
}

export function createUploadsService(deps: UploadsDeps) {
  const { db, config, logger, blobs } = deps;
  const ttlMs = config.uploads.ttlHours * 3_600_000;
  const withLock = createKeyedLock();
  /** Uploads whose parts are being joined right now (in this process): no parts, abort or sweep meanwhile. */
  const completing = new Set<string>();
  const nowIso = () => deps.now().toISOString();
  /** When the periodic sweep last looked for blob files without a row (never, at start). */
  let lastOrphanSweep = -Infinity;

  /**
   * May `actor` start an upload for `purpose`? Only `space:<spaceId>` is a purpose, for a space the
   * actor may use (else answered like an unknown space). Returns the space id; the quota of that
   * space is checked inside createUpload's transaction.
   */
  async function assertMayUpload(actor: Actor, purpose: string): Promise<string> {
    const spaceId = spaceIdOfPurpose(purpose);
    if (spaceId === null) {
      throw fail('validation_failed', 'An upload is for a space: send purpose "space:<spaceId>".', { issues: [{ path: 'body.purpose', message: 'must be space:<spaceId>' }] });
    }
    return (await requireSpace(db, actor, spaceId)).id;
  }

  /**
   * Authorisation hook: may `actor` read `blob`? Today only its uploader. The documents issue widens
   * this to members of the space of the document version the blob belongs to.
   */
  function mayReadBlob(actor: Actor, blob: BlobRow): boolean {
    return blob.created_by === actor.userId;
  }

  /** WARNING: another user's upload answers exactly like an unknown id (no existence oracle). */
  async function requireOwnUpload(actor: Actor, uploadId: string): Promise<UploadRow> {
    const upload = await findUpload(db, uploadId);
    if (!upload || upload.user_id !== actor.userId) throw fail('upload_not_found', 'There is no such upload.');
    return upload;
  }

  function isExpired(upload: UploadRow): boolean {
    return upload.expires_at <= nowIso();
  }

  /** Refuses parts for an upload that is not open, has expired or is being completed. */
  function assertAcceptsParts(upload: UploadRow | undefined): asserts upload is UploadRow {
    if (!upload) throw fail('upload_not_found', 'There is no such upload.');
    if (upload.status === 'completed') throw fail('upload_completed', 'This upload is already complete; it takes no more parts.');
    if (upload.status === 'aborted') throw fail('upload_aborted', 'This upload was cancelled; start a new one.');
    if (isExpired(upload)) throw fail('upload_expired', 'This upload took too long and has expired; start a new one.');
    if (completing.has(upload.id)) throw fail('upload_busy', 'This upload is being completed; wait for that request to finish.');
  }

  function storageFull(error?: unknown): never {
    throw fail('storage_full', 'The server has no room for this file. Try again later or contact the administrator.', error === undefined ? undefined : { cause: error });
  }

  /**
   * Deletes blob files that have no row ORPHAN_BLOB_GRACE_MS after they were written: left by a
   * crash between publishing a joined blob and committing its row. Returns how many.
   */
  async function sweepOrphanBlobs(): Promise<number> {
    const modifiedBefore = new Date(deps.now().getTime() - ORPHAN_BLOB_GRACE_MS);
    let removed = 0;
    let page: string[] = [];
    const settle = async () => {
      const known = await findBlobIds(db, page);
      for (const id of page) {
        if (known.has(id)) continue;
        await blobs.delete(id);
        removed += 1;
      }
      page = [];
    };
    for await (const id of blobs.listBlobs(modifiedBefore)) {
      page.push(id);
      if (page.length >= ORPHAN_PAGE) await settle();
    }
    await settle();
    if (removed > 0) logger.warn({ removed }, 'deleted blob files that had no database row (left by a crash)');
    return removed;
  }

  function stateOf(upload: UploadRow, storedParts: number[]): UploadState {
    return {
      uploadId: upload.id,
      status: upload.status,
      size: upload.size,
      partSize: upload.part_size,
      partCount: upload.part_count,
      purpose: upload.purpose,
      storedParts,
      createdAt: upload.created_at,
      expiresAt: upload.expires_at,
      blobId: upload.blob_id,
    };
  }

  /** Deletes the parts of a finished upload: files first (a crash then leaves rows the sweeper removes). */
  async function removeParts(uploadId: string): Promise<void> {
    await blobs.deleteParts(uploadId);
    await deleteUploadParts(db, uploadId);
  }

  return {
    async createUpload(actor: Actor, body: CreateUploadBody) {
      const spaceId = await assertMayUpload(actor, body.purpose);
      const { maxFileBytes, inflightBytesPerUser } = config.uploads;
      if (body.size > maxFileBytes) throw fail('file_too_large', `Files can be at most ${maxFileBytes} bytes (encrypted); this one has ${body.size}.`);
      const partCount = partCountOf(body.size, body.partSize);
      if (partCount > MAX_PART_COUNT) throw fail('file_too_large', `This file needs more than ${MAX_PART_COUNT} parts: use larger parts.`);
      const now = deps.now();
      const row = {
        id: newId(),
        user_id: actor.userId,
        status: 'open' as const,
        size: body.size,
        part_size: body.partSize,
        part_count: partCount,
        purpose: body.purpose,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + ttlMs).toISOString(),
        finished_at: null,
        blob_id: null,
      };
      // One transaction (BEGIN IMMEDIATE): two concurrent starts cannot both squeeze under the quotas.
      await db.transaction().execute(async (trx) => {
        await assertSpaceRoom(trx, spaceId, body.size, config.spaces.quotaBytes, row.created_at);
        const open = await sumOpenUploads(trx, actor.userId, row.created_at);
        if (open.count >= MAX_OPEN_UPLOADS_PER_USER) {
          throw fail('upload_quota_exceeded', `You have ${open.count} unfinished uploads. Finish or cancel some first.`);
        }
        if (open.bytes + body.size > inflightBytesPerUser) {
          throw fail('upload_quota_exceeded', `Unfinished uploads may hold at most ${inflightBytesPerUser} bytes per person. Finish or cancel some first.`);
        }
        // Room for the whole file now, beside what other open uploads have still to send: an
        // upload that starts can finish (its join moves its parts' room, needing none extra).
        const room = await blobs.room();
        if (room !== null && (await sumUnwrittenUploadBytes(trx, row.created_at)) + body.size > room) storageFull();
        await insertUpload(trx, row);
      });
      return { uploadId: row.id, partCount, expiresAt: row.expires_at };
    },

    async getUpload(actor: Actor, uploadId: string): Promise<UploadState> {
      const upload = await requireOwnUpload(actor, uploadId);
      return stateOf(upload, upload.status === 'open' ? await listUploadPartNumbers(db, uploadId) : []);
    },

    /**
     * Streams one part to temporary storage, then (under the upload's lock, after checking again
     * that the upload still takes parts) makes it visible and records it. A re-sent part replaces
     * the earlier copy; a body of the wrong length or a dropped connection leaves nothing behind.
     */
    async storePart(actor: Actor, uploadId: string, partNumber: number, body: PartBody) {
      const upload = await requireOwnUpload(actor, uploadId);
      assertAcceptsParts(upload);
      if (partNumber >= upload.part_count) {
        throw fail('part_number_out_of_range', `This upload has parts 0 to ${upload.part_count - 1}; there is no part ${partNumber}.`);
      }
      const expected = partLength(upload.size, upload.part_size, partNumber);
      if (body.contentLength !== null && body.contentLength !== expected) {
        throw fail('part_length_mismatch', `Part ${partNumber} must be exactly ${expected} bytes; the request declares ${body.contentLength}.`);
      }
      const sha256 = toHex(body.sha256);
      let staged: StagedPart;
      try {
        staged = await blobs.stagePart(uploadId, partNumber, body.source, { size: expected, sha256 });
      } catch (error) {
        if (error instanceof BlobStoreFullError) storageFull(error);
        if (error instanceof BlobDigestMismatchError) {
          throw fail('part_digest_mismatch', `Part ${partNumber} does not match its Content-Digest: it was damaged on the way. Send it again.`, { cause: error });
        }
        if (error instanceof BlobLengthError) {
          const got = error.received > expected ? 'more' : `only ${error.received}`;
          throw fail('part_length_mismatch', `Part ${partNumber} must be exactly ${expected} bytes; the body had ${got}.`, { cause: error });
        }
        if (error instanceof BlobSourceError) {
          throw fail('part_length_mismatch', `The body of part ${partNumber} ended after ${error.received} of ${expected} bytes. Send the part again.`, { cause: error });
        }
        throw error;
      }
      try {
        await withLock(uploadId, async () => {
          assertAcceptsParts(await findUpload(db, uploadId));
          try {
            await staged.commit();
          } catch (error) {
            if (error instanceof BlobStoreFullError) storageFull(error);
            throw error;
          }
          await upsertUploadPart(db, { upload_id: uploadId, part_number: partNumber, size: expected, stored_at: nowIso(), sha256 });
        });
      } finally {
        await staged.discard();
      }
      return { partNumber, size: expected };
    },

    /**
     * Joins the parts into one blob once the client's digest of the part digests matches the
     * digests verified when the parts were stored; the blob only comes into existence with the
     * declared length (checked while writing, before the rename). Repeating a successful completion
     * answers the same blob, so a client whose answer got lost can ask again.
     */
    async completeUpload(actor: Actor, uploadId: string, body: { partCount: number; partsSha256: string }) {
      const upload = await requireOwnUpload(actor, uploadId);
      if (upload.status === 'completed' && upload.blob_id) {
        const blob = await findBlob(db, upload.blob_id);
        if (blob && upload.parts_sha256 === body.partsSha256 && body.partCount === upload.part_count) return { blobId: blob.id, size: blob.size };
        throw fail('upload_completed', 'This upload was already completed with other contents.');
      }
      if (upload.status === 'aborted') throw fail('upload_aborted', 'This upload was cancelled; start a new one.');
      if (isExpired(upload)) throw fail('upload_expired', 'This upload took too long and has expired; start a new one.');
      if (body.partCount !== upload.part_count) {
        throw fail('part_count_mismatch', `This upload has ${upload.part_count} parts, not ${body.partCount}.`);
      }
      let expectedParts: { size: number; sha256: string }[] = [];
      await withLock(uploadId, async () => {
        assertAcceptsParts(await findUpload(db, uploadId));
        const parts = await listUploadParts(db, uploadId);
        const stored = new Set(parts.map((part) => part.part_number));
        const missing: number[] = [];
        for (let n = 0; n < upload.part_count; n++) if (!stored.has(n)) missing.push(n);
        if (missing.length > 0) {
          throw fail('upload_incomplete', describeMissing(missing), {
            issues: missing.slice(0, 1000).map((n) => ({ path: `parts.${n}`, message: 'missing' })),
          });
        }
        // Every part 0 … partCount - 1 is stored, once each, in order: the digest list is complete.
        expectedParts = parts.map((part) => ({ size: part.size, sha256: part.sha256 }));
        const digests = parts.map((part) => fromHex(part.sha256));
        const partsSha256 = toHex(await sha256Of(partsDigestInput(digests)));
        if (partsSha256 !== body.partsSha256) {
          throw fail('upload_digest_mismatch', 'The stored parts do not match the digests sent: a part was replaced or damaged. Send every part again or start over.');
        }
        completing.add(uploadId);
      });
      try {
        let blob;
        try {
          blob = await blobs.composeParts(uploadId, expectedParts, { size: upload.size });
        } catch (error) {
          if (error instanceof BlobStoreFullError) storageFull(error);
          if (error instanceof BlobDigestMismatchError && error.partNumber !== null) {
            // The part file differs from the digest recorded (and acknowledged) for it: replaced
            // with a crash before its record, or damaged on disk. It counts as missing from now on.
            const n = error.partNumber;
            logger.warn({ uploadId, partNumber: n }, 'a stored part does not match its recorded digest');
            await deleteUploadPart(db, uploadId, n);
            throw fail('upload_digest_mismatch', `Part ${n} stored on the server does not match its digest: it was replaced or damaged. Send part ${n} again, then complete again.`, {
              issues: [{ path: `parts.${n}`, message: 'damaged' }],
              cause: error,
            });
          }
          throw error;
        }
        const finishedAt = nowIso();
        try {
          await db.transaction().execute(async (trx) => {
            await insertBlob(trx, { id: blob.id, size: blob.size, sha256: blob.sha256, created_by: actor.userId, created_at: finishedAt });
            if (!(await finishUpload(trx, uploadId, { status: 'completed', finished_at: finishedAt, blob_id: blob.id, parts_sha256: body.partsSha256 }))) {
              throw fail('upload_busy', 'This upload changed while it was being completed.');
            }
            await recordAuditEvent(trx, {
              action: 'upload.completed',
              actorId: actor.userId,
              targetType: 'upload',
              targetId: uploadId,
              ip: actor.ip,
              details: { blobId: blob.id, size: blob.size, partCount: upload.part_count },
            });
          });
        } catch (error) {
          await blobs.delete(blob.id).catch((deleteError: unknown) => logger.error({ err: deleteError, blobId: blob.id }, 'could not delete an unrecorded blob'));
          throw error;
        }
        await removeParts(uploadId).catch((error: unknown) => logger.warn({ err: error, uploadId }, 'parts of a completed upload left for the sweeper'));
        return { blobId: blob.id, size: blob.size };
      } finally {
        completing.delete(uploadId);
      }
    },

    /** Cancels an upload and deletes its parts; cancelling a cancelled upload again does nothing. */
    async abortUpload(actor: Actor, uploadId: string): Promise<void> {
      const upload = await requireOwnUpload(actor, uploadId);
      if (upload.status === 'completed') throw fail('upload_completed', 'This upload is complete; there is nothing to cancel.');
      if (upload.status === 'aborted') return;
      await withLock(uploadId, async () => {
        if (completing.has(uploadId)) throw fail('upload_busy', 'This upload is being completed; wait for that request to finish.');
        const stored = await listUploadPartNumbers(db, uploadId);
        await db.transaction().execute(async (trx) => {
          if (!(await finishUpload(trx, uploadId, { status: 'aborted', finished_at: nowIso(), blob_id: null }))) return;
          await recordAuditEvent(trx, {
            action: 'upload.aborted',
            actorId: actor.userId,
            targetType: 'upload',
            targetId: uploadId,
            ip: actor.ip,
            details: { size: upload.size, partCount: upload.part_count, storedParts: stored.length },
          });
        });
        await removeParts(uploadId);
      });
    },

    /**
     * At startup, before serving: deletes the temporary files of writes that a crash or kill cut
     * short (they would otherwise hold room until the periodic sweep, KLUIS_UPLOAD_TTL_HOURS later).
     */
    async recoverAfterRestart(): Promise<{ temporaryFiles: number }> {
      const temporaryFiles = await blobs.clearTemporary();
      if (temporaryFiles > 0) logger.warn({ temporaryFiles }, 'deleted temporary files left by an interrupted write');
      return { temporaryFiles };
    },

    sweepOrphanBlobs,

    /**
     * Opens an upload's blob (or the requested range) for its uploader, as long as it is not filed:
     * once a document version is made from it, it is served only through that version, under the
     * version's rules (documents.service readVersion: space access, deleted documents answer 410).
     */
    async readBlob(actor: Actor, blobId: string, range: RangeRequest | null): Promise<BlobRead> {
      const blob = await findUnfiledBlob(db, blobId);
      // WARNING: a filed blob, or one the actor may not read, answers exactly like an unknown id.
      if (!blob || !mayReadBlob(actor, blob)) throw fail('blob_not_found', 'There is no such file.');
      return openBlobRange(blobs, blobId, resolveRange(blob.size, range));
    },

    /**
     * Deletes uploads whose time is up, with their parts (never one being completed), temp files a
     * crash left behind and, every few hours, blob files without a row. index.ts calls it periodically.
     */
    async sweepExpiredUploads(): Promise<{ uploads: number; temporaryFiles: number; orphanBlobs: number }> {
      let removed = 0;
      for (;;) {
        const page = await listExpiredUploads(db, nowIso(), SWEEP_PAGE);
        const due = page.filter((upload) => !completing.has(upload.id));
        for (const upload of due) {
          await withLock(upload.id, async () => {
            await blobs.deleteParts(upload.id);
            let unfiled: string | null = null;
            await db.transaction().execute(async (trx) => {
              await deleteUpload(trx, upload.id);
              if (upload.status === 'open') {
                await recordAuditEvent(trx, {
                  action: 'upload.expired',
                  targetType: 'upload',
                  targetId: upload.id,
                  details: { size: upload.size, partCount: upload.part_count },
                });
              }
              // A completed upload that never became a document version: with its upload row gone
              // it can never be filed (documents.service), so its blob goes too. In the same
              // transaction as the check, so a filing either committed first (the blob stays) or
              // finds no blob (blob_not_found).
              if (upload.status === 'completed' && upload.blob_id && !(await findVersionByBlob(trx, upload.blob_id))) {
                await deleteBlobRow(trx, upload.blob_id);
                await recordAuditEvent(trx, {
                  action: 'upload.discarded',
                  targetType: 'blob',
                  targetId: upload.blob_id,
                  details: { uploadId: upload.id, size: upload.size },
                });
                unfiled = upload.blob_id;
              }
            });
            if (unfiled) {
              // After the commit: a failure leaves an unreferenced file (logged), never a row without its file.
              await blobs.delete(unfiled).catch((error: unknown) => logger.warn({ err: error, blobId: unfiled }, 'the blob of a discarded upload could not be deleted'));
            }
          });
          removed += 1;
        }
        if (page.length < SWEEP_PAGE || due.length === 0) break;
      }
      const temporaryFiles = await blobs.sweepTemporary(ttlMs);
      let orphanBlobs = 0;
      if (deps.now().getTime() - lastOrphanSweep >= ORPHAN_SWEEP_INTERVAL_MS) {
        lastOrphanSweep = deps.now().getTime();
        orphanBlobs = await sweepOrphanBlobs();
      }
      return { uploads: removed, temporaryFiles, orphanBlobs };
    },
  };
}

export type UploadsService = ReturnType<typeof createUploadsService>;
