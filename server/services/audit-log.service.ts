// The auditor's workspace (issue 22, SECURITY.md 5.12): filtered event pages, the raw chain and
// RFC 9162 proofs for verification in the browser, signed tree heads, Auditors' countersignatures,
// exports, retention and pruning behind a signed checkpoint.
import {
  AUDIT_CHAIN_PAGE_MAX,
  AUDIT_EXPORT_MAX,
  AUDIT_PAGE_MAX,
  type AuditEventView,
  type AuditExport,
  type AuditFilter,
  type SignedPayload,
  type WitnessSignature,
} from '../../shared/api';
import {
  consistencyProof,
  frontierAddresses,
  inclusionPath,
  largestPowerOfTwoBelow,
  merkleLeafHash,
  merkleNodeHash,
  rangeHash,
  treeRoot,
  type SubtreeReader,
} from '../../shared/audit/merkle';
import {
  AUDIT_WITNESS_CONTEXT,
  auditWitnessPayloadSchema,
  checkpointBytes,
  treeHeadBytes,
  type SignedCheckpoint,
  type SignedTreeHead,
} from '../../shared/audit/tree-head';
import { fromBase64Url, importSigningPublicKey, verifyStatement } from '../../shared/crypto';
import { parseSigned } from '../../shared/flows/certificates';
import { createAuditLogKey, type AuditLogKey } from '../audit/log-key';
import type { AuditEventRow, Db, Trx } from '../db/database';
import { type AppError, fail } from '../errors';
import { newId } from '../lib/ids';
import {
  type AuditEventQuery,
  type AuditEventWithEmails,
  type CheckpointRow,
  type TreeHeadRow,
  type WitnessRowWithEmail,
  countMerkleLeaves,
  deleteEventsThrough,
  findAuditEventWithEmails,
  findAuditLogRow,
  findEventHash,
  findFirstSeqSince,
  findNewestCheckpoint,
  findNewestTreeHead,
  findNewestWitnessedSize,
  findSigningPublicKey,
  findTreeHead,
  findWitness,
  insertCheckpoint,
  insertMerkleNode,
  insertTreeHead,
  insertWitness,
  listAuditChainPage,
  listAuditEventsForExport,
  listAuditEventsPage,
  listCheckpoints,
  listEventsWithoutLeaf,
  listTreeHeadsAfter,
  listTreeHeadsBySize,
  listWitnessesNewestFirst,
  listWitnessesOfHead,
  updateAuditRetention,
} from '../repositories/audit-log.repository';
import { findMerkleNodeHash } from '../repositories/audit.repository';
import { type AccountDeps, type Actor, assertRecentAuth } from './account-deps';
import { recordAuditEvent } from './audit.service';

export interface AuditLogDeps extends Pick<AccountDeps, 'db' | 'logger' | 'opaque' | 'now'> {
  /** Sign a head once this many events are not covered by the newest one. */
  readonly headEveryEvents: number;
  /** Sign a head when unsigned events have waited this long since the newest head. */
  readonly headMaxMinutes: number;
}

const DAY_MS = 24 * 3_600_000;
const LIST_HEADS_DEFAULT = AUDIT_PAGE_MAX;
const WITNESS_PAGE_DEFAULT = 50;
const BACKFILL_PAGE = 1000;

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function invalidFilter(field: string, message: string): AppError {
  return fail('audit_filter_invalid', message, { issues: [{ path: `filter.${field}`, message }] });
}

/** A date filter's bound in stored form: a whole UTC day, or one instant. Throws audit_filter_invalid. */
function parseDateBound(field: 'from' | 'to', value: string): { start: string; endExclusive: string } {
  const day = datePattern.exec(value);
  if (day) {
    const start = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(start.getTime()) || start.toISOString().slice(0, 10) !== value) {
      throw invalidFilter(field, `"${field}" is not a real date (YYYY-MM-DD).`);
    }
    return { start: start.toISOString(), endExclusive: new Date(start.getTime() + DAY_MS).toISOString() };
  }
  const instant = dateTimePattern.test(value) ? new Date(value) : null;
  if (!instant || Number.isNaN(instant.getTime())) {
    throw invalidFilter(field, `"${field}" must be a date (YYYY-MM-DD) or an ISO date-time.`);
  }
  return { start: instant.toISOString(), endExclusive: new Date(instant.getTime() + 1).toISOString() };
}

