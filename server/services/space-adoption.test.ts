// In-place upgrade over HTTP: the data directory of main d9a4625 migrated, its real accounts sign in, see their legacy spaces, adopt them and write again.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adoptSpace, getHistory, getSpace, listDocuments, listSpaces, listThreads } from '../../shared/api';
import { login } from '../../shared/flows/account-flows';
import { spaceCreateDraft } from '../../shared/flows/space-entries';
import { parseEntryPayload } from '../../shared/flows/space-history';
import type { Db } from '../db/database';
import { newId } from '../lib/ids';
import { browserLikeClient, type RunningServer } from '../lib/node-api-client';
import { startLegacyServer, type LegacyManifest, type LegacyServer } from '../test/legacy-server';
import { inSpace, signFor } from '../test/history-fixture';
import { fast, type Member } from '../test/org-fixture';
import { opaque } from '../test/space-fixture';
import { budget } from '../test/budget';

let legacy: LegacyServer;
let db: Db;
let server: RunningServer;
let manifest: LegacyManifest;

beforeAll(async () => {
  legacy = await startLegacyServer();
  ({ db, server, manifest } = legacy);
}, budget(60_000));
afterAll(() => legacy?.close());

/** A fixture account signed in through the real flows (which add a signing key to an account made before everyone had one). */
async function signIn(role: 'admin' | 'team' | 'client'): Promise<Member> {
  const account = manifest.accounts.find((a) => a.role === role)!;
  const client = browserLikeClient(server.baseUrl, manifest.publicOrigin);
  const { vault } = await login(client.api, account.email, account.password, fast);
  return { role, email: account.email, password: account.password, userId: account.userId, client, vault };
}

describe('a data directory made before signed histories', () => {
  it('shows both spaces as legacy, with everything in them, and refuses writes until they are adopted', async () => {
    const client = await signIn('client');
    const team = await signIn('team');
    const seals = await db.selectFrom('spaces').select(['id', 'sealed_for_client', 'sealed_for_escrow']).execute();
    const mine = (await client.client.api(listSpaces, {})).spaces;
    expect(mine.map((s) => [s.id, s.legacy, s.historyLength, s.wrappedKey, s.sealedKey])).toEqual([
      [manifest.clientSpace, true, 0, null, seals.find((s) => s.id === manifest.clientSpace)?.sealed_for_client],
    ]);
    const all = (await team.client.api(listSpaces, {})).spaces;
    expect(all.map((s) => [s.id, s.legacy, s.sealedKey]).sort()).toEqual(seals.map((s) => [s.id, true, s.sealed_for_escrow]).sort());
    const listing = await client.client.api(listDocuments, { params: { spaceId: manifest.clientSpace }, query: {} });
    expect(listing.documents.map((d) => [d.id, d.versionCount])).toEqual([[manifest.document.id, 2]]);
    expect((await client.client.api(listThreads, { params: { spaceId: manifest.clientSpace } })).threads.map((t) => t.id)).toEqual([manifest.thread.id]);
    expect(await client.client.api(getHistory, { params: { spaceId: manifest.clientSpace }, query: {} })).toEqual({ entries: [], more: false });

    const folder = { id: newId(), parentId: null, name: opaque() };
    await expect(inSpace(client, manifest.clientSpace).createFolder(folder)).rejects.toMatchObject({ status: 409, code: 'history_conflict' });
  });

  it('the client adopts their space and the team member the team space, after which both take signed changes', async () => {
    const client = await signIn('client');
    const team = await signIn('team');
    const seals = await db.selectFrom('spaces').select(['id', 'sealed_for_escrow']).execute();
    const sealOf = (id: string) => seals.find((s) => s.id === id)!.sealed_for_escrow;
    const key = '1'.repeat(64);

    // The client seals the key afresh to the escrow key (they cannot check the stored seal); entry 0 names the fresh one.
    const wrappedForClient = opaque(60);
    const sealedForEscrow = opaque(256);
    const clientDraft = spaceCreateDraft({ id: manifest.clientSpace, kind: 'client', sealedForEscrow, wrappedForClient }, client.userId, key);
    const adopted = await client.client.api(adoptSpace, {
      params: { spaceId: manifest.clientSpace },
      body: { wrappedForClient, sealedForEscrow, entry: await signFor(client, manifest.clientSpace, clientDraft, null) },
    });
    expect(adopted).toMatchObject({ legacy: false, historyLength: 1, wrappedKey: wrappedForClient, sealedKey: null });
    expect(await team.client.api(getSpace, { params: { spaceId: manifest.clientSpace } })).toMatchObject({ legacy: false, sealedKey: sealedForEscrow, wrappedKey: null });

    const teamDraft = spaceCreateDraft({ id: manifest.teamSpace, kind: 'team', sealedForEscrow: sealOf(manifest.teamSpace) }, null, key);
    expect(await team.client.api(adoptSpace, { params: { spaceId: manifest.teamSpace }, body: { entry: await signFor(team, manifest.teamSpace, teamDraft, null) } })).toMatchObject({ legacy: false, historyLength: 1 });

    await inSpace(client, manifest.clientSpace).createFolder({ id: newId(), parentId: null, name: opaque() });
    // A document made before the signed history: no entry vouches for it, so no browser would accept a change of it.
    await expect(inSpace(team, manifest.clientSpace).moveDocument(manifest.document.id, null)).rejects.toMatchObject({
      status: 400,
      code: 'entry_invalid',
      message: "This item was made before the space's signed history and can no longer be changed.",
    });
    await inSpace(team, manifest.teamSpace).createFolder({ id: newId(), parentId: null, name: opaque() });
    const history = await team.client.api(getHistory, { params: { spaceId: manifest.clientSpace }, query: {} });
    expect(history.entries.map((e) => [parseEntryPayload(e)?.type, parseEntryPayload(e)?.author])).toEqual([
      ['space.create', client.userId],
      ['folder.create', client.userId],
    ]);
    // The old client seal stays where it was; the escrow seal is the fresh one, the replaced one's digest is in the audit log.
    const row = await db.selectFrom('spaces').selectAll().where('id', '=', manifest.clientSpace).executeTakeFirstOrThrow();
    expect(row.sealed_for_client).not.toBeNull();
    expect(row.wrapped_for_client).toBe(wrappedForClient);
    expect(row.sealed_for_escrow).toBe(sealedForEscrow);
    const events = await db.selectFrom('audit_events').select('details').where('action', '=', 'space.adopted').where('target_id', '=', manifest.clientSpace).execute();
    expect(events.map((e) => JSON.parse(e.details) as unknown)).toEqual([
      { kind: 'client', replacedEscrowSeal: createHash('sha256').update(Buffer.from(sealOf(manifest.clientSpace), 'base64url')).digest('hex') },
    ]);
  });
});
