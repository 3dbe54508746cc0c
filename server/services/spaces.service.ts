// Spaces: the client's own portal and the team space, created (or adopted) with entry 0 of their signed history, listed per viewer.
import { MAX_HISTORY_PAGE, type CreateSpaceBody, type HistoryPage, type Space, type SpaceKind } from '../../shared/api';
import { spaceCreateDraft } from '../../shared/flows/space-entries';
import { recordDigest, type SignedEntry } from '../../shared/flows/space-history';
import type { Db, SpaceRow, Trx } from '../db/database';
import { fail } from '../errors';
import { listSpaceEntries } from '../repositories/space-entries.repository';
import { findSpace, findSpaceOf, insertSpace, listSpaceSummaries, updateSpace, type SpaceSummaryRow } from '../repositories/spaces.repository';
import { requireOrganisation, type Actor } from './account-deps';
import { recordAuditEvent } from './audit.service';
import { type FirstAccessDeps, recordFirstAccess } from './escrow-first-access';
import { appendEntry, checkEntry } from './space-history';
import { isStaff, requireSpace, spaceListFilter } from './space-access';

export interface SpacesDeps extends FirstAccessDeps {
  readonly db: Db;
  readonly now: () => Date;
}

/**
 * WARNING: each viewer gets only their own copy of the space key: staff the escrow seal; the client
 * the wrap under their user key, or (a legacy space, until they adopt it) the old seal to their public key.
 */
function spaceView(actor: Actor, row: SpaceSummaryRow): Space {
  const staff = isStaff(actor);
  const legacy = row.legacy === 1;
  return {
    id: row.id,
    kind: row.kind,
    clientId: row.client_id,
    createdAt: row.created_at,
    sealedKey: staff ? row.sealed_for_escrow : legacy ? row.sealed_for_client : null,
    wrappedKey: staff || legacy ? null : row.wrapped_for_client,
    legacy,
    historyLength: row.history_length,
    documentCount: row.document_count,
    storedBytes: row.stored_bytes,
    unreadMessages: row.unread_messages,
    openRequestItems: row.open_request_items,
    lastActivityAt: row.last_activity_at,
  };
}

/** A body field a client space needs and the team space must not carry (validation_failed naming it). */
function clientSpaceOnly(kind: SpaceKind, value: string | undefined, field: string, messages: { readonly missing: string; readonly extra: string }): void {
  if ((kind === 'client') === (value !== undefined)) return;
  const missing = kind === 'client';
  throw fail('validation_failed', missing ? messages.missing : messages.extra, {
    issues: [{ path: `body.${field}`, message: missing ? 'required for a client space' : 'not allowed for the team space' }],
  });
}

/** A client space carries the client's wrap of the key; the team space none (the escrow seal only). */
function assertClientWrap(kind: SpaceKind, wrappedForClient: string | undefined): void {
  clientSpaceOnly(kind, wrappedForClient, 'wrappedForClient', {
    missing: 'A client space needs the space key wrapped under your own user key.',
    extra: 'The team space key is sealed to the escrow key only.',
  });
}

/** Adopting a client space sends a fresh escrow seal (the client cannot check the stored one); the team space keeps its stored seal. */
function assertAdoptionSeal(kind: SpaceKind, sealedForEscrow: string | undefined): void {
  clientSpaceOnly(kind, sealedForEscrow, 'sealedForEscrow', {
    missing: 'Adopting a client space needs the space key sealed afresh to the organisation escrow key.',
    extra: 'The team space keeps its stored escrow seal; send none.',
  });
}

/**
 * Entry 0 of a space must describe exactly the stored keys: the digest of the escrow seal and of the
 * client's wrap, the space's kind and client. Its `key` (the space key's commitment) only the
 * browser can compute: the server takes it as signed and the browsers check it when they open a key.
 */
function genesisDraft(space: { id: string; kind: SpaceKind; sealedForEscrow: string; wrappedForClient?: string | undefined }, clientId: string | null) {
  return spaceCreateDraft(space, clientId, '');
}

/**
 * The organisation's current escrow fingerprint, which a new seal must be made to: a browser that
 * names another (an escrow rotation happened since it read the chain) gets `escrow_key_changed`.
 * A browser that names none may have sealed to an older pinned key: the seal's fingerprint is then
 * stored as unknown (null), so the next escrow rotation re-seals it instead of taking it as current.
 */
async function currentEscrowFingerprint(trx: Trx, claimed: string | undefined): Promise<string | null> {
  const { organisation } = await requireOrganisation(trx);
  if (claimed !== undefined && claimed !== organisation.escrow_fingerprint) {
    throw fail('escrow_key_changed', "The organisation's escrow key has changed since this page read it. Reload and try again.");
  }
  return claimed === undefined ? null : organisation.escrow_fingerprint;
}