/** Validates the wire filter. Throws audit_filter_invalid naming the field. */
export function parseAuditFilter(filter: AuditFilter): AuditEventQuery {
  const from = filter.from !== undefined ? parseDateBound('from', filter.from) : undefined;
  const to = filter.to !== undefined ? parseDateBound('to', filter.to) : undefined;
  if (from && to && from.start >= to.endExclusive) throw invalidFilter('from', '"from" is after "to".');
  let action: AuditEventQuery['action'];
  if (filter.action !== undefined) {
    if (!/^[a-z][a-z0-9_.]*$/.test(filter.action)) throw invalidFilter('action', '"action" must be an action (area.verb) or an area ending in a dot.');
    action = filter.action.endsWith('.') ? { prefix: filter.action } : { exact: filter.action };
  }
  return {
    ...(filter.actor !== undefined ? { actorId: filter.actor } : {}),
    ...(action ? { action } : {}),
    ...(filter.target !== undefined ? { targetId: filter.target } : {}),
    ...(from ? { from: from.start } : {}),
    ...(to ? { toExclusive: to.endExclusive } : {}),
    ...(filter.result !== undefined ? { result: filter.result } : {}),
  };
}

function pageLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (limit > max) throw fail('audit_page_too_large', `At most ${max} items per page.`, { issues: [{ path: 'query.limit', message: `must be at most ${max}` }] });
  return limit;
}

/** A stored row with the e-mail addresses joined for display, as the API shows it (the history service uses it too). */
export function toEventView(row: AuditEventWithEmails): AuditEventView {
  return { ...toExportFields(row), actorEmail: row.actor_email, targetEmail: row.target_email };
}

function toExportFields(row: AuditEventRow) {
  return {
    seq: row.seq,
    id: row.id,
    occurredAt: row.occurred_at,
    action: row.action,
    actorId: row.actor_id,
    actorRole: row.actor_role,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    userAgent: row.user_agent,
    result: row.result,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
    encoding: row.encoding === 2 ? (2 as const) : (1 as const),
  };
}

function toWitnessView(row: WitnessRowWithEmail): WitnessSignature {
  return {
    id: row.id,
    treeSize: row.tree_size,
    witnessId: row.witness_id,
    witnessEmail: row.witness_email,
    statement: { payload: row.statement_payload, signature: row.statement_signature },
    createdAt: row.created_at,
  };
}

/** A SubtreeReader over the stored nodes; a node that is not there is audit_proof_unavailable. */
function storedTree(db: Db | Trx, cache?: Map<string, string>): SubtreeReader {
  return async (level, index) => {
    const key = `${level}:${index}`;
    const cached = cache?.get(key);
    if (cached !== undefined) return cached;
    const hash = await findMerkleNodeHash(db, level, index);
    if (hash === undefined) throw fail('audit_proof_unavailable', 'That part of the tree is not stored.');
    cache?.set(key, hash);
    return hash;
  };
}

