// `npm run db:migrate`: applies pending migrations to the configured database and exits.
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../env';
import { migrateToLatest } from './migrator';
import { openSqliteDatabase } from './sqlite';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  const logger = pino({ level: config.logLevel });
  const db = openSqliteDatabase(config.databasePath);
  try {
    const applied = await migrateToLatest(db);
    logger.info({ database: config.databasePath, applied }, applied.length ? 'migrations applied' : 'database is up to date');
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'migration failed');
    return 1;
  } finally {
    await db.destroy();
  }
}

process.exitCode = await main();
