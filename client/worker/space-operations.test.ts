// The worker's space operations against a real server on a loopback port: real keys, real ciphertext, real SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { getDirectory, getHistory, getThread, listDocuments } from '../../shared/api';
import {
  type EndpointResponse,
  type Space,
  getDocument,
  listSpaces,
  listUsers,
} from '../../shared/api';
import { fromBase64Url, generateSecretKey, generateSigningKeyPair, randomBytes, sealSecretKey, toBase64Url } from '../../shared/crypto';
import { ESCROW_HOLDER, spaceKeyContext } from '../../shared/flows/spaces';
import { importPinnedEscrowKey } from '../../shared/flows/vault';
import { invite, login, signup } from '../../shared/flows/account-flows';
import {
  createTestOrganisation,
  fast,
  invitationLinkFor,
  parseInvitationLink,
  type Member,
  type TestOrganisation,
} from '../../server/test/org-fixture';
import type { CallApi } from '../../shared/api/client';
import type { AccountSlot } from './account-operations';
import { outcomeOf } from './outcome';
import { createSpaceOperations, type WorkerSpaceOperations } from './space-operations';
import type { DocumentView, SpaceSecurity, ThreadDetailView } from './space-types';
import { type KeySafeKeeper, createKeySafeKeeper } from './key-safe-keeper';
import { createTransferOperations } from './transfers';
import { createTrust } from './trust';
import { budget } from '../../server/test/budget';

const MiB = 1024 * 1024;

interface Engine {
  readonly slot: AccountSlot;
  readonly keySafe: KeySafeKeeper;
  readonly spaces: WorkerSpaceOperations;
  readonly transfers: ReturnType<typeof createTransferOperations>;
  readonly member: Member;
}

let org: TestOrganisation;
let team: Engine;
let client: Engine;
let other: Engine;

/**
 * What the crypto worker holds after a sign-in: the account slot filled by the real login flow, its
 * key safe keeper (remembered heads are written to the server's key safe, so a new sign-in still
 * notices a rollback) and the worker's real Trust over the key directory. `api` may put a tampering
 * server in between.
 */
