// The OPAQUE server secret outside the database and the data directory: created once, checked at every start, moved from the old place, and the recovery kit path.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { confirmEmailFactorSetup, confirmTotpSetup, createBackupCodes, listUsers, startEmailFactorSetup, startTotpSetup } from '../shared/api';
import { escrowCopyProof, login, LoginRejectedError, openProfile, RecoverySecretRejectedError, recoverWithKit } from '../shared/flows/account-flows';
import { createApp, createServices } from './app';
import { createOpaqueServer, generateOpaqueServerSetup } from './auth/opaque-server';
import { legacySecretFilePath, secretFilePath } from './auth/server-secret';
import { loadConfig, type Config } from './env';
import { createRecordingNotifier } from './services/notifications';
import { prepareInstance, StartupError, type PreparedInstance } from './startup';
import { browserLikeClient, listen } from './lib/node-api-client';
import { createTestOrganisation, fast, type TestOrganisation } from './test/org-fixture';
import { makeTestDatabase, testServerSetup, type TestDatabase } from './test/make-test-app';
import { budget } from './test/budget';
import { decodeBase32, totp } from './test/rfc6238';

const silent = pino({ level: 'silent' });
const repo = fileURLToPath(new URL('..', import.meta.url));

/** A logger that keeps its warnings (and worse), parsed. */
function recordingLogger(): { logger: Logger; warnings: () => { msg: string; [key: string]: unknown }[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  return { logger, warnings: () => lines.map((line) => JSON.parse(line) as { msg: string }) };
}

/** The app as index.ts builds it from a prepared instance, listening on a free port. */
async function serve(config: Config, db: Parameters<typeof prepareInstance>[1], prepared: PreparedInstance) {
  const deps = { config, db, logger: silent, opaque: prepared.opaque, notifier: createRecordingNotifier() };
  const services = createServices(deps);
  const link = await prepared.announce(services.setup);
  const server = await listen({ app: createApp(deps, services) });
  return { link, server, newClient: () => browserLikeClient(server.baseUrl, config.publicOrigin) };
}

const writeSecret = async (path: string, secret: string) => {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, secret + '\n', { mode: 0o600 });
};

describe('first start', () => {
  it('creates the secret as a 0600 file outside the database and the data directory, and announces a setup link', async () => {
    const database = await makeTestDatabase();
    try {
      // Only KLUIS_DATA_DIR (<temp>/data), as ./data by default: the secret goes to the sibling <temp>/secrets.
      const config = loadConfig({ KLUIS_DATA_DIR: database.dataDir });
      const prepared = await prepareInstance(config, database.db, silent);
      const file = join(database.tempDir, 'secrets', 'opaque-server-setup');
      expect(secretFilePath(config.secretsDir)).toBe(file);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(database.tempDir, 'secrets'))).mode & 0o777).toBe(0o700);
      expect(existsSync(join(database.dataDir, 'secrets'))).toBe(false);
      expect((await createOpaqueServer((await readFile(file, 'utf8')).trim())).publicKey).toBe(prepared.opaque.publicKey);
      const { link, server } = await serve(config, database.db, prepared);
      await server.close();
      expect(link).toMatch(/^http:\/\/localhost:8080\/setup#token=[A-Za-z0-9_-]{43}$/);
      // The secret is not in the database file.
      expect((await readFile(database.databasePath)).includes(Buffer.from((await readFile(file, 'utf8')).trim()))).toBe(false);
    } finally {
      await database.close();
    }
  });
});

