// Uploads: blobs (ciphertext in the blob store, by opaque id), resumable uploads and their stored parts.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('blobs')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('size', 'integer', (col) => col.notNull())
    // Hex SHA-256 of the ciphertext, checked when the blob was assembled.
    .addColumn('sha256', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('blobs_created_by').on('blobs').column('created_by').execute();

  await db.schema
    .createTable('uploads')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('open', 'completed', 'aborted')`))
    .addColumn('size', 'integer', (col) => col.notNull().check(sql`size > 0`))
    .addColumn('part_size', 'integer', (col) => col.notNull().check(sql`part_size > 0`))
    .addColumn('part_count', 'integer', (col) => col.notNull().check(sql`part_count > 0`))
    .addColumn('purpose', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text', (col) => col.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('blob_id', 'text', (col) => col.references('blobs.id'))
    .execute();
  await db.schema.createIndex('uploads_user_status').on('uploads').columns(['user_id', 'status']).execute();
  await db.schema.createIndex('uploads_expires_at').on('uploads').column('expires_at').execute();

  await db.schema
    .createTable('upload_parts')
    .addColumn('upload_id', 'text', (col) => col.notNull().references('uploads.id').onDelete('cascade'))
    .addColumn('part_number', 'integer', (col) => col.notNull())
    .addColumn('size', 'integer', (col) => col.notNull())
    .addColumn('stored_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('upload_parts_pk', ['upload_id', 'part_number'])
    .execute();
}
