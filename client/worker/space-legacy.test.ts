// The crypto worker on a data directory made before signed histories (main d9a4625, migrated in place): legacy spaces, adoption, unsigned items.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../../shared/flows/account-flows';
import { getHistory } from '../../shared/api';
import { parseEntryPayload } from '../../shared/flows/space-history';
import { browserLikeClient, type BrowserLikeClient } from '../../server/lib/node-api-client';
import { startLegacyServer, type LegacyManifest, type LegacyServer } from '../../server/test/legacy-server';
import { fast } from '../../server/test/org-fixture';
import type { AccountSlot } from './account-operations';
import { createKeySafeKeeper } from './key-safe-keeper';
import { outcomeOf } from './outcome';
import { createSpaceOperations } from './space-operations';
import { createTransferOperations } from './transfers';
import { createTrust } from './trust';
import { budget } from '../../server/test/budget';

let legacy: LegacyServer;
let manifest: LegacyManifest;

beforeAll(async () => {
  legacy = await startLegacyServer();
  manifest = legacy.manifest;
}, budget(60_000));
afterAll(() => legacy?.close());

/** A fixture account signed in through the real flows, with the worker's key safe keeper, Trust and space operations. */
async function engine(role: 'team' | 'client') {
  const account = manifest.accounts.find((a) => a.role === role)!;
  const http: BrowserLikeClient = browserLikeClient(legacy.server.baseUrl, manifest.publicOrigin);
  const { vault, bundle } = await login(http.api, account.email, account.password, fast);
  const keySafe = createKeySafeKeeper({ api: http.api, owner: vault, initial: { safe: vault.keySafe, revision: vault.keySafeRevision }, storage: null, delayMs: 5 });
  const slot: AccountSlot = { current: { vault, keySafe, session: bundle.session, name: null, profile: bundle.keys.profile } };
  const spaces = createSpaceOperations({ api: http.api, account: slot, trust: createTrust({ api: http.api, account: slot }) });
  const withSession: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('Origin', manifest.publicOrigin);
    headers.set('Cookie', [...http.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    return fetch(input, { ...init, headers });
  };
  const transfers = createTransferOperations({ api: http.api, spaces, baseUrl: legacy.server.baseUrl, fetch: withSession });
  return { userId: account.userId, vault, http, spaces, transfers };
}

describe('spaces made before signed histories', () => {
  it('staff adopt the team space on first visit: legacy items are marked, new work is signed and verified', async () => {
    const team = await engine('team');
    const { spaces } = await team.spaces.listSpaces();
    expect(spaces.find((space) => space.id === manifest.teamSpace)?.security.writable).toBe(true);
    const history = await team.http.api(getHistory, { params: { spaceId: manifest.teamSpace }, query: {} });
    expect(history.entries.map((entry) => [parseEntryPayload(entry)?.type, parseEntryPayload(entry)?.author])).toEqual([['space.create', team.userId]]);

    const listing = await team.spaces.listDocuments(manifest.teamSpace);
    const memo = listing.documents.find((document) => document.current.name === manifest.teamDocument.name);
    // Decrypted with the adopted key, but nobody vouches for who made it: not in the signed history.
    expect(memo).toMatchObject({ unverified: true, createdBy: null, current: { uploadedBy: null } });
    expect(listing.security).toMatchObject({ writable: true, warnings: [expect.objectContaining({ problem: 'unsigned', item: { kind: 'document', id: memo!.id } })] });
    // A change to it would name an item the history lacks: refused before anything is sent.
    expect(await outcomeOf(() => team.spaces.deleteDocument(memo!.id))).toMatchObject({ ok: false, failure: { code: 'item_unsigned' } });

    const folder = await team.spaces.createFolder(manifest.teamSpace, null, 'Na de upgrade');
    expect(folder).toMatchObject({ name: 'Na de upgrade', createdBy: team.userId, unverified: false });
    const file = new File(['na de upgrade'], 'Notitie.txt', { type: 'text/plain', lastModified: 1_700_000_000_000 });
    const uploaded = await team.transfers.uploadFile('legacy-1', file, { kind: 'new-document', spaceId: manifest.teamSpace, folderId: folder.id, requestItemId: null }, () => undefined);
    expect(uploaded).toMatchObject({ createdBy: team.userId, unverified: false, current: { name: 'Notitie.txt', uploadedBy: team.userId } });
    // Another sign-in verifies the same: the adopted history holds entry 0, the folder and the upload.
    const again = await (await engine('team')).spaces.listDocuments(manifest.teamSpace);
    expect(again.folders.find((f) => f.id === folder.id)).toMatchObject({ createdBy: team.userId, unverified: false });
    expect(again.documents.find((d) => d.id === uploaded.id)).toMatchObject({ unverified: false, current: { uploadedBy: team.userId } });
  });

  it('staff cannot read a client space its client has not adopted; the client adopts it on first open with a fresh escrow seal, and staff then read it verified', async () => {
    const before = await legacy.db.selectFrom('spaces').select(['sealed_for_escrow', 'sealed_for_client']).where('id', '=', manifest.clientSpace).executeTakeFirstOrThrow();
    const team = await engine('team');
    const unseen = await team.spaces.listDocuments(manifest.clientSpace);
    expect(unseen.documents.every((document) => document.current.name === null)).toBe(true);
    expect(unseen.security.writable).toBe(false);
    expect(unseen.security.warnings).toContainEqual(expect.objectContaining({ problem: 'unsigned', item: null }));

    // The client's first open adopts it: entry 0 by the client, naming their wrap and a fresh seal to the pinned escrow key.
    const client = await engine('client');
    const listing = await client.spaces.listDocuments(manifest.clientSpace);
    const history = await client.http.api(getHistory, { params: { spaceId: manifest.clientSpace }, query: {} });
    expect(history.entries.map((entry) => [parseEntryPayload(entry)?.type, parseEntryPayload(entry)?.author])).toEqual([['space.create', client.userId]]);
    const after = await legacy.db.selectFrom('spaces').selectAll().where('id', '=', manifest.clientSpace).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ legacy: 0, sealed_for_client: before.sealed_for_client });
    expect(after.sealed_for_escrow).not.toBe(before.sealed_for_escrow);
    const genesis = parseEntryPayload(history.entries[0]!);
    expect(genesis?.type === 'space.create' && genesis.body).toMatchObject({
      spaceKind: 'client',
      client: client.userId,
      escrowSeal: createHash('sha256').update(Buffer.from(after.sealed_for_escrow, 'base64url')).digest('hex'),
      clientWrap: createHash('sha256').update(Buffer.from(after.wrapped_for_client!, 'base64url')).digest('hex'),
    });
    // The old document is read with the adopted key but stays marked: nothing in the signed history vouches for it.
    expect(listing.documents.map((document) => [document.current.name, document.unverified])).toEqual([[manifest.document.names[1], true]]);
    expect(listing.security.writable).toBe(true);
    expect(listing.security.warnings.every((warning) => warning.problem === 'unsigned' && warning.item !== null)).toBe(true);
    expect(await outcomeOf(() => client.spaces.deleteDocument(manifest.document.id))).toMatchObject({ ok: false, failure: { code: 'item_unsigned' } });
    const folder = await client.spaces.createFolder(manifest.clientSpace, null, 'Nieuw');
    expect(folder).toMatchObject({ name: 'Nieuw', createdBy: client.userId, unverified: false });

    // The same staff session sees it adopted: the fresh escrow seal opens the same key, as entry 0 vouches.
    await team.spaces.listSpaces();
    const adopted = await team.spaces.listDocuments(manifest.clientSpace);
    expect(adopted.documents.map((document) => [document.current.name, document.unverified])).toEqual([[manifest.document.names[1], true]]);
    expect(adopted.folders.find((f) => f.id === folder.id)).toMatchObject({ name: 'Nieuw', createdBy: client.userId, unverified: false });
    expect(adopted.security.writable).toBe(true);
    expect(adopted.security.warnings.every((warning) => warning.problem === 'unsigned' && warning.item !== null)).toBe(true);
    // A new sign-in of the client opens the space from its wrap, not from the old seal.
    const again = await (await engine('client')).spaces.listDocuments(manifest.clientSpace);
    expect(again.documents.map((document) => document.current.name)).toEqual([manifest.document.names[1]]);
    expect(again.folders.map((f) => f.name)).toContain('Nieuw');
  });
});
