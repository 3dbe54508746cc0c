// Accounts: the organisation (escrow key pair, recovery kit, settings), users, invitations, sessions
// and escrow grants (SECURITY.md 5). Pending OPAQUE state and rate-limit windows live in memory.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organisation')
    // Exactly one organisation per instance.
    .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('settings', 'text', (col) => col.notNull())
    .addColumn('escrow_public_key', 'text', (col) => col.notNull())
    .addColumn('escrow_fingerprint', 'text', (col) => col.notNull())
    .addColumn('escrow_wrapped_private_key', 'text', (col) => col.notNull())
    .addColumn('recovery_wrapped_key', 'text', (col) => col.notNull())
    .addColumn('recovery_salt', 'text', (col) => col.notNull())
    .addColumn('recovery_params', 'text', (col) => col.notNull())
    .addColumn('recovery_confirmed_at', 'text')
    // Public half of the OPAQUE server secret the accounts were registered with (start-up check).
    .addColumn('opaque_server_public_key', 'text', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('one_time_tokens')
    .addColumn('token_hash', 'text', (col) => col.primaryKey())
    .addColumn('purpose', 'text', (col) => col.notNull().check(sql`purpose in ('setup', 'recovery')`))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text', (col) => col.notNull())
    .addColumn('used_at', 'text')
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('email', 'text', (col) => col.notNull().unique())
    .addColumn('role', 'text', (col) => col.notNull().check(sql`role in ('admin', 'team', 'client', 'auditor')`))
    .addColumn('language', 'text', (col) => col.notNull().check(sql`language in ('en', 'nl')`))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('invited_by', 'text', (col) => col.references('users.id'))
    .addColumn('opaque_record', 'text', (col) => col.notNull())
    .addColumn('wrapped_user_key', 'text', (col) => col.notNull())
    .addColumn('key_safe', 'text', (col) => col.notNull())
    .addColumn('public_key', 'text', (col) => col.notNull())
    .addColumn('public_key_fingerprint', 'text', (col) => col.notNull())
    .addColumn('wrapped_private_key', 'text', (col) => col.notNull())
    .addColumn('escrow_user_key', 'text', (col) => col.notNull())
    .addColumn('profile', 'text', (col) => col.notNull())
    .addColumn('signing_public_key', 'text')
    .addColumn('wrapped_signing_key', 'text')
    .addColumn('failed_logins', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('locked_until', 'text')
    .addColumn('lock_notified', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_login_at', 'text')
    .addColumn('password_changed_at', 'text', (col) => col.notNull())
    // Set in recovery mode: the OPAQUE record belongs to a lost server secret.
    .addColumn('needs_reset', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('escrow_grants')
    .addColumn('user_id', 'text', (col) => col.primaryKey().references('users.id'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('sealed', 'wrapped')`))
    .addColumn('value', 'text', (col) => col.notNull())
    .addColumn('granted_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('granted_at', 'text', (col) => col.notNull())
    .addColumn('statement_payload', 'text', (col) => col.notNull())
    .addColumn('statement_signature', 'text', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull().check(sql`role in ('admin', 'team', 'client', 'auditor')`))
    .addColumn('language', 'text', (col) => col.notNull())
    .addColumn('invited_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text', (col) => col.notNull())
    .addColumn('used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('last_seen_at', 'text', (col) => col.notNull())
    .addColumn('authenticated_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text', (col) => col.notNull())
    .addColumn('ip', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
}
