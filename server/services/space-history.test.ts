// Signed space histories on the server, against the real services, SQLite and crypto: each check of an entry, one transaction per change, conflicts, paging, adoption.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HISTORY_PAGE, spaceUploadPurpose, type NewVersion } from '../../shared/api';
import { generateSecretKey, generateSigningKeyPair, toBase64Url, toHex, sha256, fromBase64Url, type SigningPrivateKey } from '../../shared/crypto';
import {
  documentCreateDraft,
  documentDeleteDraft,
  documentMoveDraft,
  folderCreateDraft,
  folderDeleteDraft,
  folderRenameDraft,
  messagePostDraft,
  messageReviseDraft,
  requestCloseDraft,
  requestCreateDraft,
  spaceCreateDraft,
  threadCreateDraft,
  versionAddDraft,
} from '../../shared/flows/space-entries';
import { GENESIS_PREV, entryHash, foldEntries, parseEntryPayload, signEntry, type EntryDraft, type HistoryHead, type SignedEntry } from '../../shared/flows/space-history';
import { createServices } from '../app';
import { createOpaqueServer } from '../auth/opaque-server';
import { openSqliteDatabase } from '../db/sqlite';
import { newId } from '../lib/ids';
import { makeTestApp, testServerSetup, type TestApp } from '../test/make-test-app';
import { createRecordingNotifier } from './notifications';
import type { Actor } from './account-deps';
import { budget } from '../test/budget';

type Who = 'admin' | 'team' | 'client' | 'other' | 'keyless';
interface Person {
  readonly actor: Actor;
  readonly signer: { userId: string; signingKey: SigningPrivateKey };
}

let app: TestApp;
const people = {} as Record<Who, Person>;
let clientSpace: string;
/** The team space as a database of the previous main holds it: legacy, sealed to escrow. */
let legacyTeam: { id: string; sealed_for_escrow: string };

const at = () => new Date().toISOString();
const opaque = (bytes = 48) => randomBytes(bytes).toString('base64url');
const hex64 = () => randomBytes(32).toString('hex');
const services = () => app.services;
const db = () => app.db;

async function addPerson(who: Who, role: Actor['role'], withKey = true): Promise<void> {
  const userId = newId();
  const pair = await generateSigningKeyPair(await generateSecretKey('user'), { id: userId, owner: userId });
  await db()
    .insertInto('users')
    .values({
      id: userId,
      email: `${who}-${userId}@kluis.test`,
      role,
      language: 'en',
      created_at: at(),
      invited_by: null,
      opaque_record: 'o',
      wrapped_user_key: 'w',
      key_safe: 'k',
      public_key: 'p',
      public_key_fingerprint: 'f',
      wrapped_private_key: 'wp',
      escrow_user_key: 'e',
      profile: 'pr',
      signing_public_key: withKey ? toBase64Url(pair.publicKey.spki) : null,
      wrapped_signing_key: withKey ? toBase64Url(pair.wrappedPrivateKey) : null,
      password_changed_at: at(),
    })
    .execute();
  people[who] = { actor: { userId, role, sessionId: 'test', authenticatedAt: at(), ip: null }, signer: { userId, signingKey: pair.privateKey } };
}

