// Signed space histories: signing and verifying with real WebCrypto, every way a server can bend a history, and folding.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference the code under test is checked against
import { createHash, verify as nodeVerify } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type SigningPrivateKey,
  fromBase64Url,
  fromUtf8,
  generateSecretKey,
  generateSigningKeyPair,
  signStatement,
  toBase64Url,
  utf8,
} from '../crypto';
import {
  type AuthorKeyResolver,
  type EntryDraft,
  type EntryPayload,
  type HistoryHead,
  type SignedEntry,
  type SpaceState,
  type VerifiedEntry,
  GENESIS_PREV,
  HistoryError,
  entryHash,
  foldEntries,
  parseEntryPayload,
  recordDigest,
  signEntry,
  verifyEntries,
} from './space-history';

const ID = (name: string) => name.padEnd(22, '_');
const SPACE = ID('space');
const OTHER_SPACE = ID('otherspace');
const hex = (c: string) => c.repeat(64);

interface Person {
  userId: string;
  role: string;
  signingKey: SigningPrivateKey;
}

const people: Record<'client' | 'team' | 'admin' | 'stranger', Person> = {} as never;
/** The directory a verifier trusts: certified people only (the stranger is not in it). */
const resolveAuthor: AuthorKeyResolver = (authorId, fingerprint) => {
  const person = Object.values(people).find((p) => p.userId === authorId && p.role !== 'stranger');
  if (
    !person ||
    Buffer.from(person.signingKey.publicKey.fingerprint).toString('hex') !== fingerprint
  )
    return Promise.resolve(null);
  return Promise.resolve({ key: person.signingKey.publicKey, role: person.role });
};

beforeAll(async () => {
  const wrapping = await generateSecretKey('user');
  for (const [name, role] of [
    ['client', 'client'],
    ['team', 'team'],
    ['admin', 'admin'],
    ['stranger', 'stranger'],
  ] as const) {
    const pair = await generateSigningKeyPair(wrapping, { id: ID(name), owner: ID(name) });
    people[name] = { userId: ID(name), role, signingKey: pair.privateKey };
  }
});

const create: EntryDraft<'space.create'> = {
  type: 'space.create',
  body: {
    spaceKind: 'client',
    client: ID('client'),
    escrowSeal: hex('1'),
    clientWrap: hex('2'),
    key: hex('3'),
  },
};
const folder: EntryDraft<'folder.create'> = {
  type: 'folder.create',
  body: { folder: ID('folder'), parent: null, name: hex('4') },
};
const documentCreate: EntryDraft<'document.create'> = {
  type: 'document.create',
  body: {
    document: ID('doc'),
    folder: ID('folder'),
    requestItem: null,
    version: ID('ver'),
    blob: ID('blob'),
    fileKey: hex('5'),
    metadata: hex('6'),
  },
};
const post: EntryDraft<'message.post'> = {
  type: 'message.post',
  body: { thread: ID('thread'), message: ID('msg'), text: hex('7'), attachments: [] },
};
const thread: EntryDraft<'thread.create'> = {
  type: 'thread.create',
  body: {
    thread: ID('thread'),
    subject: hex('8'),
    message: ID('msg0'),
    text: hex('9'),
    attachments: [ID('doc')],
  },
};

/** Signs drafts one after another, each on top of the previous entry. */
async function history(
  steps: readonly [Person, EntryDraft][],
  spaceId = SPACE,
): Promise<SignedEntry[]> {
  const entries: SignedEntry[] = [];
  let head: HistoryHead | null = null;
  for (const [person, draft] of steps) {
    const entry: SignedEntry = await signEntry(
      person,
      spaceId,
      head,
      draft,
      new Date(Date.UTC(2026, 0, 1, 0, 0, entries.length)),
    );
    entries.push(entry);
    head = { seq: entries.length - 1, hash: await entryHash(fromBase64Url(entry.payload)) };
  }
  return entries;
}

const standard = () =>
  history([
    [people.client, create],
    [people.team, folder],
    [people.client, documentCreate],
    [people.team, thread],
    [people.client, post],
  ]);

