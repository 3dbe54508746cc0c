// Integration: the upload protocol over real HTTP (raw fetch for binary bodies), every upload error code, resume, memory, sweeper.
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobPath, formatContentDigest, partsDigestInput, uploadPartPath, type Role } from '../../shared/api';
import { documentCreateDraft } from '../../shared/flows/space-entries';
import type { BlobStore } from '../blobs/blob-store';
import { createLocalDiskBlobStore } from '../blobs/local-disk-blob-store';
import { signFor } from '../test/history-fixture';
import { createTestOrganisation, type Member, type TestOrganisation } from '../test/org-fixture';
import { uploadPurposeFor } from '../test/space-fixture';
import type { Actor } from './account-deps';
import { createUploadsService, ORPHAN_BLOB_GRACE_MS } from './uploads.service';
import { budget } from '../test/budget';

const MiB = 1024 * 1024;

let org: TestOrganisation;
/** Uploads go to a space: the client's own, the team space for staff. */
const purposes: Partial<Record<Role, string>> = {};

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client', 'auditor'], {
    env: { KLUIS_MAX_FILE_BYTES: String(100 * MiB), KLUIS_UPLOAD_QUOTA_BYTES: String(160 * MiB) },
  });
  for (const role of ['client', 'team', 'admin'] as const) purposes[role] = await uploadPurposeFor(member(role));
}, budget(120_000));
afterAll(() => org?.close());

const member = (role: Role): Member => (role === 'admin' ? org.admin : org.members[role]!);
const purposeOf = (role: Role) => purposes[role] ?? 'space:AAAAAAAAAAAAAAAAAAAAAA';
const cookieOf = (role: Role) => [...member(role).client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** The Content-Digest header of a part, as the web app sends it. */
const digestHeader = (bytes: Uint8Array) => ({ 'Content-Digest': formatContentDigest(createHash('sha256').update(bytes).digest()) });
/** What completion sends for `file` cut into `partSize` parts: SHA-256 over the parts' digests. */
function partsSha256(file: Uint8Array, partSize = MiB): string {
  const digests: Uint8Array[] = [];
  for (let offset = 0; offset < file.length; offset += partSize) digests.push(createHash('sha256').update(file.subarray(offset, offset + partSize)).digest());
  return sha256(partsDigestInput(digests));
}

interface RawResponse {
  status: number;
  headers: Headers;
  json: { error?: { code: string; message: string; issues?: { path: string; message: string }[] } } & Record<string, unknown>;
  bytes: Buffer;
}

/** A request as the web app sends it, with `role`'s session cookie. */
async function call(
  role: Role,
  method: string,
  path: string,
  options: { json?: unknown; bytes?: Uint8Array; contentType?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { Origin: org.testApp.config.publicOrigin, Cookie: cookieOf(role), ...options.headers };
  let body: RequestInit['body'];
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.bytes) {
    headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
    body = bodyOf(options.bytes);
  }
  const response = await fetch(org.server.baseUrl + path, { method, headers, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const isJson = /json/.test(response.headers.get('content-type') ?? '');
  return { status: response.status, headers: response.headers, json: isJson && bytes.length ? (JSON.parse(bytes.toString('utf8')) as RawResponse['json']) : {}, bytes };
}

const codeOf = (r: RawResponse) => [r.status, r.json.error?.code];

async function startUpload(role: Role, size: number, partSize = MiB): Promise<{ uploadId: string; partCount: number }> {
  const r = await call(role, 'POST', '/api/uploads', { json: { size, partSize, purpose: purposeOf(role) } });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json as unknown as { uploadId: string; partCount: number };
}

async function putPart(role: Role, uploadId: string, n: number, bytes: Uint8Array, headers: Record<string, string> = digestHeader(bytes)) {
  return call(role, 'PUT', uploadPartPath(uploadId, n), { bytes, headers });
}

/** Uploads `bytes` whole in `partSize` parts and completes; returns the blob id. */
async function uploadWhole(role: Role, bytes: Uint8Array, partSize = MiB): Promise<{ uploadId: string; blobId: string }> {
  const { uploadId, partCount } = await startUpload(role, bytes.length, partSize);
  for (let n = 0; n < partCount; n++) expect((await putPart(role, uploadId, n, bytes.subarray(n * partSize, (n + 1) * partSize))).status).toBe(200);
  const done = await call(role, 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount, partsSha256: partsSha256(bytes, partSize) } });
  expect(done.status, JSON.stringify(done.json)).toBe(200);
  return { uploadId, blobId: done.json.blobId as string };
}

const blobDir = () => org.testApp.config.blobDir;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

async function auditEvents(action: string, targetId: string) {
  return org.testApp.db.selectFrom('audit_events').selectAll().where('action', '=', action).where('target_id', '=', targetId).execute();
}

describe('the happy path', () => {
  it('takes parts out of order and twice, resumes from the stored list, completes, and serves the bytes back with ranges', async () => {
    const file = randomBytes(2 * MiB + 12_345);
    const { uploadId, partCount } = await startUpload('client', file.length);
    expect(partCount).toBe(3);
    const part = (n: number) => file.subarray(n * MiB, (n + 1) * MiB);

    expect(await putPart('client', uploadId, 2, part(2)).then((r) => [r.status, r.json])).toEqual([200, { partNumber: 2, size: 12_345 }]);
    expect((await putPart('client', uploadId, 0, randomBytes(MiB))).status).toBe(200);
    const state = await call('client', 'GET', `/api/uploads/${uploadId}`);
    expect(state.json).toMatchObject({ status: 'open', storedParts: [0, 2], partCount: 3, size: file.length, blobId: null });
    // The first copy of part 0 was wrong: sending it again replaces it.
    expect((await putPart('client', uploadId, 0, part(0))).status).toBe(200);
    expect((await putPart('client', uploadId, 1, part(1))).status).toBe(200);

    const done = await call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 3, partsSha256: partsSha256(file) } });
    expect(done.status).toBe(200);
    const blobId = done.json.blobId as string;
    expect(done.json).toEqual({ blobId, size: file.length });
    // The answer got lost? Asking again gives the same blob.
    expect((await call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 3, partsSha256: partsSha256(file) } })).json).toEqual(done.json);
    expect(await filesUnder(join(blobDir(), 'parts'))).toEqual([]);

    const whole = await call('client', 'GET', blobPath(blobId));
    expect([whole.status, whole.headers.get('content-type'), whole.headers.get('content-length')]).toEqual([200, 'application/octet-stream', String(file.length)]);
    expect(whole.bytes.equals(file)).toBe(true);
    const middle = await call('client', 'GET', blobPath(blobId), { headers: { Range: 'bytes=1000-1999999' } });
    expect([middle.status, middle.headers.get('content-range')]).toEqual([206, `bytes 1000-1999999/${file.length}`]);
    expect(middle.bytes.equals(file.subarray(1000, 2_000_000))).toBe(true);
    const tail = await call('client', 'GET', blobPath(blobId), { headers: { Range: 'bytes=-10' } });
    expect(tail.bytes.equals(file.subarray(file.length - 10))).toBe(true);

    const [event] = await auditEvents('upload.completed', uploadId);
    expect(JSON.parse(event!.details)).toEqual({ blobId, size: file.length, partCount: 3 });
    expect(event!.actor_id).toBe(member('client').userId);
  });
});

