// The crypto worker's verified view of each space: its signed history brought up to date and checked, its key accepted only as entry 0 allows, and the warnings.
import { type Space, adoptSpace, getHistory, getSpace, listSpaces } from '../../shared/api';
import { KluisCryptoError, type SecretKey } from '../../shared/crypto';
import {
  type EntryDraft,
  type EntryType,
  type SignedEntry,
  type SpaceState,
  HistoryError,
  foldEntries,
  signEntry,
  verifyEntries,
} from '../../shared/flows/space-history';
import type { Reconciliation } from '../../shared/flows/space-reconcile';
import {
  type AdoptionSeal,
  SpaceKeyRejectedError,
  adoptionOf,
  openLegacySpaceKey,
  openSpaceKey,
  signerOf,
  type VerifiedGenesis,
} from '../../shared/flows/spaces';
import { EscrowChainError } from '../../shared/flows/escrow-rotation';
import { PinMismatchError, type UnlockedVault } from '../../shared/flows/vault';
import { isApiError, type CallApi } from '../../shared/api/client';
import type { AccountSlot, HeldAccount } from './account-operations';
import { NotSignedInError, SpaceUntrustedError } from './outcome';
import type { SecurityWarning, SpaceSecurity } from './space-types';
import type { DirectoryTrust, Trust } from './trust';
import { escrowKeyForSealing } from './escrow-pin';

/*
 * WARNING (SECURITY.md §4.9): nothing about a space is taken on the server's word. Before any read
 * or write the history after the newest verified head is fetched, verified (signatures of authors
 * the Trust vouches for, the hash chain, the head remembered in the key safe) and folded into the
 * state; a failure becomes a warning that stays for the rest of this session (sign-in or unlock)
 * and refuses writes. Nothing here falls back to "the old state" silently: every view carries the
 * space's SpaceSecurity.
 */

/** How many times a write is signed again after `history_conflict` (someone wrote in between). */
export const MAX_HISTORY_RETRIES = 3;
const HISTORY_PROBLEMS: ReadonlySet<string> = new Set(['rollback', 'broken-chain', 'bad-signature', 'unknown-author', 'invalid-entry', 'key-substituted']);

interface SpaceRecord {
  space: Space | null;
  state: SpaceState | null;
  genesisRole: string | null;
  /** History and key problems: they stay for the rest of this session. */
  readonly sticky: SecurityWarning[];
  /** Listing problems per read (documents, threads, requests, one document, one thread), replaced on each read of it. */
  readonly scopes: Map<string, readonly SecurityWarning[]>;
  key: Promise<SecretKey<'space'> | null> | null;
  /** Syncs of one space run one after the other. */
  queue: Promise<void>;
}

interface Session {
  readonly held: HeldAccount;
  readonly trust: Trust;
  readonly spaces: Map<string, SpaceRecord>;
}

/** A space after its history was brought up to date: the verified state (null: none) and its key (null: not trusted). */
export interface VerifiedSpace {
  readonly space: Space;
  readonly state: SpaceState | null;
  readonly key: SecretKey<'space'> | null;
}

export interface SpaceVerifierDeps {
  readonly api: CallApi;
  readonly account: AccountSlot;
  /** What this worker trusts (client/worker/trust.ts): answers for whoever is signed in now; its verified directory checks escrow rotations. */
  readonly trust: Trust & Pick<DirectoryTrust, 'directory' | 'escrowHistory'>;
}

const warningOf = (error: HistoryError): SecurityWarning => ({ problem: error.problem, entry: error.seq, item: null, detail: error.message });

