// Uploads: each stored part keeps the SHA-256 the client declared and the server verified (Content-Digest),
// and a completed upload keeps the digest of that list, so a repeated completion can be recognised.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Hex SHA-256 of the part's bytes; '' for a part stored before this migration (it counts as missing).
  await db.schema
    .alterTable('upload_parts')
    .addColumn('sha256', 'text', (col) => col.notNull().defaultTo(''))
    .execute();
  // Hex SHA-256 over the parts' 32-byte digests in part order; set when the upload completes.
  await db.schema.alterTable('uploads').addColumn('parts_sha256', 'text').execute();
}