describe('bad input: each refused with its own code, stored data intact', () => {
  it('file_too_large, upload_quota_exceeded, validation_failed (part size, purpose, unknown fields)', async () => {
    expect(codeOf(await call('client', 'POST', '/api/uploads', { json: { size: 100 * MiB + 1, partSize: MiB, purpose: purposeOf('client') } }))).toEqual([413, 'file_too_large']);
    // A purpose other than space:<spaceId> is refused.
    const other = await call('client', 'POST', '/api/uploads', { json: { size: 10, partSize: MiB, purpose: 'document-version' } });
    expect([...codeOf(other), other.json.error?.issues?.[0]?.path]).toEqual([400, 'validation_failed', 'body.purpose']);
    expect(codeOf(await call('client', 'POST', '/api/uploads', { json: { size: 10, partSize: 1000, purpose: 'x' } }))).toEqual([400, 'validation_failed']);
    expect(codeOf(await call('client', 'POST', '/api/uploads', { json: { size: 10, partSize: MiB, purpose: '' } }))).toEqual([400, 'validation_failed']);
    expect(codeOf(await call('client', 'POST', '/api/uploads', { json: { size: 10, partSize: MiB, purpose: 'x', name: 'secret.pdf' } }))).toEqual([400, 'validation_failed']);

    const first = await startUpload('team', 90 * MiB);
    const refused = await call('team', 'POST', '/api/uploads', { json: { size: 90 * MiB, partSize: MiB, purpose: purposeOf('team') } });
    expect(codeOf(refused)).toEqual([429, 'upload_quota_exceeded']);
    // Cancelling frees the quota.
    expect((await call('team', 'DELETE', `/api/uploads/${first.uploadId}`)).status).toBe(204);
    await call('team', 'DELETE', `/api/uploads/${(await startUpload('team', 90 * MiB)).uploadId}`);
  });

  it('upload_not_found for unknown ids and, identically, for another user\'s upload; validation_failed for malformed ids', async () => {
    const { uploadId } = await startUpload('client', 3 * MiB);
    expect((await putPart('client', uploadId, 0, randomBytes(MiB))).status).toBe(200);
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAA';
    const part = randomBytes(MiB);
    for (const id of [unknown, uploadId]) {
      for (const [method, path, options] of [
        ['GET', `/api/uploads/${id}`, {}],
        ['PUT', uploadPartPath(id, 0), { bytes: part, headers: digestHeader(part) }],
        ['POST', `/api/uploads/${id}/complete`, { json: { partCount: 3, partsSha256: '0'.repeat(64) } }],
        ['DELETE', `/api/uploads/${id}`, {}],
      ] as const) {
        const r = await call('team', method, path, options);
        expect(codeOf(r), `${method} ${path}`).toEqual([404, 'upload_not_found']);
        expect(r.json.error?.message).toBe('There is no such upload.');
      }
    }
    expect(codeOf(await call('client', 'GET', '/api/uploads/not-an-id'))).toEqual([400, 'validation_failed']);
    expect(codeOf(await call('client', 'PUT', '/api/uploads/AAAAAAAAAAAAAAAAAAAAAA/parts/-1', { bytes: new Uint8Array(1) }))).toEqual([400, 'validation_failed']);
    // The owner's part is untouched.
    expect((await call('client', 'GET', `/api/uploads/${uploadId}`)).json.storedParts).toEqual([0]);
    await call('client', 'DELETE', `/api/uploads/${uploadId}`);
  });

  it('part_number_out_of_range, part_length_mismatch (declared, longer, shorter), unsupported_media_type', async () => {
    const { uploadId } = await startUpload('client', MiB + 10);
    expect(codeOf(await putPart('client', uploadId, 2, new Uint8Array(10)))).toEqual([400, 'part_number_out_of_range']);
    expect(codeOf(await putPart('client', uploadId, 1, new Uint8Array(11)))).toEqual([400, 'part_length_mismatch']);
    expect(codeOf(await putPart('client', uploadId, 0, new Uint8Array(MiB - 1)))).toEqual([400, 'part_length_mismatch']);
    expect(codeOf(await call('client', 'PUT', uploadPartPath(uploadId, 1), { bytes: new Uint8Array(10), contentType: 'application/json' }))).toEqual([
      415,
      'unsupported_media_type',
    ]);
    // Without Content-Length (chunked), the length is checked while streaming.
    const chunked = async (length: number) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(length));
          controller.close();
        },
      });
      const response = await fetch(org.server.baseUrl + uploadPartPath(uploadId, 1), {
        method: 'PUT',
        headers: { Origin: org.testApp.config.publicOrigin, Cookie: cookieOf('client'), 'Content-Type': 'application/octet-stream', ...digestHeader(new Uint8Array(length)) },
        body,
        duplex: 'half',
      });
      return [response.status, ((await response.json()) as { error?: { code: string } }).error?.code];
    };
    expect(await chunked(11)).toEqual([400, 'part_length_mismatch']);
    expect(await chunked(9)).toEqual([400, 'part_length_mismatch']);
    expect(await chunked(10)).toEqual([200, undefined]);
    expect((await call('client', 'GET', `/api/uploads/${uploadId}`)).json.storedParts).toEqual([1]);
    expect(await filesUnder(join(blobDir(), 'tmp'))).toEqual([]);
    await call('client', 'DELETE', `/api/uploads/${uploadId}`);
  });

  it('part_digest_missing (absent or malformed Content-Digest) and part_digest_mismatch leave the stored part as it was', async () => {
    const file = randomBytes(MiB + 10);
    const { uploadId } = await startUpload('client', file.length);
    const first = file.subarray(0, MiB);
    expect((await putPart('client', uploadId, 0, first)).status).toBe(200);
    const other = randomBytes(MiB);
    expect(codeOf(await putPart('client', uploadId, 0, other, {}))).toEqual([400, 'part_digest_missing']);
    for (const value of ['sha-256=abc', 'sha-512=:AAAA:', `sha-256=:${Buffer.alloc(31).toString('base64')}:`]) {
      expect(codeOf(await putPart('client', uploadId, 0, other, { 'Content-Digest': value })), value).toEqual([400, 'part_digest_missing']);
    }
    // The body of another part under this part's digest: damaged on the way.
    const mismatch = await putPart('client', uploadId, 0, other, digestHeader(first));
    expect(codeOf(mismatch)).toEqual([400, 'part_digest_mismatch']);
    expect(mismatch.json.error?.message).toContain('Part 0');
    expect(await filesUnder(join(blobDir(), 'tmp'))).toEqual([]);
    // Other algorithms beside sha-256 are ignored (RFC 9530 allows several).
    const last = file.subarray(MiB);
    const both = `sha-512=:${createHash('sha512').update(last).digest('base64')}:, ${digestHeader(last)['Content-Digest']}`;
    expect((await putPart('client', uploadId, 1, last, { 'Content-Digest': both })).status).toBe(200);
    // Part 0 is still the first copy: the completion over the original digests succeeds, byte-identical.
    const done = await call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 2, partsSha256: partsSha256(file) } });
    expect(done.status, JSON.stringify(done.json)).toBe(200);
    expect((await call('client', 'GET', blobPath(done.json.blobId as string))).bytes.equals(file)).toBe(true);
  });

  it('upload_incomplete (listing the missing parts), part_count_mismatch, upload_digest_mismatch; then completes', async () => {
    const file = randomBytes(4 * MiB);
    const { uploadId } = await startUpload('client', file.length);
    await putPart('client', uploadId, 1, file.subarray(MiB, 2 * MiB));
    const complete = (json: unknown) => call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json });
    const incomplete = await complete({ partCount: 4, partsSha256: partsSha256(file) });
    expect(codeOf(incomplete)).toEqual([409, 'upload_incomplete']);
    expect(incomplete.json.error?.message).toContain('Parts 0, 2, 3 are missing');
    expect(incomplete.json.error?.issues).toEqual([0, 2, 3].map((n) => ({ path: `parts.${n}`, message: 'missing' })));
    for (const n of [0, 2, 3]) await putPart('client', uploadId, n, file.subarray(n * MiB, (n + 1) * MiB));
    expect(codeOf(await complete({ partCount: 5, partsSha256: partsSha256(file) }))).toEqual([409, 'part_count_mismatch']);

    const blobsBefore = await org.testApp.db.selectFrom('blobs').select('id').execute();
    expect(codeOf(await complete({ partCount: 4, partsSha256: sha256(randomBytes(8)) }))).toEqual([422, 'upload_digest_mismatch']);
    // No blob came into existence; the parts are still there.
    expect(await org.testApp.db.selectFrom('blobs').select('id').execute()).toEqual(blobsBefore);
    expect((await call('client', 'GET', `/api/uploads/${uploadId}`)).json).toMatchObject({ status: 'open', storedParts: [0, 1, 2, 3] });
    expect((await complete({ partCount: 4, partsSha256: partsSha256(file) })).status).toBe(200);
  });

  it('upload_completed and upload_aborted for parts and completions after the end; a repeated abort is harmless', async () => {
    const { uploadId } = await uploadWhole('client', randomBytes(1000));
    expect(codeOf(await putPart('client', uploadId, 0, randomBytes(1000)))).toEqual([409, 'upload_completed']);
    expect(codeOf(await call('client', 'DELETE', `/api/uploads/${uploadId}`))).toEqual([409, 'upload_completed']);
    expect(codeOf(await call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 1, partsSha256: '1'.repeat(64) } }))).toEqual([
      409,
      'upload_completed',
    ]);

    const aborted = await startUpload('client', 2 * MiB);
    await putPart('client', aborted.uploadId, 0, randomBytes(MiB));
    expect((await call('client', 'DELETE', `/api/uploads/${aborted.uploadId}`)).status).toBe(204);
    expect((await call('client', 'DELETE', `/api/uploads/${aborted.uploadId}`)).status).toBe(204);
    expect(codeOf(await putPart('client', aborted.uploadId, 1, randomBytes(MiB)))).toEqual([409, 'upload_aborted']);
    expect(codeOf(await call('client', 'POST', `/api/uploads/${aborted.uploadId}/complete`, { json: { partCount: 2, partsSha256: '1'.repeat(64) } }))).toEqual([
      409,
      'upload_aborted',
    ]);
    expect(await filesUnder(join(blobDir(), 'parts', aborted.uploadId))).toEqual([]);
    const events = await auditEvents('upload.aborted', aborted.uploadId);
    expect(events.map((e) => JSON.parse(e.details) as unknown)).toEqual([{ size: 2 * MiB, partCount: 2, storedParts: 1 }]);
  });

  it('upload_expired after the time is up; the sweeper then deletes the upload with its parts', async () => {
    const { uploadId } = await startUpload('client', 2 * MiB);
    await putPart('client', uploadId, 0, randomBytes(MiB));
    await org.testApp.db.updateTable('uploads').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', uploadId).execute();
    expect(codeOf(await putPart('client', uploadId, 1, randomBytes(MiB)))).toEqual([410, 'upload_expired']);
    expect(codeOf(await call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 2, partsSha256: '1'.repeat(64) } }))).toEqual([
      410,
      'upload_expired',
    ]);

    const swept = await org.testApp.services.uploads.sweepExpiredUploads();
    expect(swept.uploads).toBeGreaterThanOrEqual(1);
    expect(await filesUnder(join(blobDir(), 'parts', uploadId))).toEqual([]);
    expect(await org.testApp.db.selectFrom('upload_parts').select('part_number').where('upload_id', '=', uploadId).execute()).toEqual([]);
    expect(codeOf(await call('client', 'GET', `/api/uploads/${uploadId}`))).toEqual([404, 'upload_not_found']);
    expect((await auditEvents('upload.expired', uploadId)).map((e) => JSON.parse(e.details) as unknown)).toEqual([{ size: 2 * MiB, partCount: 2 }]);
  });

  it('a completed upload never filed as a document loses its blob when it expires; a filed one keeps it', async () => {
    const unfiled = await uploadWhole('client', randomBytes(3000));
    const filed = await uploadWhole('client', randomBytes(4000));
    const spaceId = purposeOf('client').slice('space:'.length);
    const id = () => randomBytes(16).toString('base64url');
    const document = { documentId: id(), folderId: null, requestItemId: null, version: { versionId: id(), blobId: filed.blobId, wrappedFileKey: 'A'.repeat(80), metadata: 'B'.repeat(80) } };
    const created = await call('client', 'POST', `/api/spaces/${spaceId}/documents`, {
      json: { ...document, entry: await signFor(member('client'), spaceId, documentCreateDraft(document)) },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const objectPath = (blobId: string) => join('objects', blobId.slice(0, 2), blobId.slice(2, 4), blobId);
    expect(await filesUnder(blobDir())).toEqual(expect.arrayContaining([objectPath(unfiled.blobId), objectPath(filed.blobId)]));

    await org.testApp.db
      .updateTable('uploads')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', 'in', [unfiled.uploadId, filed.uploadId])
      .execute();
    await org.testApp.services.uploads.sweepExpiredUploads();

    const rows = await org.testApp.db.selectFrom('blobs').select('id').where('id', 'in', [unfiled.blobId, filed.blobId]).execute();
    expect(rows.map((row) => row.id)).toEqual([filed.blobId]);
    const files = await filesUnder(blobDir());
    expect(files).toContain(objectPath(filed.blobId));
    expect(files).not.toContain(objectPath(unfiled.blobId));
    expect((await auditEvents('upload.discarded', unfiled.blobId)).map((e) => JSON.parse(e.details) as unknown)).toEqual([{ uploadId: unfiled.uploadId, size: 3000 }]);
    expect(await auditEvents('upload.discarded', filed.blobId)).toEqual([]);
    // The filed version still downloads.
    const version = await org.testApp.db.selectFrom('document_versions').select('id').where('blob_id', '=', filed.blobId).executeTakeFirstOrThrow();
    const content = await call('client', 'GET', `/api/versions/${version.id}/content`);
    expect([content.status, content.bytes.length]).toEqual([200, 4000]);
  });

  it('blob_not_found for unknown blobs and, identically, for another user\'s blob; range_not_satisfiable', async () => {
    const { blobId } = await uploadWhole('client', randomBytes(5000));
    expect(codeOf(await call('team', 'GET', blobPath(blobId)))).toEqual([404, 'blob_not_found']);
    expect(codeOf(await call('client', 'GET', blobPath('AAAAAAAAAAAAAAAAAAAAAA')))).toEqual([404, 'blob_not_found']);
    const outside = await call('client', 'GET', blobPath(blobId), { headers: { Range: 'bytes=5000-' } });
    expect([...codeOf(outside), outside.headers.get('content-range')]).toEqual([416, 'range_not_satisfiable', 'bytes */5000']);
    // Several ranges are not supported: the whole blob comes back.
    expect((await call('client', 'GET', blobPath(blobId), { headers: { Range: 'bytes=0-1,5-9' } })).status).toBe(200);
  });

  it('forbidden for Auditors, unauthenticated without a session', async () => {
    expect(codeOf(await call('auditor', 'POST', '/api/uploads', { json: { size: 10, partSize: MiB, purpose: 'x' } }))).toEqual([403, 'forbidden']);
    const anonymous = await fetch(`${org.server.baseUrl}/api/uploads`, { method: 'POST', headers: { Origin: org.testApp.config.publicOrigin } });
    expect(anonymous.status).toBe(401);
  });

  it('upload_busy: no part, abort or second completion while the parts are being joined', async () => {
    let releaseCompose: () => void = () => undefined;
    const composing = new Promise<void>((resolve) => {
      releaseCompose = resolve;
    });
    const real = createLocalDiskBlobStore({ root: blobDir() });
    // The real store, with completion held at its start so the race is deterministic.
    const service = createUploadsService({
      db: org.testApp.db,
      config: org.testApp.config,
      logger: org.testApp.logger,
      now: () => new Date(),
      blobs: { ...real, composeParts: async (...args) => (await composing, real.composeParts(...args)) },
    });
    const client = member('client');
    const actor: Actor = { userId: client.userId, role: 'client', sessionId: 'test', authenticatedAt: new Date().toISOString(), ip: null };
    const bytes = randomBytes(1000);
    const { uploadId } = await service.createUpload(actor, { size: 1000, partSize: MiB, purpose: purposeOf('client') });
    await service.storePart(actor, uploadId, 0, { source: toAsync([bytes]), contentLength: 1000, sha256: createHash('sha256').update(bytes).digest() });
    const completion = service.completeUpload(actor, uploadId, { partCount: 1, partsSha256: partsSha256(bytes) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(service.storePart(actor, uploadId, 0, { source: toAsync([bytes]), contentLength: 1000, sha256: createHash('sha256').update(bytes).digest() })).rejects.toMatchObject({ code: 'upload_busy' });
    await expect(service.abortUpload(actor, uploadId)).rejects.toMatchObject({ code: 'upload_busy' });
    await expect(service.completeUpload(actor, uploadId, { partCount: 1, partsSha256: partsSha256(bytes) })).rejects.toMatchObject({ code: 'upload_busy' });
    releaseCompose();
    expect((await completion).size).toBe(1000);
  });
});

function isNoArgFunction(value: unknown): value is () => void {
  return typeof value === 'function';
}

/** V8's gc(), exposed at run time (the test runner does not start Node with --expose-gc). */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (!isNoArgFunction(gc)) throw new Error('gc() is not available');
  return () => gc();
}

const toAsync = (chunks: readonly Uint8Array[]): Readable => Readable.from(chunks);

/** fetch's BodyInit wants an ArrayBuffer-backed view; Buffer.alloc and randomBytes of a MiB and more are. */
function bodyOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/** The uploads service of a server started (again) on the app's database and blob directory, on its own store. */
function restartedService(options: { blobs?: BlobStore; now?: () => Date } = {}) {
  return createUploadsService({
    db: org.testApp.db,
    config: org.testApp.config,
    logger: org.testApp.logger,
    now: options.now ?? (() => new Date()),
    blobs: options.blobs ?? createLocalDiskBlobStore({ root: blobDir() }),
  });
}

/** The real store, except that the process "dies" right after `point`: the step ran, nothing after it does. */
function killedAfter(point: 'part renamed' | 'blob published'): BlobStore {
  const real = createLocalDiskBlobStore({ root: blobDir() });
  const killed = () => new Error(`killed after: ${point}`);
  if (point === 'blob published') {
    return {
      ...real,
      composeParts: async (...args) => {
        await real.composeParts(...args);
        throw killed();
      },
    };
  }
  return {
    ...real,
    stagePart: async (...args) => {
      const staged = await real.stagePart(...args);
      return {
        ...staged,
        commit: async () => {
          await staged.commit();
          throw killed();
        },
      };
    },
  };
}

const actorOf = (role: Role): Actor => ({ userId: member(role).userId, role, sessionId: 'test', authenticatedAt: new Date().toISOString(), ip: null });
const partBody = (bytes: Uint8Array) => ({ source: toAsync([bytes]), contentLength: bytes.length, sha256: createHash('sha256').update(bytes).digest() });

describe('crashes at the named points', () => {
  it('a part re-sent with other bytes and killed between its rename and its digest record: completion refuses it (422), then completes once it is sent again', async () => {
    const file = randomBytes(2 * MiB);
    const { uploadId } = await startUpload('client', file.length);
    for (const n of [0, 1]) expect((await putPart('client', uploadId, n, file.subarray(n * MiB, (n + 1) * MiB))).status).toBe(200);
    // Part 1 again, other bytes: the new file is renamed into place, then the process dies.
    const other = randomBytes(MiB);
    await expect(restartedService({ blobs: killedAfter('part renamed') }).storePart(actorOf('client'), uploadId, 1, partBody(other))).rejects.toThrow(
      'killed after: part renamed',
    );

    // Restarted: the completion over the acknowledged digests must not join the other bytes.
    const complete = () => call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 2, partsSha256: partsSha256(file) } });
    const refused = await complete();
    expect(codeOf(refused)).toEqual([422, 'upload_digest_mismatch']);
    expect(refused.json.error?.message).toBe(
      'Part 1 stored on the server does not match its digest: it was replaced or damaged. Send part 1 again, then complete again.',
    );
    expect(refused.json.error?.issues).toEqual([{ path: 'parts.1', message: 'damaged' }]);
    expect(await org.testApp.db.selectFrom('uploads').select('blob_id').where('id', '=', uploadId).executeTakeFirstOrThrow()).toEqual({ blob_id: null });
    expect(await filesUnder(join(blobDir(), 'tmp'))).toEqual([]);
    // The damaged part now counts as missing; sent again, the upload completes with the right bytes.
    expect((await call('client', 'GET', `/api/uploads/${uploadId}`)).json.storedParts).toEqual([0]);
    expect(codeOf(await complete())).toEqual([409, 'upload_incomplete']);
    expect((await putPart('client', uploadId, 1, file.subarray(MiB))).status).toBe(200);
    const done = await complete();
    expect(done.status, JSON.stringify(done.json)).toBe(200);
    expect((await call('client', 'GET', blobPath(done.json.blobId as string))).bytes.equals(file)).toBe(true);
  });

  it('a blob published but killed before its row: the file is deleted after the grace period, never before, and the upload still completes', async () => {
    const file = randomBytes(300_000);
    const kept = await uploadWhole('client', randomBytes(1000));
    const { uploadId } = await startUpload('client', file.length);
    expect((await putPart('client', uploadId, 0, file)).status).toBe(200);
    const objects = () => filesUnder(join(blobDir(), 'objects'));
    const before = await objects();
    await expect(restartedService({ blobs: killedAfter('blob published') }).completeUpload(actorOf('client'), uploadId, { partCount: 1, partsSha256: partsSha256(file) })).rejects.toThrow(
      'killed after: blob published',
    );
    const orphans = (await objects()).filter((path) => !before.includes(path));
    expect(orphans).toHaveLength(1);
    expect(await org.testApp.db.selectFrom('blobs').select('id').where('id', '=', orphans[0]!.split('/').pop()!).execute()).toEqual([]);

    // Restarted, within the grace period: the file could still be getting its row; it stays.
    const now = Date.now();
    expect(await restartedService({ now: () => new Date(now + ORPHAN_BLOB_GRACE_MS - 60_000) }).sweepOrphanBlobs()).toBe(0);
    expect(await objects()).toContain(orphans[0]);
    // After it: gone, and only it (blobs with a row stay).
    const later = restartedService({ now: () => new Date(now + ORPHAN_BLOB_GRACE_MS + 60_000) });
    expect(await later.sweepOrphanBlobs()).toBe(1);
    const after = await objects();
    expect(after).not.toContain(orphans[0]);
    expect(after).toEqual(before);
    expect((await call('client', 'GET', blobPath(kept.blobId))).bytes.length).toBe(1000);
    // The upload's parts are still there: completing again works.
    const done = await call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 1, partsSha256: partsSha256(file) } });
    expect(done.status, JSON.stringify(done.json)).toBe(200);
    expect((await call('client', 'GET', blobPath(done.json.blobId as string))).bytes.equals(file)).toBe(true);
  });

  it('temp files left by a killed write are deleted at restart', async () => {
    await mkdir(join(blobDir(), 'tmp'), { recursive: true });
    await writeFile(join(blobDir(), 'tmp', 'killed-mid-write.tmp'), randomBytes(5000));
    expect(await restartedService().recoverAfterRestart()).toEqual({ temporaryFiles: 1 });
    expect(await filesUnder(join(blobDir(), 'tmp'))).toEqual([]);
  });

  it('a full disk under the database answers 507 storage_full; nothing is damaged and the server carries on once there is room', async () => {
    const db = org.testApp.db;
    const count = async () => Number((await db.selectFrom('uploads').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const pageCount = Number((await sql<{ page_count: number }>`pragma page_count`.execute(db)).rows[0]!.page_count);
    // The database may not grow by one page: like a full disk, SQLite answers SQLITE_FULL.
    await sql.raw(`pragma max_page_count = ${pageCount}`).execute(db);
    const started: string[] = [];
    let full: RawResponse | undefined;
    try {
      // Rows go into existing pages until one more page is needed (bounded: a page holds a few dozen).
      for (let i = 0; i < 200 && !full; i++) {
        const r = await call('admin', 'POST', '/api/uploads', { json: { size: 1, partSize: MiB, purpose: purposeOf('admin') } });
        if (r.status === 201) started.push(r.json.uploadId as string);
        else full = r;
      }
      expect(full && codeOf(full)).toEqual([507, 'storage_full']);
      expect(full?.json.error?.message).toBe('The server has no room to save this. Try again later or contact the administrator.');
      // The real cause is in the log, not a failed rollback hiding it.
      const logged = org.testApp.logs().filter((line) => line.code === 'storage_full');
      expect(JSON.stringify(logged.at(-1))).toContain('SQLITE_FULL');
      expect(JSON.stringify(org.testApp.logs())).not.toContain('cannot rollback');
      // Reads still work, and nothing half-written stayed.
      const before = await count();
      expect((await call('admin', 'GET', `/api/uploads/${started[0]!}`)).status).toBe(200);
      expect(await count()).toBe(before);
    } finally {
      await sql.raw('pragma max_page_count = 4294967294').execute(db);
    }
    expect((await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db)).rows).toEqual([{ integrity_check: 'ok' }]);
    // Room again: the same request succeeds.
    const again = await call('admin', 'POST', '/api/uploads', { json: { size: 1, partSize: MiB, purpose: purposeOf('admin') } });
    expect(again.status, JSON.stringify(again.json)).toBe(201);
    for (const id of [...started, again.json.uploadId as string]) expect((await call('admin', 'DELETE', `/api/uploads/${id}`)).status).toBe(204);
  });
});

