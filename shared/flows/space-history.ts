// The signed history of a space: every change is an entry signed by its author and linked into a hash chain
// that each browser verifies before it shows (or builds on) anything the server says about the space.
import { z } from 'zod';
import { MAX_SIGNED_PAYLOAD_BYTES, type SignedPayload } from '../api/wire';
import {
  type SigningPrivateKey,
  type SigningPublicKey,
  concatBytes as concat,
  fromBase64Url,
  fromUtf8,
  lengthPrefixed as lp,
  sha256,
  signStatement,
  toBase64Url,
  toHex,
  utf8,
  verifyStatement,
} from '../crypto';

/*
 * WARNING: the browser never trusts "the latest state" on the server's word (SECURITY.md §4.9).
 * An entry is the exact UTF-8 JSON bytes its author signed (transported base64url) plus a 64-byte
 * ECDSA P-256 signature over them with statement context "space-entry". Verifiers parse the bytes
 * they verified and never re-serialise. Entry n links to entry n-1 by `prev` = entryHash(n-1),
 * and entry 0 (type "space.create") has prev = 64 zeros.
 */

export const HISTORY_VERSION = 1;
export const ENTRY_SIGNATURE_CONTEXT = 'space-entry';
export const GENESIS_PREV = '0'.repeat(64);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const id = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
const digest = hex64;

const common = {
  v: z.literal(HISTORY_VERSION),
  kind: z.literal('space-entry'),
  /** The space this entry belongs to: an entry cannot be replayed into another space. */
  space: id,
  /** 0, 1, 2 … without gaps: an entry cannot be replayed at another position. */
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** entryHash of the entry before (GENESIS_PREV for seq 0). */
  prev: hex64,
  /** Who signed it, and the SHA-256 fingerprint of the signing key (SPKI) they used. */
  author: id,
  authorKey: hex64,
  /** The author's clock: claimed, never used for ordering. */
  at: z.iso.datetime(),
};

const versionBody = { version: id, blob: id, fileKey: digest, metadata: digest };

/** Each entry type with its body. Digests are SHA-256 (hex) of the exact ciphertext bytes the server stores. */
export const entryPayloadSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...common,
    type: z.literal('space.create'),
    body: z.strictObject({
      spaceKind: z.enum(['client', 'team']),
      client: id.nullable(),
      /** Digest of the space key sealed to the organisation escrow key. */
      escrowSeal: digest,
      /** Digest of the space key wrapped under the client's user key (client spaces), else null. */
      clientWrap: digest.nullable(),
      /** keyCommitment of the space key: what the seal and the wrap must open to. */
      key: hex64,
    }),
  }),
  z.strictObject({
    ...common,
    type: z.literal('document.create'),
    body: z.strictObject({ document: id, folder: id.nullable(), requestItem: id.nullable(), ...versionBody }),
  }),
  z.strictObject({ ...common, type: z.literal('version.add'), body: z.strictObject({ document: id, ...versionBody }) }),
  z.strictObject({ ...common, type: z.literal('document.move'), body: z.strictObject({ document: id, folder: id.nullable() }) }),
  z.strictObject({ ...common, type: z.literal('document.delete'), body: z.strictObject({ document: id }) }),
  z.strictObject({ ...common, type: z.literal('folder.create'), body: z.strictObject({ folder: id, parent: id.nullable(), name: digest }) }),
  z.strictObject({ ...common, type: z.literal('folder.rename'), body: z.strictObject({ folder: id, name: digest }) }),
  z.strictObject({ ...common, type: z.literal('folder.delete'), body: z.strictObject({ folder: id }) }),
  z.strictObject({
    ...common,
    type: z.literal('thread.create'),
    body: z.strictObject({ thread: id, subject: digest, message: id, text: digest, attachments: z.array(id).max(20) }),
  }),
  z.strictObject({
    ...common,
    type: z.literal('message.post'),
    body: z.strictObject({ thread: id, message: id, text: digest, attachments: z.array(id).max(20) }),
  }),
  z.strictObject({
    ...common,
    type: z.literal('message.revise'),
    body: z.strictObject({ thread: id, message: id, revision: z.number().int().min(2).max(10_000), text: digest }),
  }),
  z.strictObject({
    ...common,
    type: z.literal('request.create'),
    body: z.strictObject({
      request: id,
      text: digest,
      dueDate: z.iso.date(),
      items: z.array(z.strictObject({ item: id, text: digest })).min(1).max(50),
    }),
  }),
  z.strictObject({ ...common, type: z.literal('request.close'), body: z.strictObject({ request: id }) }),
]);
export type EntryPayload = z.infer<typeof entryPayloadSchema>;
export type EntryType = EntryPayload['type'];
type EntryBodies = { [P in EntryPayload as P['type']]: P['body'] };
/** The body of an entry type (a lookup, not a conditional type, so EntryDraft<'…'> is assignable to EntryDraft). */
export type EntryBody<T extends EntryType> = EntryBodies[T];

