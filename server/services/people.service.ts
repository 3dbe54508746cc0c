// Invitations and sign-up, the people list and lockout lifting, password change, settings and escrow grants.
import { parseSigned } from '../../shared/flows/certificates';
import { holderStatementSchema } from '../../shared/flows/escrow-ledger';
import type { Language, OrganisationSettings, Role } from '../../shared/api';
import { fail } from '../errors';
import { hashToken, newId, newToken } from '../lib/ids';
import {
  findEscrowGrant,
  findUserByEmail,
  findUserById,
  insertUser,
  listEscrowGrantStatements,
  listSigningKeys,
  listUsersByRoles,
  updateEscrowGrant,
  updateOrganisation,
  updateUser,
  upsertEscrowGrant,
} from '../repositories/accounts.repository';
import {
  findInvitationById,
  findInvitationByTokenHash,
  findOpenInvitationForEmail,
  insertInvitation,
  listOpenInvitations,
  revokeInvitationRow,
  revokeUserSessions,
  useInvitation,
} from '../repositories/sessions.repository';
import { revokeAllTrustedDevices } from '../repositories/trusted-devices.repository';
import type { InvitationRow } from '../db/database';
import { listSecondFactorKindsByUser } from '../repositories/second-factors.repository';
import { listOpenResetsByUser } from '../repositories/resets.repository';
import { notifyAdministrators } from './admin-notices';
import { recordAuditEvent } from './audit.service';
import { type AccountDeps, type Actor, INVITATION_TTL_MS, PURGE_AFTER_MS, REGISTRATION_TTL_MS, assertRecentAuth, plusMs, requireOrganisation, takeRegistration, throttle } from './account-deps';
import type { FinishSignupBody, SettingsBody } from './account-types';
import { assertMayInvite, assertMayManage, isStaffPower, mayHoldEscrow, rolesInvitableBy, rolesManagedBy } from './authorization';
import { isIpAllowed, isValidCidr } from './ip-allowlist';
import { notifyQuietly } from './notifications';
import { assertRecord, checkNewAccountEscrowCopy, userKeyColumns } from './setup.service';

const PUBLIC_LIMIT = { max: 30, windowMs: 5 * 60_000 } as const;
/** The order People shows second-factor kinds in. */
const SECOND_FACTOR_KINDS = ['totp', 'email', 'passkey'] as const;

function invitationView(row: InvitationRow) {
  return { id: row.id, email: row.email, role: row.role, createdAt: row.created_at, expiresAt: row.expires_at, invitedBy: row.invited_by };
}

function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

