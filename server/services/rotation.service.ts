// Escrow rotation (issue 21, SECURITY.md 5.10): a new escrow key pair, re-sealing every item,
// resumable, checked before it finishes; the signed chain browsers follow from their pin.
//
// Model: at start the organisation's current escrow key becomes the NEW one; the old key pair moves
// to organisation.previous_escrow_* and its grants to escrow_previous_grants until every item
// (spaces.sealed_for_escrow, users.escrow_user_key) is re-sealed by the Administrator's browser.
import type { EscrowChain, RotationItem, RotationView, SignedPayload } from '../../shared/api';
import { holderStatementSchema, HOLDER_STATEMENT_CONTEXT } from '../../shared/flows/escrow-ledger';
import { ROTATION_CONTEXT, rotationPayloadSchema } from '../../shared/flows/escrow-rotation';
import { parseSigned } from '../../shared/flows/certificates';
import { recordDigest } from '../../shared/flows/space-history';
import type { EscrowRotationRow } from '../db/database';
import { fail } from '../errors';
import { newId } from '../lib/ids';
import { findUserById, updateOrganisation } from '../repositories/accounts.repository';
import { insertEscrowUse } from '../repositories/escrow-uses.repository';
import {
  type RotationItemKind,
  addRotationDone,
  countItemsNotSealedTo,
  deletePreviousGrants,
  findItemSeal,
  findLatestRotation,
  findPreviousGrant,
  findRunningRotation,
  hasRotationUse,
  insertGrants,
  insertRotation,
  listGrantHolderIds,
  listItems,
  listRevocationsSince,
  listRotationStatements,
  markRotationFinished,
  moveGrantsToPrevious,
  swapItemSeal,
} from '../repositories/rotation.repository';
import { notifyAdministrators } from './admin-notices';
import { recordAuditEvent } from './audit.service';
import { type AccountDeps, type Actor, assertRecentAuth, requireOrganisation } from './account-deps';
import { mayHoldEscrow } from './authorization';
import { signedBy, spkiFingerprint } from './key-checks';
import { notifyQuietly } from './notifications';

export interface StartRotationBody {
  readonly rotationId: string;
  readonly publicKey: string;
  readonly wrappedPrivateKey: string;
  readonly statement: SignedPayload;
  readonly grants: readonly { userId: string; kind: 'sealed' | 'wrapped'; value: string; statement: SignedPayload }[];
  readonly recoveryKit: { wrappedKey: string; salt: string; params: { memoryKiB: number; iterations: number; parallelism: number } };
}

export interface ResealBody {
  readonly rotationId: string;
  readonly items: readonly { kind: RotationItemKind; id: string; previousDigest: string; seal: string }[];
}

const CURSOR = /^(space|user):([A-Za-z0-9_-]{22})$/;

function parseCursor(after: string | undefined): { kind: RotationItemKind; id: string } | null {
  if (after === undefined) return null;
  const match = CURSOR.exec(after);
  if (!match) throw fail('validation_failed', 'The page cursor is not valid.', { issues: [{ path: 'query.after', message: 'must be kind:id' }] });
  return { kind: match[1] === 'space' ? 'space' : 'user', id: match[2]! };
}

