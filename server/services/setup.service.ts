// Organisation setup (one-time link), the recovery kit confirmation and recovery mode (SECURITY.md 5.4).
import { recoveryParamsSchema } from '../../shared/api';
import { parseSigned } from '../../shared/flows/certificates';
import { holderStatementSchema } from '../../shared/flows/escrow-ledger';
import type { AccountKeysInput, FinishRecoveryBody, FinishSetupBody } from './account-types';
import { isPlausibleRegistrationRecord } from '../auth/opaque-server';
import { fail } from '../errors';
import { hashToken, newId, newToken } from '../lib/ids';
import { insertCertificate } from '../repositories/directory.repository';
import {
  consumeOneTimeToken,
  countUsers,
  deleteUnusedOneTimeTokens,
  findOrganisation,
  findUserByEmail,
  insertOneTimeToken,
  insertOrganisation,
  insertUser,
  isOneTimeTokenValid,
  markEveryUserForReset,
  updateEscrowGrant,
  updateOrganisation,
  updateUser,
  upsertEscrowGrant,
} from '../repositories/accounts.repository';
import { revokeAllSessions } from '../repositories/sessions.repository';
import { revokeAllTrustedDevices, revokeEveryTrustedDevice } from '../repositories/trusted-devices.repository';
import { deleteSecretBoundFactors } from '../repositories/second-factors.repository';
import { recordAuditEvent } from './audit.service';
import { checkCertificate, checkEscrowCopyStatement, spkiFingerprint } from './key-checks';
import { type AccountDeps, type Actor, REGISTRATION_TTL_MS, plusMs, requireOrganisation, takeRegistration } from './account-deps';
import { DEFAULT_SETTINGS } from './settings';

const SETUP_TOKEN_TTL_MS = 24 * 3_600_000;
const RECOVERY_TOKEN_TTL_MS = 24 * 3_600_000;

/** Columns of a new user from the keys the browser made; `escrowFingerprint`: the key its escrow copy is sealed to (checked). */
export async function userKeyColumns(keys: AccountKeysInput, escrowFingerprint: string) {
  return {
    escrow_fingerprint: escrowFingerprint,
    wrapped_user_key: keys.wrappedUserKey,
    key_safe: keys.keySafe,
    public_key: keys.publicKey,
    public_key_fingerprint: await spkiFingerprint(keys.publicKey),
    wrapped_private_key: keys.wrappedPrivateKey,
    escrow_user_key: keys.escrowUserKey,
    profile: keys.profile,
    signing_public_key: keys.signing.publicKey,
    wrapped_signing_key: keys.signing.wrappedPrivateKey,
    escrow_copy_statement: JSON.stringify(keys.escrowCopyStatement),
  };
}

/** Checks the escrow-copy statement a browser sent with a new account's keys (setup and sign-up). */
export function checkNewAccountEscrowCopy(userId: string, keys: AccountKeysInput, escrowFingerprint: string): Promise<void> {
  return checkEscrowCopyStatement(
    keys.escrowCopyStatement,
    { userId, signingPublicKey: keys.signing.publicKey, escrowUserKey: keys.escrowUserKey },
    escrowFingerprint,
    'validation_failed',
  );
}

export function assertRecord(record: string): void {
  if (!isPlausibleRegistrationRecord(record)) throw fail('validation_failed', 'The registration record is not valid.');
}

