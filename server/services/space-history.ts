// Signed space histories on the server: the entry every space change carries is checked against the request and stored with it.
import { fromBase64Url, importSigningPublicKey, toHex, verifyStatement } from '../../shared/crypto';
import { entryMatchesDraft } from '../../shared/flows/space-entries';
import {
  ENTRY_SIGNATURE_CONTEXT,
  GENESIS_PREV,
  HistoryError,
  entryHash,
  foldEntries,
  parseEntryPayload,
  type EntryBody,
  type EntryDraft,
  type EntryPayload,
  type EntryType,
  type SignedEntry,
  type SpaceState,
  type VerifiedEntry,
} from '../../shared/flows/space-history';
import type { Db, Trx } from '../db/database';
import { fail, type AppError } from '../errors';
import { findSigningPublicKey, findSpaceHead, findSpaceItemIds, insertSpaceEntry, listEntriesWithAuthorRoles } from '../repositories/space-entries.repository';
import { findSpace } from '../repositories/spaces.repository';
import type { Actor } from './account-deps';

/*
 * WARNING: the server cannot make the browsers trust anything (they verify every entry themselves);
 * these checks keep the stored history one the browsers will accept, so that an honest server never
 * shows a warning: each entry is well-formed, names this space and the signed-in author with the
 * signing key on record, verifies under that key, describes exactly the change stored with it
 * (entryMatchesDraft against the draft rebuilt from the request), follows the current head, and
 * folds onto the space's state by the browsers' own rules (foldEntries: ids new, targets exist and
 * are live, only a message's author revises it, only staff create and close requests, attachments
 * are documents of the space, who makes entry 0). An entry that fails the fold would make every
 * browser show the whole space as 'invalid-entry', so it is refused.
 * The messages say which check failed and never echo a submitted value.
 */

/** An entry that passed every check that does not depend on the head: ready to append. */
export interface CheckedEntry {
  readonly spaceId: string;
  readonly entry: SignedEntry;
  readonly payload: EntryPayload;
  /** entryHash of the payload bytes: the next entry's `prev`. */
  readonly hash: string;
  /** The author's role (the signed-in user's): the fold checks who may do what. */
  readonly authorRole: string;
  /** The folded states of this database's spaces (one cache per database connection: per server). */
  readonly folds: FoldCache;
}

/**
 * The newest folded state per space, keyed by the head it was folded up to. Only an optimisation:
 * every use is validated against the head stored in the database (a server that did not see the
 * newer entries, or whose transaction was rolled back after caching, folds again from what is stored).
 */
type FoldCache = Map<string, SpaceState>;
const foldCaches = new WeakMap<Db, FoldCache>();

function foldCacheOf(db: Db): FoldCache {
  let cache = foldCaches.get(db);
  if (!cache) {
    cache = new Map();
    foldCaches.set(db, cache);
  }
  return cache;
}

/** The answer to a change of an item an adopted legacy space holds from before its signed history. */
export const PRE_HISTORY_MESSAGE = "This item was made before the space's signed history and can no longer be changed.";

const entryInvalid = (what: string): AppError => fail('entry_invalid', `The signed history entry of this change ${what}. Nothing was saved.`);

/** The answer to a write on a space made before signed histories (documented on the write endpoints). */
export const LEGACY_SPACE_MESSAGE = 'This space must first get its signed history; reload.';

/**
 * Checks `entry` before the write transaction opens (the signature and the digests cost time):
 * well-formed, for `spaceId`, by the actor, under the actor's stored signing key, describing
 * exactly `draft` (`ignore`: body fields only the browser can compute). `genesis`: it must be
 * entry 0 (createSpace, adoptSpace). Throws entry_invalid naming the first failed check.
 */
