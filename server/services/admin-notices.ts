// Administrator notifications (issue 21): every change to security settings, roles, escrow holders,
// a reset, a deactivation or a deletion is e-mailed to every active Administrator, so that a
// hijacked Administrator account cannot quietly weaken the portal.
import type { AdminSecurityEvent } from '../mail/templates';
import { findUserById, listUsersByRoles } from '../repositories/accounts.repository';
import type { AccountDeps, Actor } from './account-deps';
import { requireOrganisation } from './account-deps';
import { notifyQuietly } from './notifications';

/**
 * E-mails every active Administrator (the actor included: a hijacked account's owner learns of it
 * too) who did what, when, and from which address. Call it AFTER the change committed; delivery
 * problems are logged, never undo the change. Returns how many Administrators were told.
 */
export async function notifyAdministrators(
  deps: Pick<AccountDeps, 'db' | 'notifier' | 'logger' | 'now'>,
  event: AdminSecurityEvent,
  actor: Pick<Actor, 'userId' | 'ip'>,
  targetUserId: string | null = null,
): Promise<number> {
  const { organisation } = await requireOrganisation(deps.db);
  const [admins, actorRow, target] = await Promise.all([
    listUsersByRoles(deps.db, ['admin']),
    findUserById(deps.db, actor.userId),
    targetUserId ? findUserById(deps.db, targetUserId) : Promise.resolve(undefined),
  ]);
  const at = deps.now().toISOString();
  let told = 0;
  for (const admin of admins) {
    if (admin.status !== 'active') continue;
    const sent = await notifyQuietly(deps.notifier, deps.logger, admin.email, admin.language, {
      kind: 'admin_security_event',
      organisationName: organisation.name,
      event,
      actorEmail: actorRow?.email ?? actor.userId,
      targetEmail: target?.email ?? null,
      ip: actor.ip,
      at,
    });
    if (sent) told += 1;
  }
  return told;
}