/** The head as stored: what an up-to-date browser has verified. */
async function headOf(spaceId: string): Promise<HistoryHead | null> {
  const row = await db().selectFrom('space_entries').select(['seq', 'entry_hash']).where('space_id', '=', spaceId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? { seq: row.seq, hash: row.entry_hash } : null;
}

const historyLength = async (spaceId: string) => (await db().selectFrom('space_entries').select('seq').where('space_id', '=', spaceId).execute()).length;

/** `who` signs `draft` for `spaceId` on the current head (or on `head` when given). */
async function sign<T extends EntryDraft['type']>(who: Who, spaceId: string, draft: EntryDraft<T> | Promise<EntryDraft<T>>, head?: HistoryHead | null): Promise<SignedEntry> {
  return signEntry(people[who].signer, spaceId, head === undefined ? await headOf(spaceId) : head, await draft);
}

/** A completed upload of `who` for `spaceId`, as the uploads service leaves it (rows only: filing reads nothing else). */
async function uploadedVersion(who: Who, spaceId: string): Promise<NewVersion> {
  const blobId = newId();
  const userId = people[who].actor.userId;
  await db().insertInto('blobs').values({ id: blobId, size: 100, sha256: hex64(), created_by: userId, created_at: at() }).execute();
  await db()
    .insertInto('uploads')
    .values({ id: newId(), user_id: userId, status: 'completed', size: 100, part_size: 100, part_count: 1, purpose: spaceUploadPurpose(spaceId), created_at: at(), expires_at: at(), finished_at: at(), blob_id: blobId })
    .execute();
  return { versionId: newId(), blobId, wrappedFileKey: opaque(60), metadata: opaque(120) };
}

async function newClientSpace(who: Who): Promise<string> {
  const body = { id: newId(), kind: 'client' as const, wrappedForClient: opaque(60), sealedForEscrow: opaque(256) };
  const entry = await sign(who, body.id, spaceCreateDraft(body, people[who].actor.userId, hex64()), null);
  return (await services().spaces.createSpace(people[who].actor, { ...body, entry })).id;
}

async function folder(who: Who, spaceId: string, parentId: string | null = null) {
  const body = { id: newId(), parentId, name: opaque() };
  return services().documents.createFolder(people[who].actor, spaceId, { ...body, entry: await sign(who, spaceId, folderCreateDraft(body)) });
}

async function document(who: Who, spaceId: string) {
  const body = { documentId: newId(), folderId: null, requestItemId: null, version: await uploadedVersion(who, spaceId) };
  return services().documents.createDocument(people[who].actor, spaceId, { ...body, entry: await sign(who, spaceId, documentCreateDraft(body)) });
}

beforeAll(async () => {
  app = await makeTestApp();
  await addPerson('admin', 'admin');
  await addPerson('team', 'team');
  await addPerson('client', 'client');
  await addPerson('other', 'client');
  await addPerson('keyless', 'team', false);
  clientSpace = await newClientSpace('client');
  legacyTeam = { id: newId(), sealed_for_escrow: opaque(256) };
  await db()
    .insertInto('spaces')
    .values({ ...legacyTeam, kind: 'team', client_id: null, sealed_for_client: null, created_by: people.admin.actor.userId, created_at: at(), last_activity_at: at(), wrapped_for_client: null, legacy: 1 })
    .execute();
}, budget(60_000));
afterAll(() => app?.close());

describe('the checks of an entry (each refuses with entry_invalid or history_conflict and stores nothing)', () => {
  const body = () => ({ id: newId(), parentId: null, name: opaque() });
  const create = (who: Who, b: ReturnType<typeof body>, entry: SignedEntry) => services().documents.createFolder(people[who].actor, clientSpace, { ...b, entry });

  async function refused(who: Who, b: ReturnType<typeof body>, entry: SignedEntry, code: string, message: RegExp) {
    const before = await historyLength(clientSpace);
    await expect(create(who, b, entry)).rejects.toMatchObject({ code, message: expect.stringMatching(message) as unknown });
    expect(await historyLength(clientSpace)).toBe(before);
    expect(await db().selectFrom('folders').select('id').where('id', '=', b.id).executeTakeFirst()).toBeUndefined();
  }

  it('accepts an entry that passes every check and stores it with entryHash of its bytes', async () => {
    const b = body();
    const head = await headOf(clientSpace);
    const entry = await sign('client', clientSpace, folderCreateDraft(b));
    await create('client', b, entry);
    const row = await db().selectFrom('space_entries').selectAll().where('space_id', '=', clientSpace).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ seq: head!.seq + 1, payload: entry.payload, signature: entry.signature, author_id: people.client.actor.userId });
    // entryHash by its definition (SHA-256 of "kluis/v1/space-entry" || 4-byte big-endian length || bytes), not by the code under test.
    const bytes = fromBase64Url(entry.payload);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, bytes.length);
    expect(row.entry_hash).toBe(toHex(await sha256(new Uint8Array([...new TextEncoder().encode('kluis/v1/space-entry'), ...length, ...bytes]))));
  });

  it('refuses bytes that are not an entry', async () => {
    const entry = await sign('client', clientSpace, folderCreateDraft(body()));
    await refused('client', body(), { ...entry, payload: toBase64Url(new TextEncoder().encode('{"v":1}')) }, 'entry_invalid', /not a well-formed/);
  });

  it('refuses an entry for another space', async () => {
    const b = body();
    const otherSpace = await newClientSpace('other');
    await refused('client', b, await sign('client', otherSpace, folderCreateDraft(b)), 'entry_invalid', /names another space/);
  });

  it('refuses an entry at the wrong position or on the wrong predecessor with history_conflict', async () => {
    const b = body();
    const head = (await headOf(clientSpace))!;
    await refused('client', b, await sign('client', clientSpace, folderCreateDraft(b), { seq: head.seq + 1, hash: head.hash }), 'history_conflict', /changed since/);
    await refused('client', b, await sign('client', clientSpace, folderCreateDraft(b), { seq: head.seq - 1, hash: head.hash }), 'history_conflict', /changed since/);
    await refused('client', b, await sign('client', clientSpace, folderCreateDraft(b), { seq: head.seq, hash: hex64() }), 'history_conflict', /changed since/);
  });

  it('refuses an entry in the name of another author', async () => {
    const b = body();
    // Signed with the client's own key, but naming staff as its author.
    const entry = await signEntry({ userId: people.team.actor.userId, signingKey: people.client.signer.signingKey }, clientSpace, await headOf(clientSpace), await folderCreateDraft(b));
    await refused('client', b, entry, 'entry_invalid', /another author/);
  });

  it('refuses an entry naming a signing key that is not the one on record', async () => {
    const b = body();
    const stranger = await generateSigningKeyPair(await generateSecretKey('user'), { id: 'x', owner: 'x' });
    const entry = await signEntry({ userId: people.client.actor.userId, signingKey: stranger.privateKey }, clientSpace, await headOf(clientSpace), await folderCreateDraft(b));
    await refused('client', b, entry, 'entry_invalid', /another signing key/);
  });

  it('refuses a signature that does not verify under the key on record', async () => {
    const b = body();
    const stranger = await generateSigningKeyPair(await generateSecretKey('user'), { id: 'x', owner: 'x' });
    // Names the client's key fingerprint, signed by another key.
    const forged = await signEntry(
      { userId: people.client.actor.userId, signingKey: { key: stranger.privateKey.key, publicKey: people.client.signer.signingKey.publicKey } },
      clientSpace,
      await headOf(clientSpace),
      await folderCreateDraft(b),
    );
    await refused('client', b, forged, 'entry_invalid', /signature that does not verify/);
    // The right key over other bytes.
    const real = await sign('client', clientSpace, folderCreateDraft(b));
    const other = await sign('client', clientSpace, folderCreateDraft(body()));
    await refused('client', b, { payload: real.payload, signature: other.signature }, 'entry_invalid', /signature that does not verify/);
  });

  it('refuses an actor without a signing key', async () => {
    const b = body();
    // A Team Member made before everyone had a signing key; the entry is signed with some key in their name.
    const entry = await signEntry({ userId: people.keyless.actor.userId, signingKey: people.client.signer.signingKey }, clientSpace, await headOf(clientSpace), await folderCreateDraft(b));
    await refused('keyless', b, entry, 'entry_invalid', /no signing key/);
  });

  it('refuses an entry that describes another change than the request', async () => {
    const parent = await folder('client', clientSpace);
    const b = body();
    // Another parent folder, another name digest, another type.
    await refused('client', b, await sign('client', clientSpace, folderCreateDraft({ ...b, parentId: parent.id })), 'entry_invalid', /does not describe this change/);
    await refused('client', b, await sign('client', clientSpace, folderCreateDraft({ ...b, name: opaque() })), 'entry_invalid', /does not describe this change/);
    await refused('client', b, await sign('client', clientSpace, folderRenameDraft(b.id, b.name)), 'entry_invalid', /does not describe this change/);
    // A document whose entry names other metadata than the request stores.
    const version = await uploadedVersion('client', clientSpace);
    const doc = { documentId: newId(), folderId: null, requestItemId: null, version };
    const entry = await sign('client', clientSpace, documentCreateDraft({ ...doc, version: { ...version, metadata: opaque(120) } }));
    await expect(services().documents.createDocument(people.client.actor, clientSpace, { ...doc, entry })).rejects.toMatchObject({ code: 'entry_invalid' });
    expect(await db().selectFrom('documents').select('id').where('id', '=', doc.documentId).executeTakeFirst()).toBeUndefined();
  });

  it('never echoes a submitted value in its message', async () => {
    const b = body();
    const entry = await sign('client', clientSpace, folderCreateDraft({ ...b, name: opaque() }));
    const error = (await create('client', b, entry).then(
      () => null,
      (e: unknown) => e,
    )) as Error;
    expect(error.message).not.toContain(b.id);
    expect(error.message).not.toContain(clientSpace);
    expect(error.message).not.toContain(people.client.actor.userId);
  });
});

