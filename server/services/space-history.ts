// Signed space histories on the server: the entry every space change carries is checked against the request and stored with it.
import { fromBase64Url, importSigningPublicKey, toHex, verifyStatement } from '../../shared/crypto';
import { entryMatchesDraft } from '../../shared/flows/space-entries';
import {
  ENTRY_SIGNATURE_CONTEXT,
  GENESIS_PREV,
  entryHash,
  parseEntryPayload,
  type EntryBody,
  type EntryDraft,
  type EntryPayload,
  type EntryType,
  type SignedEntry,
} from '../../shared/flows/space-history';
import type { Db, Trx } from '../db/database';
import { fail, type AppError } from '../errors';
import { findSigningPublicKey, findSpaceHead, insertSpaceEntry } from '../repositories/space-entries.repository';
import { findSpace } from '../repositories/spaces.repository';
import type { Actor } from './account-deps';

/*
 * WARNING: the server cannot make the browsers trust anything (they verify every entry themselves);
 * these checks keep the stored history one the browsers will accept, so that an honest server never
 * shows a warning: each entry is well-formed, names this space and the signed-in author with the
 * signing key on record, verifies under that key, describes exactly the change stored with it
 * (entryMatchesDraft against the draft rebuilt from the request), and follows the current head.
 * The messages say which check failed and never echo a submitted value.
 */

/** An entry that passed every check that does not depend on the head: ready to append. */
export interface CheckedEntry {
  readonly spaceId: string;
  readonly entry: SignedEntry;
  readonly payload: EntryPayload;
  /** entryHash of the payload bytes: the next entry's `prev`. */
  readonly hash: string;
}

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
  return { spaceId, entry, payload, hash: await entryHash(bytes) };
}

/**
 * Appends a checked entry inside the transaction of the change it describes (BEGIN IMMEDIATE: no
 * other writer runs in between, and the primary key refuses a second entry at the same position).
 * A space that is still legacy, or an entry that does not follow the current head, answers
 * history_conflict: the browser fetches the newer entries, verifies them, signs again and retries.
 */
export async function appendEntry(trx: Trx, checked: CheckedEntry, at: string): Promise<void> {
  const space = await findSpace(trx, checked.spaceId);
  if (space?.legacy) throw fail('history_conflict', LEGACY_SPACE_MESSAGE);
  const head = await findSpaceHead(trx, checked.spaceId);
  const seq = head ? head.seq + 1 : 0;
  if (checked.payload.seq !== seq || checked.payload.prev !== (head?.entry_hash ?? GENESIS_PREV)) {
    throw fail('history_conflict', 'This space changed since your browser last loaded it; it loads the changes and tries again.');
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
}
