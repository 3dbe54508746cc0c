// Escrow transparency (issue 21): a staff member's first access to a client's data through escrow is
// recorded once, audited, and e-mailed to the client, who sees it under Account.
import type { Logger } from 'pino';
import type { Db } from '../db/database';
import type { Config } from '../env';
import { newId } from '../lib/ids';
import { findEscrowGrant, findUserById } from '../repositories/accounts.repository';
import { insertFirstAccessOnce, listFirstAccessedBy } from '../repositories/escrow-uses.repository';
import { type Actor, requireOrganisation } from './account-deps';
import { recordAuditEvent } from './audit.service';
import { type Notifier, notifyQuietly } from './notifications';

export interface FirstAccessDeps {
  readonly db: Db;
  readonly config: Config;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly now: () => Date;
}

/**
 * Call when the server serves `actor` the escrow seal of these clients' spaces (the space key sealed
 * to the organisation escrow key). Only an escrow holder can open such a seal, so only a holder's
 * first serving counts: once per (client, staff member), enforced by a unique index, so two requests
 * at once record and e-mail it once. Failures are logged, never fail the request that served the seal.
 */
export async function recordFirstAccess(deps: FirstAccessDeps, actor: Actor, clientIds: readonly string[]): Promise<void> {
  if ((actor.role !== 'admin' && actor.role !== 'team') || clientIds.length === 0) return;
  try {
    const known = await listFirstAccessedBy(deps.db, actor.userId);
    const fresh = [...new Set(clientIds)].filter((id) => id !== actor.userId && !known.has(id));
    if (fresh.length === 0 || !(await findEscrowGrant(deps.db, actor.userId))) return;
    const at = deps.now().toISOString();
    const recorded = await deps.db.transaction().execute(async (trx) => {
      const inserted: string[] = [];
      for (const clientId of fresh) {
        if (!(await insertFirstAccessOnce(trx, { id: newId(), user_id: clientId, kind: 'first-access', actor_id: actor.userId, occurred_at: at, subject_id: null }))) continue;
        await recordAuditEvent(trx, { action: 'escrow.first_access', actorId: actor.userId, targetType: 'user', targetId: clientId, ip: actor.ip });
        inserted.push(clientId);
      }
      return inserted;
    });
    if (recorded.length === 0) return;
    const { organisation } = await requireOrganisation(deps.db);
    for (const clientId of recorded) {
      const client = await findUserById(deps.db, clientId);
      if (!client || client.status !== 'active') continue;
      await notifyQuietly(deps.notifier, deps.logger, client.email, client.language, {
        kind: 'escrow_used',
        organisationName: organisation.name,
        use: 'first-access',
        actorRole: actor.role,
        at,
        link: `${deps.config.publicOrigin}/account`,
      });
    }
  } catch (error) {
    deps.logger.error({ err: error }, 'recording a first access through escrow failed');
  }
}
