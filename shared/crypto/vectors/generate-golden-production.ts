// Prints golden-v1-production.json: every record, sealed key, file and signature as PRODUCTION builds
// them (the flow helpers' contexts, real id and recovery-secret formats, the production Argon2id
// parameters), plus negative vectors that a decoder must reject. SECURITY.md 4 specifies the formats;
// this file is their known-answer test. Run once, only when adding vectors or after a deliberate
// format change: `node --import tsx shared/crypto/vectors/generate-golden-production.ts > shared/crypto/vectors/golden-v1-production.json`.
// The test (golden-production.test.ts) reads the JSON and never runs this generator.
import {
  ARGON2ID_DEFAULT,
  type Bytes,
  type KeyPurpose,
  type PublicKey,
  type RecordContext,
  type SecretKey,
  decryptRecord,
  deriveArgon2id,
  deriveRecoveryKey,
  encryptFileStream,
  encryptRecord,
  fromBase64Url as fromB64,
  generateKeyPair,
  generateSigningKeyPair,
  importSecretKey,
  sealSecretKey,
  toBase64Url,
  toHex,
  utf8,
  wrapSecretKey,
} from '../index';
import { concatBytes, lengthPrefixed } from '../bytes';
import { recordAad } from '../envelope';
import { HKDF_LABEL, hkdfBytes, importHkdfKey } from '../kdf';
import { profileContext } from '../../flows/account-flows';
import { HOLDER_STATEMENT_CONTEXT, type HolderStatement, signHolderStatement } from '../../flows/escrow-ledger';
import { keySafeContext } from '../../flows/key-safe';
import { parseRecoverySecret } from '../../flows/recovery-secret';
import {
  ESCROW_HOLDER,
  fileContext,
  fileKeyContext,
  folderNameContext,
  messageContext,
  metadataContext,
  requestContext,
  requestItemContext,
  spaceKeyContext,
  subjectContext,
} from '../../flows/spaces';
import { escrowGrantContext, escrowPrivateKeyContext, escrowUserKeyContext, keyContext, recoveryContext } from '../../flows/vault';

const fixedBytes = (seed: number, length: number) => Uint8Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
/** A production-shaped id: 128 bits as 22 base64url characters (server/lib/ids.ts, shared/flows/spaces.ts newClientId). */
const id = (seed: number) => toBase64Url(fixedBytes(seed, 16));
const b64 = (bytes: Uint8Array) => toBase64Url(bytes);
const empty = new Uint8Array(0);

const ids = {
  admin: id(1),
  team: id(2),
  client: id(3),
  space: id(4),
  document: id(5),
  version1: id(6),
  version2: id(7),
  folder: id(8),
  thread: id(9),
  message: id(10),
  request: id(11),
  requestItem: id(12),
};

// --- symmetric keys ---
const raw = {
  adminUser: fixedBytes(101, 32),
  teamUser: fixedBytes(102, 32),
  clientUser: fixedBytes(103, 32),
  escrow: fixedBytes(104, 32),
  space: fixedBytes(105, 32),
  file1: fixedBytes(106, 32),
  file2: fixedBytes(107, 32),
};
const adminUser = await importSecretKey('user', raw.adminUser, { extractable: true });
const teamUser = await importSecretKey('user', raw.teamUser, { extractable: true });
const clientUser = await importSecretKey('user', raw.clientUser, { extractable: true });
const escrowKey = await importSecretKey('escrow', raw.escrow, { extractable: true });
const spaceKey = await importSecretKey('space', raw.space, { extractable: true });
const file1 = await importSecretKey('file', raw.file1, { extractable: true });
const file2 = await importSecretKey('file', raw.file2, { extractable: true });

/** The OPAQUE export key of the Administrator's login (64 bytes, ristretto255/SHA-512). */
const exportKey = fixedBytes(200, 64);
const keySafeKeyRaw = await hkdfBytes(await importHkdfKey(exportKey.slice()), empty, HKDF_LABEL.keySafeWrap, 32);
const keySafeKey = await importSecretKey('keysafe', keySafeKeyRaw.slice(), { extractable: true });

