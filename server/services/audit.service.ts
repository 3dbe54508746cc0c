// The audit log: records events inside the caller's transaction and verifies the hash chain.
import {
  GENESIS_PREV_HASH,
  canonicalAuditBytes,
  canonicalJson,
  findAuditLinkBreak,
  merkleLeafHash,
  merkleNodeHash,
  type AuditChainBreakReason,
  type AuditChainFields,
  type AuditResult,
  type JsonValue,
} from '../../shared/audit';
import { currentAuditContext } from '../http/audit-context';
import { sha256, toHex } from '../../shared/crypto';
import type { AuditEventRow, Db, Trx } from '../db/database';
import { newUuid } from '../lib/ids';
import {
  appendMerkleNode,
  findActorRole,
  findAuditChainHead,
  findMerkleNodeHash,
  insertAuditEvent,
  listAuditEventsAfter,
} from '../repositories/audit.repository';

/** `area.verb` in snake_case, e.g. `document.shared`, `account.login_failed`. */
const actionPattern = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export interface AuditEventInput {
  readonly action: string;
  readonly actorId?: string | null;
  readonly targetType?: string | null;
  readonly targetId?: string | null;
  /** Defaults to the address of the request this runs in (server/http/audit-context.ts). */
  readonly ip?: string | null;
  /** Defaults to the request's User-Agent. */
  readonly userAgent?: string | null;
  /** The actor's role when the event happened; looked up from actorId when not given. */
  readonly actorRole?: string | null;
  /** 'success' unless given: a refused sign-in is 'failure', a refused permission 'denied'. */
  readonly result?: AuditResult;
  /**
   * WARNING: stored and shown to Auditors in the clear. Ids, counts, roles and flags only: never
   * document names, messages, e-mail bodies or anything the zero-knowledge design encrypts.
   */
  readonly details?: Readonly<Record<string, JsonValue>>;
}

export interface AuditEvent extends AuditChainFields {
  readonly hash: string;
}

export type AuditChainVerification =
  | { readonly ok: true; readonly count: number; readonly headHash: string }
  | { readonly ok: false; readonly brokenSeq: number; readonly reason: AuditChainBreakReason };

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await sha256(bytes));
}

function toChainFields(row: AuditEventRow): AuditEvent {
  return {
    seq: row.seq,
    id: row.id,
    occurredAt: row.occurred_at,
    action: row.action,
    actorId: row.actor_id,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
    encoding: row.encoding === 2 ? 2 : 1,
    actorRole: row.actor_role,
    userAgent: row.user_agent,
    result: row.result,
  };
}

export { toChainFields as auditRowToChainFields };

/**
 * Adds leaf `leafIndex` to the stored Merkle tree (shared/audit/merkle.ts) and every perfect
 * subtree it completes: amortised two rows per event, all in the caller's transaction. A left
 * sibling that is not stored yet (rows from before migration 0010 that the start-up backfill has
 * not reached) ends the walk: the backfill completes the subtree when it gets there, and no head
 * can be signed over the gap before that.
 */
async function appendMerkleLeaf(trx: Trx, leafIndex: number, rowHash: string): Promise<void> {
  let hash = await merkleLeafHash(rowHash);
  let level = 0;
  let index = leafIndex;
  await appendMerkleNode(trx, level, index, hash);
  while (index % 2 === 1) {
    const left = await findMerkleNodeHash(trx, level, index - 1);
    if (left === undefined) return;
    hash = await merkleNodeHash(left, hash);
    level += 1;
    index = (index - 1) / 2;
    await appendMerkleNode(trx, level, index, hash);
  }
}

/**
 * Appends one event to the chain. Must be called with the transaction that makes the change the
 * event describes (the type accepts only a Transaction), so both commit or neither does.
 *
 * Race-freedom: reading the head and inserting happen in one transaction. On SQLite, Kysely runs
 * every query over one connection and our driver begins transactions IMMEDIATE (server/db/sqlite.ts),
 * so no other writer can slip in between. The UNIQUE prev_hash and the seq primary key make a
 * fork fail at the database even if that ever broke.
 */
export async function recordAuditEvent(trx: Trx, event: AuditEventInput): Promise<AuditEvent> {
  if (!trx.isTransaction) throw new TypeError('recordAuditEvent must run inside the transaction of the change it records');
  if (!actionPattern.test(event.action)) throw new TypeError(`audit action "${event.action}" is not area.verb in snake_case`);
  // PostgreSQL (scale-out issue): two transactions could read the same head there. Take
  // `SELECT pg_advisory_xact_lock(<audit chain key>)` (or LOCK TABLE audit_events IN EXCLUSIVE MODE)
  // before reading it; the UNIQUE prev_hash would otherwise turn the race into a failed commit.
  const head = await findAuditChainHead(trx);
  const context = currentAuditContext();
  let actorRole = event.actorRole;
  if (actorRole === undefined && event.actorId) {
    actorRole = (await findActorRole(trx, event.actorId)) ?? null;
  }
  const fields: AuditChainFields = {
    seq: head ? head.seq + 1 : 1,
    id: newUuid(),
    occurredAt: new Date().toISOString(),
    action: event.action,
    actorId: event.actorId ?? null,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    ip: event.ip !== undefined ? event.ip : (context?.ip ?? null),
    details: canonicalJson(event.details ?? {}),
    prevHash: head ? head.hash : GENESIS_PREV_HASH,
    encoding: 2,
    actorRole: actorRole ?? null,
    userAgent: event.userAgent !== undefined ? event.userAgent : (context?.userAgent ?? null),
    result: event.result ?? 'success',
  };
  const hash = await sha256Hex(canonicalAuditBytes(fields));
  await insertAuditEvent(trx, {
    seq: fields.seq,
    id: fields.id,
    occurred_at: fields.occurredAt,
    action: fields.action,
    actor_id: fields.actorId,
    target_type: fields.targetType,
    target_id: fields.targetId,
    ip: fields.ip,
    details: fields.details,
    prev_hash: fields.prevHash,
    hash,
    encoding: 2,
    actor_role: fields.actorRole ?? null,
    user_agent: fields.userAgent ?? null,
    result: fields.result ?? 'success',
  });
  await appendMerkleLeaf(trx, fields.seq - 1, hash);
  if (context) context.eventsRecorded += 1;
  return { ...fields, hash };
}

const VERIFY_PAGE_SIZE = 1000;

/**
 * Re-hashes the whole chain from the first row and reports the first row whose seq, link or hash
 * is wrong. Reads in pages, so memory stays flat however long the log is.
 */
export async function verifyAuditChain(db: Db): Promise<AuditChainVerification> {
  let previous: { seq: number; hash: string } | null = null;
  let count = 0;
  for (;;) {
    const page = await listAuditEventsAfter(db, previous?.seq ?? 0, VERIFY_PAGE_SIZE);
    for (const row of page) {
      const event = toChainFields(row);
      let recomputed: string;
      try {
        recomputed = await sha256Hex(canonicalAuditBytes(event));
      } catch {
        return { ok: false, brokenSeq: row.seq, reason: 'malformed_row' };
      }
      const reason = findAuditLinkBreak(previous, event, recomputed);
      if (reason) return { ok: false, brokenSeq: row.seq, reason };
      previous = { seq: event.seq, hash: event.hash };
      count += 1;
    }
    if (page.length < VERIFY_PAGE_SIZE) return { ok: true, count, headHash: previous?.hash ?? GENESIS_PREV_HASH };
  }
}
