// Space cryptography: space keys wrapped for the client and sealed to escrow under a signed entry 0, file keys under the space key,
// and every encrypted field of documents, folders, messages and requests with its bound context.
import { z } from 'zod';
import type { CreateSpaceBody, DocumentVersion, Space, SpaceKind, adoptSpaceBodySchema } from '../api';
import {
  type FileContext,
  type PrivateKey,
  type PublicKey,
  type RecordContext,
  type SecretKey,
  type SigningPrivateKey,
  DecryptionError,
  decryptRecordText,
  encryptRecord,
  KluisCryptoError,
  fromBase64Url,
  generateSecretKey,
  keyCommitment,
  openSealedSecretKey,
  randomBytes,
  sealSecretKey,
  toBase64Url,
  unwrapSecretKey,
  wrapSecretKey,
} from '../crypto';
import { spaceCreateDraft } from './space-entries';
import { type EntryBody, recordDigest, signEntry } from './space-history';
import { type UnlockedVault, openEscrowSealed } from './vault';

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

/** The body of POST /api/spaces/:spaceId/adopt. */
export type AdoptSpaceBody = z.infer<typeof adoptSpaceBodySchema>;

// --- contexts: WARNING every ciphertext below is bound to where it belongs (type, id and owner in the AAD: SECURITY.md 4.2) ---

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

/** Thrown when an account has no signing key yet (made before signed histories; it adds one at its next sign-in). */
export class NoSigningKeyError extends Error {
  override readonly name = 'NoSigningKeyError';
  constructor() {
    super('This account has no signing key yet: sign in again to add one.');
  }
}

/**
 * Why a space key was refused: the server offered a key that nothing the browser trusts vouches for.
 * - no-wrap: the client's own space has no wrap under their user key (and is not a legacy space);
 * - no-history: staff have no verified entry 0 to check the escrow seal against;
 * - seal-not-signed: the escrow seal is not the one entry 0 names;
 * - key-commitment: the opened key is not the one entry 0 commits to;
 * - creator: entry 0 was not signed by the space's client (client space) or by staff (team space).
 */
export type SpaceKeyRejection = 'no-wrap' | 'no-history' | 'seal-not-signed' | 'key-commitment' | 'creator';

export class SpaceKeyRejectedError extends Error {
  override readonly name = 'SpaceKeyRejectedError';
  constructor(readonly reason: SpaceKeyRejection) {
    super(`The key of this space was refused (${reason}): it is not the key its creator signed.`);
  }
}

/** Who signs history entries for this vault. @throws NoSigningKeyError */
export function signerOf(vault: UnlockedVault): { userId: string; signingKey: SigningPrivateKey } {
  if (!vault.signingKey) throw new NoSigningKeyError();
  return { userId: vault.userId, signingKey: vault.signingKey };
}

/** Entry 0 of a space's verified history and the role its author's certificate states. */
export interface VerifiedGenesis {
  readonly body: EntryBody<'space.create'>;
  readonly author: string;
  readonly authorRole: string;
}

const STAFF_ROLES: ReadonlySet<string> = new Set(['admin', 'team']);

/**
 * A fresh space key: wrapped under the client's own user key (client spaces; an AEAD the server
 * cannot forge) and sealed to the organisation escrow public key, with entry 0 of the space's
 * history signed by the creator, naming both and the key's commitment.
 * WARNING: `escrowPublicKey` must come from importPinnedEscrowKey.
 */
export async function createSpaceKey(
  vault: UnlockedVault,
  kind: SpaceKind,
  escrowPublicKey: PublicKey,
): Promise<{ body: CreateSpaceBody; spaceKey: SecretKey<'space'> }> {
  if (kind === 'client' && vault.role !== 'client') throw new TypeError('only a client creates their own client space');
  if (kind === 'team' && !vault.escrow) throw new NoEscrowAccessError();
  const signer = signerOf(vault);
  const id = newClientId();
  const spaceKey = await generateSecretKey('space', { extractable: true });
  const sealedForEscrow = toBase64Url(await sealSecretKey(escrowPublicKey, spaceKey, spaceKeyContext(id, ESCROW_HOLDER)));
  const wrappedForClient =
    kind === 'client' ? toBase64Url(await wrapSecretKey(vault.userKey, spaceKey, spaceKeyContext(id, vault.userId))) : undefined;
  const fields = { id, kind, sealedForEscrow, ...(wrappedForClient !== undefined && { wrappedForClient }) };
  const draft = await spaceCreateDraft(fields, kind === 'client' ? vault.userId : null, await keyCommitment(spaceKey));
  const entry = await signEntry(signer, id, null, draft);
  return { body: { ...fields, entry }, spaceKey };
}