export function createAuditLogService(deps: AuditLogDeps) {
  const { db, logger } = deps;
  let logKeyPromise: Promise<AuditLogKey> | undefined;
  const logKey = () => (logKeyPromise ??= createAuditLogKey(deps.opaque));
  let logIdPromise: Promise<string> | undefined;
  const logId = () => (logIdPromise ??= findAuditLogRow(db).then((row) => row.log_id));

  async function headView(row: TreeHeadRow): Promise<SignedTreeHead> {
    return { logId: await logId(), keyId: row.key_id, treeSize: row.tree_size, rootHash: row.root_hash, signedAt: row.signed_at, signature: row.signature };
  }

  async function checkpointView(row: CheckpointRow): Promise<SignedCheckpoint> {
    return {
      logId: await logId(),
      keyId: row.key_id,
      throughSeq: row.through_seq,
      throughHash: row.through_hash,
      treeSize: row.tree_size,
      rootHash: row.root_hash,
      signedAt: row.signed_at,
      signature: row.signature,
    };
  }

  async function newestCheckpointView(executor: Db | Trx = db): Promise<SignedCheckpoint | null> {
    const row = await findNewestCheckpoint(executor);
    return row ? checkpointView(row) : null;
  }

  /** Signs a head over the whole stored tree in `trx`. */
  async function signHeadIn(trx: Trx, treeSize: number): Promise<TreeHeadRow> {
    const key = await logKey();
    const fields = {
      logId: await logId(),
      keyId: key.logKey.keyId,
      treeSize,
      rootHash: await treeRoot(storedTree(trx), treeSize),
      signedAt: deps.now().toISOString(),
    };
    const row: TreeHeadRow = { tree_size: treeSize, root_hash: fields.rootHash, signed_at: fields.signedAt, key_id: fields.keyId, signature: key.sign(treeHeadBytes(fields)) };
    await insertTreeHead(trx, row);
    return row;
  }

  /**
   * Signs a head for the current tree when one is due: none exists yet, `headEveryEvents` events are
   * unsigned, unsigned events waited `headMaxMinutes`, or `force` and any event is unsigned.
   * @returns the new head, or null when none was due
   */
  async function signHeadIfDue(options: { force?: boolean } = {}): Promise<SignedTreeHead | null> {
    // WARNING: outside the transaction. SQLite runs every query over one connection, so a query on
    // `db` inside a transaction waits for that transaction forever.
    await Promise.all([logKey(), logId()]);
    const due = async (executor: Db | Trx) => {
      const size = await countMerkleLeaves(executor);
      const newest = await findNewestTreeHead(executor);
      if (newest && newest.tree_size >= size) return null;
      const now = deps.now().getTime();
      const isDue =
        !newest || options.force === true || size - newest.tree_size >= deps.headEveryEvents || now - new Date(newest.signed_at).getTime() >= deps.headMaxMinutes * 60_000;
      return isDue ? size : null;
    };
    // Most requests find nothing due: two index reads, no write lock. Checked again inside.
    if ((await due(db)) === null) return null;
    const row = await db.transaction().execute(async (trx) => {
      const size = await due(trx);
      return size === null ? null : signHeadIn(trx, size);
    });
    if (row) logger.debug({ treeSize: row.tree_size }, 'audit tree head signed');
    return row ? headView(row) : null;
  }

  /**
   * Gives every event recorded before migration 0010 its leaf and the perfect subtrees it completes,
   * oldest first, a page per transaction. Nodes already there are kept (insert-or-ignore).
   */
  async function backfillMerkleTree(): Promise<number> {
    let done = 0;
    for (;;) {
      const page = await listEventsWithoutLeaf(db, BACKFILL_PAGE);
      if (page.length === 0) return done;
      await db.transaction().execute(async (trx) => {
        for (const event of page) {
          let level = 0;
          let index = event.seq - 1;
          let hash = await merkleLeafHash(event.hash);
          await insertMerkleNode(trx, level, index, hash);
          // Up while the sibling is stored: completes subtrees whichever side arrived first.
          for (;;) {
            const sibling = await findMerkleNodeHash(trx, level, index ^ 1);
            if (sibling === undefined) break;
            hash = index % 2 === 1 ? await merkleNodeHash(sibling, hash) : await merkleNodeHash(hash, sibling);
            level += 1;
            index = Math.floor(index / 2);
            await insertMerkleNode(trx, level, index, hash);
          }
        }
      });
      done += page.length;
    }
  }

  async function requireHeadOfSize(treeSize: number): Promise<TreeHeadRow> {
    const head = await findTreeHead(db, treeSize);
    if (!head) throw fail('audit_head_not_found', `There is no signed tree head of ${treeSize} events.`);
    return head;
  }

  async function listAuditEvents(query: AuditFilter & { before?: number; limit?: number }) {
    const { before, limit: requested, ...filter } = query;
    const limit = pageLimit(requested, 50, AUDIT_PAGE_MAX);
    const rows = await listAuditEventsPage(db, parseAuditFilter(filter), before, limit + 1);
    const events = rows.slice(0, limit).map(toEventView);
    return { events, nextCursor: rows.length > limit ? events.at(-1)!.seq : null };
  }

  async function getAuditEvent(seq: number) {
    const row = await findAuditEventWithEmails(db, seq);
    if (!row) {
      const checkpoint = await findNewestCheckpoint(db);
      if (checkpoint && seq <= checkpoint.through_seq) throw fail('audit_event_pruned', `Event #${seq} was removed under the retention setting.`);
      throw fail('audit_event_not_found', `There is no event #${seq}.`);
    }
    const newest = await findNewestTreeHead(db);
    const inclusion =
      newest && newest.tree_size >= seq ? { treeHead: await headView(newest), path: await inclusionPath(storedTree(db), seq - 1, newest.tree_size) } : null;
    return { event: toEventView(row), inclusion };
  }

  async function getAuditChain(query: { after?: number; limit?: number }) {
    const after = query.after ?? 0;
    const limit = pageLimit(query.limit, AUDIT_CHAIN_PAGE_MAX, AUDIT_CHAIN_PAGE_MAX);
    const rows = await listAuditChainPage(db, after, limit);
    const frontier =
      after > 0
        ? await Promise.all(
            frontierAddresses(after).map(async ({ level, index }) => ({ level, index, hash: await storedTree(db)(level, index) })),
          )
        : null;
    return { events: rows.map(toEventView), checkpoint: await newestCheckpointView(), frontier };
  }

  async function witnessesOf(treeSize: number): Promise<WitnessSignature[]> {
    return (await listWitnessesOfHead(db, treeSize)).map(toWitnessView);
  }

  async function getAuditHead() {
    const key = await logKey();
    const newest = await findNewestTreeHead(db);
    const witnessedSize = await findNewestWitnessedSize(db);
    const witnessedHead = witnessedSize !== undefined ? await findTreeHead(db, witnessedSize) : undefined;
    return {
      logId: await logId(),
      logKey: key.logKey,
      treeHead: newest ? await headView(newest) : null,
      witnesses: newest ? await witnessesOf(newest.tree_size) : [],
      latestWitnessed: witnessedHead ? { treeHead: await headView(witnessedHead), witnesses: await witnessesOf(witnessedHead.tree_size) } : null,
      checkpoint: await newestCheckpointView(),
      retentionDays: (await findAuditLogRow(db)).retention_days,
    };
  }

  async function listAuditHeads(query: { after?: number; limit?: number }) {
    const limit = pageLimit(query.limit, LIST_HEADS_DEFAULT, AUDIT_PAGE_MAX);
    const rows = await listTreeHeadsAfter(db, query.after ?? -1, limit);
    return { heads: await Promise.all(rows.map(headView)) };
  }

  async function getInclusionProof(query: { seq: number; treeSize: number }) {
    await requireHeadOfSize(query.treeSize);
    if (query.seq > query.treeSize) throw fail('audit_proof_unavailable', `Event #${query.seq} is not in the tree of ${query.treeSize} events.`);
    const leafHash = await findMerkleNodeHash(db, 0, query.seq - 1);
    if (leafHash === undefined) throw fail('audit_event_not_found', `There is no event #${query.seq}.`);
    return { leafIndex: query.seq - 1, treeSize: query.treeSize, leafHash, path: await inclusionPath(storedTree(db), query.seq - 1, query.treeSize) };
  }

  async function getConsistencyProof(query: { first: number; second: number }) {
    if (query.first > query.second) throw fail('audit_proof_unavailable', 'A consistency proof goes from a smaller tree to a larger one.');
    await requireHeadOfSize(query.first);
    await requireHeadOfSize(query.second);
    return { first: query.first, second: query.second, proof: await consistencyProof(storedTree(db), query.first, query.second) };
  }

  async function getAuditTreeSplit(query: { start: number; end: number }) {
    const { start, end } = query;
    const newest = await findNewestTreeHead(db);
    if (!newest || end > newest.tree_size) throw fail('audit_proof_unavailable', 'The range goes beyond the newest signed tree head.');
    if (end - start < 2) throw fail('audit_proof_unavailable', 'A range of fewer than two events has no split.');
    const split = start + largestPowerOfTwoBelow(end - start);
    const read = storedTree(db);
    return { start, split, end, left: await rangeHash(read, start, split), right: await rangeHash(read, split, end) };
  }

  async function addAuditWitness(actor: Actor, statement: SignedPayload) {
    const parsed = parseSigned(statement, auditWitnessPayloadSchema);
    if (!parsed) throw fail('audit_witness_invalid', 'The statement is not an audit-witness statement.');
    const payload = parsed.value;
    const head = await requireHeadOfSize(payload.treeSize);
    if (payload.logId !== (await logId()) || payload.keyId !== head.key_id || payload.rootHash !== head.root_hash || payload.headSignedAt !== head.signed_at) {
      throw fail('audit_witness_invalid', `The statement does not name the signed head of ${payload.treeSize} events of this log.`);
    }
    const signingPublicKey = await findSigningPublicKey(db, actor.userId);
    let verifies = false;
    if (signingPublicKey) {
      try {
        verifies = await verifyStatement(await importSigningPublicKey(fromBase64Url(signingPublicKey)), AUDIT_WITNESS_CONTEXT, parsed.bytes, fromBase64Url(statement.signature));
      } catch {
        verifies = false;
      }
    }
    if (!verifies) throw fail('audit_witness_invalid', 'The statement is not signed with your signing key.');
    const id = newId();
    await db.transaction().execute(async (trx) => {
      if (await findWitness(trx, payload.treeSize, actor.userId)) throw fail('conflict', `You already countersigned the head of ${payload.treeSize} events.`);
      await insertWitness(trx, {
        id,
        tree_size: payload.treeSize,
        witness_id: actor.userId,
        statement_payload: statement.payload,
        statement_signature: statement.signature,
        created_at: deps.now().toISOString(),
      });
      await recordAuditEvent(trx, { action: 'audit.witnessed', actorId: actor.userId, targetType: 'audit_head', targetId: String(payload.treeSize), details: { treeSize: payload.treeSize } });
    });
    const witness = (await listWitnessesOfHead(db, payload.treeSize)).find((row) => row.id === id)!;
    return { witness: toWitnessView(witness) };
  }

  async function listAuditWitnesses(query: { treeSize?: number; limit?: number }) {
    const limit = pageLimit(query.limit, WITNESS_PAGE_DEFAULT, AUDIT_PAGE_MAX);
    const rows = await listWitnessesNewestFirst(db, query.treeSize, limit);
    const sizes = [...new Set(rows.map((row) => row.tree_size))];
    return { witnesses: rows.map(toWitnessView), heads: await Promise.all((await listTreeHeadsBySize(db, sizes)).map(headView)) };
  }

  async function createAuditExport(actor: Actor, body: { filter: AuditFilter; format: 'json' | 'csv' }): Promise<AuditExport> {
    const query = parseAuditFilter(body.filter);
    await signHeadIfDue({ force: true });
    const newest = await findNewestTreeHead(db);
    if (!newest) throw fail('audit_head_not_found', 'There is no signed tree head yet.');
    const rows = await listAuditEventsForExport(db, query, newest.tree_size, AUDIT_EXPORT_MAX + 1);
    if (rows.length > AUDIT_EXPORT_MAX) throw fail('audit_export_too_large', `An export holds at most ${AUDIT_EXPORT_MAX} events. Narrow the filter.`);
    const read = storedTree(db, new Map());
    const events = [];
    for (const row of rows) events.push({ ...toExportFields(row), inclusionPath: await inclusionPath(read, row.seq - 1, newest.tree_size) });
    const filtered = Object.fromEntries(Object.entries(body.filter).filter(([, value]) => value !== undefined));
    const complete = Object.keys(filtered).length === 0;
    const result: AuditExport = {
      format: 'kluis-audit-export',
      version: 1,
      exportedAt: deps.now().toISOString(),
      exportedBy: actor.userId,
      filter: body.filter,
      logId: await logId(),
      logKey: (await logKey()).logKey,
      treeHead: await headView(newest),
      checkpoint: await newestCheckpointView(),
      events,
      complete,
      witnesses: await witnessesOf(newest.tree_size),
    };
    // WARNING: which filters were used, never their values (an id could be looked up, a date is fine but unneeded).
    const flags = Object.fromEntries(['actor', 'action', 'target', 'from', 'to', 'result'].map((field) => [field, field in filtered]));
    await db.transaction().execute((trx) =>
      recordAuditEvent(trx, { action: 'audit.exported', actorId: actor.userId, details: { count: events.length, format: body.format, filtered: flags } }),
    );
    return result;
  }

  async function getAuditRetention() {
    const row = await findAuditLogRow(db);
    return { retentionDays: row.retention_days, checkpoints: await Promise.all((await listCheckpoints(db)).map(checkpointView)) };
  }

  async function setAuditRetention(actor: Actor, retentionDays: number | null) {
    assertRecentAuth(actor, deps.now());
    await db.transaction().execute(async (trx) => {
      const previous = (await findAuditLogRow(trx)).retention_days;
      await updateAuditRetention(trx, retentionDays);
      await recordAuditEvent(trx, { action: 'audit.retention_changed', actorId: actor.userId, details: { from: previous, to: retentionDays } });
    });
    return { retentionDays };
  }

  /**
   * Removes events older than the retention period that a signed head covers: in ONE transaction,
   * a signed checkpoint (the last removed event's hash, the newest head's size and root), the
   * deletion (the trigger allows it only at or below a checkpoint) and an audit.pruned event.
   * Leaf hashes stay, so every proof and a verifier seeded from the frontier still work.
   * @returns the new checkpoint, or null when nothing was due
   */
  async function pruneExpiredEvents(): Promise<SignedCheckpoint | null> {
    const { retention_days: days } = await findAuditLogRow(db);
    if (days === null) return null;
    const cutoff = new Date(deps.now().getTime() - days * DAY_MS).toISOString();
    await Promise.all([logKey(), logId()]);
    const row = await db.transaction().execute(async (trx) => {
      const head = await findNewestTreeHead(trx);
      if (!head || head.tree_size === 0) return null;
      const firstKept = await findFirstSeqSince(trx, cutoff);
      const through = Math.min(head.tree_size, firstKept === undefined ? Number.MAX_SAFE_INTEGER : firstKept - 1);
      const previous = await findNewestCheckpoint(trx);
      if (through <= (previous?.through_seq ?? 0)) return null;
      const throughHash = await findEventHash(trx, through);
      if (throughHash === undefined) return null;
      const key = await logKey();
      const fields = {
        logId: await logId(),
        keyId: key.logKey.keyId,
        throughSeq: through,
        throughHash,
        treeSize: head.tree_size,
        rootHash: head.root_hash,
        signedAt: deps.now().toISOString(),
      };
      const checkpoint: CheckpointRow = {
        through_seq: through,
        through_hash: throughHash,
        tree_size: head.tree_size,
        root_hash: head.root_hash,
        signed_at: fields.signedAt,
        key_id: fields.keyId,
        signature: key.sign(checkpointBytes(fields)),
      };
      await insertCheckpoint(trx, checkpoint);
      const count = await deleteEventsThrough(trx, through);
      await recordAuditEvent(trx, { action: 'audit.pruned', details: { throughSeq: through, count } });
      return checkpoint;
    });
    if (row) logger.info({ throughSeq: row.through_seq }, 'audit events pruned under the retention setting');
    return row ? checkpointView(row) : null;
  }

  return {
    signHeadIfDue,
    backfillMerkleTree,
    pruneExpiredEvents,
    listAuditEvents,
    getAuditEvent,
    getAuditChain,
    getAuditHead,
    listAuditHeads,
    getInclusionProof,
    getConsistencyProof,
    getAuditTreeSplit,
    addAuditWitness,
    listAuditWitnesses,
    createAuditExport,
    getAuditRetention,
    setAuditRetention,
  };
}

export type AuditLogService = ReturnType<typeof createAuditLogService>;
