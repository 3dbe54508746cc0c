// All SQL of the auditor's workspace: filtered event pages, the stored Merkle tree, signed tree
// heads, Auditors' countersignatures, retention checkpoints and pruning.
import { type SelectQueryBuilder, sql } from 'kysely';
import type { AuditCheckpointsTable, AuditEventRow, AuditTreeHeadsTable, Database, Db, Trx } from '../db/database';

type Executor = Db | Trx;

/** A filter after validation (server/services/audit-log.service.ts parses the wire filter). */
export interface AuditEventQuery {
  readonly actorId?: string;
  /** Exact action, or every action starting with `prefix` (which ends in a dot). */
  readonly action?: { readonly exact: string } | { readonly prefix: string };
  readonly targetId?: string;
  /** occurred_at >= from (YYYY-MM-DDTHH:mm:ss.sssZ). */
  readonly from?: string;
  /** occurred_at < toExclusive. */
  readonly toExclusive?: string;
  readonly result?: 'success' | 'failure' | 'denied';
}

export type AuditEventWithEmails = AuditEventRow & { actor_email: string | null; target_email: string | null };

type EventsQuery<O> = SelectQueryBuilder<Database & { e: Database['audit_events'] }, 'e', O>;

/**
 * WARNING: every condition is on a column that has a (column, seq) index (migrations/0010), so a
 * page newest-first is an index range scan at a million rows. Prefixes become a range, never LIKE.
 */
function applyFilter<O>(query: EventsQuery<O>, filter: AuditEventQuery): EventsQuery<O> {
  let q = query;
  if (filter.actorId !== undefined) q = q.where('e.actor_id', '=', filter.actorId);
  if (filter.targetId !== undefined) q = q.where('e.target_id', '=', filter.targetId);
  if (filter.result !== undefined) q = q.where('e.result', '=', filter.result);
  if (filter.action !== undefined) {
    if ('exact' in filter.action) {
      q = q.where('e.action', '=', filter.action.exact);
    } else {
      // 'document.' .. 'document/' ('/' follows '.' in every collation SQLite uses for text).
      const upper = filter.action.prefix.slice(0, -1) + '/';
      q = q.where('e.action', '>=', filter.action.prefix).where('e.action', '<', upper);
    }
  }
  if (filter.from !== undefined) q = q.where('e.occurred_at', '>=', filter.from);
  if (filter.toExclusive !== undefined) q = q.where('e.occurred_at', '<', filter.toExclusive);
  return q;
}

function eventsWithEmails(db: Executor) {
  return db
    .selectFrom('audit_events as e')
    .leftJoin('users as actor', 'actor.id', 'e.actor_id')
    .leftJoin('users as target', (join) => join.onRef('target.id', '=', 'e.target_id').on('e.target_type', '=', 'user'))
    .selectAll('e')
    .select(['actor.email as actor_email', 'target.email as target_email']);
}

/**
 * A range filter alone (dates, or an area of actions): SQLite would rather walk the primary key
 * newest-first and filter (no sort), which reads every newer row when the matches are old or few.
 * Instead: the range of its (column, seq) index, reading seq from the index only (covering), the
 * top `limit` by seq; the rows are fetched after. Equality filters need none of this: their
 * (column, seq) index already gives seq order.
 */
function rangeOnly(filter: AuditEventQuery): 'occurred_at' | 'action' | null {
  if (filter.actorId !== undefined || filter.targetId !== undefined || filter.result !== undefined) return null;
  const dates = filter.from !== undefined || filter.toExclusive !== undefined;
  if (filter.action === undefined) return dates ? 'occurred_at' : null;
  return 'prefix' in filter.action && !dates ? 'action' : null;
}

function rangeSeqs(column: 'occurred_at' | 'action', filter: AuditEventQuery, before: number | undefined, limit: number) {
  const prefix = filter.action && 'prefix' in filter.action ? filter.action.prefix : null;
  const conditions = [
    ...(filter.from !== undefined ? [sql`occurred_at >= ${filter.from}`] : []),
    ...(filter.toExclusive !== undefined ? [sql`occurred_at < ${filter.toExclusive}`] : []),
    ...(prefix !== null ? [sql`action >= ${prefix}`, sql`action < ${prefix.slice(0, -1) + '/'}`] : []),
    ...(before !== undefined ? [sql`seq < ${before}`] : []),
  ];
  const index = sql.raw(column === 'action' ? 'audit_events_action' : 'audit_events_occurred_at');
  return sql<{ seq: number }>`SELECT seq FROM audit_events INDEXED BY ${index} WHERE ${sql.join(conditions, sql` AND `)} ORDER BY seq DESC LIMIT ${limit}`;
}