/** An outside reference for entryHash: SHA-256("kluis/v1/space-entry" || u32be(len) || payload). */
function referenceHash(payload: Uint8Array): string {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(payload.length);
  return createHash('sha256')
    .update('kluis/v1/space-entry')
    .update(length)
    .update(payload)
    .digest('hex');
}

/** Re-encodes an entry's payload with a change (the signature is left as it was). */
function edit(entry: SignedEntry, change: (payload: Record<string, unknown>) => void): SignedEntry {
  const payload = JSON.parse(fromUtf8(fromBase64Url(entry.payload))) as Record<string, unknown>;
  change(payload);
  return { ...entry, payload: toBase64Url(utf8(JSON.stringify(payload))) };
}

async function problemOf(
  promise: Promise<unknown>,
): Promise<{ problem: string; seq: number | null }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HistoryError);
  const { problem, seq } = error as HistoryError;
  return { problem, seq };
}

const verify = (
  entries: readonly SignedEntry[],
  extra: { from?: HistoryHead | null; remembered?: HistoryHead | null; spaceId?: string } = {},
) =>
  verifyEntries({
    spaceId: extra.spaceId ?? SPACE,
    from: extra.from ?? null,
    entries,
    resolveAuthor,
    remembered: extra.remembered ?? null,
  });