/**
 * Opens the key of a space that has a signed history, and accepts it only when something the server
 * cannot forge vouches for it:
 * - the client of the space: only the AEAD wrap under their own user key (`space.wrappedKey`); when
 *   `genesis` is given, its key commitment must match too;
 * - staff: the escrow seal, only if the verified entry 0 (`genesis`) names the seal's digest, commits
 *   to the opened key, and was signed by the space's client (client space) or by staff (team space).
 * Legacy spaces (`space.legacy`) are opened with openLegacySpaceKey and adopted instead.
 * @throws SpaceKeyRejectedError when nothing vouches for the key; NoEscrowAccessError for staff
 *   without the escrow key; DecryptionError/IntegrityError on a wrap or seal that does not open.
 */
export async function openSpaceKey(
  vault: UnlockedVault,
  space: Pick<Space, 'id' | 'kind' | 'clientId' | 'sealedKey' | 'wrappedKey'>,
  genesis: VerifiedGenesis | null,
  options: RotatedSealOptions = {},
): Promise<SecretKey<'space'>> {
  if (space.kind === 'client' && space.clientId === vault.userId) {
    if (space.wrappedKey === null) throw new SpaceKeyRejectedError('no-wrap');
    const key = await unwrapSecretKey(vault.userKey, fromBase64Url(space.wrappedKey), 'space', spaceKeyContext(space.id, vault.userId));
    if (genesis) {
      if (genesis.body.spaceKind !== 'client' || genesis.body.client !== vault.userId || genesis.author !== vault.userId) {
        throw new SpaceKeyRejectedError('creator');
      }
      if (genesis.body.key !== (await keyCommitment(key))) throw new SpaceKeyRejectedError('key-commitment');
    }
    return key;
  }
  if (!vault.escrow) throw new NoEscrowAccessError();
  if (!genesis || space.sealedKey === null) throw new SpaceKeyRejectedError('no-history');
  // Who may have made the space: its client, or staff for the team space (their certificate's role).
  const creatorOk =
    space.kind === 'client'
      ? genesis.body.spaceKind === 'client' && genesis.body.client === space.clientId && genesis.author === space.clientId && genesis.authorRole === 'client'
      : genesis.body.spaceKind === 'team' && genesis.body.client === null && STAFF_ROLES.has(genesis.authorRole);
  if (!creatorOk) throw new SpaceKeyRejectedError('creator');
  // After an escrow rotation the seal is not the one entry 0 names (it was re-sealed to the new key):
  // then only the signed key commitment below authenticates the key.
  if ((await recordDigest(space.sealedKey)) !== genesis.body.escrowSeal && !options.rotated) throw new SpaceKeyRejectedError('seal-not-signed');
  const sealed = fromBase64Url(space.sealedKey);
  const context = spaceKeyContext(space.id, ESCROW_HOLDER);
  let key: SecretKey<'space'>;
  try {
    // The current escrow key, or the vault's verified previous one (escrowPrevious) while a rotation runs.
    key = await openEscrowSealed(vault, sealed, 'space', context);
  } catch (error) {
    // While a rotation runs, a seal not re-sealed yet opens only with the previous escrow key.
    if (!(error instanceof KluisCryptoError) || !options.previousEscrowKey) throw error;
    key = await openSealedSecretKey(options.previousEscrowKey, sealed, 'space', context);
  }
  if (genesis.body.key !== (await keyCommitment(key))) throw new SpaceKeyRejectedError('key-commitment');
  return key;
}

