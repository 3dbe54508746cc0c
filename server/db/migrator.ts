// Runs the migrations of migrations/index.ts (a static list: no directory scanning at runtime).
import { Migrator, type MigrationResult } from 'kysely';
import { migrations } from '../../migrations/index';
import type { Db } from './database';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export function createMigrator(db: Db): Migrator {
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } });
}

/** Applies every pending migration; returns the names applied. Throws MigrationError on failure. */
export async function migrateToLatest(db: Db): Promise<readonly string[]> {
  const { error, results } = await createMigrator(db).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result: MigrationResult) => result.status === 'Error')?.migrationName;
    throw new MigrationError(`Database migration ${failed ?? '(before any migration ran)'} failed`, { cause: error });
  }
  return (results ?? []).map((result) => result.migrationName);
}