export function createPeopleService(deps: AccountDeps) {
  const { db, opaque, logger } = deps;

  /** An invitation a token may still be used for, or the specific reason it may not. */
  async function openInvitation(token: string): Promise<InvitationRow> {
    const row = await findInvitationByTokenHash(db, hashToken(token));
    if (!row || row.revoked_at) throw fail('invitation_invalid', 'This invitation link is not valid. Ask for a new invitation.');
    if (row.used_at) throw fail('invitation_used', 'This invitation was used already. Sign in instead.');
    if (row.expires_at <= deps.now().toISOString()) throw fail('invitation_expired', 'This invitation has expired. Ask for a new one.');
    return row;
  }

  return {
    async createInvitation(actor: Actor, input: { id: string; email: string; role: Role; language: Language; fragment: string }) {
      assertMayInvite(actor.role, input.role);
      // Inviting staff or an auditor grants power: it needs a recent login (a client invitation does not).
      if (isStaffPower(input.role)) assertRecentAuth(actor, deps.now());
      const { organisation, settings } = await requireOrganisation(db);
      const domains = settings.invitationDomainAllowlist.map((d) => d.toLowerCase());
      if (domains.length > 0 && !domains.includes(domainOf(input.email))) {
        throw fail('email_domain_not_allowed', `Invitations can only go to addresses at ${domains.join(', ')}.`);
      }
      // The inviter's browser chose the id (the invitation binding key is derived from it): never reuse one.
      if (await findInvitationById(db, input.id)) throw fail('id_taken', 'This invitation id is in use. Try again.');
      // WARNING: an address that already has an account is answered exactly like a new one (a Team
      // Member must not learn who has an account, staff included): the invitation row is stored and
      // listed as usual, but its token is thrown away unsent, and the account holder gets a notice
      // instead of a link. Sign-up refuses the address anyway (finishSignup).
      const existing = await findUserByEmail(db, input.email);
      const now = deps.now();
      const token = newToken();
      const row: InvitationRow = {
        id: input.id,
        token_hash: hashToken(token),
        email: input.email,
        role: input.role,
        language: input.language,
        invited_by: actor.userId,
        created_at: now.toISOString(),
        expires_at: plusMs(now, INVITATION_TTL_MS),
        used_at: null,
        revoked_at: null,
      };
      await db.transaction().execute(async (trx) => {
        // Inviting again replaces the open invitation: only the newest link works.
        const previous = await findOpenInvitationForEmail(trx, input.email, now.toISOString());
        if (previous) await revokeInvitationRow(trx, previous.id, now.toISOString());
        await insertInvitation(trx, row);
        await recordAuditEvent(trx, {
          action: 'invitation.created',
          actorId: actor.userId,
          targetType: 'invitation',
          targetId: row.id,
          ip: actor.ip,
          details: { role: input.role, replaced: previous?.id ?? null, ...(existing ? { existingAccount: existing.id } : {}) },
        });
      });
      try {
        if (existing) {
          // In the account holder's language, not the one the inviter chose; no link to sign up.
          await deps.notifier.send(existing.email, existing.language, {
            kind: 'invitation_existing_account',
            organisationName: organisation.name,
            link: `${deps.config.publicOrigin}/login`,
            at: row.created_at,
          });
        } else {
          // The fragment was composed by the inviter's browser from its own key safe (SECURITY.md 5.2).
          // The token travels in the fragment too, so it never reaches a server or proxy log.
          const link = `${deps.config.publicOrigin}/invite#t=${token}&${input.fragment}`;
          await deps.notifier.send(input.email, input.language, { kind: 'invitation', organisationName: organisation.name, role: input.role, link, expiresAt: row.expires_at });
        }
      } catch (error) {
        logger.error({ err: error }, 'invitation e-mail failed');
        await db.transaction().execute(async (trx) => {
          await revokeInvitationRow(trx, row.id, deps.now().toISOString());
          await recordAuditEvent(trx, { action: 'invitation.revoked', actorId: actor.userId, targetType: 'invitation', targetId: row.id, ip: actor.ip, details: { reason: 'email_failed' } });
        });
        throw fail('service_unavailable', 'The invitation e-mail could not be sent, so the invitation was withdrawn. Try again later.');
      }
      return { invitation: invitationView(row) };
    },

    async listInvitations(actor: Actor) {
      const rows = await listOpenInvitations(db, rolesInvitableBy(actor.role), deps.now().toISOString());
      return { invitations: rows.map(invitationView) };
    },

    async revokeInvitation(actor: Actor, id: string): Promise<void> {
      const row = await findInvitationById(db, id);
      if (!row) throw fail('not_found', 'There is no such invitation.');
      assertMayInvite(actor.role, row.role);
      await db.transaction().execute(async (trx) => {
        if (!(await revokeInvitationRow(trx, id, deps.now().toISOString()))) throw fail('not_found', 'This invitation is no longer open.');
        await recordAuditEvent(trx, { action: 'invitation.revoked', actorId: actor.userId, targetType: 'invitation', targetId: id, ip: actor.ip });
      });
    },

    async lookupInvitation(token: string, ip: string | null) {
      await throttle(deps, `invitation-ip:${ip ?? 'unknown'}`, PUBLIC_LIMIT);
      const row = await openInvitation(token);
      const { organisation, settings } = await requireOrganisation(db);
      return {
        email: row.email,
        role: row.role,
        language: row.language,
        organisationName: organisation.name,
        expiresAt: row.expires_at,
        passwordRules: settings.passwordRules,
        escrowPublicKey: organisation.escrow_public_key,
      };
    },

    async startSignup(token: string, registrationRequest: string, ip: string | null) {
      await throttle(deps, `invitation-ip:${ip ?? 'unknown'}`, PUBLIC_LIMIT);
      const row = await openInvitation(token);
      const now = deps.now();
      const userId = newId();
      const registrationId = newId();
      const registrationResponse = opaque.createRegistrationResponse(userId, registrationRequest);
      await deps.store.putRegistration(registrationId, { purpose: 'signup', userId, subject: row.id, expiresAt: now.getTime() + REGISTRATION_TTL_MS });
      return { registrationId, userId, registrationResponse };
    },

    async finishSignup(body: FinishSignupBody, ip: string | null) {
      assertRecord(body.registrationRecord);
      const invitation = await openInvitation(body.token);
      const now = deps.now();
      const registration = await takeRegistration(deps, body.registrationId, 'signup', 'sign-up');
      if (registration.subject !== invitation.id) throw fail('registration_expired', 'This sign-up belongs to another invitation. Open the invitation link again.');
      const { organisation } = await requireOrganisation(db);
      await checkNewAccountEscrowCopy(registration.userId, body.keys, organisation.escrow_fingerprint);
      const keyColumns = await userKeyColumns(body.keys, organisation.escrow_fingerprint);
      await db.transaction().execute(async (trx) => {
        if (!(await useInvitation(trx, invitation.id, now.toISOString()))) throw fail('invitation_used', 'This invitation was used already.');
        if (await findUserByEmail(trx, invitation.email)) throw fail('conflict', 'Someone with this e-mail address already has an account.');
        await insertUser(trx, {
          id: registration.userId,
          email: invitation.email,
          role: invitation.role,
          language: body.language,
          created_at: now.toISOString(),
          invited_by: invitation.invited_by,
          opaque_record: body.registrationRecord,
          password_changed_at: now.toISOString(),
          ...keyColumns,
          // Stored as sent, with the id of the invitation used: escrow holders check it, the server cannot.
          binding_invitation_id: body.binding ? invitation.id : null,
          binding_mac: body.binding,
        });
        await recordAuditEvent(trx, { action: 'account.signed_up', actorId: registration.userId, targetType: 'invitation', targetId: invitation.id, ip, details: { role: invitation.role } });
      });
      return { userId: registration.userId };
    },

    async listUsers(actor: Actor) {
      // Purged accounts leave the people list (their rows stay for the audit log's history).
      const rows = (await listUsersByRoles(db, rolesManagedBy(actor.role))).filter((row) => row.status !== 'purged');
      const factorKinds = await listSecondFactorKindsByUser(db);
      const now = deps.now().toISOString();
      const resets = await listOpenResetsByUser(db, now);
      return {
        users: rows.map((row) => ({
          id: row.id,
          email: row.email,
          role: row.role,
          createdAt: row.created_at,
          lastLoginAt: row.last_login_at,
          lockedUntil: row.locked_until && row.locked_until > deps.now().toISOString() ? row.locked_until : null,
          failedLogins: row.failed_logins,
          profile: row.profile,
          escrowUserKey: row.escrow_user_key,
          publicKey: row.public_key,
          signingPublicKey: row.signing_public_key,
          escrowGrant: row.grant_kind ?? ('none' as const),
          secondFactors: SECOND_FACTOR_KINDS.filter((kind) => factorKinds.get(row.id)?.has(kind) ?? false),
          status: row.status === 'purged' ? ('deleted' as const) : row.status,
          purgeAfter: row.status === 'deleted' && row.status_changed_at ? plusMs(new Date(row.status_changed_at), PURGE_AFTER_MS) : null,
          pendingReset: resets.get(row.id) ?? null,
        })),
      };
    },

    async unlockUser(actor: Actor, userId: string): Promise<void> {
      const target = await findUserById(db, userId);
      if (!target) throw fail('not_found', 'There is no such person.');
      assertMayManage(actor.role, target.role);
      // Lifting a staff member's or an auditor's lockout restores power: it needs a recent login.
      if (isStaffPower(target.role)) assertRecentAuth(actor, deps.now());
      await db.transaction().execute(async (trx) => {
        await updateUser(trx, userId, { failed_logins: 0, locked_until: null, lock_notified: 0 });
        await recordAuditEvent(trx, { action: 'auth.account_unlocked', actorId: actor.userId, targetType: 'user', targetId: userId, ip: actor.ip });
      });
      await notifyAdministrators(deps, 'lock_lifted', actor, userId);
    },

    async endUserSessions(actor: Actor, userId: string): Promise<void> {
      assertRecentAuth(actor, deps.now());
      const target = await findUserById(db, userId);
      if (!target) throw fail('not_found', 'There is no such person.');
      assertMayManage(actor.role, target.role);
      await db.transaction().execute(async (trx) => {
        const ended = await revokeUserSessions(trx, userId, deps.now().toISOString());
        await recordAuditEvent(trx, { action: 'auth.sessions_ended_by_staff', actorId: actor.userId, targetType: 'user', targetId: userId, ip: actor.ip, details: { sessions: ended } });
      });
    },

    async startPasswordChange(actor: Actor, registrationRequest: string) {
      const now = deps.now();
      assertRecentAuth(actor, now);
      const registrationId = newId();
      const registrationResponse = opaque.createRegistrationResponse(actor.userId, registrationRequest);
      await deps.store.putRegistration(registrationId, { purpose: 'password', userId: actor.userId, subject: actor.sessionId, expiresAt: now.getTime() + REGISTRATION_TTL_MS });
      return { registrationId, userId: actor.userId, registrationResponse };
    },

    async finishPasswordChange(actor: Actor, input: { registrationId: string; registrationRecord: string; wrappedUserKey: string }): Promise<void> {
      assertRecord(input.registrationRecord);
      const now = deps.now();
      assertRecentAuth(actor, now);
      const registration = await takeRegistration(deps, input.registrationId, 'password', 'password change');
      if (registration.userId !== actor.userId) throw fail('registration_expired', 'This password change belongs to another account. Start again.');
      const user = await findUserById(db, actor.userId);
      if (!user) throw fail('unauthenticated', 'Sign in first.');
      await db.transaction().execute(async (trx) => {
        await updateUser(trx, actor.userId, { opaque_record: input.registrationRecord, wrapped_user_key: input.wrappedUserKey, password_changed_at: now.toISOString() });
        const ended = await revokeUserSessions(trx, actor.userId, now.toISOString(), actor.sessionId);
        await recordAuditEvent(trx, { action: 'account.password_changed', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { otherSessionsEnded: ended } });
        // A new password starts over: no browser skips the second factor on the old one's trust.
        const untrusted = await revokeAllTrustedDevices(trx, actor.userId, now.toISOString());
        if (untrusted > 0) {
          await recordAuditEvent(trx, { action: 'auth.trusted_device_revoked', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { by: 'password_change', devices: untrusted } });
        }
      });
      const { organisation } = await requireOrganisation(db);
      await notifyQuietly(deps.notifier, logger, user.email, user.language, { kind: 'password_changed', organisationName: organisation.name, at: now.toISOString() });
    },

    /** Replaces the actor's encrypted profile (a record under their user key; the server cannot read it). */
    async updateProfile(actor: Actor, profile: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await updateUser(trx, actor.userId, { profile });
        await recordAuditEvent(trx, { action: 'profile.updated', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip });
      });
    },

    async getSettings(): Promise<OrganisationSettings> {
      return (await requireOrganisation(db)).settings;
    },

    async updateSettings(actor: Actor, settings: SettingsBody): Promise<OrganisationSettings> {
      assertRecentAuth(actor, deps.now());
      const bad = settings.teamIpAllowlist.find((entry) => !isValidCidr(entry));
      if (bad !== undefined) throw fail('validation_failed', `"${bad}" is not an IP address or CIDR range.`, { issues: [{ path: 'body.teamIpAllowlist', message: 'not an IP address or CIDR range' }] });
      // WARNING: a list without the saving Administrator's own address would lock every staff member
      // out at once, with no way back from the portal. (KLUIS_IGNORE_IP_ALLOWLIST does not lift this.)
      if (!isIpAllowed(actor.ip, settings.teamIpAllowlist)) {
        throw fail('allowlist_excludes_you', `This IP allowlist does not include the address you are connecting from (${actor.ip ?? 'unknown'}), so it would lock you out. Add your own address or range first.`, {
          issues: [{ path: 'body.teamIpAllowlist', message: 'does not include the requester\'s address' }],
        });
      }
      const before = (await requireOrganisation(db)).settings;
      const changed = (Object.keys(settings) as (keyof OrganisationSettings)[]).filter((key) => JSON.stringify(settings[key]) !== JSON.stringify(before[key]));
      await db.transaction().execute(async (trx) => {
        await updateOrganisation(trx, { settings: JSON.stringify(settings) });
        await recordAuditEvent(trx, { action: 'settings.changed', actorId: actor.userId, targetType: 'organisation', targetId: '1', ip: actor.ip, details: { changed, settings } });
      });
      // Saving unchanged settings changes nothing to tell about.
      if (changed.length > 0) await notifyAdministrators(deps, 'settings_changed', actor);
      return settings;
    },

    async listEscrowHolders() {
      const [statements, keys] = await Promise.all([listEscrowGrantStatements(db), listSigningKeys(db)]);
      return {
        statements: statements.map((s) => ({ payload: s.statement_payload, signature: s.statement_signature, signerId: s.granted_by })),
        signingKeys: keys.flatMap((k) => (k.signing_public_key ? [{ userId: k.id, publicKey: k.signing_public_key }] : [])),
      };
    },

    async grantEscrow(actor: Actor, input: { userId: string; sealedEscrowKey: string; statement: { payload: string; signature: string } }): Promise<void> {
      const now = deps.now();
      assertRecentAuth(actor, now);
      const target = await findUserById(db, input.userId);
      if (!target) throw fail('not_found', 'There is no such person.');
      // WARNING: the one server-side rule that keeps the organisation key from clients and auditors.
      if (!mayHoldEscrow(target.role)) throw fail('escrow_holder_not_staff', 'Only Team Members and Administrators can hold the organisation key.');
      if (await findEscrowGrant(db, target.id)) throw fail('conflict', 'This person already holds the escrow key.');
      const statement = parseSigned(input.statement, holderStatementSchema)?.value;
      if (!statement) throw fail('validation_failed', 'The signed statement is not an escrow holder statement.');
      if (statement.holderId !== target.id || statement.grantedBy !== actor.userId) {
        throw fail('validation_failed', 'The signed statement does not name this grant.');
      }
      await db.transaction().execute(async (trx) => {
        await upsertEscrowGrant(trx, {
          user_id: target.id,
          kind: 'sealed',
          value: input.sealedEscrowKey,
          granted_by: actor.userId,
          granted_at: now.toISOString(),
          statement_payload: input.statement.payload,
          statement_signature: input.statement.signature,
        });
        await recordAuditEvent(trx, { action: 'escrow.granted', actorId: actor.userId, targetType: 'user', targetId: target.id, ip: actor.ip });
      });
      await notifyAdministrators(deps, 'escrow_granted', actor, target.id);
    },

    async acceptEscrowGrant(actor: Actor, wrappedEscrowKey: string): Promise<void> {
      const grant = await findEscrowGrant(db, actor.userId);
      if (!grant || grant.kind !== 'sealed') throw fail('not_found', 'There is no escrow grant waiting for you.');
      await db.transaction().execute(async (trx) => {
        await updateEscrowGrant(trx, actor.userId, { kind: 'wrapped', value: wrappedEscrowKey });
        await recordAuditEvent(trx, { action: 'escrow.grant_accepted', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip });
      });
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
