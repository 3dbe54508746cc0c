// Upload endpoints: resumable, part-wise upload of ciphertext into the blob store, and blob download.
//
// The protocol (the server only ever sees opaque ids, ciphertext sizes and times):
//  1. `POST /api/uploads` {size, partSize, purpose} declares a file of `size` ciphertext bytes cut
//     into parts of `partSize` bytes (the last part holds the remainder). The answer gives the
//     uploadId, partCount and expiresAt (an upload not completed by then is deleted with its parts).
//  2. `PUT /api/uploads/:id/parts/:n` (n = 0 … partCount - 1) with the part's raw ciphertext as an
//     `application/octet-stream` body (a Blob in the browser), exactly its length, and its SHA-256 as
//     `Content-Digest: sha-256=:<base64>:` (RFC 9530). The server hashes the body while storing it
//     and keeps the part only if the digest matches (else `part_digest_mismatch`: send it again).
//     Parts may come in any order and in parallel; sending a part again replaces it, so after a
//     dropped connection the client re-sends the parts `GET /api/uploads/:id` does not list. A part
//     is either stored whole or not at all: an interrupted body is never visible.
//  3. `POST /api/uploads/:id/complete` {partCount, partsSha256} once every part is stored, where
//     partsSha256 = SHA-256(digest_0 || digest_1 || … ) over the parts' 32-byte digests in order
//     (partsDigestInput). The server checks it against the digests it verified, concatenates the
//     parts into one blob of the declared length, stores it durably and answers {blobId, size}.
//     Repeating a completion that succeeded returns the same blob (the answer may have been lost).
//     Per-part digests let the browser hash each part with WebCrypto off its thread instead of one
//     incremental hash of the whole file on it (README "Benchmarks": that hash halved uploads).
//  4. `DELETE /api/uploads/:id` abandons an upload; its parts are deleted.
//  5. `GET /api/blobs/:blobId` streams the ciphertext back to its uploader (Content-Length; one `Range`
//     supported) until it is filed: a blob made into a document version is served only as that
//     version's content (`GET /api/versions/:id/content`, under the version's rules: space access,
//     410 once the document is deleted); here it answers `blob_not_found`, like an unknown id.
import { z } from 'zod';
import { defineEndpoint } from './contract';
import { idSchema, isoDateTime, type Role } from './wire';

/** Who may upload: every signed-in role except Auditors (read-only). */
export const UPLOAD_ROLES = ['admin', 'team', 'client'] as const satisfies readonly Role[];

const MiB = 1024 * 1024;
/** Smallest part, in bytes (ciphertext; the last part of a file may be smaller). */
export const MIN_PART_BYTES = MiB;
/** Largest part, in bytes: 16 MiB of plaintext plus the format's tags and header (a few KiB). */
export const MAX_PART_BYTES = 16 * MiB + 64 * 1024;
/** Most parts one upload may have. */
export const MAX_PART_COUNT = 100_000;

export const uploadStatusSchema = z.enum(['open', 'completed', 'aborted']);

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 digest in lower-case hex');
/** Part numbers travel in the path as decimal strings. */
const partNumberParam = z
  .string()
  .regex(/^(0|[1-9]\d{0,5})$/, 'must be a part number (0, 1, 2, …)')
  .transform(Number);

export const createUploadBodySchema = z
  .strictObject({
    /** Total ciphertext bytes of the file. */
    size: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    /** Bytes per part (every part but the last). */
    partSize: z.number().int().min(MIN_PART_BYTES).max(MAX_PART_BYTES),
    /**
     * What the blob is for, stored and returned as given: today only `space:<spaceId>`
     * (spaceUploadPurpose in documents.ts), which needs access to that space and room in its quota.
     * WARNING: visible to the server: a kind or an id, never a name or anything else the client encrypts.
     */
    purpose: z.string().regex(/^[\x20-\x7e]{1,200}$/, 'must be 1 to 200 printable ASCII characters'),
  })
  .meta({ id: 'CreateUploadBody' });
export type CreateUploadBody = z.infer<typeof createUploadBodySchema>;

export const createdUploadSchema = z
  .object({ uploadId: idSchema, partCount: z.number().int(), expiresAt: isoDateTime })
  .meta({ id: 'CreatedUpload' });

export const uploadStateSchema = z
  .object({
    uploadId: idSchema,
    status: uploadStatusSchema,
    size: z.number().int(),
    partSize: z.number().int(),
    partCount: z.number().int(),
    purpose: z.string(),
    /** Numbers of the parts stored so far, ascending. */
    storedParts: z.array(z.number().int()),
    createdAt: isoDateTime,
    expiresAt: isoDateTime,
    /** Set once completed. */
    blobId: idSchema.nullable(),
  })
  .meta({ id: 'UploadState' });
export type UploadState = z.infer<typeof uploadStateSchema>;

export const storedPartSchema = z.object({ partNumber: z.number().int(), size: z.number().int() }).meta({ id: 'StoredPart' });

export const completeUploadBodySchema = z
  .strictObject({
    /** Must equal the upload's partCount: the client states it has sent them all. */
    partCount: z.number().int().min(1).max(MAX_PART_COUNT),
    /** SHA-256 over the parts' SHA-256 digests (32 bytes each) in part order: see partsDigestInput. */
    partsSha256: sha256Hex,
  })
  .meta({ id: 'CompleteUploadBody' });

export const completedUploadSchema = z.object({ blobId: idSchema, size: z.number().int() }).meta({ id: 'CompletedUpload' });

const uploadParams = z.strictObject({ id: idSchema });