export async function checkEntry<T extends EntryType>(
  db: Db,
  actor: Actor,
  spaceId: string,
  entry: SignedEntry,
  draft: EntryDraft<T> | Promise<EntryDraft<T>>,
  options: { readonly ignore?: readonly (keyof EntryBody<T>)[]; readonly genesis?: boolean } = {},
): Promise<CheckedEntry> {
  const payload = parseEntryPayload(entry);
  if (!payload) throw entryInvalid('is not a well-formed signed history entry');
  if (payload.space !== spaceId) throw entryInvalid('names another space');
  if (options.genesis && (payload.seq !== 0 || payload.prev !== GENESIS_PREV)) throw entryInvalid('is not the first entry of a space');
  if (payload.author !== actor.userId) throw entryInvalid('names another author than the signed-in user');
  const stored = await findSigningPublicKey(db, actor.userId);
  if (!stored) throw entryInvalid('cannot be checked: this account has no signing key yet (sign in again to add one)');
  let key;
  try {
    key = await importSigningPublicKey(fromBase64Url(stored));
  } catch (error) {
    throw fail('entry_invalid', 'The signing key on record for this account cannot be read. Nothing was saved.', { cause: error });
  }
  if (payload.authorKey !== toHex(key.fingerprint)) throw entryInvalid('names another signing key than the one on record for this account');
  const bytes = fromBase64Url(entry.payload);
  if (!(await verifyStatement(key, ENTRY_SIGNATURE_CONTEXT, bytes, fromBase64Url(entry.signature)))) {
    throw entryInvalid('has a signature that does not verify under the signing key on record for this account');
  }
  if (!entryMatchesDraft(payload, await draft, options.ignore)) throw entryInvalid('does not describe this change (it differs from the request)');
  return { spaceId, entry, payload, hash: await entryHash(bytes), authorRole: actor.role, folds: foldCacheOf(db) };
}

/**
 * Appends a checked entry inside the transaction of the change it describes (BEGIN IMMEDIATE: no
 * other writer runs in between, and the primary key refuses a second entry at the same position).
 * Call it last in the transaction, after the change's own checks (their answers say more). A space
 * that is still legacy, or an entry that does not follow the current head, answers
 * history_conflict: the browser fetches the newer entries, verifies them, signs again and retries.
 * An entry the browsers' fold would refuse answers entry_invalid.
 */
export async function appendEntry(trx: Trx, checked: CheckedEntry, at: string): Promise<void> {
  const space = await findSpace(trx, checked.spaceId);
  if (space?.legacy) throw fail('history_conflict', LEGACY_SPACE_MESSAGE);
  const head = await findSpaceHead(trx, checked.spaceId);
  const seq = head ? head.seq + 1 : 0;
  if (checked.payload.seq !== seq || checked.payload.prev !== (head?.entry_hash ?? GENESIS_PREV)) {
    throw fail('history_conflict', 'This space changed since your browser last loaded it; it loads the changes and tries again.');
  }
  const state = head ? await stateAt(trx, checked, { seq: head.seq, hash: head.entry_hash }) : null;
  let next: SpaceState;
  try {
    next = foldEntries(state, [{ seq, hash: checked.hash, payload: checked.payload, authorRole: checked.authorRole }]);
  } catch (error) {
    if (!(error instanceof HistoryError)) throw error;
    if (state && (await namesPreHistoryItem(trx, state, checked.payload))) throw fail('entry_invalid', PRE_HISTORY_MESSAGE, { cause: error });
    throw fail('entry_invalid', `This change breaks a rule of the space's signed history (${ruleOf(error)}). Nothing was saved.`, { cause: error });
  }
  await insertSpaceEntry(trx, {
    space_id: checked.spaceId,
    seq,
    payload: checked.entry.payload,
    signature: checked.entry.signature,
    author_id: checked.payload.author,
    entry_hash: checked.hash,
    created_at: at,
  });
  // Cached before the commit: should the transaction roll back, the stored head will not match it.
  checked.folds.set(checked.spaceId, next);
}

/** The rule foldEntries names (its details name rules, never values). */
const ruleOf = (error: HistoryError): string => error.message.slice(error.message.lastIndexOf(': ') + 2);

