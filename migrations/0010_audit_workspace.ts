// The auditor's workspace (issue 22): who/role/browser/result on every event (encoding 2), the
// RFC 9162 Merkle tree over the chain, signed tree heads, Auditors' witness signatures, retention
// checkpoints, and the indexes that keep a filtered page fast at a million events.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // --- encoding 2 columns (shared/audit/canonical.ts) -----------------------------------------------
  // Rows written before this migration keep encoding 1 and NULL in the new columns; their hash
  // does not cover them. ALTER TABLE ADD COLUMN does not fire the append-only triggers.
  await db.schema.alterTable('audit_events').addColumn('encoding', 'integer', (col) => col.notNull().defaultTo(1).check(sql`encoding in (1, 2)`)).execute();
  await db.schema.alterTable('audit_events').addColumn('actor_role', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('user_agent', 'text').execute();
  await db.schema
    .alterTable('audit_events')
    .addColumn('result', 'text', (col) => col.check(sql`result is null or result in ('success', 'failure', 'denied')`))
    .execute();

  // --- filters: each index ends in seq so a filtered page is an index range scan in seq order -----
  await db.schema.createIndex('audit_events_occurred_at').on('audit_events').columns(['occurred_at', 'seq']).execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor_id', 'seq']).execute();
  await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target_id', 'seq']).execute();
  await db.schema.createIndex('audit_events_action').on('audit_events').columns(['action', 'seq']).execute();
  await db.schema.createIndex('audit_events_result').on('audit_events').columns(['result', 'seq']).execute();

  // --- the log's identity: names this log in every signed head, so no head of another Kluis fits ---
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
    .addColumn('log_id', 'text', (col) => col.notNull())
    // Retention in days; NULL keeps everything (the default).
    .addColumn('retention_days', 'integer', (col) => col.check(sql`retention_days is null or retention_days >= 1`))
    .execute();
  await sql`INSERT INTO audit_log (id, log_id, retention_days) VALUES (1, lower(hex(randomblob(16))), NULL)`.execute(db);

  // --- the Merkle tree: every perfect subtree (level 0 = leaf hashes), kept even when events are
  // pruned, so inclusion and consistency proofs stay O(log n) reads and keep working after pruning.
  await db.schema
    .createTable('audit_merkle_nodes')
    .addColumn('level', 'integer', (col) => col.notNull().check(sql`level >= 0`))
    .addColumn('idx', 'integer', (col) => col.notNull().check(sql`idx >= 0`))
    .addColumn('hash', 'text', (col) => col.notNull().check(sql`length(hash) = 64`))
    .addPrimaryKeyConstraint('audit_merkle_nodes_pk', ['level', 'idx'])
    .execute();
  await sql`CREATE TRIGGER audit_merkle_nodes_no_update BEFORE UPDATE ON audit_merkle_nodes
    BEGIN SELECT RAISE(ABORT, 'audit_merkle_nodes is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER audit_merkle_nodes_no_delete BEFORE DELETE ON audit_merkle_nodes
    BEGIN SELECT RAISE(ABORT, 'audit_merkle_nodes is append-only'); END`.execute(db);

  // --- signed tree heads (Ed25519, shared/audit/tree-head.ts) ---------------------------------------
  await db.schema
    .createTable('audit_tree_heads')
    .addColumn('tree_size', 'integer', (col) => col.primaryKey().check(sql`tree_size >= 0`))
    .addColumn('root_hash', 'text', (col) => col.notNull())
    .addColumn('signed_at', 'text', (col) => col.notNull())
    .addColumn('key_id', 'text', (col) => col.notNull())
    .addColumn('signature', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('audit_tree_heads_signed_at').on('audit_tree_heads').columns(['signed_at']).execute();

  // --- Auditors' countersignatures of heads (their certified signing key, context audit-witness) ----
  await db.schema
    .createTable('audit_witness_signatures')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('tree_size', 'integer', (col) => col.notNull().references('audit_tree_heads.tree_size'))
    .addColumn('witness_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('statement_payload', 'text', (col) => col.notNull())
    .addColumn('statement_signature', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('audit_witness_one_per_head').unique().on('audit_witness_signatures').columns(['tree_size', 'witness_id']).execute();

  // --- retention checkpoints: pruning publishes one before any row goes ---------------------------
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('through_seq', 'integer', (col) => col.primaryKey().check(sql`through_seq >= 1`))
    .addColumn('through_hash', 'text', (col) => col.notNull())
    .addColumn('tree_size', 'integer', (col) => col.notNull())
    .addColumn('root_hash', 'text', (col) => col.notNull())
    .addColumn('signed_at', 'text', (col) => col.notNull())
    .addColumn('key_id', 'text', (col) => col.notNull())
    .addColumn('signature', 'text', (col) => col.notNull())
    .execute();
  await sql`CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END`.execute(db);

  // WARNING: the one way an event row can ever go: at or below a published checkpoint. Everything
  // newer stays append-only exactly as before.
  await sql`DROP TRIGGER audit_events_no_delete`.execute(db);
  await sql`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    WHEN OLD.seq > (SELECT coalesce(max(through_seq), 0) FROM audit_checkpoints)
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`.execute(db);
}
