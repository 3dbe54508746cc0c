// Trusted devices (issue 20): browsers that skip the second factor for 30 days, and revoking them (SECURITY.md 5.1.1).
import type { TrustedDevice } from '../../shared/api';
import type { TrustedDeviceRow } from '../db/database';
import { fail } from '../errors';
import { hashToken, newId, newToken } from '../lib/ids';
import { findUserById } from '../repositories/accounts.repository';
import {
  findTrustedDeviceByHash,
  insertTrustedDevice,
  listLiveTrustedDevices,
  revokeAllTrustedDevices,
  revokeTrustedDevice,
  touchTrustedDevice,
} from '../repositories/trusted-devices.repository';
import { recordAuditEvent } from './audit.service';
import { type AccountDeps, type Actor, assertRecentAuth, plusMs, requireOrganisation } from './account-deps';
import { assertMayManage } from './authorization';
import { notifyQuietly } from './notifications';

/** How long "trust this browser" lasts. */
export const TRUSTED_DEVICE_TTL_MS = 30 * 24 * 3_600_000;
/** The browser's User-Agent is kept for the list only, cut to this length. */
const USER_AGENT_MAX = 200;

/** Why a presented trusted-device cookie did not count (told to the browser in the second-factor challenge). */
export type TrustedDeviceProblem = 'invalid' | 'expired' | 'revoked' | 'other_account';

export type TrustedDeviceCheck = { readonly ok: true; readonly deviceId: string } | { readonly ok: false; readonly problem: TrustedDeviceProblem };

const tokenFormat = /^[A-Za-z0-9_-]{43}$/;

function deviceView(row: TrustedDeviceRow, currentHash: string | null): TrustedDevice {
  return {
    id: row.id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    userAgent: row.user_agent,
    ip: row.ip,
    current: currentHash !== null && row.token_hash === currentHash,
  };
}

export function createTrustedDevicesService(deps: AccountDeps) {
  const { db, logger } = deps;

  return {
    /**
     * Whether the cookie token `token` lets `userId` skip the second factor now. WARNING: only the
     * SHA-256 of the token is stored, with the user it was issued to: a token cannot be made up
     * (256 random bits), read back from the database, or carried over to another account.
     */
    async check(token: string, userId: string): Promise<TrustedDeviceCheck> {
      if (!tokenFormat.test(token)) return { ok: false, problem: 'invalid' };
      const row = await findTrustedDeviceByHash(db, hashToken(token));
      if (!row) return { ok: false, problem: 'invalid' };
      // Another account's device says nothing about its state to this one.
      if (row.user_id !== userId) return { ok: false, problem: 'other_account' };
      if (row.revoked_at !== null) return { ok: false, problem: 'revoked' };
      if (row.expires_at <= deps.now().toISOString()) return { ok: false, problem: 'expired' };
      return { ok: true, deviceId: row.id };
    },

    /** Notes that a trusted device let its user in. */
    async touch(deviceId: string): Promise<void> {
      await touchTrustedDevice(db, deviceId, deps.now().toISOString());
    },

    /** Trusts the browser that just passed the second factor: a new cookie token (returned once, stored hashed). */
    async trust(userId: string, ip: string | null, userAgent: string | null): Promise<{ token: string; expiresAt: string }> {
      const now = deps.now();
      const token = newToken();
      const id = newId();
      const expiresAt = plusMs(now, TRUSTED_DEVICE_TTL_MS);
      await db.transaction().execute(async (trx) => {
        await insertTrustedDevice(trx, {
          id,
          user_id: userId,
          token_hash: hashToken(token),
          created_at: now.toISOString(),
          expires_at: expiresAt,
          last_used_at: null,
          user_agent: userAgent === null ? null : userAgent.slice(0, USER_AGENT_MAX),
          ip,
          revoked_at: null,
        });
        await recordAuditEvent(trx, { action: 'auth.trusted_device_added', actorId: userId, targetType: 'trusted_device', targetId: id, ip });
      });
      return { token, expiresAt };
    },

    /** One's own live trusted devices; `current` marks the one whose cookie this browser holds. */
    async list(actor: Actor, cookieToken: string | null): Promise<{ devices: TrustedDevice[] }> {
      const rows = await listLiveTrustedDevices(db, actor.userId, deps.now().toISOString());
      const currentHash = cookieToken !== null && tokenFormat.test(cookieToken) ? hashToken(cookieToken) : null;
      return { devices: rows.map((row) => deviceView(row, currentHash)) };
    },

    /** Stops trusting one of one's own browsers. */
    async revoke(actor: Actor, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if (!(await revokeTrustedDevice(trx, actor.userId, id, deps.now().toISOString()))) throw fail('not_found', 'There is no such trusted device.');
        await recordAuditEvent(trx, { action: 'auth.trusted_device_revoked', actorId: actor.userId, targetType: 'trusted_device', targetId: id, ip: actor.ip, details: { by: 'self' } });
      });
    },

    /**
     * A manager stops trusting every browser of someone they manage (role hierarchy, never oneself:
     * one's own devices are under Account; recent login). The person is e-mailed.
     */
    async revokeForUser(actor: Actor, userId: string): Promise<void> {
      const target = await findUserById(db, userId);
      if (!target) throw fail('not_found', 'There is no such person.');
      if (target.id === actor.userId) throw fail('forbidden', 'Manage your own trusted devices under Account.');
      assertMayManage(actor.role, target.role);
      const now = deps.now();
      assertRecentAuth(actor, now);
      const revoked = await db.transaction().execute(async (trx) => {
        const count = await revokeAllTrustedDevices(trx, userId, now.toISOString());
        await recordAuditEvent(trx, {
          action: 'auth.trusted_device_revoked',
          actorId: actor.userId,
          targetType: 'user',
          targetId: userId,
          ip: actor.ip,
          details: { by: 'manager', devices: count },
        });
        return count;
      });
      if (revoked === 0) return;
      const { organisation } = await requireOrganisation(db);
      await notifyQuietly(deps.notifier, logger, target.email, target.language, { kind: 'trusted_devices_revoked', organisationName: organisation.name, at: now.toISOString() });
    },
  };
}

export type TrustedDevicesService = ReturnType<typeof createTrustedDevicesService>;
