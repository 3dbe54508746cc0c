// One's own second factors (set-up of TOTP and e-mail codes, names, removal, backup codes) and managers' view and removal by role hierarchy.
import type { SecondFactor, TrustedDevice } from '../../../shared/api';
import { newTotpSecret, openTotpSecret, sealTotpSecret, matchingTotpSteps, newBackupCodes, totpUri } from '../../auth/factor-keys';
import type { SecondFactorRow, TrustedDeviceRow, UserRow } from '../../db/database';
import { fail } from '../../errors';
import { newId } from '../../lib/ids';
import { findUserById } from '../../repositories/accounts.repository';
import {
  countUnusedBackupCodes,
  deleteSecondFactorRow,
  findBackupCodesCreatedAt,
  findSecondFactor,
  insertSecondFactor,
  listSecondFactorRows,
  listSecondFactorsOfKind,
  renameSecondFactorRow,
  replaceBackupCodes,
} from '../../repositories/second-factors.repository';
import { listLiveTrustedDevices } from '../../repositories/trusted-devices.repository';
import { type AccountDeps, type Actor, assertRecentAuth, requireOrganisation, throttle } from '../account-deps';
import { notifyAdministrators } from '../admin-notices';
import { recordAuditEvent } from '../audit.service';
import { assertMayManage } from '../authorization';
import { notifyQuietly } from '../notifications';
import { type CodeFactors, EMAIL_CODE_MAX_TRIES, createCodeFactors } from './verifiers';
import { toSecondFactor } from './passkeys';

/** A set-up waits this long for its first code (the e-mail code lives as long). */
export const FACTOR_SETUP_TTL_MS = 10 * 60_000;
/** Wrong first codes a set-up survives; the next one voids it (start again). */
export const SETUP_MAX_TRIES = EMAIL_CODE_MAX_TRIES;
/** New set-ups per person per fixed 15-minute window (each makes a secret or sends a mail). */
const SETUP_START_LIMIT = { max: 10, windowMs: 15 * 60_000 } as const;
/** First-code attempts per person per fixed 5-minute window, across set-ups. */
const SETUP_CONFIRM_LIMIT = { max: 20, windowMs: 5 * 60_000 } as const;
const TOO_MANY = 'Too many attempts to set up a second factor. Wait a few minutes and try again.';

/** 'totp-setup' entries: the new secret, already sealed for the factor row it will become. */
interface TotpSetup {
  readonly userId: string;
  readonly factorId: string;
  readonly sealedSecret: string;
  readonly tries: number;
  readonly expiresAt: number;
}

/** 'email-setup' entries: whose set-up it is (the code itself is an 'email-code' entry, purpose 'setup'). */
interface EmailSetup {
  readonly userId: string;
  readonly tries: number;
  readonly expiresAt: number;
}

function deviceView(row: TrustedDeviceRow): TrustedDevice {
  return { id: row.id, createdAt: row.created_at, expiresAt: row.expires_at, lastUsedAt: row.last_used_at, userAgent: row.user_agent, ip: row.ip, current: false };
}

