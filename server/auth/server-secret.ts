// The OPAQUE server secret: kept outside the database (a 0600 file or an environment variable), checked at start.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateOpaqueServerSetup } from './opaque-server';

export interface SecretSource {
  /** KLUIS_OPAQUE_SERVER_SETUP, if set. */
  readonly fromEnv: string | null;
  readonly dataDir: string;
}

export const secretFilePath = (dataDir: string) => join(dataDir, 'secrets', 'opaque-server-setup');

export class ServerSecretError extends Error {
  override readonly name = 'ServerSecretError';
}

/** Writes a file durably: temp file, fsync, rename, fsync the directory. Mode 0600. */
export function writeSecretFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Reads the secret from the environment or the data dir; null when neither has one. */
export function readServerSecret(source: SecretSource): string | null {
  if (source.fromEnv) return source.fromEnv.trim();
  const path = secretFilePath(source.dataDir);
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8').trim();
}

/** Generates and stores a new secret in the data dir (first start, or recovery mode). */
export async function createServerSecret(source: SecretSource): Promise<string> {
  if (source.fromEnv) throw new ServerSecretError('KLUIS_OPAQUE_SERVER_SETUP is set: Kluis does not replace a secret it was given.');
  const setup = await generateOpaqueServerSetup();
  const path = secretFilePath(source.dataDir);
  if (existsSync(path)) renameSync(path, `${path}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  writeSecretFile(path, setup + '\n');
  return setup;
}

export const missingSecretMessage = (dataDir: string) =>
  [
    'Kluis refuses to start: this database has accounts, but the OPAQUE server secret they were made with is missing.',
    `Expected it in ${secretFilePath(dataDir)} or in KLUIS_OPAQUE_SERVER_SETUP.`,
    'Restore that file from your separate secrets backup. If it is lost for good, every password stops working;',
    'start once with KLUIS_RECOVERY_MODE=true and use the organisation recovery kit to let an Administrator back in.',
  ].join('\n');

export const wrongSecretMessage = (dataDir: string) =>
  [
    'Kluis refuses to start: the OPAQUE server secret is not the one this database\'s accounts were made with',
    `(checked ${secretFilePath(dataDir)} or KLUIS_OPAQUE_SERVER_SETUP against the public key stored in the database).`,
    'Restore the matching secret from your secrets backup. If it is lost for good, start once with',
    'KLUIS_RECOVERY_MODE=true and use the organisation recovery kit to let an Administrator back in.',
  ].join('\n');
