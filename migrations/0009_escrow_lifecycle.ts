// Recovering access through escrow (issue 21): password resets by role hierarchy, escrow rotation,
// the account life-cycle (deactivate, delete, restore, purge) and the escrow uses a person can see.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // --- the account life-cycle -------------------------------------------------------------------
  // 'active' | 'deactivated' | 'deleted' | 'purged'. A deleted account is kept 30 days, restorable;
  // then purged: its key material is destroyed and only the row (id, e-mail, role) stays for history.
  await db.schema
    .alterTable('users')
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('active').check(sql`status in ('active', 'deactivated', 'deleted', 'purged')`))
    .execute();
  await db.schema.alterTable('users').addColumn('status_changed_at', 'text').execute();
  await db.schema.alterTable('users').addColumn('status_changed_by', 'text').execute();
  // Which organisation escrow key (fingerprint, hex) `escrow_user_key` is sealed to: a rotation
  // re-seals every copy still sealed to the old key.
  await db.schema.alterTable('users').addColumn('escrow_fingerprint', 'text').execute();
  await db.schema.alterTable('spaces').addColumn('escrow_fingerprint', 'text').execute();
  await sql`UPDATE users SET escrow_fingerprint = (SELECT escrow_fingerprint FROM organisation WHERE id = 1)`.execute(db);
  await sql`UPDATE spaces SET escrow_fingerprint = (SELECT escrow_fingerprint FROM organisation WHERE id = 1)`.execute(db);
  await db.schema.createIndex('users_escrow_fingerprint').on('users').columns(['escrow_fingerprint']).execute();
  await db.schema.createIndex('spaces_escrow_fingerprint').on('spaces').columns(['escrow_fingerprint']).execute();

  // --- escrow rotation ----------------------------------------------------------------------------
  // While a rotation runs, the organisation's current escrow key is the new one; the old key pair
  // stays here (and its holders' grants in escrow_previous_grants) until every item is re-sealed.
  await db.schema.alterTable('organisation').addColumn('previous_escrow_public_key', 'text').execute();
  await db.schema.alterTable('organisation').addColumn('previous_escrow_fingerprint', 'text').execute();
  await db.schema.alterTable('organisation').addColumn('previous_escrow_wrapped_private_key', 'text').execute();

  await db.schema
    .createTable('escrow_previous_grants')
    .addColumn('user_id', 'text', (col) => col.primaryKey().references('users.id'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('sealed', 'wrapped')`))
    .addColumn('value', 'text', (col) => col.notNull())
    .addColumn('granted_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('granted_at', 'text', (col) => col.notNull())
    .addColumn('statement_payload', 'text', (col) => col.notNull())
    .addColumn('statement_signature', 'text', (col) => col.notNull())
    .execute();

  await db.schema
    .createTable('escrow_rotations')
    // Chosen by the Administrator's browser (the signed statement names it).
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('from_fingerprint', 'text', (col) => col.notNull())
    .addColumn('to_fingerprint', 'text', (col) => col.notNull().unique())
    // The signed "escrow-rotation" statement (base64url payload and P1363 signature).
    .addColumn('statement_payload', 'text', (col) => col.notNull())
    .addColumn('statement_signature', 'text', (col) => col.notNull())
    .addColumn('started_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('started_at', 'text', (col) => col.notNull())
    .addColumn('finished_at', 'text')
    // Items re-sealed so far (spaces and user-key copies), for progress.
    .addColumn('done', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('total', 'integer', (col) => col.notNull())
    .execute();
  // WARNING: at most one rotation runs at a time, enforced by the database, not by a read-then-write.
  await sql`CREATE UNIQUE INDEX escrow_rotations_one_running ON escrow_rotations ((finished_at IS NULL)) WHERE finished_at IS NULL`.execute(db);

  // Who lost the escrow key (removed, demoted, deactivated, deleted) and when: a rotation is due
  // while any loss is newer than the last finished rotation's start.
  await db.schema
    .createTable('escrow_revocations')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('revoked_at', 'text', (col) => col.notNull())
    .addColumn('revoked_by', 'text', (col) => col.notNull().references('users.id'))
    // 'demoted' | 'deactivated' | 'deleted'
    .addColumn('reason', 'text', (col) => col.notNull())
    .execute();

  // --- password resets through escrow -------------------------------------------------------------
  await db.schema
    .createTable('password_resets')
    // Chosen by the resetter's browser: the wrapped user key is bound to it.
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text', (col) => col.notNull())
    // 'awaiting_approval' | 'sent' | 'used' | 'cancelled' | 'failed' (too many wrong codes)
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('awaiting_approval', 'sent', 'used', 'cancelled', 'failed')`),
    )
    // The user key wrapped under the one-time reset key (record "wrapped-key/user", base64url).
    .addColumn('wrapped_user_key', 'text', (col) => col.notNull())
    // SHA-256 (hex) of the 32-byte proof the person's browser derives from the link secret and the code.
    .addColumn('proof_hash', 'text', (col) => col.notNull())
    // The link secret, sealed under the server's reset-link key (outside the database) until the
    // e-mail went out; NULL from then on.
    .addColumn('link_secret_sealed', 'text')
    // The resetter's signed "escrow-use" statement (base64url payload and signature).
    .addColumn('statement_payload', 'text', (col) => col.notNull())
    .addColumn('statement_signature', 'text', (col) => col.notNull())
    .addColumn('lift_lockout', 'integer', (col) => col.notNull())
    .addColumn('remove_second_factors', 'integer', (col) => col.notNull())
    .addColumn('failed_attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('approved_by', 'text')
    .addColumn('approved_at', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('finished_at', 'text')
    .addColumn('finished_by', 'text')
    .execute();
  await db.schema.createIndex('password_resets_user').on('password_resets').columns(['user_id', 'status']).execute();

  // --- escrow uses: what a person sees under Account ----------------------------------------------
  await db.schema
    .createTable('escrow_uses')
    .addColumn('id', 'text', (col) => col.primaryKey())
    // Whose key the escrow opened (or re-sealed).
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    // 'reset' | 'first-access' | 'rotation'
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('reset', 'first-access', 'rotation')`))
    .addColumn('actor_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('occurred_at', 'text', (col) => col.notNull())
    // The reset, space or rotation it was about.
    .addColumn('subject_id', 'text')
    // The actor's signed statement where one exists (resets): base64url payload and signature.
    .addColumn('statement_payload', 'text')
    .addColumn('statement_signature', 'text')
    .execute();
  await db.schema.createIndex('escrow_uses_user').on('escrow_uses').columns(['user_id', 'occurred_at']).execute();
  // A staff member's first access to a person's data is recorded once.
  await sql`CREATE UNIQUE INDEX escrow_uses_first_access ON escrow_uses (user_id, actor_id) WHERE kind = 'first-access'`.execute(db);
}