export function createSecondFactorsService(deps: AccountDeps, codes: CodeFactors = createCodeFactors(deps)) {
  const { db, logger } = deps;
  const totpKey = () => deps.opaque.secretKey('totp-secrets');

  async function currentUser(actor: Actor): Promise<UserRow> {
    const user = await findUserById(db, actor.userId);
    if (!user) throw fail('unauthenticated', 'Sign in first.');
    return user;
  }

  /** A managed person (not oneself: one's own factors have their own endpoints). */
  async function managedPerson(actor: Actor, userId: string): Promise<UserRow> {
    const target = await findUserById(db, userId);
    if (!target) throw fail('not_found', 'There is no such person.');
    if (target.id === actor.userId) throw fail('forbidden', 'Manage your own second factors under Account.');
    assertMayManage(actor.role, target.role);
    return target;
  }

  /** Stores a confirmed factor and audits it, in one transaction. */
  async function addFactor(actor: Actor, row: SecondFactorRow): Promise<SecondFactor> {
    await db.transaction().execute(async (trx) => {
      // WARNING: one e-mail factor per person, checked in the transaction that inserts (two parallel confirmations).
      if (row.kind === 'email' && (await listSecondFactorsOfKind(trx, row.user_id, 'email')).length > 0) {
        throw fail('conflict', 'E-mail codes are set up already.');
      }
      await insertSecondFactor(trx, row);
      await recordAuditEvent(trx, { action: 'second_factor.added', actorId: actor.userId, targetType: 'user', targetId: row.user_id, ip: actor.ip, details: { kind: row.kind, factorId: row.id } });
    });
    return toSecondFactor(row);
  }

  return {
    async listOwn(actor: Actor) {
      const [rows, backupCodesLeft, backupCodesCreatedAt] = await Promise.all([
        listSecondFactorRows(db, actor.userId),
        countUnusedBackupCodes(db, actor.userId),
        findBackupCodesCreatedAt(db, actor.userId),
      ]);
      return { factors: rows.map(toSecondFactor), backupCodesLeft, backupCodesCreatedAt };
    },

    /**
     * Begins adding an authenticator app: a fresh 160-bit secret, shown once (base32 and otpauth://
     * URI, issuer "Kluis", labelled with the organisation and the address) and kept sealed for 10 minutes.
     */
    async startTotpSetup(actor: Actor) {
      const now = deps.now();
      assertRecentAuth(actor, now);
      await throttle(deps, `factor-setup:${actor.userId}`, SETUP_START_LIMIT, TOO_MANY);
      const user = await currentUser(actor);
      const { organisation } = await requireOrganisation(db);
      const setupId = newId();
      const factorId = newId();
      const secret = newTotpSecret();
      const expiresAt = now.getTime() + FACTOR_SETUP_TTL_MS;
      const setup: TotpSetup = { userId: actor.userId, factorId, sealedSecret: sealTotpSecret(totpKey(), secret.bytes, actor.userId, factorId), tries: 0, expiresAt };
      await deps.store.putEntry('totp-setup', setupId, setup, expiresAt);
      return { setupId, secret: secret.base32, uri: totpUri(secret.bytes, 'Kluis', `${organisation.name} (${user.email})`) };
    },

    /** Finishes adding an authenticator app with its first code; that code's time step counts as used. */
    async confirmTotpSetup(actor: Actor, input: { setupId: string; code: string; name: string }): Promise<SecondFactor> {
      const now = deps.now();
      assertRecentAuth(actor, now);
      await throttle(deps, `factor-confirm:${actor.userId}`, SETUP_CONFIRM_LIMIT, TOO_MANY);
      const setup = await deps.store.getEntry<TotpSetup>('totp-setup', input.setupId, now.getTime());
      if (!setup || setup.userId !== actor.userId) throw fail('factor_setup_expired', 'This set-up is not valid any more. Start again.');
      const secret = openTotpSecret(totpKey(), setup.sealedSecret, setup.userId, setup.factorId);
      const step = matchingTotpSteps(secret, input.code, now).at(-1);
      // WARNING: whoever takes the entry owns the set-up: a parallel confirmation cannot add the factor twice.
      const taken = await deps.store.takeEntry<TotpSetup>('totp-setup', input.setupId, now.getTime());
      if (!taken || taken.factorId !== setup.factorId) throw fail('factor_setup_expired', 'This set-up is not valid any more. Start again.');
      if (step === undefined) {
        const tries = taken.tries + 1;
        if (tries < SETUP_MAX_TRIES) await deps.store.putEntry<TotpSetup>('totp-setup', input.setupId, { ...taken, tries }, taken.expiresAt);
        throw fail('second_factor_invalid', 'This code is not right. Check the time on your phone and enter the code your app shows now.');
      }
      return addFactor(actor, {
        id: setup.factorId,
        user_id: actor.userId,
        kind: 'totp',
        name: input.name,
        created_at: now.toISOString(),
        last_used_at: now.toISOString(),
        totp_secret: setup.sealedSecret,
        totp_last_step: step,
        credential_id: null,
        public_key: null,
        sign_count: null,
        transports: null,
        prf_wrapped_user_key: null,
      });
    },

    /** Begins adding e-mail codes: a first code goes to one's own address (one e-mail factor per person). */
    async startEmailSetup(actor: Actor) {
      const now = deps.now();
      assertRecentAuth(actor, now);
      if ((await listSecondFactorsOfKind(db, actor.userId, 'email')).length > 0) throw fail('conflict', 'E-mail codes are set up already.');
      await throttle(deps, `factor-setup:${actor.userId}`, SETUP_START_LIMIT, TOO_MANY);
      const user = await currentUser(actor);
      const setupId = newId();
      const expiresAt = now.getTime() + FACTOR_SETUP_TTL_MS;
      await deps.store.putEntry<EmailSetup>('email-setup', setupId, { userId: actor.userId, tries: 0, expiresAt }, expiresAt);
      await codes.sendEmailCode(user, 'setup');
      return { setupId };
    },

    /** Finishes adding e-mail codes with the code that was sent. */
    async confirmEmailSetup(actor: Actor, input: { setupId: string; code: string }): Promise<SecondFactor> {
      const now = deps.now();
      assertRecentAuth(actor, now);
      await throttle(deps, `factor-confirm:${actor.userId}`, SETUP_CONFIRM_LIMIT, TOO_MANY);
      const setup = await deps.store.getEntry<EmailSetup>('email-setup', input.setupId, now.getTime());
      if (!setup || setup.userId !== actor.userId) throw fail('factor_setup_expired', 'This set-up is not valid any more. Start again.');
      const check = await codes.checkEmailCode(actor.userId, 'setup', input.code);
      if (!check.ok) {
        const tries = setup.tries + 1;
        // The code is void after as many wrong tries: so is its set-up.
        if (tries < SETUP_MAX_TRIES) await deps.store.putEntry<EmailSetup>('email-setup', input.setupId, { ...setup, tries }, setup.expiresAt);
        else await deps.store.deleteEntry('email-setup', input.setupId);
        throw fail('second_factor_invalid', 'This code is not right. Enter the six digits from the latest e-mail.');
      }
      // The code passed once only (checkEmailCode): the set-up goes with it.
      await deps.store.deleteEntry('email-setup', input.setupId);
      return addFactor(actor, {
        id: newId(),
        user_id: actor.userId,
        kind: 'email',
        name: 'E-mail',
        created_at: now.toISOString(),
        last_used_at: now.toISOString(),
        totp_secret: null,
        totp_last_step: null,
        credential_id: null,
        public_key: null,
        sign_count: null,
        transports: null,
        prf_wrapped_user_key: null,
      });
    },

    async rename(actor: Actor, id: string, name: string): Promise<SecondFactor> {
      return db.transaction().execute(async (trx) => {
        if (!(await renameSecondFactorRow(trx, actor.userId, id, name))) throw fail('not_found', 'You have no such second factor.');
        const row = await findSecondFactor(trx, actor.userId, id);
        if (!row) throw fail('not_found', 'You have no such second factor.');
        await recordAuditEvent(trx, { action: 'second_factor.renamed', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { kind: row.kind, factorId: id } });
        return toSecondFactor(row);
      });
    },

    /** Removes one of one's own factors (recent login); a passkey's unlock wrapping is in its row and goes with it. */
    async remove(actor: Actor, id: string): Promise<void> {
      assertRecentAuth(actor, deps.now());
      await db.transaction().execute(async (trx) => {
        const row = await findSecondFactor(trx, actor.userId, id);
        if (!row || !(await deleteSecondFactorRow(trx, actor.userId, id))) throw fail('not_found', 'You have no such second factor.');
        await recordAuditEvent(trx, { action: 'second_factor.removed', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { kind: row.kind, factorId: id, by: 'self' } });
      });
    },

    /** Ten new backup codes, shown once; the previous set stops working (recent login). */
    async createBackupCodes(actor: Actor) {
      const now = deps.now();
      assertRecentAuth(actor, now);
      const fresh = newBackupCodes();
      const createdAt = now.toISOString();
      await db.transaction().execute(async (trx) => {
        await replaceBackupCodes(trx, actor.userId, fresh.map((code) => codes.hashBackupCode(code)), createdAt);
        await recordAuditEvent(trx, { action: 'second_factor.backup_codes_created', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { count: fresh.length } });
      });
      return { codes: fresh, createdAt };
    },

    /** A managed person's factors (no secrets), unused backup codes and trusted browsers. */
    async getUserSecurity(actor: Actor, userId: string) {
      const target = await managedPerson(actor, userId);
      const [rows, backupCodesLeft, devices] = await Promise.all([
        listSecondFactorRows(db, target.id),
        countUnusedBackupCodes(db, target.id),
        listLiveTrustedDevices(db, target.id, deps.now().toISOString()),
      ]);
      return { factors: rows.map(toSecondFactor), backupCodesLeft, devices: devices.map(deviceView) };
    },

    /** Removes a managed person's factor (role hierarchy, never one's own, recent login) and tells them by e-mail. */
    async removeUserFactor(actor: Actor, userId: string, factorId: string): Promise<void> {
      const target = await managedPerson(actor, userId);
      const now = deps.now();
      assertRecentAuth(actor, now);
      const kind = await db.transaction().execute(async (trx) => {
        const row = await findSecondFactor(trx, target.id, factorId);
        if (!row || !(await deleteSecondFactorRow(trx, target.id, factorId))) throw fail('not_found', 'This person has no such second factor.');
        await recordAuditEvent(trx, { action: 'second_factor.removed', actorId: actor.userId, targetType: 'user', targetId: target.id, ip: actor.ip, details: { kind: row.kind, factorId, by: 'manager' } });
        return row.kind;
      });
      const { organisation } = await requireOrganisation(db);
      await notifyQuietly(deps.notifier, logger, target.email, target.language, { kind: 'second_factor_removed', organisationName: organisation.name, factor: kind, at: now.toISOString() });
      await notifyAdministrators(deps, 'second_factor_removed', actor, target.id);
    },
  };
}

export type SecondFactorsService = ReturnType<typeof createSecondFactorsService>;
