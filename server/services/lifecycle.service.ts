// The account life-cycle (issue 21): role changes, deactivation, deletion, restore and the scheduled purge (crypto-shredding).
import type { Role, SignedPayload } from '../../shared/api';
import type { BlobStore } from '../blobs/blob-store';
import type { Trx, UserRow } from '../db/database';
import { fail } from '../errors';
import { newId } from '../lib/ids';
import type { AdminSecurityEvent } from '../mail/templates';
import { findUserById } from '../repositories/accounts.repository';
import { insertCertificate } from '../repositories/directory.repository';
import {
  cancelOpenResetsOf,
  changeUserStatus,
  countOtherActiveAdmins,
  countOtherActiveHolders,
  findUserStanding,
  holdsEscrowGrant,
  listAccountsDueForPurge,
  listBlobsToShred,
  revokeEscrowGrant,
  restoreDeletedUser,
  shredAccount,
  swapUserRole,
} from '../repositories/lifecycle.repository';
import { revokeUserSessions } from '../repositories/sessions.repository';
import { revokeAllTrustedDevices } from '../repositories/trusted-devices.repository';
import type { AccountDeps, Actor } from './account-deps';
import { PURGE_AFTER_MS, assertRecentAuth, plusMs } from './account-deps';
import { notifyAdministrators } from './admin-notices';
import { recordAuditEvent } from './audit.service';
import { assertMayManageLifecycle, isAllowedRoleChange, isStaffPower, mayHoldEscrow } from './authorization';
import { checkCertificate } from './key-checks';

type RevocationReason = 'demoted' | 'deactivated' | 'deleted';

