// The OPAQUE server secret outside the database: created once, checked at every start, and the recovery kit path.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listUsers } from '../shared/api';
import { escrowCopyProof, login, LoginRejectedError, openProfile, RecoverySecretRejectedError, recoverWithKit } from '../shared/flows/account-flows';
import { createApp, createServices } from './app';
import { createOpaqueServer, generateOpaqueServerSetup } from './auth/opaque-server';
import { secretFilePath } from './auth/server-secret';
import { loadConfig } from './env';
import { createRecordingNotifier } from './services/notifications';
import { prepareInstance, StartupError } from './startup';
import { browserLikeClient, listen } from './lib/node-api-client';
import { createTestOrganisation, fast, type TestOrganisation } from './test/org-fixture';
import { makeTestDatabase, testServerSetup } from './test/make-test-app';

const silent = pino({ level: 'silent' });
const repo = fileURLToPath(new URL('..', import.meta.url));

describe('first start', () => {
  it('creates the secret as a 0600 file outside the database and announces a setup link', async () => {
    const database = await makeTestDatabase();
    try {
      const config = loadConfig({ KLUIS_DATA_DIR: database.dataDir });
      const prepared = await prepareInstance(config, database.db, silent);
      const file = secretFilePath(database.dataDir);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await createOpaqueServer((await readFile(file, 'utf8')).trim())).publicKey).toBe(prepared.opaque.publicKey);
      const deps = { config, db: database.db, logger: silent, opaque: prepared.opaque, notifier: createRecordingNotifier() };
      const link = await prepared.announce(createServices(deps).setup);
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
    await mkdir(join(org.testApp.dataDir, 'secrets'), { recursive: true });
    await writeFile(secretFilePath(org.testApp.dataDir), serverSetup + '\n', { mode: 0o600 });
  }, 120_000);
  afterAll(() => org?.close());

  const configFor = (env: Record<string, string> = {}) => loadConfig({ KLUIS_DATA_DIR: org.testApp.dataDir, ...env });

  it('starts with the matching secret', async () => {
    const prepared = await prepareInstance(configFor(), org.testApp.db, silent);
    expect(prepared.opaque.publicKey).toBe((await createOpaqueServer(serverSetup)).publicKey);
  });

  it('refuses to start when the secret is missing, explaining the recovery kit', async () => {
    const config = configFor({ KLUIS_DATA_DIR: join(org.testApp.dataDir, 'elsewhere') });
    const elsewhere = { ...config, dataDir: join(org.testApp.dataDir, 'elsewhere') };
    await expect(prepareInstance(elsewhere, org.testApp.db, silent)).rejects.toThrow(StartupError);
    await expect(prepareInstance(elsewhere, org.testApp.db, silent)).rejects.toThrow(/missing[\s\S]*recovery kit/);
  });

  it('refuses to start with another valid secret, from the environment too', async () => {
    const other = await generateOpaqueServerSetup();
    await expect(prepareInstance(configFor({ KLUIS_OPAQUE_SERVER_SETUP: other }), org.testApp.db, silent)).rejects.toThrow(/not the one/);
  });

  it('a copy of the database with the wrong secret file refuses to start as a process', async () => {
    const copyDir = join(org.testApp.dataDir, 'copy');
    await mkdir(join(copyDir, 'secrets'), { recursive: true });
    // A consistent copy, as a backup would make it (the WAL holds recent commits).
    await sql`VACUUM INTO ${join(copyDir, 'kluis.db')}`.execute(org.testApp.db);
    await writeFile(secretFilePath(copyDir), (await generateOpaqueServerSetup()) + '\n', { mode: 0o600 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', KLUIS_DATA_DIR: copyDir, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(stderr).toContain('refuses to start');
    expect(stderr).toContain('KLUIS_RECOVERY_MODE');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('refuses recovery mode while the secret is intact', async () => {
    await expect(prepareInstance(configFor({ KLUIS_RECOVERY_MODE: 'true' }), org.testApp.db, silent)).rejects.toThrow(/intact/);
  });

  it('restores the escrow key with the recovery kit after the secret was lost', async () => {
    // The secret is lost: recovery mode makes a new one and prints a one-time link.
    await rm(secretFilePath(org.testApp.dataDir));
    const config = configFor({ KLUIS_RECOVERY_MODE: 'true' });
    const prepared = await prepareInstance(config, org.testApp.db, silent);
    const deps = { config, db: org.testApp.db, logger: silent, opaque: prepared.opaque, notifier: createRecordingNotifier() };
    const services = createServices(deps);
    const link = await prepared.announce(services.setup);
    const token = new URLSearchParams(new URL(link!).hash.slice(1)).get('token')!;
    const server = await listen({ app: createApp(deps, services) });
    try {
      const newClient = () => browserLikeClient(server.baseUrl, config.publicOrigin);
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
  }, 60_000);
});