export const createUpload = defineEndpoint({
  method: 'post',
  path: '/api/uploads',
  operationId: 'createUpload',
  summary: 'Start a resumable upload of one encrypted file',
  tags: ['uploads'],
  access: { roles: UPLOAD_ROLES },
  body: createUploadBodySchema,
  status: 201,
  response: createdUploadSchema,
  errors: ['file_too_large', 'upload_quota_exceeded', 'space_not_found', 'space_quota_exceeded'],
});

export const getUpload = defineEndpoint({
  method: 'get',
  path: '/api/uploads/:id',
  operationId: 'getUpload',
  summary: 'Which parts of an upload are stored (to resume it)',
  tags: ['uploads'],
  access: { roles: UPLOAD_ROLES },
  params: uploadParams,
  response: uploadStateSchema,
  errors: ['upload_not_found'],
});

/**
 * The body is the part's raw ciphertext (`Content-Type: application/octet-stream`), not JSON: the
 * contract declares no body schema, the route reads the request stream itself.
 */
export const uploadPart = defineEndpoint({
  method: 'put',
  path: '/api/uploads/:id/parts/:n',
  operationId: 'uploadPart',
  summary: 'Store one part (raw application/octet-stream body of exactly the part length, Content-Digest: sha-256); replaces a part sent before',
  tags: ['uploads'],
  access: { roles: UPLOAD_ROLES },
  params: z.strictObject({ id: idSchema, n: partNumberParam }),
  response: storedPartSchema,
  errors: [
    'upload_not_found',
    'upload_expired',
    'upload_completed',
    'upload_aborted',
    'upload_busy',
    'part_number_out_of_range',
    'part_length_mismatch',
    'part_digest_missing',
    'part_digest_mismatch',
    'unsupported_media_type',
    'storage_full',
  ],
});

export const completeUpload = defineEndpoint({
  method: 'post',
  path: '/api/uploads/:id/complete',
  operationId: 'completeUpload',
  summary: 'Join the stored parts into one blob after checking their digests',
  tags: ['uploads'],
  access: { roles: UPLOAD_ROLES },
  params: uploadParams,
  body: completeUploadBodySchema,
  response: completedUploadSchema,
  errors: [
    'upload_not_found',
    'upload_expired',
    'upload_aborted',
    'upload_completed',
    'upload_busy',
    'part_count_mismatch',
    'upload_incomplete',
    'upload_digest_mismatch',
    'storage_full',
  ],
});

export const abortUpload = defineEndpoint({
  method: 'delete',
  path: '/api/uploads/:id',
  operationId: 'abortUpload',
  summary: 'Abandon an upload and delete its parts (repeating it is harmless)',
  tags: ['uploads'],
  access: { roles: UPLOAD_ROLES },
  params: uploadParams,
  status: 204,
  response: z.null(),
  errors: ['upload_not_found', 'upload_completed', 'upload_busy'],
});

/**
 * The answer is the blob's bytes (`application/octet-stream`, 200 or 206 with one `Range`), not
 * JSON; the response schema below only describes it for the OpenAPI document.
 */
export const downloadBlob = defineEndpoint({
  method: 'get',
  path: '/api/blobs/:blobId',
  operationId: 'downloadBlob',
  summary: 'Stream an unfiled blob back to its uploader (raw ciphertext; Range: bytes=start-end supported); a filed blob is served only through its version',
  tags: ['uploads'],
  access: { roles: UPLOAD_ROLES },
  params: z.strictObject({ blobId: idSchema }),
  response: z.string().meta({ description: 'The raw bytes (application/octet-stream), not JSON' }),
  errors: ['blob_not_found', 'range_not_satisfiable'],
});

export const uploadEndpoints = { createUpload, getUpload, uploadPart, completeUpload, abortUpload, downloadBlob } as const;

/** The path of one part, for callers that PUT raw bodies themselves (not through callApi). */
export function uploadPartPath(uploadId: string, partNumber: number): string {
  return `/api/uploads/${encodeURIComponent(uploadId)}/parts/${partNumber}`;
}

/** The path of a blob's bytes. */
export function blobPath(blobId: string): string {
  return `/api/blobs/${encodeURIComponent(blobId)}`;
}

/** Byte length of part `n` of a file of `size` bytes cut into `partSize`-byte parts. */
export function partLength(size: number, partSize: number, n: number): number {
  return Math.min(partSize, size - n * partSize);
}

/** How many parts a file of `size` bytes has. */
export function partCountOf(size: number, partSize: number): number {
  return Math.ceil(size / partSize);
}

/** The header carrying a part's SHA-256 (RFC 9530). */
export const PART_DIGEST_HEADER = 'Content-Digest';

/** `sha-256=:<base64>:` for a 32-byte SHA-256 digest. */
export function formatContentDigest(digest: Uint8Array): string {
  if (digest.length !== 32) throw new RangeError('a SHA-256 digest has 32 bytes');
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return `sha-256=:${btoa(binary)}:`;
}

/**
 * The SHA-256 digest of a Content-Digest header value, or null when it has none or a malformed one.
 * Other algorithms in the same header (`sha-512=:…:, sha-256=:…:`) are ignored.
 */
export function parseContentDigest(header: string | undefined | null): Uint8Array | null {
  if (!header || header.length > 1000) return null;
  for (const member of header.split(',')) {
    const match = /^\s*sha-256\s*=\s*:([A-Za-z0-9+/]{43}=):\s*$/.exec(member);
    if (!match) continue;
    const binary = atob(match[1]!);
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  }
  return null;
}

/** What partsSha256 hashes: the parts' 32-byte digests, concatenated in part order. */
export function partsDigestInput(digests: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(digests.length * 32);
  digests.forEach((digest, n) => {
    if (digest.length !== 32) throw new RangeError(`the digest of part ${n} does not have 32 bytes`);
    out.set(digest, n * 32);
  });
  return out;
}