describe('durability and failures', () => {
  it('a connection dropped mid-part leaves no partial part; sending the part again succeeds', async () => {
    const part = randomBytes(MiB);
    const { uploadId } = await startUpload('client', MiB);
    await new Promise<void>((resolve) => {
      const url = new URL(org.server.baseUrl + uploadPartPath(uploadId, 0));
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'PUT',
        headers: { Origin: org.testApp.config.publicOrigin, Cookie: cookieOf('client'), 'Content-Type': 'application/octet-stream', 'Content-Length': MiB, ...digestHeader(part) },
      });
      req.on('error', () => resolve());
      req.write(part.subarray(0, MiB / 2), () => setTimeout(() => req.destroy(), 50));
    });
    // The server notices the drop and removes its temp file.
    for (let i = 0; i < 100 && (await filesUnder(join(blobDir(), 'tmp'))).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await filesUnder(join(blobDir(), 'tmp'))).toEqual([]);
    expect((await call('client', 'GET', `/api/uploads/${uploadId}`)).json.storedParts).toEqual([]);
    expect(await filesUnder(join(blobDir(), 'parts', uploadId))).toEqual([]);

    expect((await putPart('client', uploadId, 0, part)).status).toBe(200);
    const done = await call('client', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount: 1, partsSha256: partsSha256(part) } });
    expect((await call('client', 'GET', blobPath(done.json.blobId as string))).bytes.equals(part)).toBe(true);
  });

  it('a failed rename (a file where the part directory must go) answers 500, leaves no half file, and the retry works', async () => {
    const { uploadId } = await startUpload('client', MiB);
    await mkdir(join(blobDir(), 'parts'), { recursive: true });
    await writeFile(join(blobDir(), 'parts', uploadId), 'in the way');
    const failed = await putPart('client', uploadId, 0, randomBytes(MiB));
    expect(codeOf(failed)).toEqual([500, 'internal_error']);
    expect(await filesUnder(join(blobDir(), 'tmp'))).toEqual([]);
    expect((await call('client', 'GET', `/api/uploads/${uploadId}`)).json.storedParts).toEqual([]);
    await rm(join(blobDir(), 'parts', uploadId));
    expect((await putPart('client', uploadId, 0, randomBytes(MiB))).status).toBe(200);
    await call('client', 'DELETE', `/api/uploads/${uploadId}`);
  });

  it('a 64 MiB upload in 4 MiB parts round-trips byte-identical with flat server memory', async () => {
    const partSize = 4 * MiB;
    const buffer = Buffer.alloc(partSize);
    // Collect garbage before each sample: V8 lets up to 64 MiB of dead Buffers pile up before it
    // collects them on its own, which would hide what is really held.
    const gc = collectGarbage();
    let peak = 0;
    const sample = () => {
      gc();
      peak = Math.max(peak, process.memoryUsage.rss());
    };

    /** Uploads `size` random bytes one part at a time (one reused buffer), downloads them, compares digests. */
    async function roundTrip(size: number): Promise<void> {
      const uploadHash = createHash('sha256');
      const digests: Uint8Array[] = [];
      const { uploadId, partCount } = await startUpload('team', size, partSize);
      for (let n = 0; n < partCount; n++) {
        randomFillSync(buffer);
        uploadHash.update(buffer);
        digests.push(createHash('sha256').update(buffer).digest());
        expect((await putPart('team', uploadId, n, buffer)).status).toBe(200);
        sample();
      }
      const digest = uploadHash.digest('hex');
      const done = await call('team', 'POST', `/api/uploads/${uploadId}/complete`, { json: { partCount, partsSha256: sha256(partsDigestInput(digests)) } });
      expect(done.json).toMatchObject({ size });
      sample();
      const response = await fetch(org.server.baseUrl + blobPath(done.json.blobId as string), {
        headers: { Origin: org.testApp.config.publicOrigin, Cookie: cookieOf('team') },
      });
      expect(response.headers.get('content-length')).toBe(String(size));
      const downloadHash = createHash('sha256');
      let received = 0;
      for await (const chunk of response.body! as AsyncIterable<Uint8Array>) {
        downloadHash.update(chunk);
        received += chunk.byteLength;
        if (received % (8 * MiB) < chunk.byteLength) sample();
      }
      expect([received, downloadHash.digest('hex')]).toEqual([size, digest]);
    }

    // A first, smaller round trip warms up code, allocator arenas and caches.
    await roundTrip(16 * MiB);
    gc();
    const baseline = process.memoryUsage.rss();
    peak = baseline;
    const sampler = setInterval(sample, 200);
    try {
      await roundTrip(64 * MiB);
    } finally {
      clearInterval(sampler);
    }
    // Holding the file anywhere (server or test) would add 64 MiB; parts in flight stay well below.
    expect((peak - baseline) / MiB).toBeLessThan(32);
  }, budget(60_000));
});

