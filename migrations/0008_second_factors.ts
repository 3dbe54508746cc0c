// Second factors (issue 20): TOTP, e-mail codes and passkeys per user, backup codes, trusted devices.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('second_factors')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    // 'totp' | 'email' | 'passkey'
    .addColumn('kind', 'text', (col) => col.notNull())
    // Chosen by the user (plaintext by design: "Phone", "YubiKey"); shown to them and their managers.
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('last_used_at', 'text')
    // TOTP: the secret sealed under the server's factor key (AES-256-GCM, outside the database), and
    // the highest time step accepted so far (a code is usable once, even within its window).
    .addColumn('totp_secret', 'text')
    .addColumn('totp_last_step', 'integer')
    // Passkeys: credential id (base64url), COSE public key (base64url), signature counter, transports (JSON).
    .addColumn('credential_id', 'text', (col) => col.unique())
    .addColumn('public_key', 'text')
    .addColumn('sign_count', 'integer')
    .addColumn('transports', 'text')
    // Passkeys with PRF: the user key wrapped under a key derived from the PRF output (base64url); NULL without.
    .addColumn('prf_wrapped_user_key', 'text')
    .execute();
  await db.schema.createIndex('second_factors_user').on('second_factors').columns(['user_id', 'kind']).execute();

  await db.schema
    .createTable('backup_codes')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    // HMAC-SHA-256 of the normalised code under the server's backup-code key (hex).
    .addColumn('code_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('used_at', 'text')
    .addPrimaryKeyConstraint('backup_codes_pk', ['user_id', 'code_hash'])
    .execute();

  await db.schema
    .createTable('trusted_devices')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    // SHA-256 of the 256-bit token in the browser's cookie (hex).
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text', (col) => col.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('trusted_devices_user').on('trusted_devices').columns(['user_id', 'expires_at']).execute();
}