async function engineFor(member: Member, api: CallApi = member.client.api): Promise<Engine> {
  const { vault, bundle } = await login(member.client.api, member.email, member.password, fast);
  member.vault = vault;
  const keySafe = createKeySafeKeeper({ api: member.client.api, owner: vault, initial: { safe: vault.keySafe, revision: vault.keySafeRevision }, storage: null, delayMs: 5 });
  const slot: AccountSlot = { current: { vault, keySafe, session: bundle.session, name: null, profile: bundle.keys.profile } };
  const spaces = createSpaceOperations({ api, account: slot, trust: createTrust({ api, account: slot }) });
  const memberFetch: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('Origin', org.testApp.config.publicOrigin);
    headers.set('Cookie', [...member.client.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    return fetch(input, { ...init, headers });
  };
  const transfers = createTransferOperations({
    api,
    fetch: memberFetch,
    baseUrl: org.server.baseUrl,
    spaces,
    tuning: { partSize: MiB, progressIntervalMs: 0 },
  });
  return { slot, keySafe, spaces, transfers, member };
}

/** A second client, invited and signed up through the real flows. */
async function secondClient(): Promise<Member> {
  const email = 'bram@klant.test';
  const password = 'gele-kano-op-de-rivier';
  await invite(org.admin.client.api, org.admin.vault, { email, role: 'client', language: 'en' });
  const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
  const memberClient = org.newClient();
  const { userId } = await signup(memberClient.api, { token, fragment, name: 'Bram Buiten', password, language: 'en' }, fast);
  const { vault } = await login(memberClient.api, email, password, fast);
  return { role: 'client', email, password, userId, client: memberClient, vault };
}

function fileOf(text: string, name: string, type = 'text/plain'): File {
  return new File([text], name, { type, lastModified: 1_700_000_000_000 });
}

async function ownSpaceId(engine: Engine): Promise<string> {
  const { spaces } = await engine.spaces.listSpaces();
  const own = spaces.find((space) => space.kind === 'client' && space.clientId === engine.member.userId);
  if (!own) throw new Error('no own space');
  return own.id;
}

async function clientSpaceIdSeenByTeam(): Promise<string> {
  const { spaces } = await team.spaces.listSpaces();
  const found = spaces.find((space) => space.clientId === client.member.userId);
  if (!found) throw new Error('team does not see the client space');
  return found.id;
}

beforeAll(async () => {
  org = await createTestOrganisation(['team', 'client']);
  team = await engineFor(org.members.team!);
  client = await engineFor(org.members.client!);
  other = await engineFor(await secondClient());
}, budget(180_000));

afterAll(async () => {
  await org?.close();
});

describe('the space directory', () => {
  it('creates a client’s own space once, sealed to them and to escrow; staff see it with the decrypted name', async () => {
    const first = await client.spaces.listSpaces();
    const second = await client.spaces.listSpaces();
    expect(first.spaces).toHaveLength(1);
    expect(second.spaces.map((space) => space.id)).toEqual(first.spaces.map((space) => space.id));
    expect(first.spaces[0]).toMatchObject({ kind: 'client', clientId: client.member.userId, clientEmail: 'client@kluis.test' });

    const staffView = await team.spaces.listSpaces();
    expect(staffView.needsEscrowAccess).toBe(false);
    // The team space is made on the first visit of a key holder; clients never see it.
    expect(staffView.spaces.filter((space) => space.kind === 'team')).toHaveLength(1);
    const seen = staffView.spaces.find((space) => space.id === first.spaces[0]!.id);
    expect(seen?.clientName).toBe('client Persoon');
    expect((await client.spaces.listSpaces()).spaces.some((space) => space.kind === 'team')).toBe(false);
  });

  it('names a changed profile (sealed under the user key) for its owner and for staff through escrow', async () => {
    await client.spaces.updateProfile({ name: 'Carla Client', phone: '+31 6 1234 5678', address: 'Dijkweg 1, Hoorn', notes: 'Belt liever ’s ochtends' });
    expect(await client.spaces.getProfile()).toEqual({ name: 'Carla Client', phone: '+31 6 1234 5678', address: 'Dijkweg 1, Hoorn', notes: 'Belt liever ’s ochtends' });
    const { users } = await team.member.client.api(listUsers, {});
    const stored = users.find((user) => user.id === client.member.userId);
    expect(stored?.profile).not.toContain('Carla');
    const staffView = await team.spaces.listSpaces();
    expect(staffView.spaces.find((space) => space.clientId === client.member.userId)?.clientName).toBe('Carla Client');
  });
});

describe('documents', () => {
  it('lists names sorted the way people read them (numbers by value), and the other side decrypts them', async () => {
    const spaceId = await ownSpaceId(client);
    const names = ['Factuur 10.txt', 'factuur 2.txt', 'Aangifte 2024.txt', 'Factuur 1.txt'];
    for (const name of names) {
      await client.transfers.uploadFile(`t-${name}`, fileOf(`inhoud van ${name}`, name), { kind: 'new-document', spaceId, folderId: null, requestItemId: null }, () => undefined);
    }
    const listing = await team.spaces.listDocuments(await clientSpaceIdSeenByTeam());
    const listed = listing.documents.map((document) => document.current.name).filter((name) => name && names.includes(name));
    expect(listed).toEqual(['Aangifte 2024.txt', 'Factuur 1.txt', 'factuur 2.txt', 'Factuur 10.txt']);
    const first = listing.documents.find((document) => document.current.name === 'Factuur 1.txt');
    expect(first?.current).toMatchObject({ size: 'inhoud van Factuur 1.txt'.length, type: 'text/plain', number: 1 });
  });

  it('keeps versions and leaves a tombstone naming who deleted it', async () => {
    const spaceId = await ownSpaceId(client);
    const target = { kind: 'new-document', spaceId, folderId: null, requestItemId: null } as const;
    const created = await client.transfers.uploadFile('v1', fileOf('versie een', 'Contract.txt'), target, () => undefined);
    await team.transfers.uploadFile('v2', fileOf('versie twee', 'Contract (getekend).txt'), { kind: 'new-version', spaceId, documentId: created.id }, () => undefined);

    const history = await client.spaces.documentHistory(created.id);
    expect(history.versions.map((version) => [version.number, version.name])).toEqual([
      [1, 'Contract.txt'],
      [2, 'Contract (getekend).txt'],
    ]);
    expect(history.versions[1]?.uploadedBy).toBe(team.member.userId);

    const deleted = await client.spaces.deleteDocument(created.id);
    expect(deleted).toMatchObject({ deletedBy: client.member.userId, current: { name: 'Contract (getekend).txt' } });
    const seenByTeam = await team.spaces.listDocuments(spaceId);
    expect(seenByTeam.documents.find((document) => document.id === created.id)).toMatchObject({
      deletedBy: client.member.userId,
      versionCount: 2,
    });
  });

  it('makes, renames and lists folders under encrypted names, and moves documents into them', async () => {
    const spaceId = await ownSpaceId(client);
    const folder = await client.spaces.createFolder(spaceId, null, 'Belastingen');
    const renamed = await client.spaces.renameFolder(spaceId, folder.id, 'Belastingen 2024');
    expect(renamed.name).toBe('Belastingen 2024');
    const document = await client.transfers.uploadFile('f', fileOf('x', 'Aanslag.txt'), { kind: 'new-document', spaceId, folderId: null, requestItemId: null }, () => undefined);
    const moved = await team.spaces.moveDocument(document.id, folder.id);
    expect(moved.folderId).toBe(folder.id);
    const listing = await team.spaces.listDocuments(spaceId);
    expect(listing.folders.find((candidate) => candidate.id === folder.id)?.name).toBe('Belastingen 2024');
    const stored = await org.testApp.db.selectFrom('folders').select('name').where('id', '=', folder.id).executeTakeFirstOrThrow();
    expect(stored.name).not.toContain('Belastingen');
  });
});

describe('messages', () => {
  it('a thread started by the team with an attachment is read and answered by the client; an edit is a revision', async () => {
    const spaceId = await clientSpaceIdSeenByTeam();
    const attachment = await team.transfers.uploadFile('a', fileOf('%PDF-1.7 offerte', 'Offerte.pdf', 'application/pdf'), { kind: 'new-document', spaceId, folderId: null, requestItemId: null }, () => undefined);
    const started = await team.spaces.startThread(spaceId, 'Uw aangifte', 'Zie bijlage, graag akkoord.', [attachment.id]);
    expect(started.thread.subject).toBe('Uw aangifte');

    const { threads } = await client.spaces.listThreads(spaceId);
    const thread = threads.find((candidate) => candidate.id === started.thread.id);
    expect(thread).toMatchObject({ subject: 'Uw aangifte', unreadCount: 1, messageCount: 1 });
    const opened = await client.spaces.openThread(started.thread.id);
    expect(opened.messages[0]).toMatchObject({ attachments: [attachment.id], revisions: [{ revision: 1, text: 'Zie bijlage, graag akkoord.' }] });
    await client.spaces.markThreadRead(started.thread.id);
    expect((await client.spaces.listThreads(spaceId)).threads.find((candidate) => candidate.id === started.thread.id)?.unreadCount).toBe(0);

    const reply = await client.spaces.reply(started.thread.id, 'Akkord!', []);
    const edited = await client.spaces.editMessage(started.thread.id, reply.id, 'Akkoord!');
    expect(edited.revisions.map((revision) => [revision.revision, revision.text])).toEqual([
      [1, 'Akkord!'],
      [2, 'Akkoord!'],
    ]);
    const seenByTeam = await team.spaces.openThread(started.thread.id);
    expect(seenByTeam.messages.at(-1)?.revisions.at(-1)?.text).toBe('Akkoord!');
    // Only the author edits.
    const refused = await outcomeOf(() => team.spaces.editMessage(started.thread.id, reply.id, 'Nee'));
    expect(refused).toMatchObject({ ok: false, failure: { code: 'message_not_editable' } });
  });
});

describe('document requests', () => {
  it('a checklist made by the team reads back on the client’s side, and an upload against an item shows', async () => {
    const spaceId = await clientSpaceIdSeenByTeam();
    const request = await team.spaces.createRequest(spaceId, {
      title: 'Aangifte 2024',
      description: 'Graag voor de deadline',
      dueDate: '2099-05-01',
      items: ['Jaaropgave werkgever', 'WOZ-beschikking'],
    });
    const item = request.items[0]!;
    await client.transfers.uploadFile('r', fileOf('jaaropgave', 'Jaaropgave.pdf'), { kind: 'new-document', spaceId, folderId: null, requestItemId: item.id }, () => undefined);
    const seen = (await client.spaces.listRequests(spaceId)).requests.find((candidate) => candidate.id === request.id);
    expect(seen).toMatchObject({ title: 'Aangifte 2024', description: 'Graag voor de deadline', dueDate: '2099-05-01' });
    expect(seen?.items.map((candidate) => [candidate.description, candidate.documentIds.length])).toEqual([
      ['Jaaropgave werkgever', 1],
      ['WOZ-beschikking', 0],
    ]);
    const closed = await team.spaces.closeRequest(spaceId, request.id);
    expect(closed.closedBy).toBe(team.member.userId);
  });
});

describe('another client', () => {
  it('cannot open, list or read anything of the first client’s space', async () => {
    const spaceId = await ownSpaceId(client);
    const { documents } = await client.spaces.listDocuments(spaceId);
    const mine = (await other.spaces.listSpaces()).spaces;
    expect(mine.map((space) => space.clientId)).toEqual([other.member.userId]);
    expect(await outcomeOf(() => other.spaces.listDocuments(spaceId))).toMatchObject({ ok: false, failure: { code: 'space_not_found' } });
    expect(await outcomeOf(() => other.spaces.listThreads(spaceId))).toMatchObject({ ok: false, failure: { code: 'space_not_found' } });
    expect(await outcomeOf(() => other.spaces.documentHistory(documents[0]!.id))).toMatchObject({ ok: false, failure: { code: 'document_not_found' } });
    await expect(other.member.client.api(getDocument, { params: { documentId: documents[0]!.id } })).rejects.toMatchObject({ code: 'document_not_found' });
  });

  it('a locked engine holds no keys: every operation answers not_signed_in', async () => {
    const spaceId = await ownSpaceId(client);
    const saved = client.slot.current;
    client.slot.current = null;
    try {
      expect(await outcomeOf(() => client.spaces.listDocuments(spaceId))).toMatchObject({ ok: false, failure: { code: 'not_signed_in' } });
      expect(await outcomeOf(() => client.spaces.listSpaces())).toMatchObject({ ok: false, failure: { code: 'not_signed_in' } });
    } finally {
      client.slot.current = saved;
    }
  });
});

// --- a malicious server (its answers changed between the real server and the worker) ---

/** An api whose answers `change` may rewrite per operation; `calls` records every operation and error code. */
function evilApi(member: Member, change: (operationId: string, response: unknown) => unknown) {
  const calls: string[] = [];
  const api = (async (endpoint, input, options) => {
    try {
      const response = await member.client.api(endpoint, input, options);
      calls.push(endpoint.operationId);
      return change(endpoint.operationId, response);
    } catch (error) {
      calls.push(`${endpoint.operationId}:${(error as { code?: string }).code ?? 'error'}`);
      throw error;
    }
  }) as CallApi;
  return { api, calls };
}

/** A payload re-encoded after a change to its JSON (the signature no longer matches). */
function alteredEntry(entry: { payload: string; signature: string }, change: (payload: Record<string, unknown>) => void) {
  const payload = JSON.parse(new TextDecoder().decode(fromBase64Url(entry.payload))) as Record<string, unknown>;
  change(payload);
  return { ...entry, payload: toBase64Url(new TextEncoder().encode(JSON.stringify(payload))) };
}

const problemsOf = (security: SpaceSecurity) => security.warnings.map((warning) => warning.problem);

describe('a malicious server', () => {
  let spaceId: string;
  let teamDocument: DocumentView;
  let teamThread: ThreadDetailView;

  beforeAll(async () => {
    spaceId = await clientSpaceIdSeenByTeam();
    teamDocument = await team.transfers.uploadFile('evil-1', fileOf('offerte', 'Offerte 2025.txt'), { kind: 'new-document', spaceId, folderId: null, requestItemId: null }, () => undefined);
    teamThread = await team.spaces.startThread(spaceId, 'Offerte', 'Hierbij de offerte.', [teamDocument.id]);
    await client.spaces.reply(teamThread.thread.id, 'Dank u.', []);
  });

  it('re-attributes a message and an upload: the page gets the signed authors, a mismatch warning, and changes are refused', async () => {
    const evil = evilApi(client.member, (operation, response) => {
      if (operation === 'getThread') {
        const detail = response as EndpointResponse<typeof getThread>;
        return { ...detail, messages: detail.messages.map((message) => ({ ...message, authorId: client.member.userId })) };
      }
      if (operation === 'listDocuments') {
        const page = response as EndpointResponse<typeof listDocuments>;
        return { ...page, documents: page.documents.map((d) => (d.id === teamDocument.id ? { ...d, current: { ...d.current, uploadedBy: client.member.userId } } : d)) };
      }
      return response;
    });
    const victim = await engineFor(client.member, evil.api);
    const thread = await victim.spaces.openThread(teamThread.thread.id);
    const first = thread.messages.find((message) => message.id === teamThread.messages[0]!.id);
    expect(first).toMatchObject({ authorId: team.member.userId, unverified: true });
    expect(thread.security.warnings).toContainEqual(expect.objectContaining({ problem: 'mismatch', item: { kind: 'message', id: first!.id } }));
    expect(thread.security.writable).toBe(false);

    const listing = await victim.spaces.listDocuments(spaceId);
    expect(listing.documents.find((d) => d.id === teamDocument.id)?.current).toMatchObject({ uploadedBy: team.member.userId, unverified: true });
    expect(problemsOf(listing.security)).toContain('mismatch');

    const sent = evil.calls.length;
    expect(await outcomeOf(() => victim.spaces.reply(teamThread.thread.id, 'geheim', []))).toMatchObject({ ok: false, failure: { code: 'space_untrusted' } });
    expect(evil.calls.slice(sent)).not.toContain('postMessage');
    // The honest server still holds the two messages only.
    expect((await client.spaces.openThread(teamThread.thread.id)).messages).toHaveLength(2);
  });

  it('rolls the history back: an account that verified the newer one notices, also after signing in again', async () => {
    await client.spaces.listDocuments(spaceId);
    await client.keySafe.flush(); // this account's key safe on the server remembers the head
    const evil = evilApi(client.member, (operation, response) => {
      if (operation !== 'getHistory') return response;
      const page = response as EndpointResponse<typeof getHistory>;
      return { ...page, entries: page.entries.slice(0, -2) };
    });
    const victim = await engineFor(client.member, evil.api);
    const listing = await victim.spaces.listDocuments(spaceId);
    expect(problemsOf(listing.security)).toContain('rollback');
    expect(listing.security.writable).toBe(false);
    // Not an empty list, not a browser problem: the listing is there with the warning.
    expect(listing.documents.length).toBeGreaterThan(0);
    expect(await outcomeOf(() => victim.spaces.createFolder(spaceId, null, 'Nieuw'))).toMatchObject({ ok: false, failure: { code: 'space_untrusted' } });
    expect(evil.calls).not.toContain('createFolder');
  });

  it('lists a space with a shorter history than this account verified: the directory says rollback before it is opened', async () => {
    await team.spaces.listDocuments(spaceId);
    await team.keySafe.flush();
    const evil = evilApi(team.member, (operation, response) => {
      if (operation !== 'listSpaces') return response;
      const listed = response as EndpointResponse<typeof listSpaces>;
      return { ...listed, spaces: listed.spaces.map((space) => (space.id === spaceId ? { ...space, historyLength: 1 } : space)) };
    });
    const victim = await engineFor(team.member, evil.api);
    const listed = (await victim.spaces.listSpaces()).spaces.find((space) => space.id === spaceId);
    expect(listed?.security).toMatchObject({ writable: false, warnings: [expect.objectContaining({ problem: 'rollback' })] });
    const honest = (await team.spaces.listSpaces()).spaces.find((space) => space.id === spaceId);
    expect(honest?.security).toEqual({ warnings: [], writable: true });
  });

  it('lists another signing key for a colleague: their entries are by an unknown author', async () => {
    const { privateKey } = await generateSigningKeyPair(await generateSecretKey('user'), { id: team.member.userId, owner: team.member.userId });
    const evil = evilApi(client.member, (operation, response) => {
      if (operation !== 'getDirectory') return response;
      const directory = response as EndpointResponse<typeof getDirectory>;
      return {
        entries: directory.entries.map((entry) => (entry.id === team.member.userId ? { ...entry, signingPublicKey: toBase64Url(privateKey.publicKey.spki) } : entry)),
      };
    });
    const victim = await engineFor(client.member, evil.api);
    const threads = await victim.spaces.listThreads(spaceId);
    expect(problemsOf(threads.security)).toContain('unknown-author');
    expect(threads.security.writable).toBe(false);
  });

  it('drops, reorders or alters an entry: broken chain or bad signature', async () => {
    const dropped = evilApi(team.member, (operation, response) => {
      if (operation !== 'getHistory') return response;
      const page = response as EndpointResponse<typeof getHistory>;
      return { ...page, entries: page.entries.filter((_, index) => index !== 1) };
    });
    const first = await engineFor(team.member, dropped.api);
    expect(problemsOf((await first.spaces.listDocuments(spaceId)).security)).toContain('broken-chain');

    const reordered = evilApi(team.member, (operation, response) => {
      if (operation !== 'getHistory') return response;
      const page = response as EndpointResponse<typeof getHistory>;
      const entries = [...page.entries];
      [entries[1], entries[2]] = [entries[2]!, entries[1]!];
      return { ...page, entries };
    });
    const second = await engineFor(team.member, reordered.api);
    expect(problemsOf((await second.spaces.listThreads(spaceId)).security)).toContain('broken-chain');

    const altered = evilApi(team.member, (operation, response) => {
      if (operation !== 'getHistory') return response;
      const page = response as EndpointResponse<typeof getHistory>;
      return { ...page, entries: page.entries.map((entry, index) => (index === 1 ? alteredEntry(entry, (p) => (p.at = '2020-01-01T00:00:00.000Z')) : entry)) };
    });
    const third = await engineFor(team.member, altered.api);
    const requests = await third.spaces.listRequests(spaceId);
    expect(problemsOf(requests.security)).toContain('bad-signature');
    expect(requests.security.warnings[0]).toMatchObject({ problem: 'bad-signature', entry: 1 });
  });

  it('offers a space key of its own: the client and staff refuse it, decrypt nothing with it and send nothing under it', async () => {
    const serverKey = await generateSecretKey('space', { extractable: true });
    const escrowKey = await importPinnedEscrowKey((await client.member.client.api(listSpaces, {})).escrowPublicKey, client.member.vault.keySafe.escrowFingerprint);
    const forEscrow = toBase64Url(await sealSecretKey(escrowKey, serverKey, spaceKeyContext(spaceId, ESCROW_HOLDER)));
    const forClient = toBase64Url(await sealSecretKey(client.member.vault.privateKey.publicKey, serverKey, spaceKeyContext(spaceId, client.member.userId)));
    const swap = (space: Space, staffSide: boolean): Space =>
      space.id !== spaceId ? space : staffSide ? { ...space, sealedKey: forEscrow } : { ...space, sealedKey: forClient, wrappedKey: null };
    const evilFor = (member: Member, staffSide: boolean) =>
      evilApi(member, (operation, response) => {
        if (operation === 'getSpace') return swap(response as Space, staffSide);
        if (operation === 'listSpaces') {
          const listed = response as EndpointResponse<typeof listSpaces>;
          return { ...listed, spaces: listed.spaces.map((space) => swap(space, staffSide)) };
        }
        return response;
      });

    for (const [member, staffSide] of [
      [client.member, false],
      [team.member, true],
    ] as const) {
      const evil = evilFor(member, staffSide);
      const victim = await engineFor(member, evil.api);
      const listing = await victim.spaces.listDocuments(spaceId);
      expect(problemsOf(listing.security)).toContain('key-substituted');
      expect(listing.documents.every((document) => document.current.name === null)).toBe(true);
      const upload = await outcomeOf(() =>
        victim.transfers.uploadFile('evil-up', fileOf('geheim', 'Geheim.txt'), { kind: 'new-document', spaceId, folderId: null, requestItemId: null }, () => undefined),
      );
      expect(upload).toMatchObject({ ok: false, failure: { code: 'space_untrusted' } });
      expect(evil.calls).not.toContain('createUpload');
    }
  });

  it('hides a document (missing) or lists one the history does not hold (not in the signed history)', async () => {
    const hiding = evilApi(client.member, (operation, response) => {
      if (operation !== 'listDocuments') return response;
      const page = response as EndpointResponse<typeof listDocuments>;
      return { ...page, documents: page.documents.filter((d) => d.id !== teamDocument.id) };
    });
    const hidden = await (await engineFor(client.member, hiding.api)).spaces.listDocuments(spaceId);
    expect(hidden.security.warnings).toContainEqual(expect.objectContaining({ problem: 'missing', item: { kind: 'document', id: teamDocument.id } }));
    expect(hidden.security.writable).toBe(false);

    const fakeId = toBase64Url(randomBytes(16));
    const adding = evilApi(client.member, (operation, response) => {
      if (operation !== 'listDocuments') return response;
      const page = response as EndpointResponse<typeof listDocuments>;
      const copy = page.documents.find((d) => d.id === teamDocument.id)!;
      return { ...page, documents: [...page.documents, { ...copy, id: fakeId, current: { ...copy.current, documentId: fakeId } }] };
    });
    const added = await (await engineFor(client.member, adding.api)).spaces.listDocuments(spaceId);
    expect(added.documents.find((d) => d.id === fakeId)).toMatchObject({ unverified: true, createdBy: null, current: { uploadedBy: null } });
    expect(added.security.warnings).toEqual([expect.objectContaining({ problem: 'unsigned', item: { kind: 'document', id: fakeId } })]);
    // An item that is only not in the signed history leaves the space writable (legacy items look the same).
    expect(added.security.writable).toBe(true);
  });
});

describe('concurrent writers', () => {
  it('a write signed on a head that moved meanwhile answers history_conflict, and is verified, signed again and sent', async () => {
    const spaceId = await clientSpaceIdSeenByTeam();
    await client.spaces.listDocuments(spaceId);
    // This engine learns of nothing new until its write is refused, as if the colleague's write came right after each read.
    let stale = false;
    const evil = evilApi(client.member, (operation, response) => {
      if (operation !== 'getHistory' || !stale || evil.calls.includes('createFolder:history_conflict')) return response;
      return { entries: [], more: false };
    });
    const writer = await engineFor(client.member, evil.api);
    await writer.spaces.listDocuments(spaceId);
    await team.spaces.createFolder(spaceId, null, 'Van het team');
    stale = true;
    const folder = await writer.spaces.createFolder(spaceId, null, 'Van de cliënt');
    expect(evil.calls.filter((call) => call === 'createFolder:history_conflict')).toHaveLength(1);
    expect(evil.calls.filter((call) => call === 'createFolder')).toHaveLength(1);
    expect(folder).toMatchObject({ name: 'Van de cliënt', createdBy: client.member.userId, unverified: false });
    const listing = await team.spaces.listDocuments(spaceId);
    expect(listing.security.warnings).toEqual([]);
    expect(listing.folders.filter((f) => f.name === 'Van de cliënt' || f.name === 'Van het team')).toHaveLength(2);
  });
});