describe('signEntry / verifyEntries', () => {
  it('signs entries that verify, with the hash chain, author and key an outside implementation computes', async () => {
    const entries = await standard();
    const verified = await verify(entries);
    expect(verified.entries.map((e) => e.payload.type)).toEqual([
      'space.create',
      'folder.create',
      'document.create',
      'thread.create',
      'message.post',
    ]);
    let prev = GENESIS_PREV;
    for (const [seq, entry] of entries.entries()) {
      const bytes = fromBase64Url(entry.payload);
      const payload = JSON.parse(fromUtf8(bytes)) as EntryPayload;
      expect(payload).toMatchObject({ v: 1, kind: 'space-entry', space: SPACE, seq, prev });
      const signer = Object.values(people).find((p) => p.userId === payload.author)!;
      const spki = Buffer.from(signer.signingKey.publicKey.spki);
      expect(payload.authorKey).toBe(createHash('sha256').update(spki).digest('hex'));
      // The signature is ECDSA P-256 / SHA-256, P1363, over "kluis/v1/signature" || lp("space-entry") || payload.
      const context = Buffer.from('space-entry');
      const message = Buffer.concat([
        Buffer.from('kluis/v1/signature'),
        Buffer.from([0, 0, 0, context.length]),
        context,
        bytes,
      ]);
      const key = { key: spki, format: 'der', type: 'spki', dsaEncoding: 'ieee-p1363' } as const;
      expect(nodeVerify('sha256', message, key, fromBase64Url(entry.signature))).toBe(true);
      prev = referenceHash(bytes);
      expect(verified.entries[seq]!.hash).toBe(prev);
      expect(verified.entries[seq]!.authorRole).toBe(signer.role);
    }
    expect(verified.head).toEqual({ seq: 4, hash: prev });
  });

  it('verifies a continuation from a head verified before', async () => {
    const entries = await standard();
    const first = await verify(entries.slice(0, 2));
    const rest = await verify(entries.slice(2), { from: first.head, remembered: first.head });
    expect(rest.entries.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(rest.head).toEqual((await verify(entries)).head);
    // Nothing new: the head stays where it was.
    expect((await verify([], { from: rest.head, remembered: rest.head })).head).toEqual(rest.head);
  });

  it('parseEntryPayload reads a well-formed entry and refuses anything else', async () => {
    const [entry] = await standard();
    expect(parseEntryPayload(entry!)?.type).toBe('space.create');
    expect(parseEntryPayload({ ...entry!, payload: toBase64Url(utf8('{"v":1}')) })).toBeNull();
    expect(parseEntryPayload({ ...entry!, payload: '!!' })).toBeNull();
    expect(parseEntryPayload(edit(entry!, (p) => (p.extra = 1)))).toBeNull();
  });

  it('recordDigest is SHA-256 of the decoded base64url bytes', async () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 31) & 0xff);
    expect(await recordDigest(toBase64Url(bytes))).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
  });

  it('an entry of another space is refused, even with a valid signature', async () => {
    const entries = await standard();
    const foreign = await history([[people.client, create]], OTHER_SPACE);
    expect(await problemOf(verify(foreign))).toEqual({ problem: 'invalid-entry', seq: 0 });
    expect(await problemOf(verify([foreign[0]!, ...entries.slice(1)]))).toEqual({
      problem: 'invalid-entry',
      seq: 0,
    });
  });

  it('a dropped, reordered or duplicated entry breaks the chain', async () => {
    const e = await standard();
    expect(await problemOf(verify([e[0]!, e[2]!, e[3]!]))).toEqual({
      problem: 'broken-chain',
      seq: 1,
    });
    expect(await problemOf(verify([e[1]!, e[2]!]))).toEqual({ problem: 'broken-chain', seq: 0 });
    expect(await problemOf(verify([e[0]!, e[1]!, e[3]!, e[2]!, e[4]!]))).toEqual({
      problem: 'broken-chain',
      seq: 2,
    });
    expect(await problemOf(verify([e[0]!, e[1]!, e[1]!, e[2]!]))).toEqual({
      problem: 'broken-chain',
      seq: 2,
    });
    expect(await problemOf(verify([e[0]!, e[0]!]))).toEqual({ problem: 'broken-chain', seq: 1 });
  });

  it('an entry re-signed at the right seq but on another prev breaks the chain', async () => {
    const e = await standard();
    const forked = await signEntry(people.team, SPACE, { seq: 1, hash: hex('f') }, folder);
    expect(await problemOf(verify([e[0]!, e[1]!, forked]))).toEqual({
      problem: 'broken-chain',
      seq: 2,
    });
  });

  it('an entry signed by its author at the wrong seq on the right prev breaks the chain', async () => {
    const e = await standard();
    const jumped = edit(e[2]!, (p) => (p.seq = 7));
    const bytes = fromBase64Url(jumped.payload);
    const resigned = {
      payload: jumped.payload,
      signature: toBase64Url(await signBytes(people.client.signingKey, bytes)),
    };
    expect(await problemOf(verify([e[0]!, e[1]!, resigned]))).toEqual({
      problem: 'broken-chain',
      seq: 2,
    });
  });

  it('a changed body byte fails the signature', async () => {
    const e = await standard();
    const altered = edit(e[2]!, (p) => ((p.body as Record<string, unknown>).fileKey = hex('a')));
    expect(await problemOf(verify([e[0]!, e[1]!, altered]))).toEqual({
      problem: 'bad-signature',
      seq: 2,
    });
    const bytes = fromBase64Url(e[2]!.payload);
    const index = fromUtf8(bytes).indexOf(hex('5'));
    bytes[index] = '4'.charCodeAt(0);
    expect(
      await problemOf(verify([e[0]!, e[1]!, { ...e[2]!, payload: toBase64Url(bytes) }])),
    ).toEqual({ problem: 'bad-signature', seq: 2 });
    const signature = fromBase64Url(e[2]!.signature);
    signature[10]! ^= 1;
    expect(
      await problemOf(verify([e[0]!, e[1]!, { ...e[2]!, signature: toBase64Url(signature) }])),
    ).toEqual({ problem: 'bad-signature', seq: 2 });
  });

  it('a re-attributed entry is refused: author field changed, or re-signed by someone else under the author’s name', async () => {
    const e = await standard();
    const team = people.team;
    const teamKey = Buffer.from(team.signingKey.publicKey.fingerprint).toString('hex');
    // The author and key fields now name the team member; the signature is still the client's.
    const renamed = edit(e[2]!, (p) =>
      Object.assign(p, { author: team.userId, authorKey: teamKey }),
    );
    expect(await problemOf(verify([e[0]!, e[1]!, renamed]))).toEqual({
      problem: 'bad-signature',
      seq: 2,
    });
    // Only the author field changed: the client's key is not the team member's.
    const authorOnly = edit(e[2]!, (p) => (p.author = team.userId));
    expect(await problemOf(verify([e[0]!, e[1]!, authorOnly]))).toEqual({
      problem: 'unknown-author',
      seq: 2,
    });
    // The team member signs an entry claiming to be the client, naming the client's key or their own.
    const head = { seq: 1, hash: referenceHash(fromBase64Url(e[1]!.payload)) };
    const claimsClient = await signEntry(
      { userId: people.client.userId, signingKey: team.signingKey },
      SPACE,
      head,
      documentCreate,
    );
    expect(await problemOf(verify([e[0]!, e[1]!, claimsClient]))).toEqual({
      problem: 'unknown-author',
      seq: 2,
    });
    const clientKey = Buffer.from(people.client.signingKey.publicKey.fingerprint).toString('hex');
    const withClientKey = edit(claimsClient, (p) => (p.authorKey = clientKey));
    const resigned = {
      payload: withClientKey.payload,
      signature: toBase64Url(
        await signBytes(team.signingKey, fromBase64Url(withClientKey.payload)),
      ),
    };
    expect(await problemOf(verify([e[0]!, e[1]!, resigned]))).toEqual({
      problem: 'bad-signature',
      seq: 2,
    });
    // Someone nobody certified.
    const stranger = await signEntry(people.stranger, SPACE, head, documentCreate);
    expect(await problemOf(verify([e[0]!, e[1]!, stranger]))).toEqual({
      problem: 'unknown-author',
      seq: 2,
    });
  });

  it('a history shorter than remembered, or another entry at the remembered seq, is a rollback', async () => {
    const e = await standard();
    const full = await verify(e);
    expect(await problemOf(verify(e.slice(0, 3), { remembered: full.head }))).toEqual({
      problem: 'rollback',
      seq: 2,
    });
    const head2 = (await verify(e.slice(0, 3))).head;
    // From a head verified earlier, the server answers with nothing new although this account saw more.
    expect(await problemOf(verify([], { from: head2, remembered: full.head }))).toEqual({
      problem: 'rollback',
      seq: 2,
    });
    const other = await history([
      [people.client, create],
      [people.team, folder],
      [people.client, { ...documentCreate, body: { ...documentCreate.body, fileKey: hex('b') } }],
    ]);
    expect(await problemOf(verify(other, { remembered: head2 }))).toEqual({
      problem: 'rollback',
      seq: 2,
    });
    expect(await problemOf(verify(other, { remembered: full.head }))).toEqual({
      problem: 'rollback',
      seq: 2,
    });
    expect(await problemOf(verify([]))).toEqual({ problem: 'rollback', seq: null });
  });

  it('entry 0 must create the space, and only entry 0', async () => {
    const notCreate = await history([[people.team, folder]]);
    expect(await problemOf(verify(notCreate))).toEqual({ problem: 'invalid-entry', seq: 0 });
    const twice = await history([
      [people.client, create],
      [people.client, create],
    ]);
    expect(await problemOf(verify(twice))).toEqual({ problem: 'invalid-entry', seq: 1 });
  });

  it('a malformed entry is invalid', async () => {
    const e = await standard();
    const extra = edit(e[1]!, (p) => (p.v = 2));
    expect(await problemOf(verify([e[0]!, extra]))).toEqual({ problem: 'invalid-entry', seq: 1 });
  });
});