/**
 * The state of the space at the stored `head`: the cached one when it is at that head; else the
 * cached one brought forward with the entries stored after it (another server wrote them), when
 * they continue its chain; else folded again from entry 0. Stored entries were checked when they
 * were stored, so they are folded without verifying their signatures again.
 */
async function stateAt(trx: Trx, checked: CheckedEntry, head: { seq: number; hash: string }): Promise<SpaceState> {
  const cached = checked.folds.get(checked.spaceId);
  if (cached && cached.head.seq === head.seq && cached.head.hash === head.hash) return cached;
  let base = cached && cached.head.seq < head.seq ? cached : null;
  let rows = await listEntriesWithAuthorRoles(trx, checked.spaceId, base ? base.head.seq : -1);
  let entries = rows.map(verifiedOf);
  if (base && entries[0]?.payload.prev !== base.head.hash) {
    base = null;
    rows = await listEntriesWithAuthorRoles(trx, checked.spaceId, -1);
    entries = rows.map(verifiedOf);
  }
  let state: SpaceState;
  try {
    state = foldEntries(base, entries);
  } catch (error) {
    throw fail('entry_invalid', 'The stored signed history of this space breaks its own rules; nothing can be added to it.', { cause: error });
  }
  if (state.head.seq !== head.seq || state.head.hash !== head.hash) throw new Error('the stored history of a space does not end at its head');
  checked.folds.set(checked.spaceId, state);
  return state;
}

function verifiedOf(row: { seq: number; entry_hash: string; payload: string; signature: string; author_role: string }): VerifiedEntry {
  const payload = parseEntryPayload({ payload: row.payload, signature: row.signature });
  if (!payload || payload.seq !== row.seq) throw new Error('a stored history entry does not parse');
  return { seq: row.seq, hash: row.entry_hash, payload, authorRole: row.author_role };
}

/**
 * Whether the entry names an existing item (not a new one) that the signed history lacks but the
 * space holds: made before the history of an adopted legacy space (the history has no entry that
 * vouches for it, so every browser would refuse a change of it).
 */
async function namesPreHistoryItem(trx: Trx, state: SpaceState, payload: EntryPayload): Promise<boolean> {
  const targets: { kind: 'document' | 'folder' | 'thread' | 'message' | 'request'; ids: (string | null)[] }[] = [];
  switch (payload.type) {
    case 'document.create':
      targets.push({ kind: 'folder', ids: [payload.body.folder] });
      break;
    case 'version.add':
    case 'document.delete':
      targets.push({ kind: 'document', ids: [payload.body.document] });
      break;
    case 'document.move':
      targets.push({ kind: 'document', ids: [payload.body.document] }, { kind: 'folder', ids: [payload.body.folder] });
      break;
    case 'folder.create':
      targets.push({ kind: 'folder', ids: [payload.body.parent] });
      break;
    case 'folder.rename':
    case 'folder.delete':
      targets.push({ kind: 'folder', ids: [payload.body.folder] });
      break;
    case 'thread.create':
      targets.push({ kind: 'document', ids: payload.body.attachments });
      break;
    case 'message.post':
      targets.push({ kind: 'thread', ids: [payload.body.thread] }, { kind: 'document', ids: payload.body.attachments });
      break;
    case 'message.revise':
      targets.push({ kind: 'message', ids: [payload.body.message] });
      break;
    case 'request.close':
      targets.push({ kind: 'request', ids: [payload.body.request] });
      break;
    case 'space.create':
    case 'request.create':
      break;
  }
  const known = { document: state.documents, folder: state.folders, thread: state.threads, message: state.messages, request: state.requests };
  for (const { kind, ids } of targets) {
    const missing = ids.filter((id): id is string => id !== null && !known[kind].has(id));
    if ((await findSpaceItemIds(trx, state.spaceId, kind, missing)).length > 0) return true;
  }
  return false;
}
