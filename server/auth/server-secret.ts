// The OPAQUE server secret: kept outside the database and the data directory (a 0600 file or an environment variable), checked at start.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { generateOpaqueServerSetup } from './opaque-server';

export interface SecretSource {
  /** KLUIS_OPAQUE_SERVER_SETUP, if set. */
  readonly fromEnv: string | null;
  /** KLUIS_SECRETS_DIR */
  readonly secretsDir: string;
}

export const secretFilePath = (secretsDir: string) => join(secretsDir, 'opaque-server-setup');

/** Where Kluis kept the secret before KLUIS_SECRETS_DIR existed: inside the data directory. */
export const legacySecretFilePath = (dataDir: string) => join(dataDir, 'secrets', 'opaque-server-setup');

export class ServerSecretError extends Error {
  override readonly name = 'ServerSecretError';
}

/** fsync a directory, so that the entries just created, renamed or removed in it survive a crash. */
function fsyncDirectory(path: string): void {
  const dir = openSync(path, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Writes a file durably: temp file, fsync, rename, fsync the directory (and the parents of directories it made). Mode 0600. */
export function writeSecretFile(path: string, content: string): void {
  const created = mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (created !== undefined) fsyncDirectory(dirname(resolve(created)));
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  fsyncDirectory(dirname(path));
}

/** The absolute path with symbolic links resolved as far as it exists (the rest appended as written). */
function realPathSoFar(path: string): string {
  const absolute = resolve(path);
  for (let existing = absolute; ; existing = dirname(existing)) {
    if (existsSync(existing)) return join(realpathSync(existing), relative(existing, absolute));
    if (existing === dirname(existing)) return absolute;
  }
}

/** The real paths of both directories when `secretsDir` is `dataDir` or inside it (a copy of the data would hold the secret); else null. */
export function secretsInsideDataDir(dataDir: string, secretsDir: string): { dataDir: string; secretsDir: string } | null {
  const data = realPathSoFar(dataDir);
  const secrets = realPathSoFar(secretsDir);
  const path = relative(data, secrets);
  const inside = path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
  return inside ? { dataDir: data, secretsDir: secrets } : null;
}

export const secretInDataDirMessage = (paths: { dataDir: string; secretsDir: string }) =>
  [
    `Kluis refuses to start: the secrets directory ${paths.secretsDir} is inside the data directory ${paths.dataDir}.`,
    'The OPAQUE server secret must not be in the data directory: anyone with a copy of it (a backup) could guess passwords offline.',
    'Set KLUIS_SECRETS_DIR to a directory outside it (or unset it: the default is a sibling of the data directory, as ./secrets is of ./data),',
    'or accept the risk with KLUIS_ALLOW_SECRET_IN_DATA_DIR=true.',
  ].join('\n');

/**
 * Moves the secret from where older versions kept it (`<dataDir>/secrets/opaque-server-setup`) to
 * `<secretsDir>/opaque-server-setup`, durably: the new file is written and fsynced before the old one
 * is removed. Returns the old path when it moved the secret (or removed an identical leftover copy).
 * Throws ServerSecretError when both exist and differ.
 */
export function moveLegacySecret(dataDir: string, secretsDir: string): string | null {
  const from = legacySecretFilePath(dataDir);
  const to = secretFilePath(secretsDir);
  if (!existsSync(from) || realPathSoFar(from) === realPathSoFar(to)) return null;
  const secret = readFileSync(from, 'utf8');
  if (!existsSync(to)) writeSecretFile(to, secret);
  else if (readFileSync(to, 'utf8').trim() !== secret.trim()) {
    throw new ServerSecretError(
      [
        `Kluis refuses to start: there are two different OPAQUE server secrets, ${to} and ${from}`,
        '(where older versions of Kluis kept it, inside the data directory). Keep the one this database\'s accounts were made with:',
        `  if it is the old one:  mv ${from} ${to}`,
        `  if it is the new one:  rm ${from}`,
        'then start again (Kluis refuses to start with the wrong one).',
      ].join('\n'),
    );
  }
  unlinkSync(from);
  fsyncDirectory(dirname(from));
  try {
    rmdirSync(dirname(from));
    fsyncDirectory(dataDir);
  } catch {
    // <dataDir>/secrets holds more (secrets replaced in recovery mode): left for the operator.
  }
  return from;
}

/** Reads the secret from the environment or the secrets dir; null when neither has one. */
export function readServerSecret(source: SecretSource): string | null {
  if (source.fromEnv) return source.fromEnv.trim();
  const path = secretFilePath(source.secretsDir);
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8').trim();
}

/** Generates and stores a new secret in the secrets dir (first start, or recovery mode). */
export async function createServerSecret(source: SecretSource): Promise<string> {
  if (source.fromEnv) throw new ServerSecretError('KLUIS_OPAQUE_SERVER_SETUP is set: Kluis does not replace a secret it was given.');
  const setup = await generateOpaqueServerSetup();
  const path = secretFilePath(source.secretsDir);
  if (existsSync(path)) renameSync(path, `${path}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  writeSecretFile(path, setup + '\n');
  return setup;
}

export const missingSecretMessage = (secretsDir: string) =>
  [
    'Kluis refuses to start: this database has accounts, but the OPAQUE server secret they were made with is missing.',
    `Expected it in ${secretFilePath(secretsDir)} or in KLUIS_OPAQUE_SERVER_SETUP.`,
    'Restore that file from your separate secrets backup. If it is lost for good, every password stops working;',
    'start once with KLUIS_RECOVERY_MODE=true and use the organisation recovery kit to let an Administrator back in.',
  ].join('\n');

export const wrongSecretMessage = (secretsDir: string) =>
  [
    'Kluis refuses to start: the OPAQUE server secret is not the one this database\'s accounts were made with',
    `(checked ${secretFilePath(secretsDir)} or KLUIS_OPAQUE_SERVER_SETUP against the public key stored in the database).`,
    'Restore the matching secret from your secrets backup. If it is lost for good, start once with',
    'KLUIS_RECOVERY_MODE=true and use the organisation recovery kit to let an Administrator back in.',
  ].join('\n');