/** A page of events matching `filter`, newest first, with seq below `before`. */
export async function listAuditEventsPage(db: Executor, filter: AuditEventQuery, before: number | undefined, limit: number): Promise<AuditEventWithEmails[]> {
  const range = rangeOnly(filter);
  if (range) {
    const seqs = (await rangeSeqs(range, filter, before, limit).execute(db)).rows.map((row) => row.seq);
    if (seqs.length === 0) return [];
    return (eventsWithEmails(db) as unknown as EventsQuery<AuditEventWithEmails>).where('e.seq', 'in', seqs).orderBy('e.seq', 'desc').execute();
  }
  let q = applyFilter(eventsWithEmails(db) as unknown as EventsQuery<AuditEventWithEmails>, filter);
  if (before !== undefined) q = q.where('e.seq', '<', before);
  return q.orderBy('e.seq', 'desc').limit(limit).execute();
}

/** The query that picks a page's rows, as SQL, for EXPLAIN QUERY PLAN in tests. */
export function compileAuditEventsPage(db: Executor, filter: AuditEventQuery, before: number | undefined, limit: number) {
  const range = rangeOnly(filter);
  if (range) return rangeSeqs(range, filter, before, limit).compile(db);
  let q = applyFilter(eventsWithEmails(db) as unknown as EventsQuery<AuditEventWithEmails>, filter);
  if (before !== undefined) q = q.where('e.seq', '<', before);
  return q.orderBy('e.seq', 'desc').limit(limit).compile();
}

/** Events matching `filter` with seq in (after, through], oldest first, at most `limit`. */
export async function listAuditEventsForExport(db: Executor, filter: AuditEventQuery, through: number, limit: number): Promise<AuditEventRow[]> {
  const q = applyFilter(db.selectFrom('audit_events as e').selectAll('e') as unknown as EventsQuery<AuditEventRow>, filter);
  return q.where('e.seq', '<=', through).orderBy('e.seq', 'asc').limit(limit).execute();
}

export async function findAuditEventWithEmails(db: Executor, seq: number): Promise<AuditEventWithEmails | undefined> {
  return (eventsWithEmails(db) as unknown as EventsQuery<AuditEventWithEmails>).where('e.seq', '=', seq).executeTakeFirst();
}

/** Up to `limit` events after `after`, oldest first, with display e-mails. */
export async function listAuditChainPage(db: Executor, after: number, limit: number): Promise<AuditEventWithEmails[]> {
  return (eventsWithEmails(db) as unknown as EventsQuery<AuditEventWithEmails>).where('e.seq', '>', after).orderBy('e.seq', 'asc').limit(limit).execute();
}

// --- the log row -----------------------------------------------------------------------------------

export async function findAuditLogRow(db: Executor): Promise<{ log_id: string; retention_days: number | null }> {
  return db.selectFrom('audit_log').select(['log_id', 'retention_days']).where('id', '=', 1).executeTakeFirstOrThrow();
}

export async function updateAuditRetention(trx: Trx, retentionDays: number | null): Promise<void> {
  await trx.updateTable('audit_log').set({ retention_days: retentionDays }).where('id', '=', 1).execute();
}

// --- the Merkle tree -------------------------------------------------------------------------------

export async function insertMerkleNode(trx: Trx, level: number, idx: number, hash: string): Promise<void> {
  await trx.insertInto('audit_merkle_nodes').values({ level, idx, hash }).onConflict((oc) => oc.doNothing()).execute();
}

/** How many leaves the stored tree has (the highest level-0 index + 1). */
export async function countMerkleLeaves(db: Executor): Promise<number> {
  const row = await db.selectFrom('audit_merkle_nodes').select('idx').where('level', '=', 0).orderBy('idx', 'desc').limit(1).executeTakeFirst();
  return row ? row.idx + 1 : 0;
}

/** Events that have no leaf yet (rows written before migration 0010), oldest first. */
export async function listEventsWithoutLeaf(db: Executor, limit: number): Promise<{ seq: number; hash: string }[]> {
  return db
    .selectFrom('audit_events as e')
    .select(['e.seq', 'e.hash'])
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('audit_merkle_nodes as n')
            .select('n.idx')
            .where('n.level', '=', 0)
            .whereRef('n.idx', '=', eb('e.seq', '-', 1)),
        ),
      ),
    )
    .orderBy('e.seq', 'asc')
    .limit(limit)
    .execute();
}

// --- tree heads ------------------------------------------------------------------------------------

export type TreeHeadRow = AuditTreeHeadsTable;

export async function findNewestTreeHead(db: Executor): Promise<TreeHeadRow | undefined> {
  return db.selectFrom('audit_tree_heads').selectAll().orderBy('tree_size', 'desc').limit(1).executeTakeFirst();
}