describe('one transaction per change: entry and change commit together or not at all', () => {
  /**
   * One write endpoint: `prepare` makes what the change needs (its own entries included) and returns
   * the change, signed with its right draft or, `wrong`, a draft of the same type for another change;
   * `prepareFailing` returns a change with a correct entry that fails for a reason of its own.
   */
  type Change = (wrong: boolean) => Promise<unknown>;
  type Failing = () => Promise<unknown>;
  interface Case {
    readonly name: string;
    readonly type: string;
    readonly prepare: () => Change | Promise<Change>;
    readonly prepareFailing: () => Failing | Promise<Failing>;
    readonly failingCode: string;
  }

  const newRequestBody = () => ({ requestId: newId(), body: opaque(), dueDate: '2999-01-01', items: [{ itemId: newId(), body: opaque() }] });
  const newThreadBody = (attachments: string[] = []) => ({ threadId: newId(), subject: opaque(), message: { messageId: newId(), body: opaque(), attachments } });

  async function cases(): Promise<Case[]> {
    const s = clientSpace;
    const c = people.client.actor;
    const t = people.team.actor;
    const d = services().documents;
    const m = services().messages;
    const r = services().requests;
    const deleted = await folder('client', s);
    await d.deleteFolder(c, deleted.id, { entry: await sign('client', s, folderDeleteDraft(deleted.id)) });
    const staffDoc = await document('team', s);
    const threadBody = newThreadBody();
    await m.createThread(c, s, { ...threadBody, entry: await sign('client', s, threadCreateDraft(threadBody)) });
    const threadId = threadBody.threadId;
    const messageId = threadBody.message.messageId;
    const closedBody = newRequestBody();
    await r.createRequest(t, s, { ...closedBody, entry: await sign('team', s, requestCreateDraft(closedBody)) });
    await r.closeRequest(t, closedBody.requestId, { entry: await sign('team', s, requestCloseDraft(closedBody.requestId)) });
    const closedId = closedBody.requestId;
    const either = <T extends EntryDraft['type']>(wrong: boolean, right: EntryDraft<T> | Promise<EntryDraft<T>>, other: EntryDraft<T> | Promise<EntryDraft<T>>) => (wrong ? other : right);
    const blobOf = async (versionId: string) => (await db().selectFrom('document_versions').select('blob_id').where('id', '=', versionId).executeTakeFirstOrThrow()).blob_id;

    return [
      {
        name: 'createFolder',
        type: 'folder.create',
        prepare: () => {
          const b = { id: newId(), parentId: null, name: opaque() };
          return async (wrong) => d.createFolder(c, s, { ...b, entry: await sign('client', s, either(wrong, folderCreateDraft(b), folderCreateDraft({ ...b, id: newId() }))) });
        },
        prepareFailing: () => {
          const b = { id: newId(), parentId: deleted.id, name: opaque() };
          return async () => d.createFolder(c, s, { ...b, entry: await sign('client', s, folderCreateDraft(b)) });
        },
        failingCode: 'folder_deleted',
      },
      {
        name: 'renameFolder',
        type: 'folder.rename',
        prepare: async () => {
          const f = await folder('client', s);
          const name = opaque();
          return async (wrong) => d.renameFolder(c, f.id, { name, entry: await sign('client', s, either(wrong, folderRenameDraft(f.id, name), folderRenameDraft(f.id, opaque()))) });
        },
        prepareFailing: () => {
          const name = opaque();
          return async () => d.renameFolder(c, deleted.id, { name, entry: await sign('client', s, folderRenameDraft(deleted.id, name)) });
        },
        failingCode: 'folder_deleted',
      },
      {
        name: 'deleteFolder',
        type: 'folder.delete',
        prepare: async () => {
          const f = await folder('client', s);
          return async (wrong) => d.deleteFolder(c, f.id, { entry: await sign('client', s, either(wrong, folderDeleteDraft(f.id), folderDeleteDraft(deleted.id))) });
        },
        prepareFailing: async () => {
          const parent = await folder('client', s);
          await folder('client', s, parent.id);
          return async () => d.deleteFolder(c, parent.id, { entry: await sign('client', s, folderDeleteDraft(parent.id)) });
        },
        failingCode: 'folder_not_empty',
      },
      {
        name: 'createDocument',
        type: 'document.create',
        prepare: async () => {
          const b = { documentId: newId(), folderId: null, requestItemId: null, version: await uploadedVersion('client', s) };
          return async (wrong) => d.createDocument(c, s, { ...b, entry: await sign('client', s, either(wrong, documentCreateDraft(b), documentCreateDraft({ ...b, folderId: deleted.id }))) });
        },
        prepareFailing: async () => {
          const b = { documentId: newId(), folderId: null, requestItemId: null, version: { ...(await uploadedVersion('client', s)), blobId: newId() } };
          return async () => d.createDocument(c, s, { ...b, entry: await sign('client', s, documentCreateDraft(b)) });
        },
        failingCode: 'blob_not_found',
      },
      {
        name: 'addVersion',
        type: 'version.add',
        prepare: async () => {
          const doc = await document('client', s);
          const v = await uploadedVersion('client', s);
          return async (wrong) => d.addVersion(c, doc.id, { ...v, entry: await sign('client', s, either(wrong, versionAddDraft(doc.id, v), versionAddDraft(doc.id, { ...v, wrappedFileKey: opaque(60) }))) });
        },
        prepareFailing: async () => {
          const doc = await document('client', s);
          const v = { ...(await uploadedVersion('client', s)), blobId: await blobOf(doc.current.id) };
          return async () => d.addVersion(c, doc.id, { ...v, entry: await sign('client', s, versionAddDraft(doc.id, v)) });
        },
        failingCode: 'blob_in_use',
      },
      {
        name: 'moveDocument',
        type: 'document.move',
        prepare: async () => {
          const doc = await document('client', s);
          const f = await folder('client', s);
          return async (wrong) => d.moveDocument(c, doc.id, { folderId: f.id, entry: await sign('client', s, either(wrong, documentMoveDraft(doc.id, f.id), documentMoveDraft(doc.id, null))) });
        },
        prepareFailing: async () => {
          const doc = await document('client', s);
          return async () => d.moveDocument(c, doc.id, { folderId: deleted.id, entry: await sign('client', s, documentMoveDraft(doc.id, deleted.id)) });
        },
        failingCode: 'folder_deleted',
      },
      {
        name: 'deleteDocument',
        type: 'document.delete',
        prepare: async () => {
          const doc = await document('client', s);
          return async (wrong) => d.deleteDocument(c, doc.id, { entry: await sign('client', s, either(wrong, documentDeleteDraft(doc.id), documentDeleteDraft(staffDoc.id))) });
        },
        // A client deletes only what they uploaded.
        prepareFailing: () => async () => d.deleteDocument(c, staffDoc.id, { entry: await sign('client', s, documentDeleteDraft(staffDoc.id)) }),
        failingCode: 'forbidden',
      },
      {
        name: 'createThread',
        type: 'thread.create',
        prepare: () => {
          const b = newThreadBody();
          return async (wrong) => m.createThread(c, s, { ...b, entry: await sign('client', s, either(wrong, threadCreateDraft(b), threadCreateDraft({ ...b, subject: opaque() }))) });
        },
        prepareFailing: () => {
          const b = newThreadBody([newId()]);
          return async () => m.createThread(c, s, { ...b, entry: await sign('client', s, threadCreateDraft(b)) });
        },
        failingCode: 'attachment_invalid',
      },
      {
        name: 'postMessage',
        type: 'message.post',
        prepare: () => {
          const msg = { messageId: newId(), body: opaque(), attachments: [] };
          return async (wrong) => m.postMessage(c, threadId, { ...msg, entry: await sign('client', s, either(wrong, messagePostDraft(threadId, msg), messagePostDraft(threadId, { ...msg, attachments: [staffDoc.id] }))) });
        },
        prepareFailing: () => {
          const msg = { messageId, body: opaque(), attachments: [] };
          return async () => m.postMessage(c, threadId, { ...msg, entry: await sign('client', s, messagePostDraft(threadId, msg)) });
        },
        failingCode: 'id_taken',
      },
      {
        name: 'reviseMessage',
        type: 'message.revise',
        prepare: async () => {
          const { revision_count: current } = await db().selectFrom('messages').select('revision_count').where('id', '=', messageId).executeTakeFirstOrThrow();
          const body = opaque();
          return async (wrong) =>
            m.reviseMessage(c, messageId, { revision: current + 1, body, entry: await sign('client', s, either(wrong, messageReviseDraft(threadId, messageId, current + 1, body), messageReviseDraft(threadId, messageId, current + 1, opaque()))) });
        },
        prepareFailing: () => {
          const body = opaque();
          return async () => m.reviseMessage(c, messageId, { revision: 9000, body, entry: await sign('client', s, messageReviseDraft(threadId, messageId, 9000, body)) });
        },
        failingCode: 'message_revision_conflict',
      },
      {
        name: 'createRequest',
        type: 'request.create',
        prepare: () => {
          const b = newRequestBody();
          return async (wrong) => r.createRequest(t, s, { ...b, entry: await sign('team', s, either(wrong, requestCreateDraft(b), requestCreateDraft({ ...b, dueDate: '2999-01-02' }))) });
        },
        prepareFailing: () => {
          const b = { ...newRequestBody(), requestId: closedId };
          return async () => r.createRequest(t, s, { ...b, entry: await sign('team', s, requestCreateDraft(b)) });
        },
        failingCode: 'id_taken',
      },
      {
        name: 'closeRequest',
        type: 'request.close',
        prepare: async () => {
          const b = newRequestBody();
          await r.createRequest(t, s, { ...b, entry: await sign('team', s, requestCreateDraft(b)) });
          return async (wrong) => r.closeRequest(t, b.requestId, { entry: await sign('team', s, either(wrong, requestCloseDraft(b.requestId), requestCloseDraft(closedId))) });
        },
        prepareFailing: () => async () => r.closeRequest(t, closedId, { entry: await sign('team', s, requestCloseDraft(closedId)) }),
        failingCode: 'request_closed',
      },
    ];
  }

  /** Every row a space change can touch, the audit log included. */
  async function spaceState() {
    const tables = ['spaces', 'folders', 'documents', 'document_versions', 'threads', 'messages', 'message_revisions', 'message_attachments', 'thread_reads', 'document_requests', 'request_items', 'space_entries', 'audit_events'] as const;
    const state: Record<string, unknown[]> = {};
    for (const table of tables) state[table] = await db().selectFrom(table).selectAll().execute();
    return state;
  }

  const headEntry = async () =>
    parseEntryPayload({ ...(await db().selectFrom('space_entries').select('payload').where('space_id', '=', clientSpace).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow()), signature: '' });

  it('each of the 12 write endpoints stores its entry with the change; a refused entry changes nothing; a failed change stores no entry', async () => {
    const all = await cases();
    expect(all.map((c) => c.name)).toEqual(['createFolder', 'renameFolder', 'deleteFolder', 'createDocument', 'addVersion', 'moveDocument', 'deleteDocument', 'createThread', 'postMessage', 'reviseMessage', 'createRequest', 'closeRequest']);
    for (const { name, type, prepare, prepareFailing, failingCode } of all) {
      const refused = await prepare();
      const beforeRefused = await spaceState();
      await expect(refused(true), name).rejects.toMatchObject({ code: 'entry_invalid' });
      expect(await spaceState(), name).toEqual(beforeRefused);

      const change = await prepare();
      const length = await historyLength(clientSpace);
      await change(false);
      expect(await historyLength(clientSpace), name).toBe(length + 1);
      expect((await headEntry())?.type, name).toBe(type);

      const failing = await prepareFailing();
      const beforeFailing = await spaceState();
      await expect(failing(), name).rejects.toMatchObject({ code: failingCode });
      expect(await spaceState(), name).toEqual(beforeFailing);
    }
  }, budget(60_000));
});

