// Database checks that belong to no feature.
import { sql } from 'kysely';
import type { Db } from '../db/database';

/** Runs the cheapest possible query; throws if the database cannot answer. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
