// Space cryptography: space keys sealed to the client and to escrow, file keys under the space key,
// and every encrypted field of documents, folders, messages and requests with its bound context.
import { z } from 'zod';
import type { CreateSpaceBody, DocumentVersion, Space, SpaceKind } from '../api';
import {
  type FileContext,
  type PublicKey,
  type RecordContext,
  type SecretKey,
  DecryptionError,
  decryptRecordText,
  encryptRecord,
  fromBase64Url,
  generateSecretKey,
  openSealedSecretKey,
  randomBytes,
  sealSecretKey,
  toBase64Url,
  unwrapSecretKey,
  wrapSecretKey,
} from '../crypto';
import type { UnlockedVault } from './vault';

/** 128 random bits as 22 base64url characters: ids the browser makes (shared/api/documents.ts). */
export function newClientId(): string {
  return toBase64Url(randomBytes(16));
}

/** Thrown when a staff member without the escrow key opens a space (an Administrator must grant it first). */
export class NoEscrowAccessError extends Error {
  override readonly name = 'NoEscrowAccessError';
  constructor() {
    super('This account does not hold the organisation escrow key yet, so it cannot open client spaces.');
  }
}

// --- contexts: WARNING every ciphertext below is bound to where it belongs (STYLE.md crypto rules) ---

export const spaceKeyContext = (spaceId: string, holder: string) => ({ id: spaceId, owner: holder });
export const ESCROW_HOLDER = 'escrow';
export const fileKeyContext = (spaceId: string, documentId: string, versionId: string) => ({
  id: `${documentId}/${versionId}`,
  owner: spaceId,
});
export const fileContext = (spaceId: string, documentId: string, versionId: string): FileContext => ({
  id: `${documentId}/${versionId}`,
  owner: spaceId,
});
export const metadataContext = (spaceId: string, documentId: string, versionId: string): RecordContext => ({
  type: 'document-metadata',
  id: versionId,
  owner: `${spaceId}/${documentId}`,
});
export const folderNameContext = (spaceId: string, folderId: string): RecordContext => ({ type: 'folder-name', id: folderId, owner: spaceId });
export const subjectContext = (spaceId: string, threadId: string): RecordContext => ({ type: 'thread-subject', id: threadId, owner: spaceId });
export const messageContext = (spaceId: string, threadId: string, messageId: string, revision: number): RecordContext => ({
  type: 'message',
  id: `${messageId}/${revision}`,
  owner: `${spaceId}/${threadId}`,
});
export const requestContext = (spaceId: string, requestId: string): RecordContext => ({ type: 'document-request', id: requestId, owner: spaceId });
export const requestItemContext = (spaceId: string, requestId: string, itemId: string): RecordContext => ({
  type: 'request-item',
  id: itemId,
  owner: `${spaceId}/${requestId}`,
});

// --- plaintext shapes (validated after decryption: a valid ciphertext of a wrong shape is still refused) ---

export const documentMetadataSchema = z
  .object({
    name: z.string().min(1).max(1000),
    /** Plaintext bytes. */
    size: z.number().int().min(0),
    /** MIME type as the browser reported it ('' when unknown). */
    type: z.string().max(255),
    /** File modification time, ms since the epoch (as the browser reported it). */
    lastModified: z.number().int().min(0),
  })
  .strict();
export type DocumentMetadata = z.infer<typeof documentMetadataSchema>;

export const messageBodySchema = z.object({ text: z.string().max(20_000) }).strict();
export type MessageBody = z.infer<typeof messageBodySchema>;

export const requestBodySchema = z.object({ title: z.string().min(1).max(200), description: z.string().max(5000) }).strict();
export type RequestBody = z.infer<typeof requestBodySchema>;

export const requestItemBodySchema = z.object({ description: z.string().min(1).max(500) }).strict();
export type RequestItemBody = z.infer<typeof requestItemBodySchema>;

async function sealJson(key: SecretKey<'space'>, value: unknown, ctx: RecordContext): Promise<string> {
  return toBase64Url(await encryptRecord(key, JSON.stringify(value), ctx));
}

async function openJson<T>(key: SecretKey<'space'>, envelope: string, ctx: RecordContext, schema: z.ZodType<T>): Promise<T> {
  const text = await decryptRecordText(key, fromBase64Url(envelope), ctx);
  // An authentic record that is not JSON of the right shape was written by a broken or hostile client.
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DecryptionError();
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DecryptionError();
  return parsed.data;
}

// --- space keys ---

/**
 * A fresh space key sealed for its holders: the client's own public key (client spaces) and the
 * organisation escrow public key. WARNING: `escrowPublicKey` must come from importPinnedEscrowKey.
 */
export async function createSpaceKey(
  vault: UnlockedVault,
  kind: SpaceKind,
  escrowPublicKey: PublicKey,
): Promise<{ body: CreateSpaceBody; spaceKey: SecretKey<'space'> }> {
  if (kind === 'client' && vault.role !== 'client') throw new TypeError('only a client creates their own client space');
  if (kind === 'team' && !vault.escrow) throw new NoEscrowAccessError();
  const id = newClientId();
  const spaceKey = await generateSecretKey('space', { extractable: true });
  const sealedForEscrow = toBase64Url(await sealSecretKey(escrowPublicKey, spaceKey, spaceKeyContext(id, ESCROW_HOLDER)));
  const sealedForClient =
    kind === 'client'
      ? toBase64Url(await sealSecretKey(vault.privateKey.publicKey, spaceKey, spaceKeyContext(id, vault.userId)))
      : undefined;
  return { body: { id, kind, sealedForEscrow, ...(sealedForClient && { sealedForClient }) }, spaceKey };
}

