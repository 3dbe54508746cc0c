// Start-up work between "database migrated" and "serving": the OPAQUE server secret, the setup link, recovery mode.
import type { Logger } from 'pino';
import { createOpaqueServer, OpaqueProtocolError, type OpaqueServer } from './auth/opaque-server';
import { createServerSecret, missingSecretMessage, readServerSecret, wrongSecretMessage } from './auth/server-secret';
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

async function openOpaque(secret: string, dataDir: string): Promise<OpaqueServer> {
  try {
    return await createOpaqueServer(secret);
  } catch (error) {
    if (error instanceof OpaqueProtocolError) throw new StartupError(wrongSecretMessage(dataDir));
    throw error;
  }
}

/**
 * Loads (or on first start creates) the OPAQUE server secret and checks it against the accounts.
 * WARNING: the server refuses to start when accounts exist but the secret is missing or is not the
 * one they were made with: serving with another secret would silently lock everyone out.
 */
export async function prepareInstance(config: Config, db: Db, logger: Logger): Promise<PreparedInstance> {
  const source = { fromEnv: config.opaqueServerSetup, dataDir: config.dataDir };
  const organisation = await findOrganisation(db);
  const existing = readServerSecret(source);

  if (config.recoveryMode) {
    if (!organisation) throw new StartupError('KLUIS_RECOVERY_MODE is set, but this Kluis has no organisation to recover. Start without it to set one up.');
    if (existing) {
      const current = await openOpaque(existing, config.dataDir).catch(() => null);
      if (current && current.publicKey === organisation.opaque_server_public_key) {
        throw new StartupError('KLUIS_RECOVERY_MODE is set, but the OPAQUE server secret is intact: passwords still work. Start without it.');
      }
    }
    const secret = config.opaqueServerSetup ?? (await createServerSecret(source));
    const opaque = await openOpaque(secret, config.dataDir);
    logger.warn('recovery mode: a new OPAQUE server secret is in use; every account needs a reset');
    return {
      opaque,
      announce: async (setup) => `${config.publicOrigin}/recover#token=${await setup.enterRecoveryMode(opaque.publicKey)}`,
    };
  }

  if (organisation) {
    if (!existing) throw new StartupError(missingSecretMessage(config.dataDir));
    const opaque = await openOpaque(existing, config.dataDir);
    if (opaque.publicKey !== organisation.opaque_server_public_key) throw new StartupError(wrongSecretMessage(config.dataDir));
    return { opaque, announce: () => Promise.resolve(null) };
  }

  const secret = existing ?? (await createServerSecret(source));
  if (!existing) logger.info({ path: 'secrets/opaque-server-setup' }, 'created the OPAQUE server secret: back it up separately from the database');
  const opaque = await openOpaque(secret, config.dataDir);
  return {
    opaque,
    announce: async (setup) => `${config.publicOrigin}/setup#token=${await setup.issueSetupToken()}`,
  };
}
