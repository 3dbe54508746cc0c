// Test helper: a real app over a fresh, migrated SQLite database in its own temp directory (data/ and secrets/ side by side).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { KyselyPlugin } from 'kysely';
import { pino, type Logger } from 'pino';
import { createApp, createServices, type AppDeps, type Services } from '../app';
import type { EphemeralStore } from '../auth/ephemeral-store';
import { createOpaqueServer, generateOpaqueServerSetup } from '../auth/opaque-server';
import { createRecordingNotifier, type Notifier } from '../services/notifications';
import type { Db } from '../db/database';
import { migrateToLatest } from '../db/migrator';
import { openSqliteDatabase } from '../db/sqlite';
import { loadConfig, type Config } from '../env';
import type { AppEnv } from '../http/app-env';

export interface TestApp {
  readonly app: Hono<AppEnv>;
  readonly services: Services;
  readonly notifier: Notifier;
  readonly db: Db;
  readonly config: Config;
  /** `<tempDir>/data` (KLUIS_DATA_DIR) */
  readonly dataDir: string;
  /** `<tempDir>/secrets` (KLUIS_SECRETS_DIR) */
  readonly secretsDir: string;
  /** The temp directory holding both; close() deletes it. */
  readonly tempDir: string;
  readonly logger: Logger;
  /** Every log line written so far, parsed. */
  readonly logs: () => readonly Record<string, unknown>[];
  /** Closes the database and deletes the temp directory. */
  readonly close: () => Promise<void>;
}

export interface TestDatabase {
  readonly db: Db;
  readonly tempDir: string;
  /** `<tempDir>/data` */
  readonly dataDir: string;
  /** `<tempDir>/secrets` (not created): where a server on `dataDir` keeps its secret by default. */
  readonly secretsDir: string;
  readonly databasePath: string;
  /** Closes the database and deletes the temp directory. */
  readonly close: () => Promise<void>;
}

/** A fresh data directory with a database built by the real migrator, in a temp directory of its own. */
export async function makeTestDatabase(): Promise<TestDatabase> {
  const tempDir = await mkdtemp(join(tmpdir(), 'kluis-test-'));
  const dataDir = join(tempDir, 'data');
  const databasePath = join(dataDir, 'kluis.db');
  const db = openSqliteDatabase(databasePath);
  await migrateToLatest(db);
  return {
    db,
    tempDir,
    dataDir,
    secretsDir: join(tempDir, 'secrets'),
    databasePath,
    close: async () => {
      await db.destroy();
      await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/**
 * `env` overrides configuration variables (KLUIS_DATA_DIR and KLUIS_SECRETS_DIR are always the temp ones);
 * `clientDir` points at a web client build (default: a directory that does not exist).
 */
let sharedServerSetup: Promise<string> | undefined;

/** One OPAQUE server secret per test process (generating one is cheap, but identical is simpler). */
export function testServerSetup(): Promise<string> {
  sharedServerSetup ??= generateOpaqueServerSetup();
  return sharedServerSetup;
}

export interface TestAppOptions {
  readonly env?: Record<string, string>;
  readonly clientDir?: string;
  readonly notifier?: Notifier;
  readonly now?: () => Date;
  /** The ephemeral store the services use (e.g. one that records its calls). */
  readonly store?: EphemeralStore;
  /** Plugins on the services' database handle (e.g. one that records every statement); TestApp.db stays bare. */
  readonly dbPlugins?: readonly KyselyPlugin[];
  /** Told after each API request how many audit events it recorded (the audit coverage test). */
  readonly onAuditedRequest?: AppDeps['onAuditedRequest'];
}

export async function makeTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await makeTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'debug', ...options.env, KLUIS_DATA_DIR: database.dataDir, KLUIS_SECRETS_DIR: database.secretsDir });
  const lines: string[] = [];
  const logger = pino({ level: config.logLevel }, { write: (line: string) => void lines.push(line) });
  const notifier = options.notifier ?? createRecordingNotifier();
  const deps = {
    config,
    db: (options.dbPlugins ?? []).reduce((db, plugin) => db.withPlugin(plugin), database.db),
    logger,
    opaque: await createOpaqueServer(await testServerSetup()),
    notifier,
    ...(options.now ? { now: options.now } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.onAuditedRequest ? { onAuditedRequest: options.onAuditedRequest } : {}),
    clientDir: options.clientDir ?? join(database.dataDir, 'no-client-build'),
  };
  const services = createServices(deps);
  const app = createApp(deps, services);
  return {
    app,
    services,
    notifier,
    db: database.db,
    config,
    dataDir: database.dataDir,
    secretsDir: database.secretsDir,
    tempDir: database.tempDir,
    logger,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    close: database.close,
  };
}