export function createSetupService(deps: AccountDeps) {
  const { db, opaque } = deps;

  async function validSetupToken(token: string): Promise<void> {
    if (await findOrganisation(db)) throw fail('already_set_up', 'This Kluis is already set up. Sign in instead.');
    if (!(await isOneTimeTokenValid(db, hashToken(token), 'setup', deps.now().toISOString()))) {
      throw fail('setup_token_invalid', 'This setup link is not valid. Use the newest link the server printed when it started.');
    }
  }

  return {
    async needsSetup(): Promise<boolean> {
      return (await findOrganisation(db)) === undefined;
    },

    /** At start without an organisation: a fresh one-time setup token (older unused ones stop working). */
    async issueSetupToken(): Promise<string> {
      const token = newToken();
      const now = deps.now();
      await db.transaction().execute(async (trx) => {
        await deleteUnusedOneTimeTokens(trx, 'setup');
        await insertOneTimeToken(trx, { token_hash: hashToken(token), purpose: 'setup', created_at: now.toISOString(), expires_at: plusMs(now, SETUP_TOKEN_TTL_MS) });
      });
      return token;
    },

    async startSetup(setupToken: string, email: string, registrationRequest: string) {
      await validSetupToken(setupToken);
      const now = deps.now();
      const userId = newId();
      const registrationId = newId();
      const registrationResponse = opaque.createRegistrationResponse(userId, registrationRequest);
      await deps.store.putRegistration(registrationId, { purpose: 'setup', userId, subject: email, expiresAt: now.getTime() + REGISTRATION_TTL_MS });
      return { registrationId, userId, registrationResponse, opaqueServerPublicKey: opaque.publicKey };
    },

    async finishSetup(body: FinishSetupBody, ip: string | null) {
      assertRecord(body.registrationRecord);
      await validSetupToken(body.setupToken);
      const now = deps.now();
      const registration = await takeRegistration(deps, body.registrationId, 'setup', 'setup');
      const statement = parseSigned(body.holderStatement, holderStatementSchema)?.value;
      if (!statement) throw fail('validation_failed', 'The escrow holder statement is not a holder statement.');
      if (statement.holderId !== registration.userId || statement.grantedBy !== registration.userId) {
        throw fail('validation_failed', 'The escrow holder statement does not name this Administrator.');
      }
      const userId = registration.userId;
      // The root of every browser's trust: a self-signed certificate of exactly this Administrator's keys.
      const subject = { userId, email: registration.subject, publicKey: body.keys.publicKey, signingPublicKey: body.keys.signing.publicKey };
      const root = await checkCertificate(body.certificate, subject, { userId, signingPublicKey: body.keys.signing.publicKey }, 'validation_failed');
      if (root.basis !== 'root' || root.role !== 'admin') throw fail('validation_failed', 'The founding certificate must be an Administrator root certificate.');
      const escrowFingerprint = await spkiFingerprint(body.escrow.publicKey);
      await checkNewAccountEscrowCopy(userId, body.keys, escrowFingerprint);
      const keyColumns = await userKeyColumns(body.keys, escrowFingerprint);
      await db.transaction().execute(async (trx) => {
        if (!(await consumeOneTimeToken(trx, hashToken(body.setupToken), 'setup', now.toISOString()))) {
          throw fail('setup_token_invalid', 'This setup link was used already.');
        }
        await insertOrganisation(trx, {
          id: 1,
          name: body.organisationName,
          created_at: now.toISOString(),
          settings: JSON.stringify({ ...DEFAULT_SETTINGS, secondFactorRoles: body.secondFactorRoles ?? DEFAULT_SETTINGS.secondFactorRoles }),
          escrow_public_key: body.escrow.publicKey,
          escrow_fingerprint: escrowFingerprint,
          escrow_wrapped_private_key: body.escrow.wrappedPrivateKey,
          recovery_wrapped_key: body.escrow.recoveryWrappedKey,
          recovery_salt: body.escrow.recoverySalt,
          recovery_params: JSON.stringify(body.escrow.recoveryParams),
          recovery_confirmed_at: null,
          opaque_server_public_key: opaque.publicKey,
        });
        await insertUser(trx, {
          id: userId,
          email: registration.subject,
          role: 'admin',
          language: body.language,
          created_at: now.toISOString(),
          invited_by: null,
          opaque_record: body.registrationRecord,
          password_changed_at: now.toISOString(),
          ...keyColumns,
        });
        await insertCertificate(trx, { id: newId(), user_id: userId, issuer_id: userId, payload: body.certificate.payload, signature: body.certificate.signature, created_at: now.toISOString() });
        await upsertEscrowGrant(trx, {
          user_id: userId,
          kind: 'wrapped',
          value: body.escrow.grant,
          granted_by: userId,
          granted_at: now.toISOString(),
          statement_payload: body.holderStatement.payload,
          statement_signature: body.holderStatement.signature,
        });
        await recordAuditEvent(trx, {
          action: 'setup.organisation_created',
          actorId: userId,
          targetType: 'organisation',
          targetId: '1',
          ip,
          details: { escrowFingerprint },
        });
      });
      return { userId };
    },

    async confirmRecoveryKit(actor: Actor): Promise<void> {
      const now = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await updateOrganisation(trx, { recovery_confirmed_at: now });
        await recordAuditEvent(trx, { action: 'setup.recovery_kit_confirmed', actorId: actor.userId, targetType: 'organisation', targetId: '1', ip: actor.ip });
      });
    },

    /**
     * Recovery mode, run once at start with a NEW server secret: every account's OPAQUE record is
     * now useless, so all are marked for reset and a one-time recovery token is issued for an
     * Administrator holding the recovery kit. TOTP factors and backup codes, which only the old
     * secret's keys can check, are deleted (people set them up again, SECURITY.md 5.6).
     */
    async enterRecoveryMode(newServerPublicKey: string): Promise<string> {
      const token = newToken();
      const now = deps.now();
      await db.transaction().execute(async (trx) => {
        await updateOrganisation(trx, { opaque_server_public_key: newServerPublicKey });
        await markEveryUserForReset(trx);
        const removed = await deleteSecretBoundFactors(trx);
        await revokeAllSessions(trx, now.toISOString());
        // Every password is reset: no browser keeps skipping the second factor on its old trust.
        const trustedDevices = await revokeEveryTrustedDevice(trx, now.toISOString());
        await deleteUnusedOneTimeTokens(trx, 'recovery');
        await insertOneTimeToken(trx, { token_hash: hashToken(token), purpose: 'recovery', created_at: now.toISOString(), expires_at: plusMs(now, RECOVERY_TOKEN_TTL_MS) });
        await recordAuditEvent(trx, {
          action: 'recovery.mode_entered',
          targetType: 'organisation',
          targetId: '1',
          details: { users: await countUsers(trx), totpFactorsRemoved: removed.totpFactors, backupCodesRemoved: removed.backupCodes, trustedDevicesRevoked: trustedDevices },
        });
      });
      return token;
    },

    async startRecovery(recoveryToken: string, email: string, registrationRequest: string) {
      const now = deps.now();
      if (!(await isOneTimeTokenValid(db, hashToken(recoveryToken), 'recovery', now.toISOString()))) {
        throw fail('recovery_token_invalid', 'This recovery link is not valid. Use the newest link the server printed in recovery mode.');
      }
      const { organisation } = await requireOrganisation(db);
      const user = await findUserByEmail(db, email);
      if (!user || user.role !== 'admin') throw fail('forbidden', 'Only an Administrator can recover the organisation with the recovery kit.');
      const registrationId = newId();
      const registrationResponse = opaque.createRegistrationResponse(user.id, registrationRequest);
      await deps.store.putRegistration(registrationId, { purpose: 'recovery', userId: user.id, subject: user.id, expiresAt: now.getTime() + REGISTRATION_TTL_MS });
      return {
        registrationId,
        userId: user.id,
        registrationResponse,
        opaqueServerPublicKey: opaque.publicKey,
        escrow: {
          publicKey: organisation.escrow_public_key,
          wrappedPrivateKey: organisation.escrow_wrapped_private_key,
          recoveryWrappedKey: organisation.recovery_wrapped_key,
          recoverySalt: organisation.recovery_salt,
          recoveryParams: recoveryParamsSchema.parse(JSON.parse(organisation.recovery_params)),
        },
        account: { escrowUserKey: user.escrow_user_key, keySafe: user.key_safe, wrappedPrivateKey: user.wrapped_private_key, publicKey: user.public_key },
      };
    },

    async finishRecovery(body: FinishRecoveryBody, ip: string | null): Promise<void> {
      assertRecord(body.registrationRecord);
      const now = deps.now();
      const registration = await takeRegistration(deps, body.registrationId, 'recovery', 'recovery');
      await db.transaction().execute(async (trx) => {
        if (!(await consumeOneTimeToken(trx, hashToken(body.recoveryToken), 'recovery', now.toISOString()))) {
          throw fail('recovery_token_invalid', 'This recovery link was used already.');
        }
        await updateUser(trx, registration.userId, {
          opaque_record: body.registrationRecord,
          wrapped_user_key: body.wrappedUserKey,
          key_safe: body.keySafe,
          needs_reset: 0,
          failed_logins: 0,
          locked_until: null,
          password_changed_at: now.toISOString(),
        });
        await updateEscrowGrant(trx, registration.userId, { kind: 'wrapped', value: body.escrowGrant });
        // Recovery mode revoked them already; a device trusted since then does not outlive the reset either.
        const untrusted = await revokeAllTrustedDevices(trx, registration.userId, now.toISOString());
        await recordAuditEvent(trx, { action: 'recovery.completed', actorId: registration.userId, targetType: 'user', targetId: registration.userId, ip, details: { trustedDevicesRevoked: untrusted } });
      });
    },
  };
}

export type SetupService = ReturnType<typeof createSetupService>;
