// Entry point: reads env, opens the database, migrates, serves HTTP(S), shuts down gracefully. Nothing else.
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { createApp, createServices } from './app';
import { tlsServerOptions } from './http/tls-options';
import { createMailNotifier } from './mail/notifier';
import { prepareInstance, StartupError, type PreparedInstance } from './startup';
import { migrateToLatest } from './db/migrator';
import { openSqliteDatabase } from './db/sqlite';
import { ConfigError, loadConfig, type Config } from './env';

/** Configuration problems are the operator's to fix: a clear message and exit code 1, no stack trace. */
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

function readFileNamed(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    return fail(`Invalid configuration:\n  ${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

const config = readConfig();
const logger = pino({ level: config.logLevel });
const tls = config.tls && { cert: readFileNamed('TLS_CERT_FILE', config.tls.certFile), key: readFileNamed('TLS_KEY_FILE', config.tls.keyFile) };

const db = openSqliteDatabase(config.databasePath);
try {
  const applied = await migrateToLatest(db);
  if (applied.length) logger.info({ applied }, 'database migrated');
} catch (error) {
  logger.fatal({ err: error }, 'database migration failed');
  await db.destroy();
  process.exit(1);
}

let prepared: PreparedInstance;
try {
  prepared = await prepareInstance(config, db, logger);
} catch (error) {
  await db.destroy();
  if (error instanceof StartupError) fail(error.message);
  throw error;
}

const notifier = createMailNotifier(config, logger);
const deps = { config, db, logger, opaque: prepared.opaque, notifier };
const services = createServices(deps);
const app = createApp(deps, services);
// Before serving: temp files of writes a crash cut short hold room and are nobody's.
await services.uploads.recoverAfterRestart();
// Events from before the Merkle tree (migration 0010) get their leaves, then a head covers them.
const backfilled = await services.auditLog.backfillMerkleTree();
if (backfilled) logger.info({ events: backfilled }, 'audit Merkle tree backfilled');
await services.auditLog.signHeadIfDue();
const announcement = await prepared.announce(services.setup);
// Lock notices go out once a locked account's last attempt is over; abandoned attempts expire;
// clients are reminded of document requests falling due; accounts deleted 30 days ago are purged.
const sweeper = setInterval(() => {
  services.lifecycle.purgeDueAccounts().catch((error: unknown) => logger.error({ err: error }, 'purge sweep failed'));
  services.auth.notifyLocks().catch((error: unknown) => logger.error({ err: error }, 'lock notification sweep failed'));
  services.uploads.sweepExpiredUploads().catch((error: unknown) => logger.error({ err: error }, 'upload sweep failed'));
  services.requests.sendDueReminders().catch((error: unknown) => logger.error({ err: error }, 'request reminder sweep failed'));
  services.auditLog.pruneExpiredEvents().catch((error: unknown) => logger.error({ err: error }, 'audit retention sweep failed'));
}, 30_000);
sweeper.unref();
// Unsigned audit events wait at most KLUIS_AUDIT_HEAD_MAX_MINUTES for a signed tree head.
const auditSigner = setInterval(() => {
  services.auditLog.signHeadIfDue().catch((error: unknown) => logger.error({ err: error }, 'signing an audit tree head failed'));
}, 5_000);
auditSigner.unref();
const scheme = tls ? 'https' : 'http';
const server = serve(
  {
    fetch: app.fetch,
    port: config.port,
    hostname: config.host,
    ...(tls ? { createServer: createHttpsServer, serverOptions: tlsServerOptions(tls) } : {}),
  },
  (info: AddressInfo) => {
    const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
    logger.info({ publicOrigin: config.publicOrigin, database: config.databasePath }, `Kluis listening on ${scheme}://${host}:${info.port}`);
    if (announcement) {
      // WARNING: a one-time link to create the organisation or recover it: printed for the operator
      // only (stdout, not the structured log), with its token in the #fragment so it never reaches
      // a request log.
      const what = config.recoveryMode ? 'Recover the organisation with its recovery kit' : 'Set up your organisation';
      process.stdout.write(`\n  ${what} (one-time link, valid 24 hours):\n\n    ${announcement}\n\n`);
    }
  },
);
server.once('error', (error) => {
  logger.fatal({ err: error }, 'server failed');
  process.exit(1);
});

let stopping = false;
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // close() waits for open requests; keep-alive connections that stay busy are cut after 10 s.
  const force = setTimeout(() => {
    if ('closeAllConnections' in server) server.closeAllConnections();
  }, 10_000);
  force.unref();
  clearInterval(sweeper);
  clearInterval(auditSigner);
  server.close((error) => {
    clearTimeout(force);
    Promise.all([db.destroy(), notifier.close()]).then(
      () => {
        process.exitCode = error ? 1 : 0;
      },
      (destroyError: unknown) => {
        logger.error({ err: destroyError }, 'closing the database failed');
        process.exitCode = 1;
      },
    );
  });
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
