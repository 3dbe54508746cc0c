// The production golden vectors are what the flows build: every context in golden-v1-production.json
// equals the flow helper's, the recovery secret canonicalises as recoverWithKit does, the plaintexts
// pass the production schemas, the space records open with the production open* functions, and
// the holder statements verify back to the pinned root.
import { describe, expect, it } from 'vitest';
import golden from '../crypto/vectors/golden-v1-production.json';
import { fromBase64Url, fromHex, fromUtf8, importSecretKey } from '../crypto';
import { profileContext, profileSchema } from './account-flows';
import { HOLDER_STATEMENT_CONTEXT, verifyHolderStatements } from './escrow-ledger';
import { keySafeContext, openKeySafe, pinsSchema, pinsOf, type Pins } from './key-safe';
import { parseRecoverySecret } from './recovery-secret';
import {
  ESCROW_HOLDER,
  fileContext,
  fileKeyContext,
  folderNameContext,
  messageContext,
  metadataContext,
  openFileKey,
  openFolderName,
  openMessageBody,
  openRequestBody,
  openRequestItem,
  openThreadSubject,
  openVersionMetadata,
  requestContext,
  requestItemContext,
  spaceKeyContext,
  subjectContext,
} from './spaces';
import { escrowGrantContext, escrowPrivateKeyContext, escrowUserKeyContext, keyContext, recoveryContext } from './vault';

const ids = golden.ids;
const record = (name: string) => {
  const found = golden.records.find((r) => r.name === name);
  if (!found) throw new Error(`no record vector ${name}`);
  return found;
};
const sealed = (name: string) => {
  const found = golden.sealed.find((s) => s.name === name);
  if (!found) throw new Error(`no sealed vector ${name}`);
  return found;
};

describe('production golden vectors use the production contexts', () => {
  it.each([
    ['user key under the key-safe key', { type: 'wrapped-key/user', ...keyContext(ids.admin) }],
    ['key safe (pins)', keySafeContext(ids.admin)],
    ['profile', profileContext(ids.admin)],
    ['RSA private key (PKCS#8) under the user key', { type: 'private-key/rsa-oaep-4096', ...keyContext(ids.admin) }],
    ['ECDSA signing private key (PKCS#8) under the user key', { type: 'private-key/ecdsa-p256', ...keyContext(ids.admin) }],
    ['RSA private key of a Team Member', { type: 'private-key/rsa-oaep-4096', ...keyContext(ids.team) }],
    ['RSA private key of a client', { type: 'private-key/rsa-oaep-4096', ...keyContext(ids.client) }],
    ['escrow private key (PKCS#8) under E', { type: 'private-key/rsa-oaep-4096', ...escrowPrivateKeyContext }],
    ["escrow grant, accepted (E under the holder's user key)", { type: 'wrapped-key/escrow', ...escrowGrantContext(ids.admin) }],
    ['recovery kit copy of E', { type: 'wrapped-key/escrow', ...recoveryContext }],
    ['file key of version 1', { type: 'wrapped-key/file', ...fileKeyContext(ids.space, ids.document, ids.version1) }],
    ['file key of version 2', { type: 'wrapped-key/file', ...fileKeyContext(ids.space, ids.document, ids.version2) }],
    ['document metadata of version 1', metadataContext(ids.space, ids.document, ids.version1)],
    ['document metadata of version 2', metadataContext(ids.space, ids.document, ids.version2)],
    ['folder name', folderNameContext(ids.space, ids.folder)],
    ['thread subject', subjectContext(ids.space, ids.thread)],
    ['message, revision 1', messageContext(ids.space, ids.thread, ids.message, 1)],
    ['message, revision 2 (edited)', messageContext(ids.space, ids.thread, ids.message, 2)],
    ['document request', requestContext(ids.space, ids.request)],
    ['request item', requestItemContext(ids.space, ids.request, ids.requestItem)],
  ])('record %s', (name, ctx) => {
    expect(record(name).ctx).toEqual(ctx);
  });

  it('covers every record vector', () => {
    expect(golden.records).toHaveLength(20);
  });

  it.each([
    ['user key sealed to escrow (Administrator)', 'user', escrowUserKeyContext(ids.admin)],
    ['user key sealed to escrow (client)', 'user', escrowUserKeyContext(ids.client)],
    ['escrow grant, pending (E sealed to the holder)', 'escrow', escrowGrantContext(ids.team)],
    ['space key sealed to the client', 'space', spaceKeyContext(ids.space, ids.client)],
    ['space key sealed to escrow', 'space', spaceKeyContext(ids.space, ESCROW_HOLDER)],
  ])('sealed %s', (name, purpose, ctx) => {
    expect(sealed(name).purpose).toBe(purpose);
    expect(sealed(name).ctx).toEqual(ctx);
  });

  it('files are bound to documentId/versionId in their space', () => {
    expect(golden.files[0]!.ctx).toEqual(fileContext(ids.space, ids.document, ids.version1));
    expect(golden.files[1]!.ctx).toEqual(fileContext(ids.space, ids.document, ids.version2));
  });

  it('canonicalises the typed recovery secret as recoverWithKit does', () => {
    expect(parseRecoverySecret(golden.recoverySecret.typed)).toBe(golden.recoverySecret.canonical);
    expect(parseRecoverySecret(golden.recoverySecret.canonical)).toBe(golden.recoverySecret.canonical);
  });

  it('a version-1 key safe opens as version 2 with revision 0 and nothing remembered', async () => {
    const userKey = await importSecretKey('user', fromHex(golden.keys.adminUser.raw));
    const opened = await openKeySafe(userKey, ids.admin, fromBase64Url(record('key safe (pins)').envelope));
    const pins = JSON.parse(fromUtf8(fromBase64Url(record('key safe (pins)').plaintext))) as Record<string, unknown>;
    expect(opened).toEqual({
      v: 2,
      escrowFingerprint: pins['escrowFingerprint'],
      opaqueServerPublicKey: pins['opaqueServerPublicKey'],
      adminRootFingerprint: pins['adminRootFingerprint'],
      rev: 0,
      heads: {},
      seen: {},
    });
  });

  it('plaintexts of the account records pass the production schemas', () => {
    const json = (name: string): unknown => JSON.parse(fromUtf8(fromBase64Url(record(name).plaintext)));
    // The vector is a version-1 safe, as accounts made before key safe v2 hold it.
    const safe = json('key safe (pins)') as Record<string, unknown>;
    expect(Object.keys(safe).sort()).toEqual(['adminRootFingerprint', 'escrowFingerprint', 'opaqueServerPublicKey', 'v']);
    expect(pinsSchema.parse(pinsOf(safe as Pins))).toEqual({
      escrowFingerprint: safe['escrowFingerprint'],
      opaqueServerPublicKey: safe['opaqueServerPublicKey'],
      adminRootFingerprint: safe['adminRootFingerprint'],
    });
    expect(profileSchema.parse(json('profile'))).toEqual(json('profile'));
  });
});