describe('concurrent writers', () => {
  it('two changes signed on the same head: exactly one is stored, the other answers history_conflict', async () => {
    const head = await headOf(clientSpace);
    const a = { id: newId(), parentId: null, name: opaque() };
    const b = { id: newId(), parentId: null, name: opaque() };
    const [entryA, entryB] = await Promise.all([sign('client', clientSpace, folderCreateDraft(a), head), sign('team', clientSpace, folderCreateDraft(b), head)]);
    const results = await Promise.allSettled([
      services().documents.createFolder(people.client.actor, clientSpace, { ...a, entry: entryA }),
      services().documents.createFolder(people.team.actor, clientSpace, { ...b, entry: entryB }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as { code: string }).code)).toEqual(['history_conflict']);
    expect(await historyLength(clientSpace)).toBe(head!.seq + 2);
    const stored = await db().selectFrom('folders').select('id').where('id', 'in', [a.id, b.id]).execute();
    expect(stored).toHaveLength(1);
  });
});

describe('getHistory', () => {
  it('pages the entries in order after a position, with `more`; default from entry 0', async () => {
    await addPerson('other', 'client');
    const spaceId = await newClientSpace('other');
    for (let i = 0; i < 4; i++) await folder('other', spaceId);
    const all = await services().spaces.getHistory(people.other.actor, spaceId, {});
    expect(all.more).toBe(false);
    expect(all.entries.map((e) => parseEntryPayload(e)!.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(all.entries.map((e) => parseEntryPayload(e)!.type)).toEqual(['space.create', 'folder.create', 'folder.create', 'folder.create', 'folder.create']);
    // Chained: each entry's prev is the hash of the one before.
    let prev = GENESIS_PREV;
    for (const entry of all.entries) {
      expect(parseEntryPayload(entry)!.prev).toBe(prev);
      prev = await entryHash(fromBase64Url(entry.payload));
    }
    const first = await services().spaces.getHistory(people.team.actor, spaceId, { limit: 2 });
    expect([first.entries.map((e) => parseEntryPayload(e)!.seq), first.more]).toEqual([[0, 1], true]);
    const second = await services().spaces.getHistory(people.team.actor, spaceId, { after: 1, limit: 2 });
    expect([second.entries.map((e) => parseEntryPayload(e)!.seq), second.more]).toEqual([[2, 3], true]);
    const last = await services().spaces.getHistory(people.team.actor, spaceId, { after: 3, limit: 2 });
    expect([last.entries.map((e) => parseEntryPayload(e)!.seq), last.more]).toEqual([[4], false]);
    expect(await services().spaces.getHistory(people.team.actor, spaceId, { after: 4 })).toEqual({ entries: [], more: false });
    expect(MAX_HISTORY_PAGE).toBe(5000);
  });

  it('answers space_not_found for another client’s space, the team space (clients) and unknown ids', async () => {
    await expect(services().spaces.getHistory(people.other.actor, clientSpace, {})).rejects.toMatchObject({ code: 'space_not_found' });
    await expect(services().spaces.getHistory(people.client.actor, newId(), {})).rejects.toMatchObject({ code: 'space_not_found' });
    await expect(services().spaces.getHistory(people.client.actor, legacyTeam.id, {})).rejects.toMatchObject({ code: 'space_not_found' });
    await services().spaces.getHistory(people.admin.actor, legacyTeam.id, {});
    expect((await services().spaces.getHistory(people.team.actor, clientSpace, {})).entries.length).toBeGreaterThan(0);
  });
});

describe('createSpace', () => {
  it('stores the client’s wrap (no seal for the client) and entry 0; staff see the escrow seal, the client the wrap', async () => {
    await addPerson('other', 'client');
    const body = { id: newId(), kind: 'client' as const, wrappedForClient: opaque(60), sealedForEscrow: opaque(256) };
    const key = hex64();
    const entry = await sign('other', body.id, spaceCreateDraft(body, people.other.actor.userId, key), null);
    const mine = await services().spaces.createSpace(people.other.actor, { ...body, entry });
    expect(mine).toMatchObject({ id: body.id, sealedKey: null, wrappedKey: body.wrappedForClient, legacy: false, historyLength: 1 });
    expect(await services().spaces.getSpace(people.team.actor, body.id)).toMatchObject({ sealedKey: body.sealedForEscrow, wrappedKey: null, legacy: false, historyLength: 1 });
    const row = await db().selectFrom('spaces').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ sealed_for_client: null, wrapped_for_client: body.wrappedForClient, legacy: 0 });
    const [stored] = (await services().spaces.getHistory(people.other.actor, body.id, {})).entries;
    expect(stored).toEqual(entry);
    expect(parseEntryPayload(stored!)!.body).toMatchObject({ key, escrowSeal: toHex(await sha256(fromBase64Url(body.sealedForEscrow))) });
  });

  it('refuses entry 0 that names other keys, is not entry 0, or is missing the client wrap', async () => {
    await addPerson('other', 'client');
    const me = people.other;
    const body = { id: newId(), kind: 'client' as const, wrappedForClient: opaque(60), sealedForEscrow: opaque(256) };
    const create = (entry: SignedEntry, b: typeof body | Omit<typeof body, 'wrappedForClient'> = body) => services().spaces.createSpace(me.actor, { ...b, entry });
    await expect(create(await sign('other', body.id, spaceCreateDraft({ ...body, wrappedForClient: opaque(60) }, me.actor.userId, hex64()), null))).rejects.toMatchObject({ code: 'entry_invalid' });
    await expect(create(await sign('other', body.id, spaceCreateDraft({ ...body, sealedForEscrow: opaque(256) }, me.actor.userId, hex64()), null))).rejects.toMatchObject({ code: 'entry_invalid' });
    await expect(create(await sign('other', body.id, spaceCreateDraft(body, people.client.actor.userId, hex64()), null))).rejects.toMatchObject({ code: 'entry_invalid' });
    await expect(create(await sign('other', body.id, spaceCreateDraft(body, me.actor.userId, hex64()), { seq: 0, hash: hex64() }))).rejects.toMatchObject({ code: 'entry_invalid', message: expect.stringMatching(/first entry/) as unknown });
    const { wrappedForClient: _omitted, ...noWrap } = body;
    await expect(create(await sign('other', body.id, spaceCreateDraft(noWrap, me.actor.userId, hex64()), null), noWrap)).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await db().selectFrom('spaces').select('id').where('id', '=', body.id).executeTakeFirst()).toBeUndefined();
    expect(await historyLength(body.id)).toBe(0);
    await create(await sign('other', body.id, spaceCreateDraft(body, me.actor.userId, hex64()), null));
  });
});

