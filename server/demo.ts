// `npm run demo`: the portal with a demo organisation, made through the same browser flows (shared/crypto, OPAQUE).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { listUsers } from '../shared/api';
import { certifiedIdentity, grantEscrowAccess, invite, login, setupOrganisation, signup } from '../shared/flows/account-flows';
import { browserLikeClient } from './lib/node-api-client';

const dataDir = resolve(process.env.KLUIS_DATA_DIR ?? 'data/demo');
// Its secret in ./secrets/demo, beside ./data/demo as ./secrets is beside ./data (a set KLUIS_DATA_DIR gets the usual sibling).
const secretsDefault = process.env.KLUIS_DATA_DIR ? {} : { KLUIS_SECRETS_DIR: resolve('secrets/demo') };
const port = process.env.PORT ?? '8080';
const origin = process.env.PUBLIC_ORIGIN ?? `http://localhost:${port}`;
const credentialsFile = join(dataDir, 'demo-accounts.txt');

const people = [
  { role: 'admin', name: 'Anna de Vries', email: 'anna@demo.kluis.example', password: 'appeltaart-met-slagroom-42' },
  { role: 'team', name: 'Bram Jansen', email: 'bram@demo.kluis.example', password: 'fietsen-langs-de-amstel-7' },
  { role: 'client', name: 'Carla Bakker', email: 'carla@example.nl', password: 'tulpenvelden-in-april-3' },
  { role: 'client', name: 'Daan Visser', email: 'daan@example.nl', password: 'windmolens-aan-de-zaan-9' },
] as const;

function startServer() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    env: { ...secretsDefault, ...process.env, KLUIS_DATA_DIR: dataDir, PORT: port, PUBLIC_ORIGIN: origin },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const setupLink = new Promise<string | null>((resolveLink, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      buffered += chunk.toString();
      const link = /https?:\/\/\S+\/setup#token=[A-Za-z0-9_-]{43}/.exec(buffered);
      if (link) resolveLink(link[0]);
      else if (buffered.includes('Kluis listening') && existsSync(credentialsFile)) resolveLink(null);
    });
    child.on('exit', (code) => reject(new Error(`the server stopped (exit code ${code ?? 'none'})`)));
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return { child, setupLink };
}

async function createDemoOrganisation(setupLink: string): Promise<void> {
  const api = () => browserLikeClient(origin, origin).api;
  const [admin, team, ...clients] = people;
  const setupToken = new URLSearchParams(new URL(setupLink).hash.slice(1)).get('token')!;
  process.stdout.write('Creating the demo organisation through the browser flows (Argon2id and RSA-4096: about a minute)...\n');
  const setup = await setupOrganisation(api(), { setupToken, organisationName: 'Kantoor De Vries (demo)', email: admin.email, name: admin.name, password: admin.password, language: 'nl', secondFactorRoles: [] });

  const adminApi = api();
  let adminVault = (await login(adminApi, admin.email, admin.password)).vault;
  const outbox = join(dataDir, 'outbox');
  const linkFor = async (email: string) => {
    const { readdir } = await import('node:fs/promises');
    for (const name of (await readdir(outbox)).sort().reverse()) {
      const text = await readFile(join(outbox, name), 'utf8');
      if (!text.includes(`To: ${email}`)) continue;
      const link = /https?:\/\/\S+\/invite#t=[^\s"<>]+/.exec(text.replace(/=\r?\n/g, '').replace(/=3D/g, '='));
      if (link) return link[0];
    }
    throw new Error(`no invitation e-mail for ${email} in ${outbox}`);
  };
  const join_ = async (person: (typeof people)[number], inviterApi: ReturnType<typeof api>, inviterVault: typeof adminVault) => {
    await invite(inviterApi, inviterVault, { email: person.email, role: person.role, language: 'nl' });
    const fragment = new URL(await linkFor(person.email)).hash.slice(1);
    const token = new URLSearchParams(fragment).get('t')!;
    await signup(api(), { token, fragment, name: person.name, password: person.password, language: 'nl' });
  };

  await join_(team, adminApi, adminVault);
  const teamUser = (await adminApi(listUsers, {})).users.find((u) => u.email === team.email)!;
  adminVault = (await login(adminApi, admin.email, admin.password)).vault;
  await grantEscrowAccess(adminApi, adminVault, await certifiedIdentity(adminApi, adminVault, teamUser.id));
  const teamApi = api();
  const teamVault = (await login(teamApi, team.email, team.password)).vault;
  for (const client of clients) await join_(client, teamApi, teamVault);

  const lines = [
    'Kluis demo accounts (demo data only: never use these passwords elsewhere)',
    '',
    ...people.map((p) => `  ${p.role.padEnd(7)} ${p.name.padEnd(14)} ${p.email.padEnd(28)} ${p.password}`),
    '',
    `  Organisation recovery secret: ${setup.recoverySecret}`,
    `  Escrow key fingerprint: ${setup.escrowFingerprint}`,
  ];
  await writeFile(credentialsFile, lines.join('\n') + '\n', { mode: 0o600 });
}

const server = startServer();
try {
  const link = await server.setupLink;
  if (link) await createDemoOrganisation(link);
  process.stdout.write(`\n${await readFile(credentialsFile, 'utf8')}\n  Open ${origin} and sign in. Stop with Ctrl+C.\n\n`);
} catch (error) {
  process.stderr.write(`The demo could not be prepared: ${(error as Error).message}\n`);
  server.child.kill('SIGTERM');
  process.exitCode = 1;
}