// --- recovery kit: typed with look-alikes and lower case, canonicalised as recoverWithKit does ---
const typedSecret = ' 7q2m xv4d-9p3k hh6t owzr-5n8c abl2 cd34 ';
const canonicalSecret = parseRecoverySecret(typedSecret);
if (canonicalSecret !== '7Q2M-XV4D-9P3K-HH6T-0WZR-5N8C-AB12-CD34') throw new Error(`unexpected canonical form ${canonicalSecret}`);
const recoverySalt = fixedBytes(300, 16);
const argon2idOutput = await deriveArgon2id(canonicalSecret, recoverySalt, ARGON2ID_DEFAULT, 32);
const recoveryKeyRaw = await hkdfBytes(await importHkdfKey(argon2idOutput.slice()), empty, HKDF_LABEL.recoveryWrap, 32);
const recoveryKey = await deriveRecoveryKey(canonicalSecret, recoverySalt, ARGON2ID_DEFAULT);

// --- asymmetric keys, generated through the production functions (so wrapped as production wraps them) ---
const RSA_PRIVATE = 'private-key/rsa-oaep-4096';
const ECDSA_PRIVATE = 'private-key/ecdsa-p256';
const escrowPair = await generateKeyPair(escrowKey, escrowPrivateKeyContext);
const adminPair = await generateKeyPair(adminUser, keyContext(ids.admin));
const teamPair = await generateKeyPair(teamUser, keyContext(ids.team));
const clientPair = await generateKeyPair(clientUser, keyContext(ids.client));
const adminSigning = await generateSigningKeyPair(adminUser, keyContext(ids.admin));

const pkcs8Of = (wrapping: SecretKey, wrapped: Uint8Array, type: string, ctx: { id: string; owner: string }) =>
  decryptRecord(wrapping, wrapped, { type, ...ctx });
const publicOf = (key: PublicKey) => ({ spki: b64(key.spki), fingerprint: toHex(key.fingerprint) });

const rsaKeys = {
  escrow: { pkcs8: b64(await pkcs8Of(escrowKey, escrowPair.wrappedPrivateKey, RSA_PRIVATE, escrowPrivateKeyContext)), ...publicOf(escrowPair.publicKey) },
  admin: { pkcs8: b64(await pkcs8Of(adminUser, adminPair.wrappedPrivateKey, RSA_PRIVATE, keyContext(ids.admin))), ...publicOf(adminPair.publicKey) },
  team: { pkcs8: b64(await pkcs8Of(teamUser, teamPair.wrappedPrivateKey, RSA_PRIVATE, keyContext(ids.team))), ...publicOf(teamPair.publicKey) },
  client: { pkcs8: b64(await pkcs8Of(clientUser, clientPair.wrappedPrivateKey, RSA_PRIVATE, keyContext(ids.client))), ...publicOf(clientPair.publicKey) },
};
const ecdsaKeys = {
  admin: {
    pkcs8: b64(await pkcs8Of(adminUser, adminSigning.wrappedPrivateKey, ECDSA_PRIVATE, keyContext(ids.admin))),
    spki: b64(adminSigning.publicKey.spki),
    fingerprint: toHex(adminSigning.publicKey.fingerprint),
  },
};

// --- record subkeys (intermediate values for implementers) ---
async function subkeys(purpose: KeyPurpose, key: Uint8Array) {
  const base = await importHkdfKey(key.slice());
  return {
    purpose,
    raw: toHex(key),
    aeadKey: toHex(await hkdfBytes(base, empty, HKDF_LABEL.recordAead + purpose, 32)),
    commitment: toHex(await hkdfBytes(base, empty, HKDF_LABEL.recordCommit + purpose, 32)),
  };
}

const keys = {
  adminUser: await subkeys('user', raw.adminUser),
  teamUser: await subkeys('user', raw.teamUser),
  clientUser: await subkeys('user', raw.clientUser),
  escrow: await subkeys('escrow', raw.escrow),
  space: await subkeys('space', raw.space),
  keysafe: await subkeys('keysafe', keySafeKeyRaw),
  recovery: await subkeys('recovery', recoveryKeyRaw),
  file1: { purpose: 'file', raw: toHex(raw.file1) },
  file2: { purpose: 'file', raw: toHex(raw.file2) },
};
type KeyName = keyof typeof keys;
const secretKeys: Record<KeyName, SecretKey> = {
  adminUser,
  teamUser,
  clientUser,
  escrow: escrowKey,
  space: spaceKey,
  keysafe: keySafeKey,
  recovery: recoveryKey,
  file1,
  file2,
};