describe('legacy spaces and adoptSpace', () => {
  async function legacyClientSpace(who: Who) {
    const id = newId();
    const row = { id, kind: 'client' as const, client_id: people[who].actor.userId, sealed_for_client: opaque(256), sealed_for_escrow: opaque(256), created_by: people[who].actor.userId, created_at: at(), last_activity_at: at(), wrapped_for_client: null, legacy: 1 };
    await db().insertInto('spaces').values(row).execute();
    return row;
  }

  it('shows a legacy space with its old seals and refuses writes until it is adopted', async () => {
    await addPerson('other', 'client');
    const space = await legacyClientSpace('other');
    expect(await services().spaces.getSpace(people.other.actor, space.id)).toMatchObject({ sealedKey: space.sealed_for_client, wrappedKey: null, legacy: true, historyLength: 0 });
    expect(await services().spaces.getSpace(people.team.actor, space.id)).toMatchObject({ sealedKey: space.sealed_for_escrow, wrappedKey: null, legacy: true });
    const b = { id: newId(), parentId: null, name: opaque() };
    // Whatever position the browser signs at, a legacy space takes no change.
    for (const head of [null, { seq: 0, hash: hex64() }]) {
      await expect(services().documents.createFolder(people.other.actor, space.id, { ...b, entry: await sign('other', space.id, folderCreateDraft(b), head) })).rejects.toMatchObject({
        code: 'history_conflict',
        message: 'This space must first get its signed history; reload.',
      });
    }
    expect(await db().selectFrom('folders').select('id').where('id', '=', b.id).executeTakeFirst()).toBeUndefined();
  });

  it('its client adopts a legacy client space once, with a fresh escrow seal that replaces the stored one; staff and other clients cannot', async () => {
    await addPerson('other', 'client');
    const space = await legacyClientSpace('other');
    const me = people.other;
    const wrappedForClient = opaque(60);
    const sealedForEscrow = opaque(256);
    const draft = (seal = sealedForEscrow, wrap = wrappedForClient) => spaceCreateDraft({ id: space.id, kind: 'client', sealedForEscrow: seal, wrappedForClient: wrap }, me.actor.userId, hex64());
    const adopt = (actor: Actor, entry: SignedEntry, body: { wrappedForClient?: string; sealedForEscrow?: string } = { wrappedForClient, sealedForEscrow }) =>
      services().spaces.adoptSpace(actor, space.id, { ...body, entry });

    await expect(adopt(people.team.actor, await sign('team', space.id, draft(), null))).rejects.toMatchObject({ code: 'forbidden' });
    await expect(adopt(people.client.actor, await sign('client', space.id, draft(), null))).rejects.toMatchObject({ code: 'space_not_found' });
    // Entry 0 naming another escrow seal than the one sent (the stored one included), another wrap than the one sent.
    await expect(adopt(me.actor, await sign('other', space.id, draft(space.sealed_for_escrow), null))).rejects.toMatchObject({ code: 'entry_invalid' });
    await expect(adopt(me.actor, await sign('other', space.id, draft(opaque(256)), null))).rejects.toMatchObject({ code: 'entry_invalid' });
    await expect(adopt(me.actor, await sign('other', space.id, draft(sealedForEscrow, opaque(60)), null))).rejects.toMatchObject({ code: 'entry_invalid' });
    // No wrap, or no fresh seal (the client cannot check the stored one, so it is not theirs to name).
    await expect(adopt(me.actor, await sign('other', space.id, draft(), null), { sealedForEscrow })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(adopt(me.actor, await sign('other', space.id, draft(space.sealed_for_escrow), null), { wrappedForClient })).rejects.toMatchObject({
      code: 'validation_failed',
      issues: [{ path: 'body.sealedForEscrow', message: 'required for a client space' }],
    });
    expect(await services().spaces.getSpace(me.actor, space.id)).toMatchObject({ legacy: true, historyLength: 0 });
    expect(await db().selectFrom('spaces').select('sealed_for_escrow').where('id', '=', space.id).executeTakeFirstOrThrow()).toEqual({ sealed_for_escrow: space.sealed_for_escrow });

    const entry = await sign('other', space.id, draft(), null);
    const adopted = await adopt(me.actor, entry);
    expect(adopted).toMatchObject({ legacy: false, historyLength: 1, wrappedKey: wrappedForClient, sealedKey: null });
    // Staff are shown the fresh seal (entry 0 names it); the row keeps the old client seal and drops the old escrow seal.
    expect(await services().spaces.getSpace(people.team.actor, space.id)).toMatchObject({ legacy: false, sealedKey: sealedForEscrow, wrappedKey: null });
    expect(await db().selectFrom('spaces').select(['sealed_for_escrow', 'sealed_for_client', 'wrapped_for_client']).where('id', '=', space.id).executeTakeFirstOrThrow()).toEqual({
      sealed_for_escrow: sealedForEscrow,
      sealed_for_client: space.sealed_for_client,
      wrapped_for_client: wrappedForClient,
    });
    expect((await services().spaces.getHistory(me.actor, space.id, {})).entries).toEqual([entry]);
    const events = await db().selectFrom('audit_events').selectAll().where('action', '=', 'space.adopted').where('target_id', '=', space.id).execute();
    const replaced = toHex(await sha256(fromBase64Url(space.sealed_for_escrow)));
    expect(events.map((e) => [e.actor_id, JSON.parse(e.details) as unknown])).toEqual([[me.actor.userId, { kind: 'client', replacedEscrowSeal: replaced }]]);
    await expect(adopt(me.actor, await sign('other', space.id, draft(), null))).rejects.toMatchObject({ code: 'space_adopted' });
    // Now it takes changes on top of entry 0.
    await folder('other', space.id);
    expect(await historyLength(space.id)).toBe(2);
  });

  it('staff adopt the legacy team space (no client wrap); clients never see it', async () => {
    const draft = spaceCreateDraft({ id: legacyTeam.id, kind: 'team', sealedForEscrow: legacyTeam.sealed_for_escrow }, null, hex64());
    await expect(services().spaces.adoptSpace(people.client.actor, legacyTeam.id, { entry: await sign('client', legacyTeam.id, draft, null) })).rejects.toMatchObject({ code: 'space_not_found' });
    await expect(services().spaces.adoptSpace(people.team.actor, legacyTeam.id, { wrappedForClient: opaque(60), entry: await sign('team', legacyTeam.id, draft, null) })).rejects.toMatchObject({ code: 'validation_failed' });
    // Staff name the stored escrow seal: a fresh one is refused, also when entry 0 names it.
    const fresh = opaque(256);
    const freshDraft = spaceCreateDraft({ id: legacyTeam.id, kind: 'team', sealedForEscrow: fresh }, null, hex64());
    await expect(services().spaces.adoptSpace(people.team.actor, legacyTeam.id, { sealedForEscrow: fresh, entry: await sign('team', legacyTeam.id, freshDraft, null) })).rejects.toMatchObject({
      code: 'validation_failed',
      issues: [{ path: 'body.sealedForEscrow', message: 'not allowed for the team space' }],
    });
    await expect(services().spaces.adoptSpace(people.team.actor, legacyTeam.id, { entry: await sign('team', legacyTeam.id, freshDraft, null) })).rejects.toMatchObject({ code: 'entry_invalid' });
    // A second team space cannot be created beside it.
    const teamBody = { id: newId(), kind: 'team' as const, sealedForEscrow: opaque(256) };
    await expect(services().spaces.createSpace(people.team.actor, { ...teamBody, entry: await sign('team', teamBody.id, spaceCreateDraft(teamBody, null, hex64()), null) })).rejects.toMatchObject({ code: 'space_exists' });
    const adopted = await services().spaces.adoptSpace(people.admin.actor, legacyTeam.id, { entry: await sign('admin', legacyTeam.id, draft, null) });
    expect(adopted).toMatchObject({ legacy: false, historyLength: 1, sealedKey: legacyTeam.sealed_for_escrow, wrappedKey: null });
    const events = await db().selectFrom('audit_events').select('details').where('action', '=', 'space.adopted').where('target_id', '=', legacyTeam.id).execute();
    expect(events.map((e) => JSON.parse(e.details) as unknown)).toEqual([{ kind: 'team' }]);
  });
});

describe('the rules every browser folds by (foldEntries), checked before an entry is stored', () => {
  const requestBody = () => ({ requestId: newId(), body: opaque(), dueDate: '2999-01-01', items: [{ itemId: newId(), body: opaque() }] });
  const threadBody = (attachments: string[] = []) => ({ threadId: newId(), subject: opaque(), message: { messageId: newId(), body: opaque(), attachments } });

  it('refuses a change of an item made before the signed history of an adopted legacy space, one case per kind of reference', async () => {
    await addPerson('other', 'client');
    const c = people.other.actor;
    const t = people.team.actor;
    const d = services().documents;
    const m = services().messages;
    const spaceId = await newClientSpace('other');
    // Items made the ordinary way, whose entries are then removed: what migration 0006 leaves of a space made before signed histories.
    const preFolder = await folder('other', spaceId);
    const emptyFolder = await folder('other', spaceId);
    const preDoc = await document('other', spaceId);
    const preThread = threadBody();
    await m.createThread(c, spaceId, { ...preThread, entry: await sign('other', spaceId, threadCreateDraft(preThread)) });
    const preRequest = requestBody();
    await services().requests.createRequest(t, spaceId, { ...preRequest, entry: await sign('team', spaceId, requestCreateDraft(preRequest)) });
    await db()
      .transaction()
      .execute(async (trx) => {
        // The history is append-only at the database too (migration 0006): lifted for this one deletion.
        await sql`DROP TRIGGER space_entries_no_delete`.execute(trx);
        await trx.deleteFrom('space_entries').where('space_id', '=', spaceId).execute();
        await sql`CREATE TRIGGER space_entries_no_delete BEFORE DELETE ON space_entries BEGIN SELECT RAISE(ABORT, 'space_entries is append-only'); END`.execute(trx);
      });
    await db().updateTable('spaces').set({ legacy: 1, wrapped_for_client: null, sealed_for_client: opaque(256) }).where('id', '=', spaceId).execute();
    const adoption = { wrappedForClient: opaque(60), sealedForEscrow: opaque(256) };
    const genesis = spaceCreateDraft({ id: spaceId, kind: 'client', ...adoption }, c.userId, hex64());
    await services().spaces.adoptSpace(c, spaceId, { ...adoption, entry: await sign('other', spaceId, genesis, null) });
    // Made after adoption: in the signed history.
    const newDoc = await document('other', spaceId);

    const cases: [string, () => Promise<unknown>][] = [
      ['document.move of the document', async () => d.moveDocument(c, preDoc.id, { folderId: null, entry: await sign('other', spaceId, documentMoveDraft(preDoc.id, null)) })],
      ['document.delete of the document', async () => d.deleteDocument(c, preDoc.id, { entry: await sign('other', spaceId, documentDeleteDraft(preDoc.id)) })],
      [
        'version.add to the document',
        async () => {
          const v = await uploadedVersion('other', spaceId);
          return d.addVersion(c, preDoc.id, { ...v, entry: await sign('other', spaceId, versionAddDraft(preDoc.id, v)) });
        },
      ],
      [
        'document.create in the folder',
        async () => {
          const b = { documentId: newId(), folderId: preFolder.id, requestItemId: null, version: await uploadedVersion('other', spaceId) };
          return d.createDocument(c, spaceId, { ...b, entry: await sign('other', spaceId, documentCreateDraft(b)) });
        },
      ],
      ['document.move into the folder', async () => d.moveDocument(c, newDoc.id, { folderId: preFolder.id, entry: await sign('other', spaceId, documentMoveDraft(newDoc.id, preFolder.id)) })],
      [
        'folder.create in the folder',
        async () => {
          const b = { id: newId(), parentId: preFolder.id, name: opaque() };
          return d.createFolder(c, spaceId, { ...b, entry: await sign('other', spaceId, folderCreateDraft(b)) });
        },
      ],
      [
        'folder.rename of the folder',
        async () => {
          const name = opaque();
          return d.renameFolder(c, preFolder.id, { name, entry: await sign('other', spaceId, folderRenameDraft(preFolder.id, name)) });
        },
      ],
      ['folder.delete of the folder', async () => d.deleteFolder(c, emptyFolder.id, { entry: await sign('other', spaceId, folderDeleteDraft(emptyFolder.id)) })],
      [
        'message.post in the thread',
        async () => {
          const msg = { messageId: newId(), body: opaque(), attachments: [] };
          return m.postMessage(c, preThread.threadId, { ...msg, entry: await sign('other', spaceId, messagePostDraft(preThread.threadId, msg)) });
        },
      ],
      [
        'thread.create attaching the document',
        async () => {
          const b = threadBody([preDoc.id]);
          return m.createThread(c, spaceId, { ...b, entry: await sign('other', spaceId, threadCreateDraft(b)) });
        },
      ],
      [
        'message.revise of the message',
        async () => {
          const body = opaque();
          const { threadId, message } = preThread;
          return m.reviseMessage(c, message.messageId, { revision: 2, body, entry: await sign('other', spaceId, messageReviseDraft(threadId, message.messageId, 2, body)) });
        },
      ],
      ['request.close of the request', async () => services().requests.closeRequest(t, preRequest.requestId, { entry: await sign('team', spaceId, requestCloseDraft(preRequest.requestId)) })],
    ];
    for (const [name, change] of cases) {
      await expect(change(), name).rejects.toMatchObject({ code: 'entry_invalid', status: 400, message: "This item was made before the space's signed history and can no longer be changed." });
      expect(await historyLength(spaceId), name).toBe(2);
    }
    // The items of the signed history still take changes.
    await d.moveDocument(c, newDoc.id, { folderId: null, entry: await sign('other', spaceId, documentMoveDraft(newDoc.id, null)) });
    expect(await historyLength(spaceId)).toBe(3);
  }, budget(60_000));

  it('names the broken rule and no value (a client asking for documents, through the service)', async () => {
    const b = requestBody();
    const error = (await services()
      .requests.createRequest(people.client.actor, clientSpace, { ...b, entry: await sign('client', clientSpace, requestCreateDraft(b)) })
      .then(
        () => null,
        (e: unknown) => e,
      )) as Error & { code: string };
    expect([error.code, error.message]).toEqual(['entry_invalid', "This change breaks a rule of the space's signed history (only staff ask for documents). Nothing was saved."]);
    expect(await db().selectFrom('document_requests').select('id').where('id', '=', b.requestId).executeTakeFirst()).toBeUndefined();
  });

  it('two servers on one database writing alternately to one space fold what the other stored (the cache is checked against the stored head)', async () => {
    const second = openSqliteDatabase(join(app.dataDir, 'kluis.db'));
    try {
      const other = createServices({ config: app.config, db: second, logger: app.logger, opaque: await createOpaqueServer(await testServerSetup()), notifier: createRecordingNotifier(), clientDir: join(app.dataDir, 'none') });
      const servers = [services(), other];
      await addPerson('other', 'client');
      const c = people.other.actor;
      const spaceId = await newClientSpace('other');
      const made: string[] = [];
      // Each server in turn makes a folder, then renames, in a new folder files, and deletes what the other one made:
      // every fold below needs the entries the other server stored since this one last wrote.
      for (let round = 0; round < 3; round++) {
        for (const [i, s] of servers.entries()) {
          const b = { id: newId(), parentId: made.at(-1) ?? null, name: opaque() };
          await s.documents.createFolder(c, spaceId, { ...b, entry: await sign('other', spaceId, folderCreateDraft(b)) });
          made.push(b.id);
          const peer = servers[1 - i]!;
          const name = opaque();
          await peer.documents.renameFolder(c, b.id, { name, entry: await sign('other', spaceId, folderRenameDraft(b.id, name)) });
        }
      }
      const msg = threadBody();
      await servers[0]!.messages.createThread(c, spaceId, { ...msg, entry: await sign('other', spaceId, threadCreateDraft(msg)) });
      const body = opaque();
      await servers[1]!.messages.reviseMessage(c, msg.message.messageId, { revision: 2, body, entry: await sign('other', spaceId, messageReviseDraft(msg.threadId, msg.message.messageId, 2, body)) });
      const body3 = opaque();
      // Revision 2 is the other server's: a stale state would call revision 3 out of order.
      await servers[0]!.messages.reviseMessage(c, msg.message.messageId, { revision: 3, body: body3, entry: await sign('other', spaceId, messageReviseDraft(msg.threadId, msg.message.messageId, 3, body3)) });
      const innermost = made.at(-1)!;
      await servers[1]!.documents.deleteFolder(c, innermost, { entry: await sign('other', spaceId, folderDeleteDraft(innermost)) });
      // A folder the other server deleted: refused (by the business check, before the fold).
      const late = { id: newId(), parentId: innermost, name: opaque() };
      await expect(servers[0]!.documents.createFolder(c, spaceId, { ...late, entry: await sign('other', spaceId, folderCreateDraft(late)) })).rejects.toMatchObject({ code: 'folder_deleted' });
      // What both stored folds from entry 0 as a browser folds it.
      const { entries } = await services().spaces.getHistory(c, spaceId, {});
      const verified = await Promise.all(entries.map(async (e) => ({ seq: parseEntryPayload(e)!.seq, hash: await entryHash(fromBase64Url(e.payload)), payload: parseEntryPayload(e)!, authorRole: 'client' })));
      const state = foldEntries(null, verified);
      // Entry 0, 6 folders made and renamed, a thread, two revisions, a deletion.
      expect(entries).toHaveLength(1 + 12 + 3 + 1);
      expect(state.head.seq).toBe(16);
      expect(state.messages.get(msg.message.messageId)?.revisions).toHaveLength(3);
      expect([...state.folders.values()].filter((f) => f.deletedBy !== null).map((f) => f.id)).toEqual([innermost]);
    } finally {
      await second.destroy();
    }
  }, budget(60_000));
});