export async function findTreeHead(db: Executor, treeSize: number): Promise<TreeHeadRow | undefined> {
  return db.selectFrom('audit_tree_heads').selectAll().where('tree_size', '=', treeSize).executeTakeFirst();
}

export async function listTreeHeadsAfter(db: Executor, after: number, limit: number): Promise<TreeHeadRow[]> {
  return db.selectFrom('audit_tree_heads').selectAll().where('tree_size', '>', after).orderBy('tree_size', 'asc').limit(limit).execute();
}

export async function listTreeHeadsBySize(db: Executor, sizes: readonly number[]): Promise<TreeHeadRow[]> {
  if (sizes.length === 0) return [];
  return db.selectFrom('audit_tree_heads').selectAll().where('tree_size', 'in', sizes).orderBy('tree_size', 'asc').execute();
}

export async function insertTreeHead(trx: Trx, row: TreeHeadRow): Promise<void> {
  await trx.insertInto('audit_tree_heads').values(row).execute();
}

// --- witnesses -------------------------------------------------------------------------------------

export interface WitnessRowWithEmail {
  id: string;
  tree_size: number;
  witness_id: string;
  witness_email: string | null;
  statement_payload: string;
  statement_signature: string;
  created_at: string;
}

function witnessesWithEmail(db: Executor) {
  return db
    .selectFrom('audit_witness_signatures as w')
    .leftJoin('users as u', 'u.id', 'w.witness_id')
    .select(['w.id', 'w.tree_size', 'w.witness_id', 'u.email as witness_email', 'w.statement_payload', 'w.statement_signature', 'w.created_at']);
}

export async function listWitnessesOfHead(db: Executor, treeSize: number): Promise<WitnessRowWithEmail[]> {
  return witnessesWithEmail(db).where('w.tree_size', '=', treeSize).orderBy('w.created_at', 'asc').execute();
}

export async function listWitnessesNewestFirst(db: Executor, treeSize: number | undefined, limit: number): Promise<WitnessRowWithEmail[]> {
  let q = witnessesWithEmail(db);
  if (treeSize !== undefined) q = q.where('w.tree_size', '=', treeSize);
  return q.orderBy('w.tree_size', 'desc').orderBy('w.created_at', 'desc').limit(limit).execute();
}

/** The size of the newest head any Auditor countersigned. */
export async function findNewestWitnessedSize(db: Executor): Promise<number | undefined> {
  return (await db.selectFrom('audit_witness_signatures').select('tree_size').orderBy('tree_size', 'desc').limit(1).executeTakeFirst())?.tree_size;
}

export async function findWitness(db: Executor, treeSize: number, witnessId: string): Promise<{ id: string } | undefined> {
  return db.selectFrom('audit_witness_signatures').select('id').where('tree_size', '=', treeSize).where('witness_id', '=', witnessId).executeTakeFirst();
}

export async function insertWitness(
  trx: Trx,
  row: { id: string; tree_size: number; witness_id: string; statement_payload: string; statement_signature: string; created_at: string },
): Promise<void> {
  await trx.insertInto('audit_witness_signatures').values(row).execute();
}

export async function findSigningPublicKey(db: Executor, userId: string): Promise<string | null> {
  return (await db.selectFrom('users').select('signing_public_key').where('id', '=', userId).executeTakeFirst())?.signing_public_key ?? null;
}

// --- checkpoints and pruning -----------------------------------------------------------------------

export type CheckpointRow = AuditCheckpointsTable;

export async function findNewestCheckpoint(db: Executor): Promise<CheckpointRow | undefined> {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('through_seq', 'desc').limit(1).executeTakeFirst();
}

export async function listCheckpoints(db: Executor): Promise<CheckpointRow[]> {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('through_seq', 'desc').execute();
}

export async function insertCheckpoint(trx: Trx, row: CheckpointRow): Promise<void> {
  await trx.insertInto('audit_checkpoints').values(row).execute();
}

/** The smallest seq of an event at or after `cutoff` (undefined: every event is older). */
export async function findFirstSeqSince(db: Executor, cutoff: string): Promise<number | undefined> {
  const row = await db.selectFrom('audit_events').select((eb) => eb.fn.min('seq').as('seq')).where('occurred_at', '>=', cutoff).executeTakeFirst();
  return row?.seq ?? undefined;
}

export async function findEventHash(db: Executor, seq: number): Promise<string | undefined> {
  return (await db.selectFrom('audit_events').select('hash').where('seq', '=', seq).executeTakeFirst())?.hash;
}

/** Deletes every event at or below `throughSeq` (the trigger allows it only below a checkpoint); returns how many. */
export async function deleteEventsThrough(trx: Trx, throughSeq: number): Promise<number> {
  const result = await trx.deleteFrom('audit_events').where('seq', '<=', throughSeq).executeTakeFirst();
  return Number(result.numDeletedRows);
}