export function createRotationService(deps: AccountDeps) {
  const { db, logger } = deps;

  async function view(row: EscrowRotationRow): Promise<RotationView> {
    return {
      id: row.id,
      from: row.from_fingerprint,
      to: row.to_fingerprint,
      startedBy: row.started_by,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      done: row.done,
      total: row.total,
      remaining: row.finished_at === null ? await countItemsNotSealedTo(db, row.to_fingerprint) : 0,
    };
  }

  async function requireRunning(rotationId: string | null): Promise<EscrowRotationRow> {
    const running = await findRunningRotation(db);
    if (!running || (rotationId !== null && running.id !== rotationId)) {
      throw fail('rotation_not_running', 'No such escrow rotation is running. Reload to see its state.');
    }
    return running;
  }

  /** Checks the starter's signed rotation statement against the request and the organisation now. */
  async function checkStatement(actor: Actor, body: StartRotationBody, from: string, to: string, signingPublicKey: string): Promise<void> {
    const parsed = parseSigned(body.statement, rotationPayloadSchema)?.value;
    if (!parsed) throw fail('validation_failed', 'The rotation statement is not an escrow-rotation statement.');
    if (parsed.rotation !== body.rotationId || parsed.from !== from || parsed.to !== to || parsed.by !== actor.userId) {
      throw fail('validation_failed', 'The rotation statement does not name this rotation, the current escrow key and the new one.');
    }
    if (parsed.byKey !== (await spkiFingerprint(signingPublicKey)) || !(await signedBy(signingPublicKey, ROTATION_CONTEXT, body.statement))) {
      throw fail('validation_failed', 'The rotation statement is not signed with your signing key.');
    }
  }

  return {
    async getEscrowChain(): Promise<EscrowChain> {
      const { organisation } = await requireOrganisation(db);
      const rotations = await listRotationStatements(db);
      return {
        publicKey: organisation.escrow_public_key,
        fingerprint: organisation.escrow_fingerprint,
        rotations: rotations.map((r) => ({ payload: r.statement_payload, signature: r.statement_signature, signerId: r.started_by })),
      };
    },

    async getRotation(actor: Actor) {
      const { organisation } = await requireOrganisation(db);
      const latest = await findLatestRotation(db);
      // A loss is covered by a rotation started after it; later losses need the next one.
      const formerHolders = (await listRevocationsSince(db, latest?.started_at ?? null)).map((r) => ({ userId: r.user_id, email: r.email, since: String(r.since) }));
      let previous = null;
      if (latest && latest.finished_at === null && organisation.previous_escrow_public_key && organisation.previous_escrow_fingerprint && organisation.previous_escrow_wrapped_private_key) {
        const grant = await findPreviousGrant(db, actor.userId);
        previous = {
          publicKey: organisation.previous_escrow_public_key,
          fingerprint: organisation.previous_escrow_fingerprint,
          wrappedPrivateKey: organisation.previous_escrow_wrapped_private_key,
          grant: grant ? { kind: grant.kind, value: grant.value } : null,
        };
      }
      return { rotation: latest ? await view(latest) : null, formerHolders, previous };
    },

    async startRotation(actor: Actor, body: StartRotationBody): Promise<{ rotation: RotationView }> {
      const now = deps.now();
      assertRecentAuth(actor, now);
      const starter = await findUserById(db, actor.userId);
      if (!starter?.signing_public_key) throw fail('forbidden', 'Only an Administrator with a signing key can rotate the escrow key.');
      const to = await spkiFingerprint(body.publicKey);
      if (new Set(body.grants.map((g) => g.userId)).size !== body.grants.length) throw fail('validation_failed', 'Each holder gets one grant.');
      // Holder statements for the NEW key, signed by the starter (browsers trust them through the signed rotation).
      for (const grant of body.grants) {
        const statement = parseSigned(grant.statement, holderStatementSchema)?.value;
        if (!statement || statement.holderId !== grant.userId || statement.grantedBy !== actor.userId || statement.escrowFingerprint !== to) {
          throw fail('validation_failed', 'A holder statement does not name its grant, you and the new escrow key.');
        }
        if (!(await signedBy(starter.signing_public_key, HOLDER_STATEMENT_CONTEXT, grant.statement))) throw fail('validation_failed', 'A holder statement is not signed with your signing key.');
        // Only the starter's own grant can be wrapped (under their user key); others are sealed to their public key.
        if ((grant.userId === actor.userId) !== (grant.kind === 'wrapped')) throw fail('validation_failed', 'Your own grant is wrapped; every other grant is sealed.');
      }
      const startedAt = now.toISOString();
      const result = await db.transaction().execute(async (trx) => {
        const { organisation } = await requireOrganisation(trx);
        // WARNING: the database enforces one running rotation (unique index); this check only gives the nicer answer first.
        if (await findRunningRotation(trx)) throw fail('rotation_in_progress', 'An escrow rotation is running already. Continue that one.');
        const from = organisation.escrow_fingerprint;
        if (to === from) throw fail('validation_failed', 'The new escrow key is the current one.');
        await checkStatement(actor, body, from, to, starter.signing_public_key!);
        // The grants must cover exactly the current holders: nobody dropped, nobody added.
        const holders = new Set((await listGrantHolderIds(trx)).map((h) => h.user_id));
        const granted = new Set(body.grants.map((g) => g.userId));
        if (holders.size !== granted.size || [...holders].some((id) => !granted.has(id)) || !holders.has(actor.userId)) {
          throw fail('rotation_holders_changed', 'The escrow holders changed since this page read them. Reload and start again.');
        }
        for (const id of holders) {
          const holder = await findUserById(trx, id);
          if (!holder || !mayHoldEscrow(holder.role) || holder.status !== 'active') {
            throw fail('rotation_holders_changed', 'A listed holder can no longer hold the escrow key. Reload and start again.');
          }
        }
        const total = await countItemsNotSealedTo(trx, to);
        const inserted = await insertRotation(trx, {
          id: body.rotationId,
          from_fingerprint: from,
          to_fingerprint: to,
          statement_payload: body.statement.payload,
          statement_signature: body.statement.signature,
          started_by: actor.userId,
          started_at: startedAt,
          finished_at: null,
          total,
        });
        if (!inserted) throw fail('rotation_in_progress', 'An escrow rotation is running already. Continue that one.');
        const previousGrants = await moveGrantsToPrevious(trx);
        await insertGrants(
          trx,
          body.grants.map((g) => ({
            user_id: g.userId,
            kind: g.kind,
            value: g.value,
            granted_by: actor.userId,
            granted_at: startedAt,
            statement_payload: g.statement.payload,
            statement_signature: g.statement.signature,
          })),
        );
        // The new key is current from now on: new seals (spaces, sign-ups) go to it.
        await updateOrganisation(trx, {
          previous_escrow_public_key: organisation.escrow_public_key,
          previous_escrow_fingerprint: from,
          previous_escrow_wrapped_private_key: organisation.escrow_wrapped_private_key,
          escrow_public_key: body.publicKey,
          escrow_fingerprint: to,
          escrow_wrapped_private_key: body.wrappedPrivateKey,
          recovery_wrapped_key: body.recoveryKit.wrappedKey,
          recovery_salt: body.recoveryKit.salt,
          recovery_params: JSON.stringify(body.recoveryKit.params),
          // A new kit: the Administrator confirms having stored it, as at setup.
          recovery_confirmed_at: null,
        });
        await recordAuditEvent(trx, {
          action: 'escrow.rotation_started',
          actorId: actor.userId,
          targetType: 'escrow_rotation',
          targetId: body.rotationId,
          ip: actor.ip,
          details: { holders: holders.size, previousGrants, total },
        });
        const row = await findRunningRotation(trx);
        if (!row) throw new Error('the rotation just stored is missing');
        return row;
      });
      await notifyAdministrators(deps, 'escrow_rotation_started', actor);
      return { rotation: await view(result) };
    },

    async listRotationItems(query: { which: 'pending' | 'all'; after?: string | undefined; limit: number }) {
      const running = await requireRunning(null);
      const after = parseCursor(query.after);
      const stored = await listItems(db, { pendingFor: query.which === 'pending' ? running.to_fingerprint : null, after, limit: query.limit });
      const items: RotationItem[] = stored.map((item) => ({
        kind: item.kind,
        id: item.id,
        seal: item.seal,
        // A legacy row without a fingerprint is sealed to the key that was current before rotations: the old one.
        escrowFingerprint: item.escrowFingerprint ?? running.from_fingerprint,
        authority: item.authority,
        authorityAuthor: item.authorityAuthor,
      }));
      const last = stored.at(-1);
      return {
        items,
        remaining: await countItemsNotSealedTo(db, running.to_fingerprint),
        next: stored.length === query.limit && last ? `${last.kind}:${last.id}` : null,
      };
    },

    async resealRotationItems(actor: Actor, body: ResealBody) {
      await requireRunning(body.rotationId);
      const occurredAt = deps.now().toISOString();
      const { updated, skipped, told } = await db.transaction().execute(async (trx) => {
        const running = await findRunningRotation(trx);
        if (!running || running.id !== body.rotationId) throw fail('rotation_not_running', 'This escrow rotation is not running any more.');
        let updated = 0;
        let skipped = 0;
        const people = new Set<string>();
        for (const item of body.items) {
          const current = await findItemSeal(trx, item.kind, item.id);
          // Compare-and-swap: the browser names the seal it opened; anything else changed meanwhile.
          if (!current || current.fingerprint === running.to_fingerprint || (await recordDigest(current.seal)) !== item.previousDigest) {
            skipped += 1;
            continue;
          }
          if (!(await swapItemSeal(trx, item.kind, item.id, current.seal, item.seal, running.to_fingerprint))) {
            skipped += 1;
            continue;
          }
          updated += 1;
          if (current.personId) people.add(current.personId);
        }
        await addRotationDone(trx, running.id, updated);
        // One 'rotation' escrow use per person and rotation (their key or their space's key was re-sealed).
        const told: string[] = [];
        for (const personId of people) {
          if (await hasRotationUse(trx, personId, running.id)) continue;
          await insertEscrowUse(trx, { id: newId(), user_id: personId, kind: 'rotation', actor_id: actor.userId, occurred_at: occurredAt, subject_id: running.id, statement_payload: null, statement_signature: null });
          told.push(personId);
        }
        await recordAuditEvent(trx, {
          action: 'escrow.rotation_resealed',
          actorId: actor.userId,
          targetType: 'escrow_rotation',
          targetId: running.id,
          ip: actor.ip,
          details: { updated, skipped },
        });
        return { updated, skipped, told };
      });
      if (told.length > 0) {
        const { organisation } = await requireOrganisation(db);
        const actorRow = await findUserById(db, actor.userId);
        for (const personId of told) {
          const person = await findUserById(db, personId);
          if (!person || person.status !== 'active') continue;
          await notifyQuietly(deps.notifier, logger, person.email, person.language, {
            kind: 'escrow_used',
            organisationName: organisation.name,
            use: 'rotation',
            actorRole: actorRow?.role ?? actor.role,
            at: occurredAt,
            link: `${deps.config.publicOrigin}/account`,
          });
        }
      }
      const rotation = await findRunningRotation(db);
      if (!rotation) throw fail('rotation_not_running', 'This escrow rotation is not running any more.');
      return { updated, skipped, rotation: await view(rotation) };
    },

    async finishRotation(actor: Actor, body: { rotationId: string; checked: number }) {
      await requireRunning(body.rotationId);
      const finishedAt = deps.now().toISOString();
      const row = await db.transaction().execute(async (trx) => {
        const running = await findRunningRotation(trx);
        if (!running || running.id !== body.rotationId) throw fail('rotation_not_running', 'This escrow rotation is not running any more.');
        const pending = await countItemsNotSealedTo(trx, running.to_fingerprint);
        if (pending > 0) throw fail('rotation_incomplete', `${pending} items are still sealed to the old escrow key. Continue the rotation first.`);
        // WARNING: from here the old escrow key pair exists nowhere on the server: its grants and the
        // wrapped private key are destroyed, so a removed holder's old key opens no stored seal or grant.
        const previousGrants = await deletePreviousGrants(trx);
        await updateOrganisation(trx, { previous_escrow_public_key: null, previous_escrow_fingerprint: null, previous_escrow_wrapped_private_key: null });
        if (!(await markRotationFinished(trx, running.id, finishedAt))) throw fail('rotation_not_running', 'This escrow rotation is not running any more.');
        await recordAuditEvent(trx, {
          action: 'escrow.rotation_finished',
          actorId: actor.userId,
          targetType: 'escrow_rotation',
          targetId: running.id,
          ip: actor.ip,
          details: { checked: body.checked, done: running.done, total: running.total, previousGrants },
        });
        return { ...running, finished_at: finishedAt };
      });
      await notifyAdministrators(deps, 'escrow_rotation_finished', actor);
      return { rotation: await view(row) };
    },
  };
}

export type RotationService = ReturnType<typeof createRotationService>;
