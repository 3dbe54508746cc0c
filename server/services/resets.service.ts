// Password resets through escrow (issue 21, SECURITY.md 5.8): start, four-eyes approval, cancellation,
// the person's proof and new password; and escrow transparency (what a person sees under Account).
import type { ResetView, SignedPayload } from '../../shared/api';
import { fromBase64Url, importSigningPublicKey, sha256, toHex } from '../../shared/crypto';
import { escrowUsePayloadSchema, resetLink, verifyEscrowUse } from '../../shared/flows/escrow-reset';
import { parseSigned } from '../../shared/flows/certificates';
import { recordDigest } from '../../shared/flows/space-history';
import { equalDigests } from '../auth/factor-keys';
import { LinkSecretSealError, openLinkSecret, sealLinkSecret } from '../auth/reset-links';
import type { Selectable } from 'kysely';
import type { PasswordResetsTable } from '../db/database';
import { fail } from '../errors';
import { newId } from '../lib/ids';
import { findEscrowGrant, findUserById, listEscrowGrantStatements, listUsersByRoles, updateUser } from '../repositories/accounts.repository';
import { insertEscrowUse, listEscrowUsesOf } from '../repositories/escrow-uses.repository';
import {
  cancelOpenResetsOf,
  countWrongProof,
  findReset,
  findResetView,
  insertReset,
  listOpenResetViews,
  updateResetIf,
} from '../repositories/resets.repository';
import { deleteSecondFactorsOf } from '../repositories/second-factors.repository';
import { revokeUserSessions } from '../repositories/sessions.repository';
import { revokeAllTrustedDevices } from '../repositories/trusted-devices.repository';
import { notifyAdministrators } from './admin-notices';
import { recordAuditEvent } from './audit.service';
import { relaxedTransaction } from '../db/relaxed';
import { type AccountDeps, type Actor, REGISTRATION_TTL_MS, assertRecentAuth, plusMs, requireOrganisation, takeRegistration, throttle } from './account-deps';
import { assertMayReset, mayReset, rolesResettableBy } from './authorization';
import { notifyQuietly } from './notifications';
import { assertRecord } from './setup.service';

/** The fifth wrong recovery code voids the reset: 60 bits of code, five guesses. */
export const MAX_RESET_ATTEMPTS = 5;
/**
 * Proofs per address, right or wrong, over any reset: the count per reset is what bounds guessing a
 * code (five); this slows a flood over many links. A person needs about four per attempt.
 */
export const PROOF_IP_LIMIT = { max: 60, windowMs: 15 * 60_000 } as const;
const HOUR_MS = 3_600_000;

type ResetRow = Selectable<PasswordResetsTable>;