// --- records ---
interface RecordVector {
  name: string;
  storedIn: string;
  key: KeyName;
  ctx: RecordContext;
  aad: string;
  plaintext: string;
  text?: string;
  envelope: string;
}
const records: RecordVector[] = [];
async function addRecord(name: string, storedIn: string, key: KeyName, ctx: RecordContext, plaintext: Uint8Array | string, envelope?: Uint8Array) {
  const bytes = typeof plaintext === 'string' ? utf8(plaintext) : plaintext;
  const sealed = envelope ?? (await encryptRecord(secretKeys[key], bytes, ctx));
  // Proof that the vector is what the production call made: it opens with the context given here.
  const check = await decryptRecord(secretKeys[key], sealed, ctx);
  if (toHex(check) !== toHex(bytes)) throw new Error(`vector ${name} does not round-trip`);
  records.push({
    name,
    storedIn,
    key,
    ctx: { type: ctx.type, id: ctx.id, owner: ctx.owner },
    aad: toHex(recordAad(ctx)),
    plaintext: b64(bytes),
    ...(typeof plaintext === 'string' && { text: plaintext }),
    envelope: b64(sealed),
  });
}
const wrapped = (purpose: KeyPurpose) => `wrapped-key/${purpose}`;

// A version-1 key safe (what accounts made before key safe v2 still hold; v2 is in signed-v1.json terms, SECURITY.md 4.10).
const adminKeySafe = {
  v: 1,
  escrowFingerprint: toHex(escrowPair.publicKey.fingerprint),
  opaqueServerPublicKey: toBase64Url(fixedBytes(400, 32)),
  adminRootFingerprint: toHex(adminSigning.publicKey.fingerprint),
};
await addRecord('user key under the key-safe key', 'users.wrapped_user_key', 'keysafe', { type: wrapped('user'), ...keyContext(ids.admin) }, raw.adminUser,
  await wrapSecretKey(keySafeKey, adminUser, keyContext(ids.admin)));
await addRecord('key safe (pins)', 'users.key_safe', 'adminUser', keySafeContext(ids.admin), JSON.stringify(adminKeySafe));
await addRecord('profile', 'users.profile', 'adminUser', profileContext(ids.admin), JSON.stringify({ name: 'Anaïs de Vries', phone: '+31 20 123 4567' }));
await addRecord('RSA private key (PKCS#8) under the user key', 'users.wrapped_private_key', 'adminUser', { type: RSA_PRIVATE, ...keyContext(ids.admin) },
  fromB64(rsaKeys.admin.pkcs8), adminPair.wrappedPrivateKey);
await addRecord('ECDSA signing private key (PKCS#8) under the user key', 'users.wrapped_signing_key', 'adminUser', { type: ECDSA_PRIVATE, ...keyContext(ids.admin) },
  fromB64(ecdsaKeys.admin.pkcs8), adminSigning.wrappedPrivateKey);
await addRecord('RSA private key of a Team Member', 'users.wrapped_private_key', 'teamUser', { type: RSA_PRIVATE, ...keyContext(ids.team) },
  fromB64(rsaKeys.team.pkcs8), teamPair.wrappedPrivateKey);
await addRecord('RSA private key of a client', 'users.wrapped_private_key', 'clientUser', { type: RSA_PRIVATE, ...keyContext(ids.client) },
  fromB64(rsaKeys.client.pkcs8), clientPair.wrappedPrivateKey);
await addRecord('escrow private key (PKCS#8) under E', 'organisation.escrow_wrapped_private_key', 'escrow', { type: RSA_PRIVATE, ...escrowPrivateKeyContext },
  fromB64(rsaKeys.escrow.pkcs8), escrowPair.wrappedPrivateKey);
await addRecord('escrow grant, accepted (E under the holder\'s user key)', 'escrow_grants.value (kind = wrapped)', 'adminUser', { type: wrapped('escrow'), ...escrowGrantContext(ids.admin) },
  raw.escrow, await wrapSecretKey(adminUser, escrowKey, escrowGrantContext(ids.admin)));
await addRecord('recovery kit copy of E', 'organisation.recovery_wrapped_key', 'recovery', { type: wrapped('escrow'), ...recoveryContext },
  raw.escrow, await wrapSecretKey(recoveryKey, escrowKey, recoveryContext));
await addRecord('file key of version 1', 'document_versions.wrapped_file_key', 'space', { type: wrapped('file'), ...fileKeyContext(ids.space, ids.document, ids.version1) },
  raw.file1, await wrapSecretKey(spaceKey, file1, fileKeyContext(ids.space, ids.document, ids.version1)));
