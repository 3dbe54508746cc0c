// Test helper: spaces made through the real API with signed entries, and stand-in envelopes (random base64url: the server never decrypts).
import { createHash, randomBytes } from 'node:crypto';
import {
  createSpace,
  formatContentDigest,
  listSpaces,
  partsDigestInput,
  spaceUploadPurpose,
  uploadPartPath,
  type NewVersion,
  type Role,
  type SpaceKind,
} from '../../shared/api';
import { invite, login, signup } from '../../shared/flows/account-flows';
import { spaceCreateDraft } from '../../shared/flows/space-entries';
import { newId } from '../lib/ids';
import { inSpace, signFor } from './history-fixture';
import { fast, invitationLinkFor, parseInvitationLink, type Member, type TestOrganisation } from './org-fixture';

/** Random bytes as unpadded base64url: stands in for a record envelope or sealed key the server only stores. */
export function opaque(bytes = 48): string {
  return randomBytes(bytes).toString('base64url');
}

/** The space `member` works in: a client's own client space, the team space for staff (made if missing). */
export async function openSpace(member: Member): Promise<string> {
  const existing = await member.client.api(listSpaces, {});
  const kind: SpaceKind = member.role === 'client' ? 'client' : 'team';
  const found = existing.spaces.find((space) => space.kind === kind && (kind === 'team' || space.clientId === member.userId));
  if (found) return found.id;
  const body = { id: newId(), kind, sealedForEscrow: opaque(256), ...(kind === 'client' ? { wrappedForClient: opaque(60) } : {}) };
  // The key commitment is the browser's to compute from the real key; the server takes it as signed.
  const draft = spaceCreateDraft(body, kind === 'client' ? member.userId : null, randomBytes(32).toString('hex'));
  const created = await member.client.api(createSpace, { body: { ...body, entry: await signFor(member, body.id, draft, null) } });
  return created.id;
}

/** The upload purpose for `member`'s own space. */
export async function uploadPurposeFor(member: Member): Promise<string> {
  return spaceUploadPurpose(await openSpace(member));
}

/** An answer as the browser sees it, for raw requests (binary bodies, Range, exact error bodies). */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: { error?: { code: string; message: string; issues?: { path: string; message: string }[] } } & Record<string, unknown>;
  readonly bytes: Buffer;
}

/** A request with `member`'s session cookie and the app's Origin. */
export async function rawCall(
  org: TestOrganisation,
  member: Member,
  method: string,
  path: string,
  options: { json?: unknown; bytes?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    Origin: org.testApp.config.publicOrigin,
    Cookie: [...member.client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    ...options.headers,
  };
  let body: RequestInit['body'];
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.bytes) {
    headers['Content-Type'] = 'application/octet-stream';
    body = new Blob([new Uint8Array(options.bytes)]);
  }
  const response = await fetch(org.server.baseUrl + path, { method, headers, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const isJson = /json/.test(response.headers.get('content-type') ?? '');
  return { status: response.status, headers: response.headers, json: isJson && bytes.length ? (JSON.parse(bytes.toString('utf8')) as RawAnswer['json']) : {}, bytes };
}

/** Uploads `bytes` (one part) as `member` for `purpose` and completes it; returns the blob id. */
export async function uploadBlob(org: TestOrganisation, member: Member, purpose: string, bytes: Uint8Array): Promise<string> {
  const started = await rawCall(org, member, 'POST', '/api/uploads', { json: { size: bytes.length, partSize: 1024 * 1024, purpose } });
  if (started.status !== 201) throw new Error(`upload refused: ${JSON.stringify(started.json)}`);
  const uploadId = started.json.uploadId as string;
  const digest = createHash('sha256').update(bytes).digest();
  const part = await rawCall(org, member, 'PUT', uploadPartPath(uploadId, 0), { bytes, headers: { 'Content-Digest': formatContentDigest(digest) } });
  if (part.status !== 200) throw new Error(`part refused: ${JSON.stringify(part.json)}`);
  const done = await rawCall(org, member, 'POST', `/api/uploads/${uploadId}/complete`, {
    json: { partCount: 1, partsSha256: createHash('sha256').update(partsDigestInput([digest])).digest('hex') },
  });
  if (done.status !== 200) throw new Error(`completion refused: ${JSON.stringify(done.json)}`);
  return done.json.blobId as string;
}

/** A new version body for a blob (random stand-in envelopes). */
export function newVersion(blobId: string): NewVersion {
  return { versionId: newId(), blobId, wrappedFileKey: opaque(60), metadata: opaque(120) };
}

/** Uploads `bytes` and files them as a new document of `spaceId`; returns the document. */
export async function addDocument(
  org: TestOrganisation,
  member: Member,
  spaceId: string,
  options: { bytes?: Uint8Array; folderId?: string | null; requestItemId?: string | null } = {},
) {
  const blobId = await uploadBlob(org, member, spaceUploadPurpose(spaceId), options.bytes ?? randomBytes(500));
  return inSpace(member, spaceId).createDocument({
    documentId: newId(),
    folderId: options.folderId ?? null,
    requestItemId: options.requestItemId ?? null,
    version: newVersion(blobId),
  });
}

/** Another member of `role`, invited by an Administrator and signed up through the real flows. */
export async function addMember(org: TestOrganisation, role: Role, email: string): Promise<Member> {
  const password = 'witte-zwanen-op-de-vijver';
  await invite(org.admin.client.api, org.admin.vault, { email, role, language: 'en' });
  const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
  const client = org.newClient();
  const { userId } = await signup(client.api, { token, fragment, name: 'Tweede Persoon', password, language: 'en' }, fast);
  const { vault } = await login(client.api, email, password, fast);
  return { role, email, password, userId, client, vault };
}