export function createLifecycleService(deps: AccountDeps & { readonly blobs: BlobStore }) {
  const { db, logger, blobs } = deps;

  /** The target, after the checks every life-cycle action shares: exists, not oneself, hierarchy. */
  async function managedTarget(actor: Actor, userId: string): Promise<UserRow> {
    const target = await findUserById(db, userId);
    if (!target || target.status === 'purged') throw fail('not_found', 'There is no such person.');
    // Before the hierarchy: "deleting oneself" gets its own answer whatever one's role.
    if (target.id === actor.userId) throw fail('cannot_change_self', 'You cannot do this to your own account. Ask another Administrator.');
    assertMayManageLifecycle(actor.role, target.role);
    return target;
  }

  /**
   * WARNING: the organisation must keep an active Administrator and an escrow holder. Checked inside
   * the transaction that removes them (SQLite serialises writers), so two Administrators
   * deactivating each other at once cannot both succeed.
   */
  async function assertNotLast(trx: Trx, target: UserRow, losesAdmin: boolean, losesGrant: boolean): Promise<void> {
    if (losesAdmin && target.role === 'admin' && target.status === 'active' && (await countOtherActiveAdmins(trx, target.id)) === 0) {
      throw fail('last_administrator', 'This is the last active Administrator. Make someone else Administrator first.');
    }
    if (losesGrant && mayHoldEscrow(target.role)) {
      if ((await holdsEscrowGrant(trx, target.id)) && (await countOtherActiveHolders(trx, target.id)) === 0) {
        throw fail('last_escrow_holder', 'This person is the last holder of the organisation key. Grant it to someone else first.');
      }
    }
  }

  /** The acting account must still be an active Administrator or Team Member (it may have been removed a moment ago). */
  async function assertActorActive(trx: Trx, actor: Actor): Promise<void> {
    const row = await findUserStanding(trx, actor.userId);
    if (!row || row.status !== 'active' || row.role !== actor.role) throw fail('forbidden', 'Your account can no longer do this.');
  }

  /** Removes the grant (if any), audits `escrow.grant_revoked`. Returns whether one was removed. */
  async function revokeGrant(trx: Trx, actor: Actor, target: UserRow, reason: RevocationReason, at: string): Promise<boolean> {
    const revoked = await revokeEscrowGrant(trx, { id: newId(), userId: target.id, at, by: actor.userId, reason });
    if (revoked) {
      await recordAuditEvent(trx, { action: 'escrow.grant_revoked', actorId: actor.userId, targetType: 'user', targetId: target.id, ip: actor.ip, details: { reason } });
    }
    return revoked;
  }

  /** Ends every way in: sessions, trusted devices, open reset links. Counts for the audit event. */
  async function closeAccess(trx: Trx, actor: Actor, userId: string, at: string) {
    const sessions = await revokeUserSessions(trx, userId, at);
    const trustedDevices = await revokeAllTrustedDevices(trx, userId, at);
    const resets = await cancelOpenResetsOf(trx, userId, at, actor.userId);
    return { sessions, trustedDevices, resetsCancelled: resets };
  }

  async function notify(actor: Actor, targetId: string, events: readonly AdminSecurityEvent[]): Promise<void> {
    for (const event of events) await notifyAdministrators(deps, event, actor, targetId);
  }

  /** Deactivation and deletion share everything but the new status. */
  async function remove(actor: Actor, userId: string, how: 'deactivate' | 'delete'): Promise<UserRow> {
    const target = await managedTarget(actor, userId);
    const now = deps.now();
    // Taking power away from staff or an auditor needs a recent login (a client's account does not).
    if (isStaffPower(target.role)) assertRecentAuth(actor, now);
    const from = how === 'deactivate' ? (['active'] as const) : (['active', 'deactivated'] as const);
    if (!from.some((s) => s === target.status)) {
      throw fail('account_state', how === 'deactivate' ? 'This account is not active.' : 'This account is deleted already.');
    }
    const at = now.toISOString();
    const reason: RevocationReason = how === 'deactivate' ? 'deactivated' : 'deleted';
    const revoked = await db.transaction().execute(async (trx) => {
      // The last-one checks first: of two Administrators removing each other, the loser is told why.
      await assertNotLast(trx, target, true, true);
      await assertActorActive(trx, actor);
      if (!(await changeUserStatus(trx, target.id, from, how === 'deactivate' ? 'deactivated' : 'deleted', at, actor.userId))) {
        throw fail('account_state', 'This account changed meanwhile. Reload and try again.');
      }
      const closed = await closeAccess(trx, actor, target.id, at);
      const grantRevoked = await revokeGrant(trx, actor, target, reason, at);
      await recordAuditEvent(trx, {
        action: how === 'deactivate' ? 'user.deactivated' : 'user.deleted',
        actorId: actor.userId,
        targetType: 'user',
        targetId: target.id,
        ip: actor.ip,
        details: { role: target.role, ...closed, grantRevoked, ...(how === 'delete' ? { purgeAfter: plusMs(now, PURGE_AFTER_MS) } : {}) },
      });
      return grantRevoked;
    });
    await notify(actor, target.id, [how === 'deactivate' ? 'account_deactivated' : 'account_deleted', ...(revoked ? (['escrow_revoked'] as const) : [])]);
    return target;
  }

  return {
    /**
     * Promotes a Team Member to Administrator or demotes an Administrator to Team Member, with the
     * certificate the caller's browser signed for the new role. A demotion ends the person's
     * sessions and removes their escrow grant (they may be granted it again later).
     */
    async changeRole(actor: Actor, userId: string, input: { role: Role; certificate: SignedPayload }): Promise<void> {
      const target = await findUserById(db, userId);
      if (!target || target.status === 'purged') throw fail('not_found', 'There is no such person.');
      if (target.id === actor.userId) throw fail('cannot_change_self', 'You cannot change your own role. Ask another Administrator.');
      if (actor.role !== 'admin') throw fail('forbidden', 'Only Administrators change roles.');
      const now = deps.now();
      assertRecentAuth(actor, now);
      if (!isAllowedRoleChange(target.role, input.role)) {
        throw fail('role_change_not_allowed', 'Roles change only between Administrator and Team Member. Invite clients and auditors under their own account.');
      }
      if (target.status !== 'active' && target.status !== 'deactivated') throw fail('account_state', 'A deleted account keeps its role. Restore it first.');
      const issuer = await findUserById(db, actor.userId);
      if (!target.signing_public_key) throw fail('certificate_invalid', 'This person has no signing key yet: they must sign in once first.');
      if (!issuer?.signing_public_key) throw fail('certificate_invalid', 'Your account has no signing key yet. Sign in again first.');
      const cert = await checkCertificate(
        input.certificate,
        { userId: target.id, email: target.email, publicKey: target.public_key, signingPublicKey: target.signing_public_key },
        { userId: issuer.id, signingPublicKey: issuer.signing_public_key },
        'certificate_invalid',
      );
      // WARNING: browsers take the role from the newest valid certificate, not from the server's column.
      if (cert.role !== input.role) throw fail('certificate_invalid', 'The certificate states another role than the new one.');
      if (cert.basis === 'root') throw fail('certificate_invalid', 'Only the founding Administrator has a root certificate.');
      const demotion = input.role === 'team';
      const at = now.toISOString();
      const { revoked } = await db.transaction().execute(async (trx) => {
        await assertNotLast(trx, target, demotion, demotion);
        await assertActorActive(trx, actor);
        if (!(await swapUserRole(trx, target.id, target.role, input.role))) throw fail('account_state', 'This person\'s role changed meanwhile. Reload and try again.');
        const certificateId = newId();
        await insertCertificate(trx, { id: certificateId, user_id: target.id, issuer_id: actor.userId, payload: input.certificate.payload, signature: input.certificate.signature, created_at: at });
        const sessions = demotion ? await revokeUserSessions(trx, target.id, at) : 0;
        const grantRevoked = demotion ? await revokeGrant(trx, actor, target, 'demoted', at) : false;
        await recordAuditEvent(trx, {
          action: 'user.role_changed',
          actorId: actor.userId,
          targetType: 'user',
          targetId: target.id,
          ip: actor.ip,
          details: { from: target.role, to: input.role, certificate: certificateId, sessions, grantRevoked },
        });
        return { revoked: grantRevoked };
      });
      await notify(actor, target.id, ['role_changed', ...(revoked ? (['escrow_revoked'] as const) : [])]);
    },

    /** Stops sign-in and ends every session, trusted device and open reset; staff lose their escrow grant. */
    async deactivateUser(actor: Actor, userId: string): Promise<void> {
      await remove(actor, userId, 'deactivate');
    },

    /** A deactivated account may sign in again. An escrow grant is NOT given back (grant it anew). */
    async reactivateUser(actor: Actor, userId: string): Promise<void> {
      const target = await managedTarget(actor, userId);
      const now = deps.now();
      // Restoring staff power needs a recent login, as lifting a staff lockout does.
      if (isStaffPower(target.role)) assertRecentAuth(actor, now);
      if (target.status !== 'deactivated') throw fail('account_state', 'Only a deactivated account can be reactivated.');
      await db.transaction().execute(async (trx) => {
        await assertActorActive(trx, actor);
        if (!(await changeUserStatus(trx, target.id, ['deactivated'], 'active', now.toISOString(), actor.userId))) {
          throw fail('account_state', 'This account changed meanwhile. Reload and try again.');
        }
        await recordAuditEvent(trx, { action: 'user.reactivated', actorId: actor.userId, targetType: 'user', targetId: target.id, ip: actor.ip, details: { role: target.role } });
      });
      await notify(actor, target.id, ['account_reactivated']);
    },

    /** Deletes an account: kept 30 days (restorable by an Administrator), then purged by the sweep. */
    async deleteUser(actor: Actor, userId: string): Promise<{ purgeAfter: string }> {
      await remove(actor, userId, 'delete');
      const row = await findUserById(db, userId);
      return { purgeAfter: plusMs(new Date(row?.status_changed_at ?? deps.now().toISOString()), PURGE_AFTER_MS) };
    },

    /** Undoes a deletion within its 30 days; the account comes back deactivated (reactivate it to let them in). */
    async restoreUser(actor: Actor, userId: string): Promise<void> {
      const target = await findUserById(db, userId);
      if (!target) throw fail('not_found', 'There is no such person.');
      if (target.id === actor.userId) throw fail('cannot_change_self', 'You cannot do this to your own account.');
      assertMayManageLifecycle(actor.role, target.role);
      const now = deps.now();
      if (target.status === 'purged') throw fail('account_purged', 'This account\'s keys were destroyed after 30 days. It cannot be restored.');
      if (target.status !== 'deleted') throw fail('account_state', 'Only a deleted account can be restored.');
      // WARNING: past its 30 days an account is due for purge even if the sweep has not run yet.
      const deadline = plusMs(new Date(target.status_changed_at ?? 0), PURGE_AFTER_MS);
      if (deadline <= now.toISOString()) throw fail('account_purged', 'This account was deleted more than 30 days ago. It cannot be restored.');
      await db.transaction().execute(async (trx) => {
        await assertActorActive(trx, actor);
        if (!(await restoreDeletedUser(trx, target.id, target.status_changed_at, now.toISOString(), actor.userId))) {
          throw fail('account_state', 'This account changed meanwhile. Reload and try again.');
        }
        await recordAuditEvent(trx, { action: 'user.restored', actorId: actor.userId, targetType: 'user', targetId: target.id, ip: actor.ip, details: { role: target.role } });
      });
      await notify(actor, target.id, ['account_restored']);
    },

    /**
     * The scheduled purge (index.ts, with the lock sweep): every account deleted 30 days ago or more
     * loses its key material for good (crypto-shredding) and, for a client, the blobs of its space.
     * Blob files go first (deleting a missing blob is no error), so a crash before the commit only
     * means the next sweep does it again; blobs added meanwhile are deleted after the commit.
     * Returns the ids purged.
     */
    async purgeDueAccounts(): Promise<string[]> {
      const now = deps.now();
      const due = await listAccountsDueForPurge(db, new Date(now.getTime() - PURGE_AFTER_MS).toISOString());
      const purged: string[] = [];
      for (const account of due) {
        try {
          const before = await listBlobsToShred(db, account.id);
          for (const blobId of before) await blobs.delete(blobId);
          const outcome = await db.transaction().execute(async (trx) => {
            // Restored meanwhile (it cannot be past the deadline, but the row is the truth): leave it.
            if (!(await changeUserStatus(trx, account.id, ['deleted'], 'purged', now.toISOString(), null))) return null;
            const counts = await shredAccount(trx, account.id);
            const blobIds = await listBlobsToShred(trx, account.id);
            await recordAuditEvent(trx, {
              action: 'user.purged',
              actorId: null,
              targetType: 'user',
              targetId: account.id,
              details: { role: account.role, deletedBy: account.status_changed_by, ...counts, blobs: blobIds.length },
            });
            return blobIds;
          });
          if (!outcome) continue;
          for (const blobId of outcome) if (!before.includes(blobId)) await blobs.delete(blobId);
          purged.push(account.id);
          // Who deleted it is named as the actor: the purge is the delayed end of their action.
          if (account.status_changed_by) await notifyAdministrators(deps, 'account_purged', { userId: account.status_changed_by, ip: null }, account.id);
        } catch (error) {
          logger.error({ err: error, userId: account.id }, 'purging a deleted account failed; the next sweep tries again');
        }
      }
      return purged;
    },
  };
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
