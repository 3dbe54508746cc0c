// The migration list is complete and the real migrator builds the schema once.
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index';
import { makeTestDatabase } from '../test/make-test-app';
import { migrateToLatest } from './migrator';

const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));
const migrationName = /^\d{4}_[a-z0-9_]+$/;

describe('migrations', () => {
  it('lists every file in migrations/ under its file name, and nothing else', async () => {
    const files = (await readdir(migrationsDir)).filter((file) => file !== 'index.ts' && !file.endsWith('.test.ts'));
    for (const file of files) expect(file).toMatch(/^\d{4}_[a-z0-9_]+\.ts$/);
    expect(Object.keys(migrations).sort()).toEqual(files.map((file) => file.replace(/\.ts$/, '')).sort());
    for (const name of Object.keys(migrations)) expect(name).toMatch(migrationName);
  });

  it('applies all migrations to a fresh database, then none on the next run', async () => {
    const database = await makeTestDatabase();
    try {
      const tables = await database.db.introspection.getTables();
      expect(tables.map((table) => table.name)).toContain('audit_events');
      expect(await migrateToLatest(database.db)).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