/** Signs raw bytes as a space entry (to build forgeries signEntry would not make). */
const signBytes = (key: SigningPrivateKey, bytes: Uint8Array) =>
  signStatement(key, 'space-entry', bytes);

// --- folding ---

const CLIENT = ID('client');
const TEAM = ID('team');
const roleOf: Record<string, string> = {
  [CLIENT]: 'client',
  [TEAM]: 'team',
  [ID('admin')]: 'admin',
};

/** An already verified entry (folding checks rules, not signatures). */
function entry(seq: number, author: string, draft: EntryDraft): VerifiedEntry {
  const payload = {
    v: 1,
    kind: 'space-entry',
    space: SPACE,
    seq,
    prev: hex('0'),
    author,
    authorKey: hex('c'),
    at: '2026-01-01T00:00:00.000Z',
    ...draft,
  } as EntryPayload;
  return {
    seq,
    hash: seq.toString(16).padStart(64, '0'),
    payload,
    authorRole: roleOf[author] ?? 'client',
  };
}

/** Folds drafts (after a client space's creation) and returns the state, or the HistoryError. */
function fold(steps: readonly [string, EntryDraft][]): SpaceState {
  return foldEntries(
    null,
    steps.map(([author, draft], seq) => entry(seq, author, draft)),
  );
}
const failsAt = (steps: readonly [string, EntryDraft][]) => {
  try {
    fold(steps);
  } catch (error) {
    expect(error).toBeInstanceOf(HistoryError);
    return { problem: (error as HistoryError).problem, seq: (error as HistoryError).seq };
  }
  throw new Error('folded without a problem');
};

