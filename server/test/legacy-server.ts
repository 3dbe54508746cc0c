// Test helper: a real server on a copy of the data directory made by main d9a4625 (before signed histories), migrated in place.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createApp, createServices } from '../app';
import { createOpaqueServer } from '../auth/opaque-server';
import type { Db } from '../db/database';
import { migrateToLatest } from '../db/migrator';
import { openSqliteDatabase } from '../db/sqlite';
import { loadConfig } from '../env';
import { listen, type RunningServer } from '../lib/node-api-client';
import { createRecordingNotifier } from '../services/notifications';

const fixture = fileURLToPath(new URL('./fixtures/legacy-d9a4625/', import.meta.url));

/** What server/test/fixtures/legacy-d9a4625/manifest.json says about the data directory. */
export interface LegacyManifest {
  publicOrigin: string;
  accounts: { role: 'admin' | 'team' | 'client'; email: string; password: string; userId: string }[];
  clientSpace: string;
  teamSpace: string;
  document: { id: string; names: string[] };
  thread: { id: string; subject: string };
  teamDocument: { name: string };
}

export interface LegacyServer {
  readonly manifest: LegacyManifest;
  readonly db: Db;
  readonly server: RunningServer;
  close(): Promise<void>;
}

/** Copies the fixture's data directory, migrates it to the latest schema and serves it over HTTP. */
export async function startLegacyServer(): Promise<LegacyServer> {
  const manifest = JSON.parse(await readFile(join(fixture, 'manifest.json'), 'utf8')) as LegacyManifest;
  const dir = await mkdtemp(join(tmpdir(), 'kluis-legacy-'));
  await cp(join(fixture, 'data'), join(dir, 'data'), { recursive: true });
  const secret = (await readFile(join(fixture, 'data/secrets/opaque-server-setup'), 'utf8')).trim();
  const config = loadConfig({ KLUIS_DATA_DIR: join(dir, 'data'), KLUIS_SECRETS_DIR: join(dir, 'secrets'), PUBLIC_ORIGIN: manifest.publicOrigin, LOG_LEVEL: 'silent' });
  const db = openSqliteDatabase(join(dir, 'data', 'kluis.db'));
  await migrateToLatest(db);
  // The fixture predates enforced second factors: its stored policy (the default, staff and
  // auditors) would now lead its staff through set-up at sign-in. Upgrade tests sign in with the
  // password alone; the policy itself is tested with new organisations.
  const { settings } = (await db.selectFrom('organisation').select('settings').executeTakeFirstOrThrow());
  await db.updateTable('organisation').set({ settings: JSON.stringify({ ...(JSON.parse(settings) as object), secondFactorRoles: [] }) }).execute();
  const deps = { config, db, logger: pino({ level: 'silent' }), opaque: await createOpaqueServer(secret), notifier: createRecordingNotifier(), clientDir: join(dir, 'no-client') };
  const server = await listen({ app: createApp(deps, createServices(deps)) });
  return {
    manifest,
    db,
    server,
    async close() {
      await server.close();
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