describe('a full store (KLUIS_BLOB_CAPACITY_BYTES)', () => {
  let small: TestOrganisation;
  const capacity = 3 * MiB + 100_000;
  beforeAll(async () => {
    small = await createTestOrganisation(['client'], { env: { KLUIS_BLOB_CAPACITY_BYTES: String(capacity) } });
  }, budget(120_000));
  afterAll(() => small?.close());

  it('room is checked when an upload starts; a file that fits is sent and joined without needing its size a second time', async () => {
    const client = small.members.client!;
    const request = async (method: string, path: string, body?: { json?: unknown; bytes?: Uint8Array }) => {
      const headers: Record<string, string> = {
        Origin: small.testApp.config.publicOrigin,
        Cookie: [...client.client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      };
      if (body?.json !== undefined) headers['Content-Type'] = 'application/json';
      if (body?.bytes) Object.assign(headers, { 'Content-Type': 'application/octet-stream', ...digestHeader(body.bytes) });
      const response = await fetch(small.server.baseUrl + path, {
        method,
        headers,
        body: body?.json !== undefined ? JSON.stringify(body.json) : body?.bytes && bodyOf(body.bytes),
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      const json = (/json/.test(response.headers.get('content-type') ?? '') && bytes.length ? JSON.parse(bytes.toString('utf8')) : {}) as {
        error?: { code: string; message: string };
        uploadId?: string;
        blobId?: string;
      };
      return { status: response.status, json, bytes };
    };
    const purpose = await uploadPurposeFor(client);
    const start = (size: number) => request('POST', '/api/uploads', { json: { size, partSize: MiB, purpose } });

    // 3 MiB in a store of 3 MiB + 100,000 bytes: every part, then the join.
    const file = randomBytes(3 * MiB);
    const first = await start(file.length);
    expect(first.status).toBe(201);
    const firstId = first.json.uploadId!;
    for (let n = 0; n < 3; n++) expect((await request('PUT', uploadPartPath(firstId, n), { bytes: file.subarray(n * MiB, (n + 1) * MiB) })).status).toBe(200);
    const done = await request('POST', `/api/uploads/${firstId}/complete`, { json: { partCount: 3, partsSha256: partsSha256(file) } });
    expect(done.status, JSON.stringify(done.json)).toBe(200);
    expect((await request('GET', blobPath(done.json.blobId!))).bytes.equals(file)).toBe(true);
    expect(await filesUnder(join(small.testApp.config.blobDir, 'parts'))).toEqual([]);
    expect(await filesUnder(join(small.testApp.config.blobDir, 'tmp'))).toEqual([]);

    // 100,000 bytes are left: a larger file is refused when it starts, before any part is sent.
    const tooBig = await start(100_001);
    expect([tooBig.status, tooBig.json.error?.code, tooBig.json.error?.message]).toEqual([
      507,
      'storage_full',
      'The server has no room for this file. Try again later or contact the administrator.',
    ]);
    // An open upload keeps its room: once one takes the last 100,000 bytes, not one byte more starts.
    const last = await start(100_000);
    expect(last.status).toBe(201);
    expect((await start(1)).status).toBe(507);
    // Its part fits; sending it again needs room for the new copy beside the old one, and there is none.
    const lastId = last.json.uploadId!;
    expect((await request('PUT', uploadPartPath(lastId, 0), { bytes: randomBytes(100_000) })).status).toBe(200);
    const resent = await request('PUT', uploadPartPath(lastId, 0), { bytes: randomBytes(100_000) });
    expect([resent.status, resent.json.error?.code]).toEqual([507, 'storage_full']);
    expect(((await request('GET', `/api/uploads/${lastId}`)).json as { storedParts?: number[] }).storedParts).toEqual([0]);
    expect(await filesUnder(join(small.testApp.config.blobDir, 'tmp'))).toEqual([]);
    // Cancelling gives the room back.
    expect((await request('DELETE', `/api/uploads/${lastId}`)).status).toBe(204);
    expect((await start(1)).status).toBe(201);
  });
});
