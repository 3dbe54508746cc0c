// The key directory (issue 18): certificates that vouch for people's public keys, invitation bindings,
// signed escrow-copy statements and the key safe's revision for compare-and-swap updates.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // JSON of the owner's signed "user-key-escrow" statement ({payload, signature}); NULL for accounts
  // made before it existed until their next sign-in.
  await db.schema.alterTable('users').addColumn('escrow_copy_statement', 'text').execute();
  // The invitee's binding MAC and the invitation it belongs to; NULL when the link had none.
  await db.schema.alterTable('users').addColumn('binding_invitation_id', 'text').execute();
  await db.schema.alterTable('users').addColumn('binding_mac', 'text').execute();
  // Mirrors the revision inside the encrypted key safe; PUT /api/account/key-safe compares it.
  await db.schema
    .alterTable('users')
    .addColumn('key_safe_revision', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('certificates')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('issuer_id', 'text', (col) => col.notNull().references('users.id'))
    // base64url of the exact signed JSON bytes, and the 64-byte P1363 signature (base64url).
    .addColumn('payload', 'text', (col) => col.notNull())
    .addColumn('signature', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('certificates_user').on('certificates').columns(['user_id', 'created_at']).execute();

  // WARNING: a certificate, once stored, is never changed or removed (SQLite syntax, like 0004).
  await sql`CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates
    BEGIN SELECT RAISE(ABORT, 'certificates is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
    BEGIN SELECT RAISE(ABORT, 'certificates is append-only'); END`.execute(db);
}
