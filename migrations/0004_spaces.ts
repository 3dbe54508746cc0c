// Spaces: client spaces and the team space, folders, documents and their versions, message
// threads with revisions, document requests, and e-mail notification throttling.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('spaces')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('client', 'team')`))
    // The client whose portal this is; NULL for the team space.
    .addColumn('client_id', 'text', (col) => col.unique().references('users.id'))
    // The space key sealed (RSA-OAEP) to the client's public key, and to the escrow public key.
    .addColumn('sealed_for_client', 'text')
    .addColumn('sealed_for_escrow', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('last_activity_at', 'text', (col) => col.notNull())
    .addCheckConstraint(
      'spaces_kind_client',
      sql`(kind = 'client' and client_id is not null and sealed_for_client is not null) or (kind = 'team' and client_id is null and sealed_for_client is null)`,
    )
    .execute();
  // One team space per organisation.
  await db.schema.createIndex('spaces_one_team').on('spaces').column('kind').unique().where(sql.ref('kind'), '=', 'team').execute();

  await db.schema
    .createTable('folders')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
    .addColumn('parent_id', 'text', (col) => col.references('folders.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('deleted_at', 'text')
    .addColumn('deleted_by', 'text', (col) => col.references('users.id'))
    .execute();
  await db.schema.createIndex('folders_space').on('folders').column('space_id').execute();

  await db.schema
    .createTable('document_requests')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
    .addColumn('body', 'text', (col) => col.notNull())
    // YYYY-MM-DD: visible to the server, which sends the reminders.
    .addColumn('due_date', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('closed_at', 'text')
    .addColumn('closed_by', 'text', (col) => col.references('users.id'))
    .addColumn('reminder_sent_at', 'text')
    .execute();
  await db.schema.createIndex('document_requests_space').on('document_requests').column('space_id').execute();
  await db.schema.createIndex('document_requests_due').on('document_requests').columns(['closed_at', 'reminder_sent_at', 'due_date']).execute();

  await db.schema
    .createTable('request_items')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('request_id', 'text', (col) => col.notNull().references('document_requests.id'))
    .addColumn('position', 'integer', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('request_items_request').on('request_items').columns(['request_id', 'position']).unique().execute();

  await db.schema
    .createTable('documents')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
    .addColumn('folder_id', 'text', (col) => col.references('folders.id'))
    .addColumn('request_item_id', 'text', (col) => col.references('request_items.id'))
    .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('deleted_at', 'text')
    .addColumn('deleted_by', 'text', (col) => col.references('users.id'))
    .addColumn('version_count', 'integer', (col) => col.notNull().check(sql`version_count > 0`))
    .addColumn('current_version_id', 'text', (col) => col.notNull())
    .execute();
  // Listing pages walk a space by id.
  await db.schema.createIndex('documents_space_id').on('documents').columns(['space_id', 'id']).execute();
  await db.schema.createIndex('documents_request_item').on('documents').column('request_item_id').execute();

  await db.schema
    .createTable('document_versions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('document_id', 'text', (col) => col.notNull().references('documents.id'))
    .addColumn('number', 'integer', (col) => col.notNull().check(sql`number > 0`))
    // A blob belongs to exactly one version.
    .addColumn('blob_id', 'text', (col) => col.notNull().unique().references('blobs.id'))
    .addColumn('size', 'integer', (col) => col.notNull())
    .addColumn('wrapped_file_key', 'text', (col) => col.notNull())
    .addColumn('metadata', 'text', (col) => col.notNull())
    .addColumn('uploaded_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addUniqueConstraint('document_versions_number', ['document_id', 'number'])
    .execute();

  await db.schema
    .createTable('threads')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
    .addColumn('subject', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('last_message_at', 'text', (col) => col.notNull())
    .addColumn('message_count', 'integer', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('threads_space').on('threads').columns(['space_id', 'last_message_at']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('thread_id', 'text', (col) => col.notNull().references('threads.id'))
    // 1, 2, 3 … within the thread: read markers and unread counts compare these.
    .addColumn('seq', 'integer', (col) => col.notNull())
    .addColumn('author_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('revision_count', 'integer', (col) => col.notNull())
    .addUniqueConstraint('messages_thread_seq', ['thread_id', 'seq'])
    .execute();

  await db.schema
    .createTable('message_revisions')
    .addColumn('message_id', 'text', (col) => col.notNull().references('messages.id'))
    .addColumn('revision', 'integer', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('message_revisions_pk', ['message_id', 'revision'])
    .execute();

  await db.schema
    .createTable('message_attachments')
    .addColumn('message_id', 'text', (col) => col.notNull().references('messages.id'))
    .addColumn('document_id', 'text', (col) => col.notNull().references('documents.id'))
    .addPrimaryKeyConstraint('message_attachments_pk', ['message_id', 'document_id'])
    .execute();

  await db.schema
    .createTable('thread_reads')
    .addColumn('thread_id', 'text', (col) => col.notNull().references('threads.id'))
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    // The highest message seq this user has seen.
    .addColumn('read_seq', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('thread_reads_pk', ['thread_id', 'user_id'])
    .execute();

  // The last notification e-mail per recipient, space and kind: at most one per quiet period.
  await db.schema
    .createTable('notification_marks')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
    .addColumn('space_id', 'text', (col) => col.notNull().references('spaces.id'))
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('last_sent_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('notification_marks_pk', ['user_id', 'space_id', 'kind'])
    .execute();

  // WARNING: "no rewriting of history" at the database: a version or a message revision, once
  // written, cannot be changed or removed, whatever a service does. SQLite syntax, like 0001.
  for (const table of ['document_versions', 'message_revisions']) {
    await sql`CREATE TRIGGER ${sql.raw(`${table}_no_update`)} BEFORE UPDATE ON ${sql.table(table)}
      BEGIN SELECT RAISE(ABORT, ${sql.lit(`${table} is append-only`)}); END`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_no_delete`)} BEFORE DELETE ON ${sql.table(table)}
      BEGIN SELECT RAISE(ABORT, ${sql.lit(`${table} is append-only`)}); END`.execute(db);
  }
}