describe('with accounts', () => {
  let org: TestOrganisation;
  let serverSetup: string;

  beforeAll(async () => {
    org = await createTestOrganisation(['team', 'client']);
    // The fixture's server runs on the shared test secret; put it where a real start would look.
    serverSetup = await testServerSetup();
    await writeSecret(secretFilePath(org.testApp.secretsDir), serverSetup);
  }, budget(120_000));
  afterAll(() => org?.close());

  const configFor = (env: Record<string, string> = {}) => loadConfig({ KLUIS_DATA_DIR: org.testApp.dataDir, ...env });

  it('starts with the matching secret', async () => {
    const prepared = await prepareInstance(configFor(), org.testApp.db, silent);
    expect(prepared.opaque.publicKey).toBe((await createOpaqueServer(serverSetup)).publicKey);
  });

  it('starts with the matching secret from KLUIS_OPAQUE_SERVER_SETUP, without the file', async () => {
    const config = configFor({ KLUIS_OPAQUE_SERVER_SETUP: serverSetup, KLUIS_SECRETS_DIR: join(org.testApp.tempDir, 'empty') });
    expect((await prepareInstance(config, org.testApp.db, silent)).opaque.publicKey).toBe((await createOpaqueServer(serverSetup)).publicKey);
    expect(existsSync(join(org.testApp.tempDir, 'empty'))).toBe(false);
  });

  it('moves the secret out of the data directory, where older versions kept it, and logins keep working', async () => {
    await rm(secretFilePath(org.testApp.secretsDir));
    await writeSecret(legacySecretFilePath(org.testApp.dataDir), serverSetup);
    const { logger, warnings } = recordingLogger();
    const config = configFor();
    const prepared = await prepareInstance(config, org.testApp.db, logger);
    const moved = secretFilePath(org.testApp.secretsDir);
    expect((await readFile(moved, 'utf8')).trim()).toBe(serverSetup);
    expect((await stat(moved)).mode & 0o777).toBe(0o600);
    expect(existsSync(join(org.testApp.dataDir, 'secrets'))).toBe(false);
    expect(warnings()).toEqual([
      expect.objectContaining({ level: 40, from: legacySecretFilePath(org.testApp.dataDir), to: moved, msg: expect.stringContaining('backups of the data directory made before now still contain it') as string }),
    ]);
    const { server, newClient } = await serve(config, org.testApp.db, prepared);
    try {
      await login(newClient().api, org.admin.email, org.admin.password, fast);
    } finally {
      await server.close();
    }
    // The next start finds it in its new place and moves nothing.
    const again = recordingLogger();
    expect((await prepareInstance(config, org.testApp.db, again.logger)).opaque.publicKey).toBe(prepared.opaque.publicKey);
    expect(again.warnings()).toEqual([]);
  }, budget(60_000));

  it('refuses to start when the secret is missing, explaining the recovery kit', async () => {
    const elsewhere = configFor({ KLUIS_SECRETS_DIR: join(org.testApp.tempDir, 'elsewhere') });
    await expect(prepareInstance(elsewhere, org.testApp.db, silent)).rejects.toThrow(StartupError);
    await expect(prepareInstance(elsewhere, org.testApp.db, silent)).rejects.toThrow(/missing[\s\S]*recovery kit/);
  });

  it('refuses to start with another valid secret, from the environment too', async () => {
    const other = await generateOpaqueServerSetup();
    await expect(prepareInstance(configFor({ KLUIS_OPAQUE_SERVER_SETUP: other }), org.testApp.db, silent)).rejects.toThrow(/not the one/);
  });

  it('a copy of the database with the wrong secret file refuses to start as a process', async () => {
    const copyDir = join(org.testApp.tempDir, 'copy', 'data');
    await mkdir(copyDir, { recursive: true });
    // A consistent copy, as a backup would make it (the WAL holds recent commits).
    await sql`VACUUM INTO ${join(copyDir, 'kluis.db')}`.execute(org.testApp.db);
    await writeSecret(join(org.testApp.tempDir, 'copy', 'secrets', 'opaque-server-setup'), await generateOpaqueServerSetup());
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', KLUIS_DATA_DIR: copyDir, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), budget(20_000));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(stderr).toContain("refuses to start: the OPAQUE server secret is not the one this database's accounts were made with");
    expect(stderr).toContain('KLUIS_RECOVERY_MODE');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, budget(30_000));

  it('refuses recovery mode while the secret is intact', async () => {
    await expect(prepareInstance(configFor({ KLUIS_RECOVERY_MODE: 'true' }), org.testApp.db, silent)).rejects.toThrow(/intact/);
  });

  it('restores the escrow key with the recovery kit after the secret was lost', async () => {
    // The client has an authenticator app, e-mail codes and backup codes, set up under the old secret.
    const client = await org.relogin(org.members.client!);
    const totpSetup = await client.client.api(startTotpSetup, { body: {} });
    await client.client.api(confirmTotpSetup, { body: { setupId: totpSetup.setupId, code: totp(decodeBase32(totpSetup.secret), Date.now()), name: 'Telefoon' } });
    const { setupId } = await client.client.api(startEmailFactorSetup, { body: {} });
    const sent = (org.testApp.notifier as ReturnType<typeof createRecordingNotifier>).sent.filter((m) => m.to === client.email).at(-1)!.notification;
    await client.client.api(confirmEmailFactorSetup, { body: { setupId, code: sent.kind === 'second_factor_code' ? sent.code : '' } });
    await client.client.api(createBackupCodes, { body: {} });
    const factorKinds = () => org.testApp.db.selectFrom('second_factors').select('kind').where('user_id', '=', client.userId).orderBy('kind').execute();
    expect(await factorKinds()).toEqual([{ kind: 'email' }, { kind: 'totp' }]);

    // The secret is lost: recovery mode makes a new one and prints a one-time link.
    await rm(secretFilePath(org.testApp.secretsDir));
    const config = configFor({ KLUIS_RECOVERY_MODE: 'true' });
    const prepared = await prepareInstance(config, org.testApp.db, silent);
    const { link, server, newClient } = await serve(config, org.testApp.db, prepared);
    const token = new URLSearchParams(new URL(link!).hash.slice(1)).get('token')!;
    // What only the old secret's keys could check is gone (the TOTP secret and the backup codes); e-mail codes stay.
    expect(await factorKinds()).toEqual([{ kind: 'email' }]);
    expect(await org.testApp.db.selectFrom('backup_codes').select('code_hash').execute()).toEqual([]);
    const entered = await org.testApp.db.selectFrom('audit_events').select('details').where('action', '=', 'recovery.mode_entered').executeTakeFirstOrThrow();
    expect(JSON.parse(entered.details)).toMatchObject({ totpFactorsRemoved: 1, backupCodesRemoved: 10 });
    try {
      // Old passwords are dead with the old secret.
      await expect(login(newClient().api, org.admin.email, org.admin.password, fast)).rejects.toBeInstanceOf(LoginRejectedError);
      // A wrong recovery secret opens nothing and changes nothing.
      const wrongSecret = org.recoverySecret.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      await expect(
        recoverWithKit(newClient().api, { recoveryToken: token, email: org.admin.email, recoverySecret: wrongSecret, newPassword: 'nieuw-na-herstel-1' }, fast),
      ).rejects.toBeInstanceOf(RecoverySecretRejectedError);

      await recoverWithKit(newClient().api, { recoveryToken: token, email: org.admin.email, recoverySecret: org.recoverySecret.toLowerCase(), newPassword: 'nieuw-na-herstel-1' }, fast);

      const admin = newClient();
      const { vault } = await login(admin.api, org.admin.email, 'nieuw-na-herstel-1', fast);
      expect(vault.keySafe.opaqueServerPublicKey).toBe(prepared.opaque.publicKey);
      expect(vault.escrow).toBeDefined();
      const { users } = await admin.api(listUsers, {});
      const client = users.find((u) => u.role === 'client')!;
      expect(await openProfile(vault, client, await escrowCopyProof(admin.api, vault, client.id))).toEqual({ name: 'client Persoon' });
      // The link worked once.
      await expect(
        recoverWithKit(newClient().api, { recoveryToken: token, email: org.admin.email, recoverySecret: org.recoverySecret, newPassword: 'x-y-z-w-v-u' }, fast),
      ).rejects.toMatchObject({ code: 'recovery_token_invalid' });
    } finally {
      await server.close();
    }
  }, budget(60_000));
});

describe('the secret apart from the data directory', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await makeTestDatabase();
  });
  afterEach(() => database.close());

  const configWith = (env: Record<string, string>) => loadConfig({ KLUIS_DATA_DIR: database.dataDir, ...env });

  it('refuses a secrets directory inside the data directory (or the data directory itself), naming both and the fix', async () => {
    const realDataDir = await realpath(database.dataDir);
    // Through a symbolic link too: the check compares real paths.
    await symlink(database.dataDir, join(database.tempDir, 'link-to-data'));
    const cases = [
      [join(database.dataDir, 'secrets'), join(realDataDir, 'secrets')],
      [database.dataDir, realDataDir],
      [join(database.tempDir, 'link-to-data', 'keys'), join(realDataDir, 'keys')],
    ];
    for (const [secretsDir, named] of cases) {
      const error = await prepareInstance(configWith({ KLUIS_SECRETS_DIR: secretsDir! }), database.db, silent).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StartupError);
      expect((error as StartupError).message).toContain(`the secrets directory ${named} is inside the data directory ${realDataDir}.`);
      expect((error as StartupError).message).toContain('Set KLUIS_SECRETS_DIR to a directory outside it');
      expect((error as StartupError).message).toContain('KLUIS_ALLOW_SECRET_IN_DATA_DIR=true');
    }
    // Nothing was written into the data directory.
    for (const name of ['secrets', 'keys', 'opaque-server-setup']) expect(existsSync(join(database.dataDir, name))).toBe(false);
    // A sibling whose name merely starts with the data directory's is outside it.
    await prepareInstance(configWith({ KLUIS_SECRETS_DIR: `${database.dataDir}-secrets` }), database.db, silent);
    expect(existsSync(secretFilePath(`${database.dataDir}-secrets`))).toBe(true);
  });

  it('starts with KLUIS_ALLOW_SECRET_IN_DATA_DIR=true, warning at every start', async () => {
    const config = configWith({ KLUIS_SECRETS_DIR: join(database.dataDir, 'secrets'), KLUIS_ALLOW_SECRET_IN_DATA_DIR: 'true' });
    const realDataDir = await realpath(database.dataDir);
    const keys: string[] = [];
    for (let start = 0; start < 2; start++) {
      const { logger, warnings } = recordingLogger();
      keys.push((await prepareInstance(config, database.db, logger)).opaque.publicKey);
      expect(warnings()).toEqual([
        expect.objectContaining({ level: 40, dataDir: realDataDir, secretsDir: join(realDataDir, 'secrets'), msg: expect.stringContaining('KLUIS_ALLOW_SECRET_IN_DATA_DIR is set') as string }),
      ]);
    }
    expect(keys[1]).toBe(keys[0]);
    expect(existsSync(join(database.dataDir, 'secrets', 'opaque-server-setup'))).toBe(true);
  });

  it('refuses to choose between different secrets in the old and the new place, telling how to fix either way', async () => {
    const [old, current] = [await generateOpaqueServerSetup(), await generateOpaqueServerSetup()];
    const from = legacySecretFilePath(database.dataDir);
    const to = secretFilePath(database.secretsDir);
    await writeSecret(from, old);
    await writeSecret(to, current);
    const error = await prepareInstance(configWith({}), database.db, silent).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).message).toContain(`two different OPAQUE server secrets, ${to} and ${from}`);
    expect((error as StartupError).message).toContain(`mv ${from} ${to}`);
    expect((error as StartupError).message).toContain(`rm ${from}`);
    expect((await readFile(from, 'utf8')).trim()).toBe(old);
    expect((await readFile(to, 'utf8')).trim()).toBe(current);
  });

  it('removes an identical copy left in the old place (a move interrupted after the new file was written)', async () => {
    const secret = await generateOpaqueServerSetup();
    await writeSecret(legacySecretFilePath(database.dataDir), secret);
    await writeSecret(secretFilePath(database.secretsDir), secret);
    const prepared = await prepareInstance(configWith({}), database.db, silent);
    expect(prepared.opaque.publicKey).toBe((await createOpaqueServer(secret)).publicKey);
    expect(existsSync(join(database.dataDir, 'secrets'))).toBe(false);
  });

  it('with KLUIS_OPAQUE_SERVER_SETUP, uses no file: nothing is checked, written or moved', async () => {
    const secret = await testServerSetup();
    await writeSecret(legacySecretFilePath(database.dataDir), await generateOpaqueServerSetup());
    const { logger, warnings } = recordingLogger();
    const config = configWith({ KLUIS_OPAQUE_SERVER_SETUP: secret, KLUIS_SECRETS_DIR: join(database.dataDir, 'inside') });
    const prepared = await prepareInstance(config, database.db, logger);
    expect(prepared.opaque.publicKey).toBe((await createOpaqueServer(secret)).publicKey);
    expect(existsSync(join(database.dataDir, 'inside'))).toBe(false);
    expect(existsSync(legacySecretFilePath(database.dataDir))).toBe(true);
    // ...but the operator hears about the secret file lying in the data directory.
    expect(warnings()).toEqual([expect.objectContaining({ path: legacySecretFilePath(database.dataDir), msg: expect.stringContaining('a secret file lies in the data directory') as string })]);
  });
});