describe('production golden vectors open with the production space functions', () => {
  const spaceKey = () => importSecretKey('space', fromHex(golden.keys.space.raw));

  it('opens metadata, file keys, folder, subject, messages, request and item', async () => {
    const key = await spaceKey();
    const text = (name: string) => record(name).text!;
    for (const [versionId, n] of [[ids.version1, 1], [ids.version2, 2]] as const) {
      const metadata = await openVersionMetadata(key, ids.space, { id: versionId, documentId: ids.document, metadata: record(`document metadata of version ${n}`).envelope });
      expect(JSON.stringify(metadata)).toBe(text(`document metadata of version ${n}`));
      const { fileKey, file } = await openFileKey(key, ids.space, { id: versionId, documentId: ids.document, wrappedFileKey: record(`file key of version ${n}`).envelope }, { extractable: true });
      expect(fileKey.rawBytes()).toEqual(fromBase64Url(record(`file key of version ${n}`).plaintext));
      expect(file).toEqual(golden.files[n - 1]!.ctx);
    }
    expect(await openFolderName(key, ids.space, ids.folder, record('folder name').envelope)).toBe((JSON.parse(text('folder name')) as { name: string }).name);
    expect(await openThreadSubject(key, ids.space, ids.thread, record('thread subject').envelope)).toBe((JSON.parse(text('thread subject')) as { subject: string }).subject);
    expect(await openMessageBody(key, ids.space, ids.thread, ids.message, 2, record('message, revision 2 (edited)').envelope)).toEqual(JSON.parse(text('message, revision 2 (edited)')));
    expect(await openRequestBody(key, ids.space, ids.request, record('document request').envelope)).toEqual(JSON.parse(text('document request')));
    expect(await openRequestItem(key, ids.space, ids.request, ids.requestItem, record('request item').envelope)).toEqual(JSON.parse(text('request item')));
  });

  it('verifies the holder statements back to the pinned root', async () => {
    expect(golden.signatures.every((s) => s.context === HOLDER_STATEMENT_CONTEXT)).toBe(true);
    const pins = JSON.parse(record('key safe (pins)').text!) as { escrowFingerprint: string; adminRootFingerprint: string };
    const verified = await verifyHolderStatements(
      golden.signatures.map((s) => ({ payload: s.payload, signature: s.signature, signerId: ids.admin })),
      [{ userId: ids.admin, publicKey: golden.ecdsa.admin.spki }],
      pins,
    );
    expect(verified.map((v) => [v.statement.holderId, v.verified])).toEqual([
      [ids.admin, true],
      [ids.team, true],
    ]);
  });
});
