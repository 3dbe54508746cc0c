// Foundation schema: the append-only, hash-chained audit log (SECURITY.md 5).
import { sql, type Kysely } from 'kysely';

// No down(): the audit log is never dropped by a migration.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    // Explicit, gap-free numbering set by the writer (not AUTOINCREMENT): seq is part of the hash.
    .addColumn('seq', 'integer', (col) => col.primaryKey().check(sql`seq >= 1`))
    .addColumn('id', 'text', (col) => col.notNull().unique())
    .addColumn('occurred_at', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('details', 'text', (col) => col.notNull())
    // UNIQUE: two rows can never claim the same predecessor, so concurrent writers cannot fork the chain.
    .addColumn('prev_hash', 'text', (col) => col.notNull().unique().check(sql`length(prev_hash) = 64`))
    .addColumn('hash', 'text', (col) => col.notNull().unique().check(sql`length(hash) = 64`))
    .execute();

  // WARNING: these triggers are what makes the log append-only at the database. SQLite syntax;
  // PostgreSQL needs a plpgsql trigger function that raises the same message (scale-out issue).
  await sql`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`.execute(db);
}
