// Spaces: the client's own portal and the team space, created with their sealed keys, listed per viewer.
import type { CreateSpaceBody, Space } from '../../shared/api';
import type { Db } from '../db/database';
import { fail } from '../errors';
import { findSpace, findSpaceOf, insertSpace, listSpaceSummaries, type SpaceSummaryRow } from '../repositories/spaces.repository';
import { requireOrganisation, type Actor } from './account-deps';
import { recordAuditEvent } from './audit.service';
import { isStaff, requireSpace, spaceListFilter } from './space-access';

export interface SpacesDeps {
  readonly db: Db;
  readonly now: () => Date;
}

/** WARNING: each viewer gets only the copy of the space key sealed for them (client: own key; staff: escrow). */
function spaceView(actor: Actor, row: SpaceSummaryRow): Space {
  return {
    id: row.id,
    kind: row.kind,
    clientId: row.client_id,
    createdAt: row.created_at,
    sealedKey: isStaff(actor) ? row.sealed_for_escrow : (row.sealed_for_client ?? ''),
    documentCount: row.document_count,
    storedBytes: row.stored_bytes,
    unreadMessages: row.unread_messages,
    openRequestItems: row.open_request_items,
    lastActivityAt: row.last_activity_at,
  };
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
      const { organisation } = await requireOrganisation(db);
      return { spaces: rows.map((row) => spaceView(actor, row)), escrowPublicKey: organisation.escrow_public_key };
    },

    async getSpace(actor: Actor, spaceId: string): Promise<Space> {
      await requireSpace(db, actor, spaceId);
      return summaryOf(actor, spaceId);
    },

    /**
     * A client creates their own client space (sealed to themselves and to escrow); staff create
     * the team space (sealed to escrow only). One of each: a second answers `space_exists`.
     */
    async createSpace(actor: Actor, body: CreateSpaceBody): Promise<Space> {
      if (actor.role === 'client') {
        if (body.kind !== 'client') throw fail('forbidden', 'Clients can only create their own client space.');
        if (body.sealedForClient === undefined) {
          throw fail('validation_failed', 'A client space needs the space key sealed to your own public key.', {
            issues: [{ path: 'body.sealedForClient', message: 'required for a client space' }],
          });
        }
      } else if (isStaff(actor)) {
        if (body.kind !== 'team') throw fail('forbidden', 'A client space is created by its client at their first sign-in; staff create only the team space.');
        if (body.sealedForClient !== undefined) {
          throw fail('validation_failed', 'The team space key is sealed to the escrow key only.', {
            issues: [{ path: 'body.sealedForClient', message: 'not allowed for the team space' }],
          });
        }
      } else {
        throw fail('forbidden', 'Your role does not allow this.');
      }
      const now = deps.now().toISOString();
      const clientId = body.kind === 'client' ? actor.userId : null;
      await db.transaction().execute(async (trx) => {
        if (await findSpaceOf(trx, clientId)) {
          throw fail('space_exists', clientId ? 'You have a space already.' : 'The team space exists already.');
        }
        if (await findSpace(trx, body.id)) throw fail('id_taken', 'This id is in use; make a new one.');
        await insertSpace(trx, {
          id: body.id,
          kind: body.kind,
          client_id: clientId,
          sealed_for_client: body.sealedForClient ?? null,
          sealed_for_escrow: body.sealedForEscrow,
          created_by: actor.userId,
          created_at: now,
          last_activity_at: now,
        });
        await recordAuditEvent(trx, { action: 'space.created', actorId: actor.userId, targetType: 'space', targetId: body.id, ip: actor.ip, details: { kind: body.kind } });
      });
      return summaryOf(actor, body.id);
    },
  };
}

export type SpacesService = ReturnType<typeof createSpacesService>;
