// Who may use which space (the one place this rule lives), the lookups that apply it, and the space quota.
import { spaceUploadPurpose } from '../../shared/api';
import type { Db, SpaceRow, Trx } from '../db/database';
import { fail, type AppError } from '../errors';
import { findSpace, spaceBytesInUse } from '../repositories/spaces.repository';
import type { Actor } from './account-deps';

/**
 * WARNING: deny by default (SECURITY.md 4.4.2). A client uses only their own client space;
 * Administrators and Team Members use every space (they open its key through escrow); Auditors
 * and anything else use none.
 */
export function mayUseSpace(actor: Actor, space: SpaceRow): boolean {
  switch (actor.role) {
    case 'admin':
    case 'team':
      return true;
    case 'client':
      return space.kind === 'client' && space.client_id === actor.userId;
    default:
      return false;
  }
}

/** Staff may act on everything in a space they can use; clients only on what they made themselves (deletes). */
export function isStaff(actor: Actor): boolean {
  return actor.role === 'admin' || actor.role === 'team';
}

/** Which spaces a listing shows `actor`: all of them (staff), the client's own, or none. */
export function spaceListFilter(actor: Actor): { readonly onlyClientId?: string } | null {
  if (isStaff(actor)) return {};
  if (actor.role === 'client') return { onlyClientId: actor.userId };
  return null;
}

const spaceNotFound = () => fail('space_not_found', 'There is no such space.');

/** WARNING: a space the actor may not use answers exactly like an unknown id (no existence oracle). */
export async function requireSpace(db: Db | Trx, actor: Actor, spaceId: string): Promise<SpaceRow> {
  const space = await findSpace(db, spaceId);
  if (!space || !mayUseSpace(actor, space)) throw spaceNotFound();
  return space;
}

/**
 * `row` (found by id, or undefined) with its space, when the actor may use that space; otherwise
 * `notFound()`, exactly as for an unknown id. Also the check that an id belongs to `inSpace`.
 */
export async function requireInUsableSpace<T extends { readonly space_id: string }>(
  db: Db | Trx,
  actor: Actor,
  row: T | undefined,
  notFound: () => AppError,
  inSpace?: string,
): Promise<{ row: T; space: SpaceRow }> {
  if (!row || (inSpace !== undefined && row.space_id !== inSpace)) throw notFound();
  const space = await findSpace(db, row.space_id);
  if (!space || !mayUseSpace(actor, space)) throw notFound();
  return { row, space };
}

/** The space id of an upload purpose `space:<spaceId>`, or null for any other purpose. */
export function spaceIdOfPurpose(purpose: string): string | null {
  const match = /^space:([A-Za-z0-9_-]{22})$/.exec(purpose);
  return match?.[1] ?? null;
}

/**
 * Refuses `extraBytes` more in a space that would then hold more than `quotaBytes` (versions plus
 * uploads for it not yet filed). Call inside the transaction that adds them (BEGIN IMMEDIATE), so
 * two concurrent requests cannot both squeeze under the quota.
 */
export async function assertSpaceRoom(trx: Trx, spaceId: string, extraBytes: number, quotaBytes: number, now: string): Promise<void> {
  const used = await spaceBytesInUse(trx, spaceId, spaceUploadPurpose(spaceId), now);
  if (used + extraBytes > quotaBytes) {
    throw fail('space_quota_exceeded', `This space may hold at most ${quotaBytes} bytes (encrypted) and holds ${used}; this file does not fit. Deleted documents still count (their history is kept): ask the administrator to raise the quota.`);
  }
}