await addRecord('file key of version 2', 'document_versions.wrapped_file_key', 'space', { type: wrapped('file'), ...fileKeyContext(ids.space, ids.document, ids.version2) },
  raw.file2, await wrapSecretKey(spaceKey, file2, fileKeyContext(ids.space, ids.document, ids.version2)));

const smallFile = utf8('Jaarrekening 2025 — concept\n');
await addRecord('document metadata of version 1', 'document_versions.metadata', 'space', metadataContext(ids.space, ids.document, ids.version1),
  JSON.stringify({ name: 'Jaarrekening 2025.txt', size: smallFile.length, type: 'text/plain', lastModified: 1767225600000 }));
const largeFileLength = 65536 + 100;
await addRecord('document metadata of version 2', 'document_versions.metadata', 'space', metadataContext(ids.space, ids.document, ids.version2),
  JSON.stringify({ name: 'Jaarrekening 2025.bin', size: largeFileLength, type: '', lastModified: 1767312000000 }));
await addRecord('folder name', 'folders.name', 'space', folderNameContext(ids.space, ids.folder), JSON.stringify({ name: 'Belastingen 2025' }));
await addRecord('thread subject', 'threads.subject', 'space', subjectContext(ids.space, ids.thread), JSON.stringify({ subject: 'Vraag over de aangifte' }));
await addRecord('message, revision 1', 'message_revisions.body (revision = 1)', 'space', messageContext(ids.space, ids.thread, ids.message, 1),
  JSON.stringify({ text: 'Goedemorgen! Zie bijlage — groeten, Anaïs 🌷' }));
await addRecord('message, revision 2 (edited)', 'message_revisions.body (revision = 2)', 'space', messageContext(ids.space, ids.thread, ids.message, 2),
  JSON.stringify({ text: 'Goedemorgen! Zie de bijlage.' }));
await addRecord('document request', 'document_requests.body', 'space', requestContext(ids.space, ids.request),
  JSON.stringify({ title: 'Stukken aangifte 2025', description: 'Graag vóór 1 mei.' }));
await addRecord('request item', 'request_items.body', 'space', requestItemContext(ids.space, ids.request, ids.requestItem),
  JSON.stringify({ description: 'Jaaropgave werkgever' }));


// --- sealed keys (RSA-OAEP-4096/SHA-256; randomized, so these are opening vectors) ---
interface SealedVector {
  name: string;
  storedIn: string;
  recipient: keyof typeof rsaKeys;
  purpose: KeyPurpose;
  ctx: { id: string; owner: string };
  label: string;
  key: string;
  sealed: string;
}
const sealLabel = (purpose: KeyPurpose, ctx: { id: string; owner: string }) =>
  concatBytes(utf8('kluis/v1/sealed-key'), lengthPrefixed(purpose), lengthPrefixed(ctx.id), lengthPrefixed(ctx.owner));
const sealed: SealedVector[] = [];
const recipients = { escrow: escrowPair.publicKey, admin: adminPair.publicKey, team: teamPair.publicKey, client: clientPair.publicKey };
async function addSealed(name: string, storedIn: string, recipient: keyof typeof rsaKeys, key: SecretKey, ctx: { id: string; owner: string }) {
  sealed.push({
    name,
    storedIn,
    recipient,
    purpose: key.purpose,
    ctx: { id: ctx.id, owner: ctx.owner },
    label: toHex(sealLabel(key.purpose, ctx)),
    key: toHex(key.rawBytes()),
    sealed: b64(await sealSecretKey(recipients[recipient], key, ctx)),
  });
}
await addSealed('user key sealed to escrow (Administrator)', 'users.escrow_user_key', 'escrow', adminUser, escrowUserKeyContext(ids.admin));
await addSealed('user key sealed to escrow (client)', 'users.escrow_user_key', 'escrow', clientUser, escrowUserKeyContext(ids.client));
await addSealed('escrow grant, pending (E sealed to the holder)', 'escrow_grants.value (kind = sealed)', 'team', escrowKey, escrowGrantContext(ids.team));
await addSealed('space key sealed to the client', 'spaces.sealed_for_client', 'client', spaceKey, spaceKeyContext(ids.space, ids.client));
await addSealed('space key sealed to escrow', 'spaces.sealed_for_escrow', 'escrow', spaceKey, spaceKeyContext(ids.space, ESCROW_HOLDER));