export function createSpacesService(deps: SpacesDeps) {
  const { db } = deps;

  async function summaryOf(actor: Actor, spaceId: string): Promise<Space> {
    const [row] = await listSpaceSummaries(db, actor.userId, { onlySpaceId: spaceId });
    if (!row) throw fail('space_not_found', 'There is no such space.');
    return spaceView(actor, row);
  }

  return {
    async listSpaces(actor: Actor) {
      const filter = spaceListFilter(actor);
      const rows = filter ? await listSpaceSummaries(db, actor.userId, filter) : [];
      // Staff are served every client space's escrow seal here: a first access for each such client (issue 21).
      if (isStaff(actor)) await recordFirstAccess(deps, actor, rows.flatMap((row) => (row.kind === 'client' && row.client_id ? [row.client_id] : [])));
      const { organisation } = await requireOrganisation(db);
      return { spaces: rows.map((row) => spaceView(actor, row)), escrowPublicKey: organisation.escrow_public_key };
    },

    async getSpace(actor: Actor, spaceId: string): Promise<Space> {
      await requireSpace(db, actor, spaceId);
      const space = await summaryOf(actor, spaceId);
      if (isStaff(actor) && space.kind === 'client' && space.clientId) await recordFirstAccess(deps, actor, [space.clientId]);
      return space;
    },

    /**
     * A client creates their own client space (wrapped under their user key, sealed to escrow);
     * staff create the team space (sealed to escrow only). One of each: a second answers
     * `space_exists`. Entry 0 of its history, signed by the creator, is stored with it.
     */
    async createSpace(actor: Actor, body: CreateSpaceBody): Promise<Space> {
      if (actor.role === 'client') {
        if (body.kind !== 'client') throw fail('forbidden', 'Clients can only create their own client space.');
      } else if (isStaff(actor)) {
        if (body.kind !== 'team') throw fail('forbidden', 'A client space is created by its client at their first sign-in; staff create only the team space.');
      } else {
        throw fail('forbidden', 'Your role does not allow this.');
      }
      assertClientWrap(body.kind, body.wrappedForClient);
      const clientId = body.kind === 'client' ? actor.userId : null;
      const checked = await checkEntry(db, actor, body.id, body.entry, genesisDraft(body, clientId), { ignore: ['key'], genesis: true });
      const now = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const escrowFingerprint = await currentEscrowFingerprint(trx, body.escrowFingerprint);
        if (await findSpaceOf(trx, clientId)) {
          throw fail('space_exists', clientId ? 'You have a space already.' : 'The team space exists already.');
        }
        if (await findSpace(trx, body.id)) throw fail('id_taken', 'This id is in use; make a new one.');
        await insertSpace(trx, {
          id: body.id,
          kind: body.kind,
          client_id: clientId,
          sealed_for_client: null,
          wrapped_for_client: body.wrappedForClient ?? null,
          sealed_for_escrow: body.sealedForEscrow,
          legacy: 0,
          escrow_fingerprint: escrowFingerprint,
          created_by: actor.userId,
          created_at: now,
          last_activity_at: now,
        });
        await appendEntry(trx, checked, now);
        await recordAuditEvent(trx, { action: 'space.created', actorId: actor.userId, targetType: 'space', targetId: body.id, ip: actor.ip, details: { kind: body.kind } });
      });
      return summaryOf(actor, body.id);
    },

    /**
     * Gives a space made before signed histories its entry 0: a client space by its client, the
     * team space by staff. The client sends their wrap of the key and a fresh seal of it to the
     * pinned escrow key (the browser cannot check the stored seal, and entry 0 must name the seal
     * staff will open): it replaces the stored escrow seal, which held the same key (the audit event
     * keeps the old seal's digest). Staff send no seal: entry 0 names the stored one. Once: a
     * second answers `space_adopted`.
     */
    async adoptSpace(
      actor: Actor,
      spaceId: string,
      body: { wrappedForClient?: string | undefined; sealedForEscrow?: string | undefined; escrowFingerprint?: string | undefined; entry: SignedEntry },
    ): Promise<Space> {
      const space = await requireSpace(db, actor, spaceId);
      if (!space.legacy) throw fail('space_adopted', 'This space has its signed history already; reload it.');
      if (space.kind === 'client' && actor.userId !== space.client_id) throw fail('forbidden', 'A client space gets its signed history from its client.');
      assertClientWrap(space.kind, body.wrappedForClient);
      assertAdoptionSeal(space.kind, body.sealedForEscrow);
      const sealedForEscrow = body.sealedForEscrow ?? space.sealed_for_escrow;
      const draft = genesisDraft({ id: space.id, kind: space.kind, sealedForEscrow, wrappedForClient: body.wrappedForClient }, space.client_id);
      const checked = await checkEntry(db, actor, space.id, body.entry, draft, { ignore: ['key'], genesis: true });
      const now = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const current: SpaceRow | undefined = await findSpace(trx, space.id);
        if (!current?.legacy) throw fail('space_adopted', 'This space has its signed history already; reload it.');
        const changes: Parameters<typeof updateSpace>[2] = { legacy: 0, wrapped_for_client: body.wrappedForClient ?? null, sealed_for_escrow: sealedForEscrow };
        // A fresh seal is to the key the browser names, which must be the current one (issue 21).
        if (body.sealedForEscrow !== undefined) changes.escrow_fingerprint = await currentEscrowFingerprint(trx, body.escrowFingerprint);
        await updateSpace(trx, space.id, changes);
        await appendEntry(trx, checked, now);
        const details: Record<string, string> = { kind: space.kind };
        if (body.sealedForEscrow !== undefined) details.replacedEscrowSeal = await recordDigest(current.sealed_for_escrow);
        await recordAuditEvent(trx, { action: 'space.adopted', actorId: actor.userId, targetType: 'space', targetId: space.id, ip: actor.ip, details });
      });
      return summaryOf(actor, space.id);
    },

    /** Entries after `after` (omitted: from entry 0), in order, at most `limit` (and MAX_HISTORY_PAGE). */
    async getHistory(actor: Actor, spaceId: string, query: { after?: number | undefined; limit?: number | undefined }): Promise<HistoryPage> {
      await requireSpace(db, actor, spaceId);
      const limit = Math.min(query.limit ?? MAX_HISTORY_PAGE, MAX_HISTORY_PAGE);
      const rows = await listSpaceEntries(db, spaceId, query.after ?? -1, limit + 1);
      return {
        entries: rows.slice(0, limit).map((row) => ({ payload: row.payload, signature: row.signature })),
        more: rows.length > limit,
      };
    },
  };
}

export type SpacesService = ReturnType<typeof createSpacesService>;