function securityOf(record: SpaceRecord | undefined): SpaceSecurity {
  if (!record) return { warnings: [], writable: true };
  const seen = new Set<string>();
  const warnings = [...record.sticky, ...[...record.scopes.values()].flat()].filter((warning) => {
    const key = `${warning.problem}/${warning.item?.id ?? ''}/${warning.detail}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // An item that is only not in the signed history (legacy) leaves the space writable; anything else does not.
  return { warnings, writable: warnings.every((warning) => warning.problem === 'unsigned' && warning.item !== null) };
}

export function createSpaceVerifier({ api, account, trust }: SpaceVerifierDeps) {
  let session: Session | null = null;

  function current(): Session {
    const held = account.current;
    if (!held) throw new NotSignedInError();
    // A new sign-in or unlock (a new vault) starts empty.
    if (session?.held.vault !== held.vault) session = { held, trust, spaces: new Map() };
    return session;
  }

  function recordOf(s: Session, spaceId: string): SpaceRecord {
    let record = s.spaces.get(spaceId);
    if (!record) {
      record = { space: null, state: null, genesisRole: null, sticky: [], scopes: new Map(), key: null, queue: Promise.resolve() };
      s.spaces.set(spaceId, record);
    }
    return record;
  }

  function stick(s: Session, record: SpaceRecord, warning: SecurityWarning): void {
    record.sticky.push(warning);
    s.trust.refresh();
  }

  /** Fetches, verifies and folds the entries after the verified head. */
  async function syncHistory(s: Session, spaceId: string, record: SpaceRecord): Promise<void> {
    if (record.sticky.some((warning) => HISTORY_PROBLEMS.has(warning.problem))) return;
    if (!record.space) record.space = await api(getSpace, { params: { spaceId } });
    else if (record.space.legacy) {
      const fresh = await api(getSpace, { params: { spaceId } });
      if (!fresh.legacy) {
        // Adopted meanwhile (by its client, or a colleague): from now on only its signed history counts.
        record.space = fresh;
        record.key = null;
        const unsigned = record.sticky.findIndex((warning) => warning.problem === 'unsigned' && warning.item === null);
        if (unsigned >= 0) record.sticky.splice(unsigned, 1);
      }
    }
    const remembered = s.trust.rememberedHead(spaceId);
    if (record.space.legacy) {
      if (remembered) {
        stick(s, record, {
          problem: 'rollback',
          entry: remembered.seq,
          item: null,
          detail: `the server shows this space as made before signed histories; this account verified ${remembered.seq + 1} entries of it`,
        });
      }
      return;
    }
    const from = record.state?.head ?? null;
    const entries: SignedEntry[] = [];
    let after = from?.seq;
    for (;;) {
      const page = await api(getHistory, { params: { spaceId }, query: after === undefined ? {} : { after } });
      entries.push(...page.entries);
      if (!page.more || page.entries.length === 0) break;
      after = (after ?? -1) + page.entries.length;
    }
    try {
      const verified = await verifyEntries({
        spaceId,
        from,
        entries,
        resolveAuthor: (authorId, fingerprint) => s.trust.authorKey(authorId, fingerprint),
        remembered,
      });
      if (verified.entries.length === 0) return;
      const next = foldEntries(record.state, verified.entries);
      if (!record.state) record.genesisRole = verified.entries[0]!.authorRole;
      record.state = next;
      await s.trust.rememberHead(spaceId, next.head);
    } catch (error) {
      if (!(error instanceof HistoryError)) throw error;
      stick(s, record, warningOf(error));
    }
  }

  function sync(s: Session, spaceId: string, record: SpaceRecord): Promise<void> {
    const run = record.queue.then(() => syncHistory(s, spaceId, record));
    record.queue = run.catch(() => undefined);
    return run;
  }

  function genesisOf(record: SpaceRecord): VerifiedGenesis | null {
    if (!record.state || record.genesisRole === null) return null;
    return { body: record.state.genesis, author: record.state.genesis.author, authorRole: record.genesisRole };
  }

  /**
   * WARNING: trust on first use, once per space. Opens the key of a legacy space from its old seal
   * and gives the space its entry 0: its client with their own wrap and a fresh seal to the PINNED
   * escrow key, staff (the team space) naming the stored escrow seal. Afterwards (or when someone
   * adopted it first) the key is accepted only as the verified entry 0 allows.
   * @returns false (with a warning) when the server's escrow key is not the pinned one
   */
  async function adopt(s: Session, spaceId: string, record: SpaceRecord, space: Space): Promise<boolean> {
    const vault = s.held.vault;
    let key: SecretKey<'space'>;
    try {
      key = await openLegacySpaceKey(vault, space);
    } catch (error) {
      if (!(error instanceof KluisCryptoError)) throw error;
      stick(s, record, { problem: 'key-substituted', entry: null, item: null, detail: 'the old seal of the space key does not open: it was altered' });
      return false;
    }
    let seal: AdoptionSeal;
    let escrowFingerprint: string | null = null;
    if (space.kind === 'team') seal = { storedEscrowSeal: space.sealedKey! };
    else {
      try {
        // The pinned escrow key, or the one a chain of Administrator-signed rotations leads to.
        const escrowKey = await escrowKeyForSealing(api, s.held.keySafe, (await api(listSpaces, {})).escrowPublicKey, () => trust.directory());
        seal = { escrowPublicKey: escrowKey.publicKey };
        escrowFingerprint = escrowKey.fingerprint;
      } catch (error) {
        if (!(error instanceof PinMismatchError || error instanceof EscrowChainError)) throw error;
        stick(s, record, { problem: 'key-substituted', entry: null, item: null, detail: error.message });
        return false;
      }
    }
    try {
      const body = await adoptionOf(vault, space, key, seal);
      record.space = await api(adoptSpace, { params: { spaceId }, body: escrowFingerprint ? { ...body, escrowFingerprint } : body });
    } catch (error) {
      // Adopted first by another tab or a colleague: theirs is entry 0.
      if (!(isApiError(error) && error.code === 'space_adopted')) throw error;
      record.space = await api(getSpace, { params: { spaceId } });
    }
    await sync(s, spaceId, record);
    return true;
  }

  async function openKey(s: Session, spaceId: string, record: SpaceRecord): Promise<SecretKey<'space'> | null> {
    const vault = s.held.vault;
    let space = record.space!;
    if (space.legacy) {
      const own = space.kind === 'client' && space.clientId === vault.userId;
      const staffOfTeam = space.kind === 'team' && Boolean(vault.escrow) && (vault.role === 'admin' || vault.role === 'team');
      // Never adopted again once this account verified a history of it (syncHistory warned of a rollback).
      if ((own || staffOfTeam) && record.sticky.length === 0 && !s.trust.rememberedHead(spaceId)) {
        if (!(await adopt(s, spaceId, record, space))) return null;
        space = record.space!;
      } else {
        // Not adopted yet by its client (or staff without the escrow key): nothing vouches for its key.
        stick(s, record, { problem: 'unsigned', entry: null, item: null, detail: 'this space has no signed history yet (made before signed histories)' });
        return null;
      }
    }
    try {
      // After a verified escrow rotation the seal is a re-sealed one: entry 0's key commitment vouches for it.
      const rotated = vault.escrow ? (await trust.escrowHistory()).previousFingerprints.length > 0 : false;
      return await openSpaceKey(vault, space, genesisOf(record), { rotated });
    } catch (error) {
      if (error instanceof SpaceKeyRejectedError) {
        // Without a verified history the history's own warning says why.
        if (error.reason !== 'no-history' || record.sticky.length === 0) stick(s, record, { problem: 'key-substituted', entry: 0, item: null, detail: error.message });
        return null;
      }
      if (error instanceof KluisCryptoError) {
        stick(s, record, { problem: 'key-substituted', entry: null, item: null, detail: 'the copy of the space key does not open: it was altered' });
        return null;
      }
      throw error;
    }
  }

  /**
   * Brings the space's verified history up to date and opens its key (once per session).
   * @throws NoEscrowAccessError, ApiError (space_not_found …), NotSignedInError — never a verification failure (that becomes a warning)
   */
  async function open(spaceId: string, options: { known?: Space } = {}): Promise<VerifiedSpace> {
    const s = current();
    const record = recordOf(s, spaceId);
    if (options.known && !record.space) record.space = options.known;
    await sync(s, spaceId, record);
    if (!record.key) {
      const opening = openKey(s, spaceId, record);
      // A failed open is not kept: an escrow grant accepted later must be able to open it.
      opening.catch(() => {
        if (record.key === opening) record.key = null;
      });
      record.key = opening;
    }
    const key = await record.key;
    return { space: record.space!, state: record.state, key };
  }

  return {
    open,

    /** The security verdict known for a space now (no request). */
    security(spaceId: string): SpaceSecurity {
      return securityOf(current().spaces.get(spaceId));
    },

    /** Whether the space has been opened in this session (its history is cached). */
    isKnown(spaceId: string): boolean {
      return current().spaces.get(spaceId)?.state != null;
    },

    /**
     * The directory's check for a space not read in this session: the server's history length
     * against the head this account verified before (a shorter history is a rollback).
     */
    checkLength(space: Space): void {
      const s = current();
      const remembered = s.trust.rememberedHead(space.id);
      if (!remembered || space.legacy || space.historyLength > remembered.seq) return;
      const record = recordOf(s, space.id);
      if (record.sticky.some((warning) => warning.problem === 'rollback')) return;
      stick(s, record, {
        problem: 'rollback',
        entry: remembered.seq,
        item: null,
        detail: `the server shows ${space.historyLength} entries, this account already verified ${remembered.seq + 1}`,
      });
    },

    /** Records what reconciling one read found, and returns the space's verdict. */
    reconciled(spaceId: string, scope: string, result: Reconciliation): SpaceSecurity {
      const record = recordOf(current(), spaceId);
      record.scopes.set(
        scope,
        result.problems.map((problem) => ({ problem: problem.problem, entry: null, item: { kind: problem.kind, id: problem.id }, detail: problem.detail })),
      );
      return securityOf(record);
    },

    /** Remembers the key of a space this browser just created (its entry 0 is verified on the next read). */
    created(space: Space, key: SecretKey<'space'>): void {
      const record = recordOf(current(), space.id);
      record.space = space;
      record.key = Promise.resolve(key);
    },

    /**
     * Signs `draft` on top of the space's verified head and sends it; on `history_conflict` fetches
     * and verifies the newer entries and signs again (at most MAX_HISTORY_RETRIES times). `check`
     * runs against the fresh state before each signature (refuse a change to an unsigned item).
     * @throws SpaceUntrustedError while the space has an open warning
     */
    async signedWrite<T, E extends EntryType>(
      spaceId: string,
      draft: EntryDraft<E>,
      send: (entry: SignedEntry) => Promise<T>,
      check?: (state: SpaceState) => void,
    ): Promise<T> {
      const vault: UnlockedVault = current().held.vault;
      const signer = signerOf(vault);
      for (let attempt = 0; ; attempt += 1) {
        const { state } = await open(spaceId);
        const security = securityOf(current().spaces.get(spaceId));
        if (!security.writable || !state) throw new SpaceUntrustedError(security.warnings);
        check?.(state);
        const entry = await signEntry(signer, spaceId, state.head, draft);
        try {
          const result = await send(entry);
          // The answer is the server's; the next read verifies the entry like any other.
          await open(spaceId).catch(() => undefined);
          return result;
        } catch (error) {
          if (isApiError(error) && error.code === 'history_conflict' && attempt < MAX_HISTORY_RETRIES) continue;
          throw error;
        }
      }
    },
  };
}

export type SpaceVerifier = ReturnType<typeof createSpaceVerifier>;