// --- STREAM files ---
async function encryptFile(key: SecretKey<'file'>, ctx: { id: string; owner: string }, plaintext: Uint8Array): Promise<Bytes> {
  const chunks: Uint8Array[] = [];
  await new Blob([plaintext as Bytes])
    .stream()
    .pipeThrough(encryptFileStream(key, ctx))
    .pipeTo(new WritableStream({ write: (chunk) => void chunks.push(chunk) }));
  return new Uint8Array(await new Blob(chunks as Bytes[]).arrayBuffer());
}
const largeFile = Uint8Array.from({ length: largeFileLength }, (_, i) => i % 251);
const fileCtx1 = fileContext(ids.space, ids.document, ids.version1);
const fileCtx2 = fileContext(ids.space, ids.document, ids.version2);
const cipher1 = await encryptFile(file1, fileCtx1, smallFile);
const cipher2 = await encryptFile(file2, fileCtx2, largeFile);
async function fileIntermediates(key: Uint8Array, ciphertext: Uint8Array, ctx: { id: string; owner: string }) {
  const nonce = ciphertext.slice(8, 24);
  const base = await importHkdfKey(key.slice());
  const header = ciphertext.slice(0, 56);
  return {
    header: toHex(header),
    nonce: toHex(nonce),
    payloadKey: toHex(await hkdfBytes(base, nonce, HKDF_LABEL.filePayload, 32)),
    commitment: toHex(await hkdfBytes(base, nonce, HKDF_LABEL.fileCommit, 32)),
    aad: toHex(concatBytes(header, utf8('kluis/v1/file'), lengthPrefixed(ctx.id), lengthPrefixed(ctx.owner))),
  };
}
const files = [
  {
    name: 'version 1: one chunk',
    storedIn: 'blob objects/<id[0..2]>/<id[2..4]>/<id> of document_versions.blob_id',
    key: 'file1',
    ctx: fileCtx1,
    ...(await fileIntermediates(raw.file1, cipher1, fileCtx1)),
    plaintext: b64(smallFile),
    ciphertext: b64(cipher1),
  },
  {
    name: 'version 2: two chunks (65 536 + 100 bytes, byte i = i mod 251)',
    storedIn: 'blob objects/<id[0..2]>/<id[2..4]>/<id> of document_versions.blob_id',
    key: 'file2',
    ctx: fileCtx2,
    ...(await fileIntermediates(raw.file2, cipher2, fileCtx2)),
    plaintextSha256: toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', largeFile))),
    plaintextPattern: 'byte i = i mod 251',
    plaintextLength: largeFileLength,
    ciphertext: b64(cipher2),
  },
];

// --- signed holder statements (ECDSA P-256, SHA-256, P1363 r || s; randomized, so verify vectors) ---
const statements: HolderStatement[] = [
  {
    v: 1,
    kind: 'escrow-holder',
    escrowFingerprint: adminKeySafe.escrowFingerprint,
    holderId: ids.admin,
    holderKeyFingerprint: rsaKeys.admin.fingerprint,
    holderSigningKeyFingerprint: ecdsaKeys.admin.fingerprint,
    grantedBy: ids.admin,
    grantedAt: '2026-01-01T09:00:00.000Z',
  },
  {
    v: 1,
    kind: 'escrow-holder',
    escrowFingerprint: adminKeySafe.escrowFingerprint,
    holderId: ids.team,
    holderKeyFingerprint: rsaKeys.team.fingerprint,
    holderSigningKeyFingerprint: null,
    grantedBy: ids.admin,
    grantedAt: '2026-01-02T10:30:00.000Z',
  },
];
const signatures = [];
for (const [index, statement] of statements.entries()) {
  const signed = await signHolderStatement(adminSigning.privateKey, statement);
  signatures.push({
    name: index === 0 ? 'holder statement: the founding Administrator (setup)' : 'holder statement: a Team Member granted the escrow key',
    storedIn: 'escrow_grants.statement_payload, escrow_grants.statement_signature',
    signer: 'admin',
    context: HOLDER_STATEMENT_CONTEXT,
    payloadText: JSON.stringify(statement),
    payload: signed.payload,
    message: toHex(concatBytes(utf8('kluis/v1/signature'), lengthPrefixed(HOLDER_STATEMENT_CONTEXT), fromB64(signed.payload))),
    signature: signed.signature,
  });
}