/** How staff open escrow seals once the organisation has rotated its escrow key (issue 21, SECURITY.md 5.10). */
export interface RotatedSealOptions {
  /**
   * This vault verified at least one rotation step (verifyEscrowChain): a seal whose digest differs
   * from the one entry 0 names is accepted when the opened key has entry 0's key commitment.
   * WARNING: set it only from a verified chain, never from a server field.
   */
  readonly rotated?: boolean;
  /** While a rotation runs: the previous escrow private key (its fingerprint the `from` of a verified step). */
  readonly previousEscrowKey?: PrivateKey;
}

/**
 * WARNING: trust on first use, once per space. Opens the key of a space made before signed histories
 * from its old seal (the client: sealed to their public key; staff: the escrow seal of the team
 * space), extractable so that it can be wrapped and adopted (adoptionOf). Nothing vouches for this
 * key but the seal; after adoption only the wrap and the signed entry 0 are accepted.
 */
export async function openLegacySpaceKey(vault: UnlockedVault, space: Pick<Space, 'id' | 'kind' | 'clientId' | 'sealedKey' | 'legacy'>): Promise<SecretKey<'space'>> {
  if (!space.legacy || space.sealedKey === null) throw new SpaceKeyRejectedError('no-history');
  const sealed = fromBase64Url(space.sealedKey);
  if (space.kind === 'client' && space.clientId === vault.userId) {
    return openSealedSecretKey(vault.privateKey, sealed, 'space', spaceKeyContext(space.id, vault.userId), { extractable: true });
  }
  if (space.kind !== 'team') throw new SpaceKeyRejectedError('no-history');
  if (!vault.escrow) throw new NoEscrowAccessError();
  return openEscrowSealed(vault, sealed, 'space', spaceKeyContext(space.id, ESCROW_HOLDER), { extractable: true });
}

/**
 * How entry 0 of an adopted space names its escrow seal: a client seals the key they opened afresh
 * to the PINNED escrow public key (importPinnedEscrowKey), since they can neither open nor check
 * the stored escrow seal; staff adopting the team space name the stored seal they opened it from.
 */
export type AdoptionSeal = { readonly escrowPublicKey: PublicKey } | { readonly storedEscrowSeal: string };

/**
 * What adopts a legacy space (POST /api/spaces/:id/adopt): entry 0 signed by this user naming the
 * escrow seal, the client's wrap of the key (client spaces) and the key commitment; a client also
 * sends the fresh escrow seal (it replaces the stored one on the server).
 */
export async function adoptionOf(
  vault: UnlockedVault,
  space: Pick<Space, 'id' | 'kind' | 'clientId'>,
  spaceKey: SecretKey<'space'>,
  seal: AdoptionSeal,
): Promise<AdoptSpaceBody> {
  const own = space.kind === 'client' && space.clientId === vault.userId;
  if (space.kind === 'client' && !own) throw new TypeError('only its client adopts a client space');
  if (space.kind === 'team' && !STAFF_ROLES.has(vault.role)) throw new TypeError('only staff adopt the team space');
  if (own !== 'escrowPublicKey' in seal) throw new TypeError(own ? 'a client seals the key afresh to the pinned escrow key' : 'staff name the stored escrow seal of the team space');
  const sealedForEscrow =
    'escrowPublicKey' in seal ? toBase64Url(await sealSecretKey(seal.escrowPublicKey, spaceKey, spaceKeyContext(space.id, ESCROW_HOLDER))) : seal.storedEscrowSeal;
  const wrappedForClient = own ? toBase64Url(await wrapSecretKey(vault.userKey, spaceKey, spaceKeyContext(space.id, vault.userId))) : undefined;
  const fields = { id: space.id, kind: space.kind, sealedForEscrow, ...(wrappedForClient !== undefined && { wrappedForClient }) };
  const draft = await spaceCreateDraft(fields, own ? vault.userId : null, await keyCommitment(spaceKey));
  const entry = await signEntry(signerOf(vault), space.id, null, draft);
  return { ...(wrappedForClient !== undefined && { wrappedForClient, sealedForEscrow }), entry };
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
