// The key directory: public keys with their certificates, issuing certificates, adding a signing key
// and an escrow-copy statement to older accounts, and the key safe's compare-and-swap update.
import { type DirectoryEntry, type Role, type SignedPayload, signedPayloadSchema } from '../../shared/api';
import { fromBase64Url, importSigningPublicKey } from '../../shared/crypto';
import { fail } from '../errors';
import { newId } from '../lib/ids';
import { addSigningKeyIfAbsent, findUserById, updateUser } from '../repositories/accounts.repository';
import { insertCertificate, listCertificatesFor, listDirectoryUsers, swapKeySafe } from '../repositories/directory.repository';
import { recordAuditEvent } from './audit.service';
import { type AccountDeps, type Actor, requireOrganisation } from './account-deps';
import { checkCertificate, checkEscrowCopyStatement } from './key-checks';

const EVERYONE: readonly Role[] = ['admin', 'team', 'client', 'auditor'];
/** What clients and Auditors see: staff, and Auditors (whose countersignatures of the audit log everyone checks, issue 22). */
const STAFF_AND_AUDITORS: readonly Role[] = ['admin', 'team', 'auditor'];

function parseStatement(text: string | null): SignedPayload | null {
  if (!text) return null;
  const { payload, signature } = signedPayloadSchema.parse(JSON.parse(text));
  return { payload, signature };
}

export function createDirectoryService(deps: Pick<AccountDeps, 'db' | 'now'>) {
  const { db } = deps;

  async function requireUser(userId: string) {
    const user = await findUserById(db, userId);
    if (!user) throw fail('not_found', 'There is no such person.');
    return user;
  }

  return {
    /** Staff see everyone; clients see staff, Auditors and themselves. */
    async getDirectory(actor: Actor): Promise<{ entries: DirectoryEntry[] }> {
      const staff = actor.role === 'admin' || actor.role === 'team';
      // Everyone checks Auditors' countersignatures of the audit log (issue 22); nobody but staff sees clients.
      const users = await listDirectoryUsers(db, staff ? EVERYONE : STAFF_AND_AUDITORS, staff ? undefined : actor.userId);
      const certificates = await listCertificatesFor(
        db,
        users.map((u) => u.id),
      );
      return {
        entries: users.map((user) => ({
          id: user.id,
          email: user.email,
          role: user.role,
          publicKey: user.public_key,
          signingPublicKey: user.signing_public_key,
          certificates: certificates.filter((c) => c.user_id === user.id).map((c) => ({ payload: c.payload, signature: c.signature })),
          binding: user.binding_invitation_id && user.binding_mac ? { invitationId: user.binding_invitation_id, mac: user.binding_mac } : null,
          escrowCopyStatement: parseStatement(user.escrow_copy_statement),
        })),
      };
    },

    /**
     * Stores a certificate the actor signed: it must name the person's stored keys, e-mail and role,
     * be issued by the actor with their stored signing key, and verify. Team Members certify clients only.
     */
    async issueCertificate(actor: Actor, userId: string, signed: SignedPayload): Promise<void> {
      const target = await requireUser(userId);
      const issuer = await requireUser(actor.userId);
      if (!target.signing_public_key) throw fail('certificate_invalid', 'This person has no signing key yet: they must sign in once first.');
      if (!issuer.signing_public_key) throw fail('certificate_invalid', 'Your account has no signing key yet. Sign in again first.');
      if (target.id === issuer.id) throw fail('certificate_invalid', 'Nobody certifies their own keys.');
      const cert = await checkCertificate(
        signed,
        { userId: target.id, email: target.email, publicKey: target.public_key, signingPublicKey: target.signing_public_key },
        { userId: issuer.id, signingPublicKey: issuer.signing_public_key },
        'certificate_invalid',
      );
      if (cert.basis === 'root') throw fail('certificate_invalid', 'Only the founding Administrator has a root certificate.');
      if (cert.role !== target.role) throw fail('certificate_invalid', 'The certificate states another role than this person has.');
      if (actor.role !== 'admin' && cert.role !== 'client') throw fail('certificate_invalid', 'Team Members certify clients only.');
      const now = deps.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const id = newId();
        await insertCertificate(trx, { id, user_id: target.id, issuer_id: issuer.id, payload: signed.payload, signature: signed.signature, created_at: now });
        await recordAuditEvent(trx, {
          action: 'certificate.issued',
          actorId: actor.userId,
          targetType: 'user',
          targetId: target.id,
          ip: actor.ip,
          details: { certificate: id, basis: cert.basis, role: cert.role },
        });
      });
    },

    /** An account made before everyone had a signing key adds one, once. */
    async addSigningKey(actor: Actor, input: { publicKey: string; wrappedPrivateKey: string }): Promise<void> {
      try {
        await importSigningPublicKey(fromBase64Url(input.publicKey));
      } catch {
        throw fail('validation_failed', 'The signing key is not an ECDSA P-256 public key.');
      }
      await db.transaction().execute(async (trx) => {
        const added = await addSigningKeyIfAbsent(trx, actor.userId, { signing_public_key: input.publicKey, wrapped_signing_key: input.wrappedPrivateKey });
        if (!added) throw fail('signing_key_exists', 'This account has a signing key already.');
        await recordAuditEvent(trx, { action: 'account.signing_key_added', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip });
      });
    },

    /** Stores the owner's signed statement about their user key's escrow copy (checked as at sign-up). */
    async putEscrowCopyStatement(actor: Actor, statement: SignedPayload): Promise<void> {
      const user = await requireUser(actor.userId);
      if (!user.signing_public_key) throw fail('bad_request', 'Add a signing key first.');
      const { organisation } = await requireOrganisation(db);
      await checkEscrowCopyStatement(
        statement,
        { userId: user.id, signingPublicKey: user.signing_public_key, escrowUserKey: user.escrow_user_key },
        organisation.escrow_fingerprint,
        'bad_request',
      );
      await db.transaction().execute(async (trx) => {
        await updateUser(trx, user.id, { escrow_copy_statement: JSON.stringify({ payload: statement.payload, signature: statement.signature }) });
        await recordAuditEvent(trx, { action: 'account.escrow_copy_signed', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip });
      });
    },

    async getKeySafe(actor: Actor): Promise<{ revision: number; keySafe: string }> {
      const user = await requireUser(actor.userId);
      return { revision: user.key_safe_revision, keySafe: user.key_safe };
    },

    /** Replaces the key safe only when its revision is still the one the browser read. */
    async updateKeySafe(actor: Actor, input: { expectedRevision: number; keySafe: string }): Promise<{ revision: number }> {
      await db.transaction().execute(async (trx) => {
        if (!(await swapKeySafe(trx, actor.userId, input.expectedRevision, input.keySafe))) {
          throw fail('key_safe_conflict', 'Your key safe was changed in another window. Reload and try again.');
        }
        await recordAuditEvent(trx, { action: 'account.key_safe_updated', actorId: actor.userId, targetType: 'user', targetId: actor.userId, ip: actor.ip, details: { revision: input.expectedRevision + 1 } });
      });
      return { revision: input.expectedRevision + 1 };
    },
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
