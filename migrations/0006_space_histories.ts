// Signed space histories (issue 18): the append-only entries of each space, and spaces whose client copy of the key is an AEAD wrap.
import { sql, type Kysely } from 'kysely';

/*
 * `spaces` gets `wrapped_for_client` (the space key wrapped under the client's user key) and
 * `legacy` (1: made before signed histories and not yet adopted; every existing row). SQLite cannot
 * alter a CHECK constraint, so the table is rebuilt with SQLite's documented procedure
 * (https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys off (outside any
 * transaction), one transaction that creates the new table, copies every row, drops the old one,
 * renames the new one and proves with `PRAGMA foreign_key_check` that every reference still holds,
 * then foreign keys back as they were. Kysely runs SQLite migrations outside a transaction on the
 * one connection, which is what makes the pragma possible here.
 */

async function foreignKeysOn(db: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(db);
  return rows[0]?.foreign_keys === 1;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const wereOn = await foreignKeysOn(db);
  await sql`PRAGMA foreign_keys = OFF`.execute(db);
  // The pragma is a no-op inside a transaction: refuse rather than drop a referenced table with checks on.
  if (await foreignKeysOn(db)) throw new Error('0006_space_histories must run outside a transaction (PRAGMA foreign_keys = OFF had no effect)');
  try {
    await db.transaction().execute(async (trx) => {
      await trx.schema
        .createTable('spaces_new')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('client', 'team')`))
        .addColumn('client_id', 'text', (col) => col.unique().references('users.id'))
        // Legacy client spaces only: the space key sealed (RSA-OAEP) to the client's public key.
        .addColumn('sealed_for_client', 'text')
        .addColumn('sealed_for_escrow', 'text', (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('last_activity_at', 'text', (col) => col.notNull())
        // Client spaces with a signed history: the space key wrapped (AES-256-GCM) under the client's user key.
        .addColumn('wrapped_for_client', 'text')
        // 1: made before signed histories and not adopted yet (no entries); 0: entry 0 exists.
        .addColumn('legacy', 'integer', (col) => col.notNull().defaultTo(0).check(sql`legacy in (0, 1)`))
        .addCheckConstraint(
          'spaces_kind_client',
          sql`(kind = 'team' and client_id is null and sealed_for_client is null and wrapped_for_client is null)
            or (kind = 'client' and client_id is not null and legacy = 1 and sealed_for_client is not null and wrapped_for_client is null)
            or (kind = 'client' and client_id is not null and legacy = 0 and wrapped_for_client is not null)`,
        )
        .execute();
      await sql`INSERT INTO spaces_new (id, kind, client_id, sealed_for_client, sealed_for_escrow, created_by, created_at, last_activity_at, wrapped_for_client, legacy)
        SELECT id, kind, client_id, sealed_for_client, sealed_for_escrow, created_by, created_at, last_activity_at, NULL, 1 FROM spaces`.execute(trx);
      await trx.schema.dropTable('spaces').execute();
      await trx.schema.alterTable('spaces_new').renameTo('spaces').execute();
      // One team space per organisation (dropped with the old table).
      await trx.schema.createIndex('spaces_one_team').on('spaces').column('kind').unique().where(sql.ref('kind'), '=', 'team').execute();

      await trx.schema
        .createTable('space_entries')
        .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
        // 0, 1, 2 … without gaps: the entry's own `seq`; the primary key makes a fork impossible.
        .addColumn('seq', 'integer', (col) => col.notNull().check(sql`seq >= 0`))
        // The exact signed bytes (base64url) and the 64-byte signature (base64url), as the browser sent them.
        .addColumn('payload', 'text', (col) => col.notNull())
        .addColumn('signature', 'text', (col) => col.notNull())
        .addColumn('author_id', 'text', (col) => col.notNull().references('users.id'))
        // entryHash(payload bytes), hex: the next entry's `prev`.
        .addColumn('entry_hash', 'text', (col) => col.notNull().check(sql`length(entry_hash) = 64`))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('space_entries_pk', ['space_id', 'seq'])
        .execute();

      // WARNING: a signed history is append-only at the database too, whatever a service does (like 0004).
      await sql`CREATE TRIGGER space_entries_no_update BEFORE UPDATE ON space_entries
        BEGIN SELECT RAISE(ABORT, 'space_entries is append-only'); END`.execute(trx);
      await sql`CREATE TRIGGER space_entries_no_delete BEFORE DELETE ON space_entries
        BEGIN SELECT RAISE(ABORT, 'space_entries is append-only'); END`.execute(trx);

      const { rows } = await sql<Record<string, unknown>>`PRAGMA foreign_key_check`.execute(trx);
      if (rows.length > 0) throw new Error(`0006_space_histories: ${rows.length} references no longer hold after rebuilding spaces`);
    });
  } finally {
    if (wereOn) await sql`PRAGMA foreign_keys = ON`.execute(db);
  }
}