// --- negative vectors: each must be rejected with the error named. A file vector with `prefixOf: i,
// length: n` is the first n bytes of files[i].ciphertext (to keep the file small). ---
const flip = (text: string, byte: number, bit = 0x01) => {
  const bytes = fromB64(text);
  const at = byte < 0 ? bytes.length + byte : byte;
  bytes[at]! ^= bit;
  return b64(bytes);
};
const setByte = (text: string, byte: number, value: number) => {
  const bytes = fromB64(text);
  bytes[byte] = value;
  return b64(bytes);
};
const cut = (text: string, length: number) => b64(fromB64(text).subarray(0, length));
const rec = (name: string) => records.find((r) => r.name === name)!;
const seal = (name: string) => sealed.find((s) => s.name === name)!;
const metadata1 = rec('document metadata of version 1');
const fileKey1 = rec('file key of version 1');
const grantWrapped = rec('escrow grant, accepted (E under the holder\'s user key)');
const folder = rec('folder name');
const message1 = rec('message, revision 1');
const sealedClient = seal('space key sealed to the client');
const sealedEscrow = seal('space key sealed to escrow');
const statement2 = signatures[1]!;

const negative = [
  { name: 'record: wrong id (metadata of version 1 read as version 2)', kind: 'record', key: 'space', envelope: metadata1.envelope,
    ctx: metadataContext(ids.space, ids.document, ids.version2), expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: wrong owner (folder name moved to another space)', kind: 'record', key: 'space', envelope: folder.envelope,
    ctx: folderNameContext(ids.client, ids.folder), expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: wrong type (folder name read as a thread subject with the same id)', kind: 'record', key: 'space', envelope: folder.envelope,
    ctx: { ...subjectContext(ids.space, ids.folder) }, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: message revision 1 read as revision 2', kind: 'record', key: 'space', envelope: message1.envelope,
    ctx: messageContext(ids.space, ids.thread, ids.message, 2), expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: field boundary shifted by one character between id and owner (same bytes without length prefixes)', kind: 'record', key: 'space', envelope: message1.envelope,
    ctx: { type: 'message', id: `${ids.message}/1${ids.space.slice(0, 1)}`, owner: `${ids.space.slice(1)}/${ids.thread}` }, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: flipped bit in the ciphertext', kind: 'record', key: 'space', envelope: flip(folder.envelope, 50),
    ctx: folder.ctx, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: flipped bit in the IV', kind: 'record', key: 'space', envelope: flip(folder.envelope, 40),
    ctx: folder.ctx, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: flipped bit in the tag', kind: 'record', key: 'space', envelope: flip(folder.envelope, -1, 0x80),
    ctx: folder.ctx, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: flipped bit in the key commitment', kind: 'record', key: 'space', envelope: flip(folder.envelope, 1),
    ctx: folder.ctx, expect: { error: 'DecryptionError' } },
  { name: 'record: truncated below 61 bytes', kind: 'record', key: 'space', envelope: cut(folder.envelope, 60),
    ctx: folder.ctx, expect: { error: 'IntegrityError', reason: 'truncated' } },
  { name: 'record: last byte dropped', kind: 'record', key: 'space', envelope: cut(folder.envelope, fromB64(folder.envelope).length - 1),
    ctx: folder.ctx, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'record: empty', kind: 'record', key: 'space', envelope: '', ctx: folder.ctx, expect: { error: 'IntegrityError', reason: 'malformed' } },
  { name: 'record: version byte 0x02', kind: 'record', key: 'space', envelope: setByte(folder.envelope, 0, 2),
    ctx: folder.ctx, expect: { error: 'UnsupportedVersionError', version: 2 } },
  { name: 'record: version byte 0x00', kind: 'record', key: 'space', envelope: setByte(folder.envelope, 0, 0),
    ctx: folder.ctx, expect: { error: 'UnsupportedVersionError', version: 0 } },
  { name: 'record: the same key bytes under another purpose (space key used as a user key)', kind: 'record', key: 'space', asPurpose: 'user',
    envelope: folder.envelope, ctx: folder.ctx, expect: { error: 'DecryptionError' } },
  { name: 'record: another key (the client\'s user key) on a space record', kind: 'record', key: 'clientUser', envelope: folder.envelope,
    ctx: folder.ctx, expect: { error: 'DecryptionError' } },
  { name: 'wrapped key: file key of version 1 swapped into version 2', kind: 'record', key: 'space', envelope: fileKey1.envelope,
    ctx: { type: wrapped('file'), ...fileKeyContext(ids.space, ids.document, ids.version2) }, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'wrapped key: wrapped file key unwrapped as a space key (type wrapped-key/space)', kind: 'record', key: 'space', envelope: fileKey1.envelope,
    ctx: { type: wrapped('space'), ...fileKeyContext(ids.space, ids.document, ids.version1) }, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'wrapped key: an accepted escrow grant moved to another holder', kind: 'record', key: 'adminUser', envelope: grantWrapped.envelope,
    ctx: { type: wrapped('escrow'), ...escrowGrantContext(ids.team) }, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'wrapped key: an escrow grant presented as the recovery-kit copy', kind: 'record', key: 'recovery', envelope: grantWrapped.envelope,
    ctx: { type: wrapped('escrow'), ...recoveryContext }, expect: { error: 'DecryptionError' } },
  { name: 'sealed: space key sealed to the client opened as the escrow copy (owner "escrow")', kind: 'sealed', recipient: 'client', purpose: 'space',
    sealed: sealedClient.sealed, ctx: spaceKeyContext(ids.space, ESCROW_HOLDER), expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'sealed: space key opened as another purpose (file)', kind: 'sealed', recipient: 'escrow', purpose: 'file',
    sealed: sealedEscrow.sealed, ctx: sealedEscrow.ctx, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'sealed: space key of another space id', kind: 'sealed', recipient: 'escrow', purpose: 'space',
    sealed: sealedEscrow.sealed, ctx: spaceKeyContext(ids.folder, ESCROW_HOLDER), expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'sealed: sealed to escrow, opened with the client\'s private key (fingerprint differs)', kind: 'sealed', recipient: 'client', purpose: 'space',
    sealed: sealedEscrow.sealed, ctx: sealedEscrow.ctx, expect: { error: 'DecryptionError' } },
  { name: 'sealed: flipped bit in the RSA ciphertext', kind: 'sealed', recipient: 'escrow', purpose: 'space',
    sealed: flip(sealedEscrow.sealed, 100), ctx: sealedEscrow.ctx, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'sealed: version byte 0x02', kind: 'sealed', recipient: 'escrow', purpose: 'space',
    sealed: setByte(sealedEscrow.sealed, 0, 2), ctx: sealedEscrow.ctx, expect: { error: 'UnsupportedVersionError', version: 2 } },
  { name: 'sealed: truncated by one byte', kind: 'sealed', recipient: 'escrow', purpose: 'space',
    sealed: cut(sealedEscrow.sealed, 544), ctx: sealedEscrow.ctx, expect: { error: 'IntegrityError', reason: 'truncated' } },
  { name: 'sealed: one trailing byte', kind: 'sealed', recipient: 'escrow', purpose: 'space',
    sealed: b64(concatBytes(fromB64(sealedEscrow.sealed), Uint8Array.of(0))), ctx: sealedEscrow.ctx, expect: { error: 'IntegrityError', reason: 'trailing_data' } },
  { name: 'file: version 1 content read as version 2 (moved blob)', kind: 'file', key: 'file1', ciphertext: files[0]!.ciphertext,
    ctx: fileCtx2, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'file: content read in another space', kind: 'file', key: 'file1', ciphertext: files[0]!.ciphertext,
    ctx: fileContext(ids.client, ids.document, ids.version1), expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'file: wrong file key (version 2\'s key)', kind: 'file', key: 'file2', ciphertext: files[0]!.ciphertext,
    ctx: fileCtx1, expect: { error: 'DecryptionError' } },
  { name: 'file: flipped bit in the header nonce', kind: 'file', key: 'file1', ciphertext: flip(files[0]!.ciphertext, 8),
    ctx: fileCtx1, expect: { error: 'DecryptionError' } },
  { name: 'file: flipped bit in a chunk', kind: 'file', key: 'file1', ciphertext: flip(files[0]!.ciphertext, 60),
    ctx: fileCtx1, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'file: version byte 0x02', kind: 'file', key: 'file1', ciphertext: setByte(files[0]!.ciphertext, 4, 2),
    ctx: fileCtx1, expect: { error: 'UnsupportedVersionError', version: 2 } },
  { name: 'file: bad magic', kind: 'file', key: 'file1', ciphertext: setByte(files[0]!.ciphertext, 0, 0x6b),
    ctx: fileCtx1, expect: { error: 'IntegrityError', reason: 'malformed' } },
  { name: 'file: reserved byte set', kind: 'file', key: 'file1', ciphertext: setByte(files[0]!.ciphertext, 6, 1),
    ctx: fileCtx1, expect: { error: 'IntegrityError', reason: 'malformed' } },
  { name: 'file: truncated after the first chunk (final chunk dropped)', kind: 'file', key: 'file2', prefixOf: 1, length: 56 + 65536 + 16,
    ctx: fileCtx2, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'file: header only', kind: 'file', key: 'file1', ciphertext: cut(files[0]!.ciphertext, 56),
    ctx: fileCtx1, expect: { error: 'IntegrityError', reason: 'truncated' } },
  { name: 'file: one byte appended', kind: 'file', key: 'file1', ciphertext: b64(concatBytes(fromB64(files[0]!.ciphertext), Uint8Array.of(0))),
    ctx: fileCtx1, expect: { error: 'IntegrityError', reason: 'authentication_failed' } },
  { name: 'signature: a holder statement verified under another context', kind: 'signature', signer: 'admin', context: 'certificate',
    payload: statement2.payload, signature: statement2.signature, expect: { error: 'invalid' } },
  { name: 'signature: payload altered (holder id)', kind: 'signature', signer: 'admin', context: HOLDER_STATEMENT_CONTEXT,
    payload: b64(utf8(statement2.payloadText.replace(ids.team, ids.client))), signature: statement2.signature, expect: { error: 'invalid' } },
  { name: 'signature: flipped bit in s', kind: 'signature', signer: 'admin', context: HOLDER_STATEMENT_CONTEXT,
    payload: statement2.payload, signature: flip(statement2.signature, 63), expect: { error: 'invalid' } },
  { name: 'signature: DER instead of 64-byte r || s (wrong length)', kind: 'signature', signer: 'admin', context: HOLDER_STATEMENT_CONTEXT,
    payload: statement2.payload, signature: b64(concatBytes(fromB64(statement2.signature), Uint8Array.of(0))), expect: { error: 'invalid' } },
  { name: 'recovery: one character of the secret wrong', kind: 'recovery', secret: canonicalSecret.replace(/4$/, '5'), salt: toHex(recoverySalt),
    params: { ...ARGON2ID_DEFAULT }, envelope: rec('recovery kit copy of E').envelope, ctx: { type: wrapped('escrow'), ...recoveryContext }, expect: { error: 'DecryptionError' } },
  { name: 'recovery: stored Argon2id memory below the floor', kind: 'recovery', secret: canonicalSecret, salt: toHex(recoverySalt),
    params: { ...ARGON2ID_DEFAULT, memoryKiB: 19455 }, envelope: rec('recovery kit copy of E').envelope, ctx: { type: wrapped('escrow'), ...recoveryContext }, expect: { error: 'WeakParametersError', parameter: 'memoryKiB' } },
  { name: 'recovery: stored Argon2id iterations below the floor', kind: 'recovery', secret: canonicalSecret, salt: toHex(recoverySalt),
    params: { ...ARGON2ID_DEFAULT, iterations: 1 }, envelope: rec('recovery kit copy of E').envelope, ctx: { type: wrapped('escrow'), ...recoveryContext }, expect: { error: 'WeakParametersError', parameter: 'iterations' } },
];

const golden = {
  comment:
    'Kluis formats v1 as production builds them (SECURITY.md 4). Generated once by generate-golden-production.ts; golden-production.test.ts opens every positive vector byte-exact and rejects every negative one. Binary values: base64url (unpadded) or hex where named so.',
  ids,
  opaque: { exportKey: toHex(exportKey), keySafeKey: toHex(keySafeKeyRaw), info: HKDF_LABEL.keySafeWrap },
  recoverySecret: {
    typed: typedSecret,
    canonical: canonicalSecret,
    argon2idPassword: toHex(utf8(canonicalSecret)),
    salt: toHex(recoverySalt),
    params: { ...ARGON2ID_DEFAULT },
    argon2idOutput: toHex(argon2idOutput),
    recoveryKey: toHex(recoveryKeyRaw),
    info: HKDF_LABEL.recoveryWrap,
  },
  keys,
  rsa: rsaKeys,
  ecdsa: ecdsaKeys,
  records,
  sealed,
  files,
  signatures,
  negative,
};
console.log(JSON.stringify(golden, null, 2));