/** An entry as stored and transported (shared/api/wire.ts). */
export type SignedEntry = SignedPayload;

export interface HistoryHead {
  readonly seq: number;
  /** entryHash of the entry at seq. */
  readonly hash: string;
}

/** entryHash = SHA-256("kluis/v1/space-entry" || lp(payload bytes)), hex. The signature is not hashed (ECDSA signatures are malleable). */
export async function entryHash(payload: Uint8Array): Promise<string> {
  return toHex(await sha256(concat(utf8('kluis/v1/space-entry'), lp(payload))));
}

/** SHA-256 (hex) of the bytes of a base64url ciphertext: how an entry commits to a stored record. */
export async function recordDigest(base64url: string): Promise<string> {
  return toHex(await sha256(fromBase64Url(base64url)));
}

/** Parses an entry's payload bytes without verifying anything (servers use this to check a request's entry). */
export function parseEntryPayload(entry: SignedEntry): EntryPayload | null {
  try {
    const bytes = fromBase64Url(entry.payload);
    if (bytes.length > MAX_SIGNED_PAYLOAD_BYTES) return null;
    const parsed = entryPayloadSchema.safeParse(JSON.parse(fromUtf8(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface EntryDraft<T extends EntryType = EntryType> {
  readonly type: T;
  readonly body: EntryBody<T>;
}

/** Signs the next entry of a space on top of `head` (null: this is the space's first entry). */
export async function signEntry<T extends EntryType>(
  signer: { userId: string; signingKey: SigningPrivateKey },
  spaceId: string,
  head: HistoryHead | null,
  draft: EntryDraft<T>,
  now: Date = new Date(),
): Promise<SignedEntry> {
  const payload = {
    v: HISTORY_VERSION,
    kind: 'space-entry',
    space: spaceId,
    seq: head ? head.seq + 1 : 0,
    prev: head ? head.hash : GENESIS_PREV,
    type: draft.type,
    author: signer.userId,
    authorKey: toHex(signer.signingKey.publicKey.fingerprint),
    at: now.toISOString(),
    body: draft.body,
  };
  const bytes = utf8(JSON.stringify(entryPayloadSchema.parse(payload)));
  return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(signer.signingKey, ENTRY_SIGNATURE_CONTEXT, bytes)) };
}

// --- verification ---

/** Why a history cannot be trusted. Each reason has its own warning text in the browser. */
export type HistoryProblem =
  /** The server's history is shorter than, or differs before, the head this browser verified earlier. */
  | 'rollback'
  /** A link is broken: an entry is missing, reordered or duplicated. */
  | 'broken-chain'
  /** A signature does not verify, or the author's key is not the one certified for them. */
  | 'bad-signature'
  /** The author's key is unknown or not certified. */
  | 'unknown-author'
  /** An entry is malformed, names another space, or describes an impossible change. */
  | 'invalid-entry'
  /** The server's listing differs from what the signed history says. */
  | 'mismatch';

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  constructor(
    readonly problem: HistoryProblem,
    readonly seq: number | null,
    detail: string,
  ) {
    super(`The history of this space cannot be trusted (${problem}${seq === null ? '' : ` at entry ${seq}`}): ${detail}`);
  }
}

/** What a verifier knows about a person's signing key; null when nobody vouches for it. */
export type AuthorKeyResolver = (authorId: string, keyFingerprint: string) => Promise<{ key: SigningPublicKey; role: string } | null>;

export interface VerifiedEntry {
  readonly seq: number;
  readonly hash: string;
  readonly payload: EntryPayload;
  /** The author's role as their certificate says. */
  readonly authorRole: string;
}

export interface VerifiedHistory {
  readonly head: HistoryHead;
  readonly entries: readonly VerifiedEntry[];
}

/**
 * Verifies `entries` (the server's answer, in order) as the continuation of `from` (a head this
 * browser verified before, or null for the whole history from entry 0), and checks that `remembered`
 * (the newest head this user ever verified for the space) is still part of it.
 * @throws HistoryError naming the first problem
 */
export async function verifyEntries(args: {
  spaceId: string;
  from: HistoryHead | null;
  entries: readonly SignedEntry[];
  resolveAuthor: AuthorKeyResolver;
  remembered?: HistoryHead | null;
}): Promise<VerifiedHistory> {
  const { spaceId, from, entries, resolveAuthor, remembered } = args;
  let head: HistoryHead | null = from;
  const verified: VerifiedEntry[] = [];
  for (const entry of entries) {
    const expectedSeq = head ? head.seq + 1 : 0;
    const payload = parseEntryPayload(entry);
    if (!payload) throw new HistoryError('invalid-entry', expectedSeq, 'an entry is not a well-formed signed entry');
    if (payload.space !== spaceId) throw new HistoryError('invalid-entry', expectedSeq, 'an entry belongs to another space');
    if (payload.seq !== expectedSeq || payload.prev !== (head ? head.hash : GENESIS_PREV)) {
      throw new HistoryError('broken-chain', expectedSeq, `entry ${payload.seq} does not follow entry ${expectedSeq - 1}`);
    }
    if ((payload.seq === 0) !== (payload.type === 'space.create')) {
      throw new HistoryError('invalid-entry', expectedSeq, 'only the first entry creates the space');
    }
    const author = await resolveAuthor(payload.author, payload.authorKey);
    if (!author) throw new HistoryError('unknown-author', payload.seq, 'the author’s signing key is not certified');
    const bytes = fromBase64Url(entry.payload);
    if (!(await verifyStatement(author.key, ENTRY_SIGNATURE_CONTEXT, bytes, fromBase64Url(entry.signature)))) {
      throw new HistoryError('bad-signature', payload.seq, 'a signature does not verify');
    }
    head = { seq: payload.seq, hash: await entryHash(bytes) };
    verified.push({ seq: payload.seq, hash: head.hash, payload, authorRole: author.role });
    if (remembered && remembered.seq === payload.seq && remembered.hash !== head.hash) {
      throw new HistoryError('rollback', payload.seq, 'the history differs from the one this account verified before');
    }
  }
  if (!head) throw new HistoryError('rollback', null, 'the server shows no history for this space');
  if (remembered && remembered.seq > head.seq) {
    throw new HistoryError('rollback', head.seq, `the server shows ${head.seq + 1} entries, this account already verified ${remembered.seq + 1}`);
  }
  return { head, entries: verified };
}

// --- the state a verified history describes ---

export interface VersionState {
  readonly id: string;
  readonly number: number;
  readonly author: string;
  readonly blob: string;
  readonly fileKey: string;
  readonly metadata: string;
  readonly seq: number;
}

export interface DocumentState {
  readonly id: string;
  readonly createdBy: string;
  folder: string | null;
  readonly requestItem: string | null;
  deletedBy: string | null;
  readonly versions: VersionState[];
}

export interface FolderState {
  readonly id: string;
  readonly parent: string | null;
  readonly createdBy: string;
  name: string;
  deletedBy: string | null;
}

export interface MessageState {
  readonly id: string;
  readonly thread: string;
  readonly author: string;
  readonly attachments: readonly string[];
  /** Digest of each revision's body; index 0 is revision 1. */
  readonly revisions: string[];
}

export interface ThreadState {
  readonly id: string;
  readonly createdBy: string;
  readonly subject: string;
  readonly messages: string[];
}

export interface RequestState {
  readonly id: string;
  readonly createdBy: string;
  readonly text: string;
  readonly dueDate: string;
  readonly items: ReadonlyMap<string, string>;
  closedBy: string | null;
}

export interface SpaceState {
  readonly spaceId: string;
  readonly genesis: EntryBody<'space.create'> & { readonly author: string };
  head: HistoryHead;
  readonly documents: Map<string, DocumentState>;
  readonly folders: Map<string, FolderState>;
  readonly threads: Map<string, ThreadState>;
  readonly messages: Map<string, MessageState>;
  readonly requests: Map<string, RequestState>;
  /** Every version id of every document: ids are never reused (kept here so folding stays linear). */
  readonly versionIds: Set<string>;
}

const STAFF = new Set(['admin', 'team']);

/** A copy that folding can change without touching `state` (so a failed fold leaves the old state intact). */
export function cloneSpaceState(state: SpaceState): SpaceState {
  const copyMap = <T extends object>(map: Map<string, T>, copy: (value: T) => T) => new Map([...map].map(([k, v]) => [k, copy(v)]));
  return {
    ...state,
    documents: copyMap(state.documents, (d) => ({ ...d, versions: [...d.versions] })),
    folders: copyMap(state.folders, (f) => ({ ...f })),
    threads: copyMap(state.threads, (t) => ({ ...t, messages: [...t.messages] })),
    messages: copyMap(state.messages, (m) => ({ ...m, revisions: [...m.revisions] })),
    requests: copyMap(state.requests, (r) => ({ ...r })),
    versionIds: new Set(state.versionIds),
  };
}

/**
 * Applies verified entries to a state (null: the entries start at the space's first entry).
 * Rules a signature cannot express are checked here: ids are new, targets exist and are not deleted,
 * only a message's author revises it, only staff create and close requests.
 * @throws HistoryError('invalid-entry') on an impossible change
 */
export function foldEntries(state: SpaceState | null, entries: readonly VerifiedEntry[]): SpaceState {
  let next = state ? cloneSpaceState(state) : null;
  for (const { payload, seq, hash, authorRole } of entries) {
    const fail = (detail: string): never => {
      throw new HistoryError('invalid-entry', seq, detail);
    };
    if (!next) {
      if (payload.type !== 'space.create') return fail('the first entry must create the space');
      if (
        payload.body.spaceKind === 'client' &&
        (payload.body.client !== payload.author || authorRole !== 'client' || payload.body.clientWrap === null)
      ) {
        return fail('a client space is created by its client');
      }
      if (payload.body.spaceKind === 'team' && (!STAFF.has(authorRole) || payload.body.client !== null || payload.body.clientWrap !== null)) {
        return fail('the team space is created by staff');
      }
      next = {
        spaceId: payload.space,
        genesis: { ...payload.body, author: payload.author },
        head: { seq, hash },
        documents: new Map(),
        folders: new Map(),
        threads: new Map(),
        messages: new Map(),
        requests: new Map(),
        versionIds: new Set(),
      };
      continue;
    }
    const s: SpaceState = next;
    const liveFolder = (folderId: string | null) => {
      if (folderId === null) return;
      const folder = s.folders.get(folderId);
      if (!folder || folder.deletedBy) fail('a folder that does not exist or was deleted');
    };
    const liveDocument = (documentId: string) => {
      const document = s.documents.get(documentId);
      if (!document || document.deletedBy) return fail('a document that does not exist or was deleted');
      return document;
    };
    const version = (body: { version: string; blob: string; fileKey: string; metadata: string }, number: number): VersionState => {
      if (s.versionIds.has(body.version)) fail('a version id used twice');
      s.versionIds.add(body.version);
      return { id: body.version, number, author: payload.author, blob: body.blob, fileKey: body.fileKey, metadata: body.metadata, seq };
    };
    switch (payload.type) {
      case 'space.create':
        return fail('a space is created only once');
      case 'document.create': {
        const b = payload.body;
        if (s.documents.has(b.document)) fail('a document id used twice');
        liveFolder(b.folder);
        s.documents.set(b.document, {
          id: b.document,
          createdBy: payload.author,
          folder: b.folder,
          requestItem: b.requestItem,
          deletedBy: null,
          versions: [version(b, 1)],
        });
        break;
      }
      case 'version.add': {
        const document = liveDocument(payload.body.document);
        document.versions.push(version(payload.body, document.versions.length + 1));
        break;
      }
      case 'document.move':
        liveFolder(payload.body.folder);
        liveDocument(payload.body.document).folder = payload.body.folder;
        break;
      case 'document.delete':
        liveDocument(payload.body.document).deletedBy = payload.author;
        break;
      case 'folder.create':
        if (s.folders.has(payload.body.folder)) fail('a folder id used twice');
        liveFolder(payload.body.parent);
        s.folders.set(payload.body.folder, {
          id: payload.body.folder,
          parent: payload.body.parent,
          createdBy: payload.author,
          name: payload.body.name,
          deletedBy: null,
        });
        break;
      case 'folder.rename':
        liveFolder(payload.body.folder);
        s.folders.get(payload.body.folder)!.name = payload.body.name;
        break;
      case 'folder.delete':
        liveFolder(payload.body.folder);
        s.folders.get(payload.body.folder)!.deletedBy = payload.author;
        break;
      case 'thread.create':
      case 'message.post': {
        const b = payload.body;
        if (payload.type === 'thread.create') {
          if (s.threads.has(b.thread)) fail('a thread id used twice');
          s.threads.set(b.thread, { id: b.thread, createdBy: payload.author, subject: payload.body.subject, messages: [] });
        }
        const thread = s.threads.get(b.thread) ?? fail('a message in a thread that does not exist');
        if (s.messages.has(b.message)) fail('a message id used twice');
        for (const attachment of b.attachments) if (!s.documents.has(attachment)) fail('an attachment that is not a document of this space');
        s.messages.set(b.message, { id: b.message, thread: b.thread, author: payload.author, attachments: b.attachments, revisions: [b.text] });
        thread.messages.push(b.message);
        break;
      }
      case 'message.revise': {
        const message = s.messages.get(payload.body.message) ?? fail('a revision of a message that does not exist');
        if (message.thread !== payload.body.thread) fail('a revision names the wrong thread');
        if (message.author !== payload.author) fail('only the author revises a message');
        if (payload.body.revision !== message.revisions.length + 1) fail('revisions out of order');
        message.revisions.push(payload.body.text);
        break;
      }
      case 'request.create': {
        const b = payload.body;
        if (!STAFF.has(authorRole)) fail('only staff ask for documents');
        if (s.requests.has(b.request)) fail('a request id used twice');
        s.requests.set(b.request, {
          id: b.request,
          createdBy: payload.author,
          text: b.text,
          dueDate: b.dueDate,
          items: new Map(b.items.map((item) => [item.item, item.text])),
          closedBy: null,
        });
        break;
      }
      case 'request.close': {
        if (!STAFF.has(authorRole)) fail('only staff close a request');
        const request = s.requests.get(payload.body.request) ?? fail('closing a request that does not exist');
        if (request.closedBy) fail('closing a request twice');
        request.closedBy = payload.author;
        break;
      }
    }
    s.head = { seq, hash };
  }
  if (!next) throw new HistoryError('rollback', null, 'the server shows no history for this space');
  return next;
}