/**
 * Opens the space key sealed for this viewer: the client with their private key, staff with the
 * escrow private key. The key is extractable only to wrap file keys (never leaves the worker).
 * @throws NoEscrowAccessError for staff without the escrow key; DecryptionError/IntegrityError on a bad seal.
 */
export async function openSpaceKey(vault: UnlockedVault, space: Pick<Space, 'id' | 'kind' | 'clientId' | 'sealedKey'>): Promise<SecretKey<'space'>> {
  const sealed = fromBase64Url(space.sealedKey);
  if (space.kind === 'client' && space.clientId === vault.userId) {
    return openSealedSecretKey(vault.privateKey, sealed, 'space', spaceKeyContext(space.id, vault.userId));
  }
  if (!vault.escrow) throw new NoEscrowAccessError();
  return openSealedSecretKey(vault.escrow.privateKey, sealed, 'space', spaceKeyContext(space.id, ESCROW_HOLDER));
}

// --- documents ---

/**
 * A new version of document `documentId`: a fresh file key wrapped under the space key and the
 * encrypted metadata. The caller uploads the content, then sets `version.blobId`.
 */
export async function prepareVersion(
  spaceKey: SecretKey<'space'>,
  spaceId: string,
  documentId: string,
  metadata: DocumentMetadata,
): Promise<{ versionId: string; wrappedFileKey: string; metadata: string; fileKey: SecretKey<'file'>; file: FileContext }> {
  const versionId = newClientId();
  const fileKey = await generateSecretKey('file', { extractable: true });
  return {
    versionId,
    wrappedFileKey: toBase64Url(await wrapSecretKey(spaceKey, fileKey, fileKeyContext(spaceId, documentId, versionId))),
    metadata: await sealJson(spaceKey, documentMetadataSchema.parse(metadata), metadataContext(spaceId, documentId, versionId)),
    fileKey,
    file: fileContext(spaceId, documentId, versionId),
  };
}

export function openVersionMetadata(spaceKey: SecretKey<'space'>, spaceId: string, version: Pick<DocumentVersion, 'id' | 'documentId' | 'metadata'>): Promise<DocumentMetadata> {
  return openJson(spaceKey, version.metadata, metadataContext(spaceId, version.documentId, version.id), documentMetadataSchema);
}

/** The file key of a version, and the context its content is bound to. */
export async function openFileKey(
  spaceKey: SecretKey<'space'>,
  spaceId: string,
  version: Pick<DocumentVersion, 'id' | 'documentId' | 'wrappedFileKey'>,
  options: { extractable?: boolean } = {},
): Promise<{ fileKey: SecretKey<'file'>; file: FileContext }> {
  const fileKey = await unwrapSecretKey(spaceKey, fromBase64Url(version.wrappedFileKey), 'file', fileKeyContext(spaceId, version.documentId, version.id), options);
  return { fileKey, file: fileContext(spaceId, version.documentId, version.id) };
}

// --- folders, messages, requests ---

export const sealFolderName = (key: SecretKey<'space'>, spaceId: string, folderId: string, name: string) =>
  sealJson(key, { name }, folderNameContext(spaceId, folderId));
export const openFolderName = async (key: SecretKey<'space'>, spaceId: string, folderId: string, envelope: string) =>
  (await openJson(key, envelope, folderNameContext(spaceId, folderId), z.object({ name: z.string().min(1).max(200) }).strict())).name;

export const sealThreadSubject = (key: SecretKey<'space'>, spaceId: string, threadId: string, subject: string) =>
  sealJson(key, { subject }, subjectContext(spaceId, threadId));
export const openThreadSubject = async (key: SecretKey<'space'>, spaceId: string, threadId: string, envelope: string) =>
  (await openJson(key, envelope, subjectContext(spaceId, threadId), z.object({ subject: z.string().max(200) }).strict())).subject;

export const sealMessageBody = (key: SecretKey<'space'>, spaceId: string, threadId: string, messageId: string, revision: number, body: MessageBody) =>
  sealJson(key, messageBodySchema.parse(body), messageContext(spaceId, threadId, messageId, revision));
export const openMessageBody = (key: SecretKey<'space'>, spaceId: string, threadId: string, messageId: string, revision: number, envelope: string) =>
  openJson(key, envelope, messageContext(spaceId, threadId, messageId, revision), messageBodySchema);

export const sealRequestBody = (key: SecretKey<'space'>, spaceId: string, requestId: string, body: RequestBody) =>
  sealJson(key, requestBodySchema.parse(body), requestContext(spaceId, requestId));
export const openRequestBody = (key: SecretKey<'space'>, spaceId: string, requestId: string, envelope: string) =>
  openJson(key, envelope, requestContext(spaceId, requestId), requestBodySchema);

export const sealRequestItem = (key: SecretKey<'space'>, spaceId: string, requestId: string, itemId: string, body: RequestItemBody) =>
  sealJson(key, requestItemBodySchema.parse(body), requestItemContext(spaceId, requestId, itemId));
export const openRequestItem = (key: SecretKey<'space'>, spaceId: string, requestId: string, itemId: string, envelope: string) =>
  openJson(key, envelope, requestItemContext(spaceId, requestId, itemId), requestItemBodySchema);
