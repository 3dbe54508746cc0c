// Bench accounts on a running Kluis, made through the real browser flows: setup, invitation (.eml outbox), sign-up.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OPAQUE_BENCH_KEY_STRETCHING, randomBytes, toBase64Url } from '../../shared/crypto';
import {
  invite,
  login,
  setupOrganisation,
  signup,
  type FlowOptions,
} from '../../shared/flows/account-flows';
import { browserLikeClient } from '../lib/node-api-client';
import type { ServerProcess } from './server-process';

/** Cheap client-side key stretching (Argon2id 8 KiB, t=1): the server's work is exactly the same. */
const benchStretching: FlowOptions = { keyStretching: OPAQUE_BENCH_KEY_STRETCHING };
const OUTBOX_WAIT_MS = 10_000;
/** Sign-ups at once: each generates an RSA-4096 key pair (WebCrypto runs it off the main thread). */
const SIGNUP_CONCURRENCY = 3;

/** 144 random bits: passes the browser's password rules (strength, no e-mail, name or context words). */
export function benchPassword(): string {
  return toBase64Url(randomBytes(18));
}

export interface BenchAccount {
  readonly email: string;
  readonly password: string;
}

export interface BenchOrganisation {
  readonly accounts: readonly BenchAccount[];
  /** The OPAQUE server key the accounts pinned at sign-up (base64url). */
  readonly opaqueServerPublicKey: string;
}

/** Invitation links in `outboxDir` by recipient (the newest message wins). */
async function invitationLinks(outboxDir: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const names = (await readdir(outboxDir).catch(() => []))
    .filter((name) => name.endsWith('.eml'))
    .sort();
  for (const name of names) {
    // Quoted-printable: join soft line breaks, decode '='; then the header and the link.
    const text = (await readFile(join(outboxDir, name), 'utf8'))
      .replace(/=\r?\n/g, '')
      .replace(/=3D/gi, '=');
    const to = /^To: (?:.*<)?([^\s<>]+@[^\s<>]+?)>?\r?$/m.exec(text)?.[1];
    const link = /https?:\/\/\S+?\/invite#t=[A-Za-z0-9_-]+&[^\s"<>]+/.exec(text)?.[0];
    if (to && link) links.set(to.toLowerCase(), link);
  }
  return links;
}

async function waitForInvitationLinks(
  outboxDir: string,
  emails: readonly string[],
): Promise<Map<string, string>> {
  const deadline = Date.now() + OUTBOX_WAIT_MS;
  for (;;) {
    const links = await invitationLinks(outboxDir);
    const missing = emails.filter((email) => !links.has(email));
    if (missing.length === 0) return links;
    if (Date.now() > deadline)
      throw new Error(`no invitation e-mail in ${outboxDir} for ${missing.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Sets the organisation up from the server's setup link, then the Administrator invites `count`
 * Clients and each signs up from the link in their e-mail. Everything goes through the same shared
 * flows a browser runs; only the client-side key stretching is the bench's cheap one.
 */
export async function createBenchOrganisation(
  server: ServerProcess,
  count: number,
): Promise<BenchOrganisation> {
  const newApi = () => browserLikeClient(server.baseUrl, server.baseUrl).api;
  const setupToken = new URLSearchParams(new URL(server.readyLine).hash.slice(1)).get('token');
  if (!setupToken) throw new Error(`the setup link has no token: ${server.readyLine}`);
  const admin = { email: 'bench-admin@kluis.test', password: benchPassword() };
  const adminApi = newApi();
  await setupOrganisation(
    adminApi,
    {
      setupToken,
      organisationName: 'Kluis bench',
      email: admin.email,
      name: 'Bench Admin',
      password: admin.password,
      language: 'en',
      secondFactorRoles: [],
    },
    benchStretching,
  );
  const { vault } = await login(adminApi, admin.email, admin.password, benchStretching);

  const accounts: BenchAccount[] = Array.from({ length: count }, (_, i) => ({
    email: `bench-${String(i + 1).padStart(2, '0')}@kluis.test`,
    password: benchPassword(),
  }));
  for (const account of accounts)
    await invite(adminApi, vault, { email: account.email, role: 'client', language: 'en' });
  const links = await waitForInvitationLinks(
    join(server.dataDir, 'outbox'),
    accounts.map((a) => a.email),
  );

  const pending = [...accounts];
  const signUpNext = async (): Promise<void> => {
    for (let account = pending.shift(); account; account = pending.shift()) {
      const fragment = new URL(links.get(account.email)!).hash.slice(1);
      const token = new URLSearchParams(fragment).get('t');
      if (!token) throw new Error(`the invitation link for ${account.email} has no token`);
      await signup(
        newApi(),
        { token, fragment, name: account.email, password: account.password, language: 'en' },
        benchStretching,
      );
    }
  };
  await Promise.all(Array.from({ length: SIGNUP_CONCURRENCY }, signUpNext));
  return { accounts, opaqueServerPublicKey: vault.keySafe.opaqueServerPublicKey };
}