export function createResetsService(deps: AccountDeps) {
  const { db, logger } = deps;

  function view(row: ResetRow & { user_email: string; created_by_email: string }, now: string): ResetView {
    const open = row.status === 'awaiting_approval' || row.status === 'sent';
    return {
      id: row.id,
      userId: row.user_id,
      userEmail: row.user_email,
      createdBy: row.created_by,
      createdByEmail: row.created_by_email,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      status: open && row.expires_at <= now ? 'expired' : row.status,
      liftLockout: row.lift_lockout === 1,
      removeSecondFactors: row.remove_second_factors === 1,
      approvedBy: row.approved_by,
      approvedAt: row.approved_at,
      sentAt: row.sent_at,
      failedAttempts: row.failed_attempts,
    };
  }

  async function viewOf(id: string): Promise<ResetView> {
    const row = await findResetView(db, id);
    if (!row) throw fail('not_found', 'There is no such reset.');
    return view(row, deps.now().toISOString());
  }

  async function personOf(userId: string) {
    const person = await findUserById(db, userId);
    if (!person) throw fail('not_found', 'There is no such person.');
    return person;
  }

  /**
   * The statement must be the resetter's own "escrow-use" statement about exactly this reset, this
   * person and this wrap, signed with the resetter's stored signing key. The server stores only what
   * verifies; the person's browser and Account verify again under the certified key.
   */
  async function checkStatement(statement: SignedPayload, expected: { user: string; reset: string; by: string; wrappedUserKey: string }, signingPublicKey: string | null) {
    const parsed = parseSigned(statement, escrowUsePayloadSchema);
    const wrap = await recordDigest(expected.wrappedUserKey);
    if (!parsed || parsed.value.by !== expected.by || !signingPublicKey) {
      throw fail('validation_failed', 'The signed statement is not your escrow-use statement about this reset.');
    }
    let signer;
    try {
      signer = await importSigningPublicKey(fromBase64Url(signingPublicKey));
    } catch {
      throw fail('validation_failed', 'Your signing key cannot be read.');
    }
    if (!(await verifyEscrowUse(statement, signer, { user: expected.user, reset: expected.reset, wrap }))) {
      throw fail('validation_failed', 'The signed statement does not name this reset, this person and this wrapped key, or its signature does not verify.');
    }
  }

  /**
   * E-mails the link and marks the reset sent, lifting the lock if asked, in one compare-and-swap from
   * `from`. The mail goes first: if the reset changed meanwhile (cancelled), its link simply does not
   * work; if the mail fails, nothing changed. `approvedBy` records a four-eyes approval in the same step.
   * @returns false when the reset was no longer `from`
   */
  async function sendLink(row: ResetRow, actor: Actor, from: 'awaiting_approval' | 'sent', approvedBy: string | null): Promise<boolean> {
    if (!row.link_secret_sealed) throw fail('reset_state', 'This reset has no link to send any more.');
    const person = await personOf(row.user_id);
    let linkSecret: string;
    try {
      linkSecret = openLinkSecret(deps.opaque.secretKey('reset-links'), row.link_secret_sealed, row.id, row.user_id);
    } catch (error) {
      if (!(error instanceof LinkSecretSealError)) throw error;
      logger.error({ err: error, resetId: row.id }, 'reset link secret does not open');
      throw fail('service_unavailable', 'The reset link cannot be sent (its secret does not open). Start a new reset.');
    }
    const now = deps.now();
    const { organisation, settings } = await requireOrganisation(db);
    // With four eyes the link's lifetime starts when it is sent, so a late approval still gives the person the full time.
    const expiresAt = approvedBy ? plusMs(now, settings.resetLinkHours * HOUR_MS) : row.expires_at;
    try {
      await deps.notifier.send(person.email, person.language, {
        kind: 'password_reset',
        organisationName: organisation.name,
        link: resetLink(deps.config.publicOrigin, row.id, linkSecret),
        expiresAt,
      });
    } catch (error) {
      logger.error({ err: error, resetId: row.id }, 'reset e-mail failed');
      throw fail('service_unavailable', 'The reset e-mail could not be sent. Try again later.');
    }
    return db.transaction().execute(async (trx) => {
      const changed = await updateResetIf(trx, row.id, from, {
        status: 'sent',
        sent_at: now.toISOString(),
        expires_at: expiresAt,
        // WARNING: the link secret leaves the database once its e-mail went out.
        link_secret_sealed: null,
        ...(approvedBy ? { approved_by: approvedBy, approved_at: now.toISOString() } : {}),
      });
      if (!changed) return false;
      if (approvedBy) {
        await recordAuditEvent(trx, { action: 'escrow.reset_approved', actorId: actor.userId, targetType: 'user', targetId: row.user_id, ip: actor.ip, details: { resetId: row.id } });
      }
      if (row.lift_lockout === 1) await updateUser(trx, row.user_id, { failed_logins: 0, locked_until: null, lock_notified: 0 });
      await recordAuditEvent(trx, { action: 'escrow.reset_sent', actorId: actor.userId, targetType: 'user', targetId: row.user_id, ip: actor.ip, details: { resetId: row.id, lockLifted: row.lift_lockout === 1 } });
      return true;
    });
  }

  /**
   * The public steps' common check: the reset is open and the proof hashes to its proof hash. A wrong
   * proof is counted (the fifth voids the reset). Per-address throttle first.
   */
  async function provenReset(resetId: string, proof: string, ip: string | null): Promise<ResetRow> {
    await throttle(deps, `reset-proof-ip:${ip ?? 'unknown'}`, PROOF_IP_LIMIT);
    const row = await findReset(db, resetId);
    const now = deps.now().toISOString();
    assertUsable(row, now);
    const proofHash = toHex(await sha256(fromBase64Url(proof)));
    // WARNING: constant-time comparison; the proof is derived from link secret AND code, so the stored hash reveals neither.
    if (equalDigests(proofHash, row.proof_hash)) return row;
    const counted = await db.transaction().execute(async (trx) => {
      const result = await countWrongProof(trx, row.id, MAX_RESET_ATTEMPTS, now);
      if (!result) return null;
      const failed = result.status === 'failed';
      await recordAuditEvent(trx, {
        action: failed ? 'escrow.reset_failed' : 'escrow.reset_code_rejected',
        result: 'failure',
        actorId: null,
        targetType: 'user',
        targetId: row.user_id,
        ip,
        details: { resetId: row.id, failedAttempts: result.failed_attempts },
      });
      return result;
    });
    if (!counted) assertUsable(await findReset(db, resetId), now);
    if (counted?.status === 'failed') throw fail('reset_failed', 'Too many wrong recovery codes: this reset link no longer works. Ask your office for a new reset.');
    const left = MAX_RESET_ATTEMPTS - (counted?.failed_attempts ?? 0);
    throw fail('reset_code_invalid', `This recovery code is not right. ${left} ${left === 1 ? 'attempt' : 'attempts'} left.`);
  }

  return {
    async createReset(
      actor: Actor,
      userId: string,
      body: { resetId: string; wrappedUserKey: string; proofHash: string; linkSecret: string; statement: SignedPayload; liftLockout: boolean; removeSecondFactors: boolean },
    ): Promise<{ reset: ResetView }> {
      const now = deps.now();
      assertRecentAuth(actor, now);
      const person = await personOf(userId);
      assertMayReset(actor, person);
      // WARNING: only an escrow holder can have opened the person's key; anyone else's request is forged.
      if (!(await findEscrowGrant(db, actor.userId))) throw fail('reset_not_allowed', 'Only someone holding the organisation key can reset a password.');
      if (person.status !== 'active') throw fail('account_inactive', 'This account is not active: reactivate or restore it first.');
      if (!person.escrow_user_key || !person.key_safe || !person.wrapped_user_key) throw fail('escrow_copy_unusable', 'This account has no escrow copy to reset with.');
      const resetter = await personOf(actor.userId);
      await checkStatement(body.statement, { user: person.id, reset: body.resetId, by: actor.userId, wrappedUserKey: body.wrappedUserKey }, resetter.signing_public_key);
      if (await findReset(db, body.resetId)) throw fail('id_taken', 'This reset id is in use. Try again.');
      const { organisation, settings } = await requireOrganisation(db);
      const needsApproval = settings.resetNeedsApproval;
      const at = now.toISOString();
      const row: ResetRow = {
        id: body.resetId,
        user_id: person.id,
        created_by: actor.userId,
        created_at: at,
        expires_at: plusMs(now, settings.resetLinkHours * HOUR_MS),
        status: needsApproval ? 'awaiting_approval' : 'sent',
        wrapped_user_key: body.wrappedUserKey,
        proof_hash: body.proofHash,
        link_secret_sealed: sealLinkSecret(deps.opaque.secretKey('reset-links'), body.linkSecret, body.resetId, person.id),
        statement_payload: body.statement.payload,
        statement_signature: body.statement.signature,
        lift_lockout: body.liftLockout ? 1 : 0,
        remove_second_factors: body.removeSecondFactors ? 1 : 0,
        failed_attempts: 0,
        approved_by: null,
        approved_at: null,
        sent_at: null,
        finished_at: null,
        finished_by: null,
      };
      await db.transaction().execute(async (trx) => {
        // A new reset replaces the person's older open ones: only the newest link works.
        const replaced = await cancelOpenResetsOf(trx, person.id, at);
        await insertReset(trx, row);
        await insertEscrowUse(trx, {
          id: newId(),
          user_id: person.id,
          kind: 'reset',
          actor_id: actor.userId,
          occurred_at: at,
          subject_id: row.id,
          statement_payload: row.statement_payload,
          statement_signature: row.statement_signature,
        });
        await recordAuditEvent(trx, {
          action: 'escrow.reset_started',
          actorId: actor.userId,
          targetType: 'user',
          targetId: person.id,
          ip: actor.ip,
          details: { resetId: row.id, needsApproval, liftLockout: body.liftLockout, removeSecondFactors: body.removeSecondFactors, replaced },
        });
      });
      if (!needsApproval) {
        try {
          await sendLink(row, actor, 'sent', null);
        } catch (error) {
          // Nothing half-done: a reset whose e-mail did not go out is withdrawn at once.
          await db.transaction().execute(async (trx) => {
            if (await updateResetIf(trx, row.id, 'sent', { status: 'cancelled', link_secret_sealed: null, finished_at: deps.now().toISOString() })) {
              await recordAuditEvent(trx, { action: 'escrow.reset_cancelled', actorId: actor.userId, targetType: 'user', targetId: person.id, ip: actor.ip, details: { resetId: row.id, reason: 'email_failed' } });
            }
          });
          throw error;
        }
      }
      // The person learns of every use of escrow on their account, the Administrators of every reset.
      await notifyQuietly(deps.notifier, logger, person.email, person.language, {
        kind: 'escrow_used',
        organisationName: organisation.name,
        use: 'reset',
        actorRole: actor.role,
        at,
        link: `${deps.config.publicOrigin}/account`,
      });
      await notifyAdministrators(deps, 'reset_started', actor, person.id);
      if (needsApproval) {
        const approvers = await listUsersByRoles(db, ['admin', 'team']);
        for (const approver of approvers) {
          if (approver.status !== 'active' || approver.id === actor.userId || !mayReset({ userId: approver.id, role: approver.role }, person)) continue;
          await notifyQuietly(deps.notifier, logger, approver.email, approver.language, {
            kind: 'reset_approval_requested',
            organisationName: organisation.name,
            link: `${deps.config.publicOrigin}/people`,
            at,
          });
        }
      }
      return { reset: await viewOf(row.id) };
    },

    async listResets(actor: Actor): Promise<{ resets: ResetView[] }> {
      const now = deps.now().toISOString();
      const rows = await listOpenResetViews(db, rolesResettableBy(actor.role), now);
      // Never one's own reset: the person concerned has no say in it.
      return { resets: rows.filter((row) => row.user_id !== actor.userId).map((row) => view(row, now)) };
    },

    async approveReset(actor: Actor, id: string): Promise<{ reset: ResetView }> {
      const now = deps.now();
      assertRecentAuth(actor, now);
      const row = await findReset(db, id);
      if (!row) throw fail('not_found', 'There is no such reset.');
      const person = await personOf(row.user_id);
      // WARNING: four eyes means two different people, neither of them the person concerned.
      if (actor.userId === row.created_by || actor.userId === row.user_id) throw fail('reset_approval_own', 'A second person must approve this reset: not the one who started it, nor the person it is for.');
      assertMayReset(actor, person);
      if (row.status !== 'awaiting_approval' || row.expires_at <= now.toISOString()) throw fail('reset_state', 'This reset is not waiting for approval.');
      if (!(await sendLink(row, actor, 'awaiting_approval', actor.userId))) throw fail('reset_state', 'This reset is not waiting for approval any more.');
      await notifyAdministrators(deps, 'reset_approved', actor, person.id);
      return { reset: await viewOf(id) };
    },

    async cancelReset(actor: Actor, id: string): Promise<{ reset: ResetView }> {
      const row = await findReset(db, id);
      if (!row) throw fail('not_found', 'There is no such reset.');
      const person = await personOf(row.user_id);
      if (actor.userId !== row.created_by && !mayReset(actor, person)) throw fail('forbidden', 'Only the person who started this reset, or someone who may reset this person, can cancel it.');
      const changed = await db.transaction().execute(async (trx) => {
        if (!(await updateResetIf(trx, id, ['awaiting_approval', 'sent'], { status: 'cancelled', link_secret_sealed: null, finished_at: deps.now().toISOString(), finished_by: actor.userId }))) return false;
        await recordAuditEvent(trx, { action: 'escrow.reset_cancelled', actorId: actor.userId, targetType: 'user', targetId: row.user_id, ip: actor.ip, details: { resetId: id } });
        return true;
      });
      if (!changed) throw fail('reset_state', 'This reset is no longer open.');
      await notifyAdministrators(deps, 'reset_cancelled', actor, row.user_id);
      return { reset: await viewOf(id) };
    },

    async openReset(body: { resetId: string; proof: string }, ip: string | null) {
      const row = await provenReset(body.resetId, body.proof, ip);
      const person = await personOf(row.user_id);
      const { organisation, settings } = await requireOrganisation(db);
      if (!person.key_safe) throw fail('reset_invalid', 'This reset link is not valid.');
      // The person proved link and code: the wrapped user key leaves the server (read-only otherwise, hence relaxed).
      await relaxedTransaction(db, (trx) =>
        recordAuditEvent(trx, { action: 'escrow.reset_opened', actorId: null, targetType: 'user', targetId: person.id, ip, details: { resetId: row.id } }),
      );
      return {
        userId: person.id,
        email: person.email,
        expiresAt: row.expires_at,
        wrappedUserKey: row.wrapped_user_key,
        keySafe: person.key_safe,
        statement: { payload: row.statement_payload, signature: row.statement_signature },
        removeSecondFactors: row.remove_second_factors === 1,
        passwordRules: settings.passwordRules,
        organisationName: organisation.name,
        language: person.language,
      };
    },

    async startResetPassword(body: { resetId: string; proof: string; registrationRequest: string }, ip: string | null) {
      const row = await provenReset(body.resetId, body.proof, ip);
      const registrationId = newId();
      const registrationResponse = deps.opaque.createRegistrationResponse(row.user_id, body.registrationRequest);
      await deps.store.putRegistration(registrationId, { purpose: 'reset', userId: row.user_id, subject: row.id, expiresAt: deps.now().getTime() + REGISTRATION_TTL_MS });
      return { registrationId, registrationResponse };
    },

    async finishResetPassword(body: { resetId: string; proof: string; registrationId: string; registrationRecord: string; wrappedUserKey: string }, ip: string | null): Promise<void> {
      assertRecord(body.registrationRecord);
      const row = await provenReset(body.resetId, body.proof, ip);
      const registration = await takeRegistration(deps, body.registrationId, 'reset', 'password reset');
      if (registration.subject !== row.id || registration.userId !== row.user_id) throw fail('registration_expired', 'This registration belongs to another reset. Start again.');
      const person = await personOf(row.user_id);
      const now = deps.now().toISOString();
      const removeFactors = row.remove_second_factors === 1;
      await db.transaction().execute(async (trx) => {
        // WARNING: one transaction, and the reset is taken first (compare-and-swap): a link works once.
        if (!(await updateResetIf(trx, row.id, 'sent', { status: 'used', finished_at: now, finished_by: row.user_id }))) {
          throw fail('reset_used', 'This reset link was used already.');
        }
        await updateUser(trx, row.user_id, {
          opaque_record: body.registrationRecord,
          wrapped_user_key: body.wrappedUserKey,
          password_changed_at: now,
          failed_logins: 0,
          locked_until: null,
          lock_notified: 0,
          needs_reset: 0,
        });
        const sessionsEnded = await revokeUserSessions(trx, row.user_id, now);
        const trustedDevicesRevoked = await revokeAllTrustedDevices(trx, row.user_id, now);
        const otherResetsCancelled = await cancelOpenResetsOf(trx, row.user_id, now, row.id);
        const removed = removeFactors ? await deleteSecondFactorsOf(trx, row.user_id) : { factors: 0, backupCodes: 0 };
        await recordAuditEvent(trx, {
          action: 'escrow.reset_completed',
          actorId: row.user_id,
          targetType: 'user',
          targetId: row.user_id,
          ip,
          details: { resetId: row.id, sessionsEnded, trustedDevicesRevoked, otherResetsCancelled, secondFactorsRemoved: removed.factors, backupCodesRemoved: removed.backupCodes },
        });
      });
      const { organisation } = await requireOrganisation(db);
      await notifyQuietly(deps.notifier, logger, person.email, person.language, { kind: 'password_changed', organisationName: organisation.name, at: now });
      await notifyAdministrators(deps, 'reset_completed', { userId: row.user_id, ip }, row.user_id);
    },

    /** Escrow transparency: the signed holder list and every use of escrow on the caller's account. */
    async getMyEscrow(actor: Actor) {
      const [statements, uses, { settings }] = await Promise.all([listEscrowGrantStatements(db), listEscrowUsesOf(db, actor.userId), requireOrganisation(db)]);
      return {
        holders: statements.map((s) => ({ payload: s.statement_payload, signature: s.statement_signature, signerId: s.granted_by })),
        uses: uses.map((use) => ({
          id: use.id,
          kind: use.kind,
          actorId: use.actor_id,
          actorEmail: use.actor_email,
          occurredAt: use.occurred_at,
          subjectId: use.subject_id,
          statement: use.statement_payload && use.statement_signature ? { payload: use.statement_payload, signature: use.statement_signature } : null,
        })),
        fourEyes: settings.resetNeedsApproval,
      };
    },
  };
}

/** The reset a link names may be used now, or the specific reason it may not. */
function assertUsable(row: ResetRow | undefined, now: string): asserts row is ResetRow {
  if (!row || row.status === 'cancelled' || row.status === 'awaiting_approval') throw fail('reset_invalid', 'This reset link is not valid. Ask your office for a new one.');
  if (row.status === 'used') throw fail('reset_used', 'This reset link was used already. Sign in with your new password.');
  if (row.status === 'failed') throw fail('reset_failed', 'Too many wrong recovery codes: this reset link no longer works. Ask your office for a new reset.');
  if (row.expires_at <= now) throw fail('reset_expired', 'This reset link has expired. Ask your office for a new one.');
}

export type ResetsService = ReturnType<typeof createResetsService>;