const teamCreate: EntryDraft<'space.create'> = {
  type: 'space.create',
  body: { spaceKind: 'team', client: null, escrowSeal: hex('1'), clientWrap: null, key: hex('3') },
};
const version = (document: string, v: string): EntryDraft<'version.add'> => ({
  type: 'version.add',
  body: { document, version: ID(v), blob: ID(`b${v}`), fileKey: hex('5'), metadata: hex('6') },
});
const doc = (document: string, v: string): EntryDraft<'document.create'> => ({
  type: 'document.create',
  body: {
    document,
    folder: null,
    requestItem: null,
    version: ID(v),
    blob: ID(`b${v}`),
    fileKey: hex('5'),
    metadata: hex('6'),
  },
});
const request: EntryDraft<'request.create'> = {
  type: 'request.create',
  body: {
    request: ID('req'),
    text: hex('d'),
    dueDate: '2026-02-01',
    items: [{ item: ID('item'), text: hex('e') }],
  },
};
const bareThread: EntryDraft<'thread.create'> = {
  ...thread,
  body: { ...thread.body, attachments: [] },
};
const revise = (revision: number): EntryDraft<'message.revise'> => ({
  type: 'message.revise',
  body: { thread: ID('thread'), message: ID('msg0'), revision, text: hex('f') },
});

