// Start-up work between "database migrated" and "serving": the OPAQUE server secret, the setup link, recovery mode.
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { createOpaqueServer, OpaqueProtocolError, type OpaqueServer } from './auth/opaque-server';
import {
  createServerSecret,
  legacySecretFilePath,
  missingSecretMessage,
  moveLegacySecret,
  readServerSecret,
  secretFilePath,
  secretInDataDirMessage,
  secretsInsideDataDir,
  ServerSecretError,
  wrongSecretMessage,
} from './auth/server-secret';
import type { Db } from './db/database';
import type { Config } from './env';
import { findOrganisation } from './repositories/accounts.repository';
import type { SetupService } from './services/setup.service';

/** A problem the operator must fix; index.ts prints the message and exits 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export interface PreparedInstance {
  readonly opaque: OpaqueServer;
  /** Printed to the console once serving: the setup or recovery link, if any. */
  readonly announce: (setup: SetupService) => Promise<string | null>;
}

async function openOpaque(secret: string, secretsDir: string): Promise<OpaqueServer> {
  try {
    return await createOpaqueServer(secret);
  } catch (error) {
    if (error instanceof OpaqueProtocolError) throw new StartupError(wrongSecretMessage(secretsDir));
    throw error;
  }
}

/**
 * Keeps the secret file out of the data directory: refuses a secrets directory inside it (unless
 * KLUIS_ALLOW_SECRET_IN_DATA_DIR), and moves the secret from where older versions kept it.
 * KLUIS_OPAQUE_SERVER_SETUP bypasses the file, so it bypasses both.
 */
function keepSecretApart(config: Config, logger: Logger): void {
  const { dataDir, secretsDir } = config;
  if (config.opaqueServerSetup) {
    if (existsSync(legacySecretFilePath(dataDir))) {
      logger.warn({ path: legacySecretFilePath(dataDir) }, 'KLUIS_OPAQUE_SERVER_SETUP is set, but a secret file lies in the data directory: delete it unless it is one you still need');
    }
    return;
  }
  const inside = secretsInsideDataDir(dataDir, secretsDir);
  if (inside && !config.allowSecretInDataDir) throw new StartupError(secretInDataDirMessage(inside));
  if (inside) logger.warn(inside, 'KLUIS_ALLOW_SECRET_IN_DATA_DIR is set: the OPAQUE server secret is inside the data directory, so a copy of it allows offline password guessing');
  let moved: string | null;
  try {
    moved = moveLegacySecret(dataDir, secretsDir);
  } catch (error) {
    if (error instanceof ServerSecretError) throw new StartupError(error.message);
    throw error;
  }
  if (moved) {
    logger.warn(
      { from: moved, to: secretFilePath(secretsDir) },
      'moved the OPAQUE server secret out of the data directory; backups of the data directory made before now still contain it: keep them as safe as the secret',
    );
  }
}

/**
 * Loads (or on first start creates) the OPAQUE server secret and checks it against the accounts.
 * WARNING: the server refuses to start when accounts exist but the secret is missing or is not the
 * one they were made with: serving with another secret would silently lock everyone out.
 */
export async function prepareInstance(config: Config, db: Db, logger: Logger): Promise<PreparedInstance> {
  keepSecretApart(config, logger);
  if (config.ignoreIpAllowlist) {
    logger.warn(
      'KLUIS_IGNORE_IP_ALLOWLIST is set: the team IP allowlist is NOT enforced; staff can sign in from any address. Correct the list under Settings, then restart without it',
    );
  }
  const source = { fromEnv: config.opaqueServerSetup, secretsDir: config.secretsDir };
  const organisation = await findOrganisation(db);
  const existing = readServerSecret(source);

  if (config.recoveryMode) {
    if (!organisation) throw new StartupError('KLUIS_RECOVERY_MODE is set, but this Kluis has no organisation to recover. Start without it to set one up.');
    if (existing) {
      const current = await openOpaque(existing, config.secretsDir).catch(() => null);
      if (current && current.publicKey === organisation.opaque_server_public_key) {
        throw new StartupError('KLUIS_RECOVERY_MODE is set, but the OPAQUE server secret is intact: passwords still work. Start without it.');
      }
    }
    const secret = config.opaqueServerSetup ?? (await createServerSecret(source));
    const opaque = await openOpaque(secret, config.secretsDir);
    logger.warn('recovery mode: a new OPAQUE server secret is in use; every account needs a reset');
    return {
      opaque,
      announce: async (setup) => `${config.publicOrigin}/recover#token=${await setup.enterRecoveryMode(opaque.publicKey)}`,
    };
  }

  if (organisation) {
    if (!existing) throw new StartupError(missingSecretMessage(config.secretsDir));
    const opaque = await openOpaque(existing, config.secretsDir);
    if (opaque.publicKey !== organisation.opaque_server_public_key) throw new StartupError(wrongSecretMessage(config.secretsDir));
    return { opaque, announce: () => Promise.resolve(null) };
  }

  const secret = existing ?? (await createServerSecret(source));
  if (!existing) logger.info({ path: secretFilePath(config.secretsDir) }, 'created the OPAQUE server secret: back it up separately from the data directory');
  const opaque = await openOpaque(secret, config.secretsDir);
  return {
    opaque,
    announce: async (setup) => `${config.publicOrigin}/setup#token=${await setup.issueSetupToken()}`,
  };
}