describe('foldEntries', () => {
  it('describes the space: authors, digests, versions, folders, threads, revisions and requests', () => {
    const state = fold([
      [CLIENT, create],
      [TEAM, folder],
      [CLIENT, documentCreate],
      [CLIENT, version(ID('doc'), 'ver2')],
      [TEAM, thread],
      [CLIENT, post],
      [TEAM, revise(2)],
      [TEAM, request],
      [TEAM, { type: 'document.move', body: { document: ID('doc'), folder: null } }],
      [TEAM, { type: 'folder.rename', body: { folder: ID('folder'), name: hex('a') } }],
      [TEAM, { type: 'request.close', body: { request: ID('req') } }],
      [CLIENT, { type: 'document.delete', body: { document: ID('doc') } }],
      [TEAM, { type: 'folder.delete', body: { folder: ID('folder') } }],
    ]);
    expect(state.genesis).toMatchObject({ author: CLIENT, spaceKind: 'client', key: hex('3') });
    expect(state.head.seq).toBe(12);
    const document = state.documents.get(ID('doc'))!;
    expect(document).toMatchObject({ createdBy: CLIENT, folder: null, deletedBy: CLIENT });
    expect(document.versions.map((v) => [v.number, v.id, v.author])).toEqual([
      [1, ID('ver'), CLIENT],
      [2, ID('ver2'), CLIENT],
    ]);
    expect(state.folders.get(ID('folder'))).toMatchObject({
      name: hex('a'),
      deletedBy: TEAM,
      createdBy: TEAM,
    });
    expect(state.threads.get(ID('thread'))!.messages).toEqual([ID('msg0'), ID('msg')]);
    expect(state.messages.get(ID('msg0'))).toMatchObject({
      author: TEAM,
      revisions: [hex('9'), hex('f')],
      attachments: [ID('doc')],
    });
    expect(state.messages.get(ID('msg'))!.author).toBe(CLIENT);
    expect(state.requests.get(ID('req'))).toMatchObject({
      createdBy: TEAM,
      closedBy: TEAM,
      dueDate: '2026-02-01',
    });
  });

  it.each<[string, [string, EntryDraft][], number]>([
    [
      'a version for an unknown document',
      [
        [CLIENT, create],
        [CLIENT, version(ID('nodoc'), 'v2')],
      ],
      1,
    ],
    [
      'a version for a deleted document',
      [
        [CLIENT, create],
        [CLIENT, doc(ID('d'), 'v1')],
        [CLIENT, { type: 'document.delete', body: { document: ID('d') } }],
        [CLIENT, version(ID('d'), 'v2')],
      ],
      3,
    ],
    [
      'a revision by someone other than the message author',
      [
        [CLIENT, create],
        [TEAM, bareThread],
        [CLIENT, revise(2)],
      ],
      2,
    ],
    [
      'a revision out of order',
      [
        [CLIENT, create],
        [TEAM, bareThread],
        [TEAM, revise(3)],
      ],
      2,
    ],
    [
      'a request by a client',
      [
        [CLIENT, create],
        [CLIENT, request],
      ],
      1,
    ],
    [
      'a request closed by a client',
      [
        [CLIENT, create],
        [TEAM, request],
        [CLIENT, { type: 'request.close', body: { request: ID('req') } }],
      ],
      2,
    ],
    [
      'a request closed twice',
      [
        [CLIENT, create],
        [TEAM, request],
        [TEAM, { type: 'request.close', body: { request: ID('req') } }],
        [TEAM, { type: 'request.close', body: { request: ID('req') } }],
      ],
      3,
    ],
    [
      'a document deleted twice',
      [
        [CLIENT, create],
        [CLIENT, doc(ID('d'), 'v1')],
        [CLIENT, { type: 'document.delete', body: { document: ID('d') } }],
        [TEAM, { type: 'document.delete', body: { document: ID('d') } }],
      ],
      3,
    ],
    [
      'a folder deleted twice',
      [
        [CLIENT, create],
        [TEAM, folder],
        [TEAM, { type: 'folder.delete', body: { folder: ID('folder') } }],
        [TEAM, { type: 'folder.delete', body: { folder: ID('folder') } }],
      ],
      3,
    ],
    [
      'an attachment that is not a document of the space',
      [
        [CLIENT, create],
        [TEAM, thread],
      ],
      1,
    ],
    [
      'a message in a thread that does not exist',
      [
        [CLIENT, create],
        [CLIENT, post],
      ],
      1,
    ],
    [
      'a document id used twice',
      [
        [CLIENT, create],
        [CLIENT, doc(ID('d'), 'v1')],
        [CLIENT, doc(ID('d'), 'v2')],
      ],
      2,
    ],
    [
      'a version id used twice',
      [
        [CLIENT, create],
        [CLIENT, doc(ID('d'), 'v1')],
        [CLIENT, doc(ID('e'), 'v1')],
      ],
      2,
    ],
    [
      'a version id reused by version.add',
      [
        [CLIENT, create],
        [CLIENT, doc(ID('d'), 'v1')],
        [CLIENT, version(ID('d'), 'v1')],
      ],
      2,
    ],
    [
      'a folder id used twice',
      [
        [CLIENT, create],
        [TEAM, folder],
        [TEAM, folder],
      ],
      2,
    ],
    [
      'a document into a folder that does not exist',
      [
        [CLIENT, create],
        [CLIENT, documentCreate],
      ],
      1,
    ],
    [
      'a move into a deleted folder',
      [
        [CLIENT, create],
        [TEAM, folder],
        [CLIENT, doc(ID('d'), 'v1')],
        [TEAM, { type: 'folder.delete', body: { folder: ID('folder') } }],
        [CLIENT, { type: 'document.move', body: { document: ID('d'), folder: ID('folder') } }],
      ],
      4,
    ],
    [
      'a rename of a folder that does not exist',
      [
        [CLIENT, create],
        [TEAM, { type: 'folder.rename', body: { folder: ID('folder'), name: hex('a') } }],
      ],
      1,
    ],
    [
      'a thread id used twice',
      [
        [CLIENT, create],
        [TEAM, bareThread],
        [TEAM, { ...thread, body: { ...thread.body, message: ID('msg9'), attachments: [] } }],
      ],
      2,
    ],
    [
      'a message id used twice',
      [
        [CLIENT, create],
        [TEAM, bareThread],
        [CLIENT, { ...post, body: { ...post.body, message: ID('msg0') } }],
      ],
      2,
    ],
    ['a client space created by someone other than its client', [[TEAM, create]], 0],
    ['a client space created by a client for another client', [[ID('client2'), create]], 0],
    [
      'a client space without the client’s wrap',
      [[CLIENT, { ...create, body: { ...create.body, clientWrap: null } }]],
      0,
    ],
    ['a team space created by a client', [[CLIENT, teamCreate]], 0],
    [
      'a team space naming a client',
      [[TEAM, { ...teamCreate, body: { ...teamCreate.body, client: CLIENT } }]],
      0,
    ],
    ['a history that does not start by creating the space', [[TEAM, folder]], 0],
    [
      'a second space.create',
      [
        [CLIENT, create],
        [CLIENT, create],
      ],
      1,
    ],
  ])('refuses %s', (_, steps, seq) => {
    expect(failsAt(steps)).toEqual({ problem: 'invalid-entry', seq });
  });

  it('a client space whose author names themselves as client but is staff is refused', () => {
    expect(failsAt([[TEAM, { ...create, body: { ...create.body, client: TEAM } }]])).toEqual({
      problem: 'invalid-entry',
      seq: 0,
    });
  });

  it('folds a team space created by staff', () => {
    expect(fold([[TEAM, teamCreate]]).genesis).toMatchObject({ spaceKind: 'team', author: TEAM });
  });

  it('folding on top of a state never changes that state, whether the new entries are valid or not', () => {
    const DOCS = [ID('d0'), ID('d1'), ID('d2')];
    const FOLDERS = [ID('f0'), ID('f1')];
    const authors = [CLIENT, TEAM];
    const draftArb: fc.Arbitrary<[string, EntryDraft]> = fc
      .tuple(fc.integer({ min: 0, max: 9 }), fc.nat(2), fc.nat(1), fc.nat(5), fc.nat(1))
      .map(([kind, d, f, v, a]): [string, EntryDraft] => {
        const document = DOCS[d]!;
        const folderId = FOLDERS[f]!;
        const drafts: EntryDraft[] = [
          doc(document, `v${v}`),
          version(document, `v${v}`),
          { type: 'document.move', body: { document, folder: folderId } },
          { type: 'document.delete', body: { document } },
          { type: 'folder.create', body: { folder: folderId, parent: null, name: hex('4') } },
          { type: 'folder.rename', body: { folder: folderId, name: hex(String(v)) } },
          { type: 'folder.delete', body: { folder: folderId } },
          {
            type: 'thread.create',
            body: {
              thread: ID(`t${f}`),
              subject: hex('8'),
              message: ID(`m${v}`),
              text: hex('9'),
              attachments: [document],
            },
          },
          revise(2 + (v % 2)),
          { ...request, body: { ...request.body, request: ID(`r${f}`) } },
        ];
        return [authors[a]!, drafts[kind]!];
      });
    fc.assert(
      fc.property(fc.array(draftArb, { maxLength: 25 }), (steps) => {
        let state = foldEntries(null, [entry(0, CLIENT, create)]);
        let seq = 1;
        for (const [author, draft] of steps) {
          const snapshot = structuredClone(state);
          let next: SpaceState | null = null;
          try {
            next = foldEntries(state, [entry(seq, author, draft)]);
          } catch (error) {
            expect(error).toBeInstanceOf(HistoryError);
          }
          expect(state).toEqual(snapshot);
          if (next) {
            expect(next.head.seq).toBe(seq);
            state = next;
            seq += 1;
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
