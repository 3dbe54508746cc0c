// The malicious-server suite of issue 18: a tampering proxy (e2e/support/evil-proxy.ts) turns the real server evil, and
// real Chromium running the real browser code must refuse each attack with a visible security warning and send the
// server no plaintext and no key afterwards (checked on every request body the server received through the proxy).
import { createHash, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';
import { evilTest as test } from './support/evil-fixture';
import type { SignedPayload } from '../shared/api/wire';
import { toBase64Url } from '../shared/crypto';
import { invite, login, signup } from '../shared/flows/account-flows';
import { browserLikeClient } from '../server/lib/node-api-client';
import type { EvilProxy, RuleContext } from './support/evil-proxy';
import type { EvilStack } from './support/evil-fixture';
import {
  type PasskeyBundle,
  alteredEntry,
  entryPayload,
  forgedPasskeyBundle,
  forgedSpaceCreate,
  recordUnder,
  sealTo,
  serverChosenSpaceKey,
  serverChosenUserKey,
  serverRsaPublicKey,
  serverSigningKey,
} from './support/evil-forgery';
import { expectNoKeyMaterial } from './support/key-material';
import { DOCUMENTED_PRF_SALT, openPasskeyWrapping, prfOutputOf } from './support/passkey-prf';
import { authenticator } from './support/totp';
import { addVirtualAuthenticator, type VirtualAuthenticator } from './support/webauthn';
import { confirmTotpSetup, createAuditExport, startTotpSetup } from '../shared/api';
import { type SignedTreeHead, treeHeadBytes } from '../shared/audit/tree-head';
import { joinAuditor } from './support/auditor';
import { expectNoSeriousA11yViolations } from './support/axe';
import { pinsOf } from '../shared/flows/key-safe';
import { findSecretLeaks, type Secret } from './support/requests';
import {
  seedOrganisation,
  type SeededMember,
  type SeededOrganisation,
} from '../server/test/seed-organisation';
import { repoRoot, startKluisServer } from '../server/test/kluis-server';
import { budget } from '../server/test/budget';

// A loaded 2-core machine: seeding runs the production key stretching for four people.
test.describe.configure({ timeout: budget(300_000) });

// --- helpers -----------------------------------------------------------------------------------

const marker = (label: string): string => `KLUIS-EVIL-${label}-${randomBytes(6).toString('hex')}`;

async function signIn(page: Page, member: SeededMember): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toHaveCount(0, {
    timeout: budget(90_000),
  });
}

function documentRow(page: Page, name: string) {
  return page.getByRole('row').filter({ hasText: name });
}

/** Writes a small file with a recognisable plaintext; returns its path and the plaintext to look for. */
async function textFile(
  dir: string,
  label: string,
): Promise<{ name: string; path: string; content: string }> {
  const name = `${label} ${marker('NAME')}.txt`;
  const content = `${marker('CONTENT')} ${'x'.repeat(200)}`;
  const path = join(dir, name);
  await writeFile(path, content);
  return { name, path, content };
}

/** No request body the server received after `since` holds one of the plaintexts or key material. */
function expectServerReceivedNothing(
  proxy: EvilProxy,
  since: number,
  plaintexts: readonly Secret[],
): void {
  const received = proxy.received(since);
  const leaks = findSecretLeaks(received, plaintexts);
  expect(
    leaks.map(
      (leak) =>
        `${leak.request.method} ${leak.request.url}: ${leak.secret} as ${leak.encoding} in the ${leak.where}`,
    ),
    'plaintext the server received through the proxy',
  ).toEqual([]);
  expectNoKeyMaterial(received);
}

async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kluis-evil-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// --- the fixture itself --------------------------------------------------------------------------

/** The encrypted key-safe marks this origin keeps in OPFS (kluis-state/), as one string to compare. */
function deviceMarks(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    let folder: FileSystemDirectoryHandle;
    try {
      folder = await root.getDirectoryHandle('kluis-state');
    } catch {
      return '';
    }
    const parts: string[] = [];
    for await (const [name, handle] of folder.entries()) {
      if (handle.kind !== 'file') continue;
      const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
      parts.push(`${name}:${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`);
    }
    return parts.sort().join(',');
  });
}

test.describe('the tampering proxy', () => {
  test('no production code imports it', async () => {
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (
          /\.(ts|tsx|js|mjs)$/.test(entry.name) &&
          /e2e\/support\/evil-/.test(await readFile(path, 'utf8'))
        )
          offenders.push(relative(repoRoot, path));
      }
    };
    for (const top of ['server', 'client', 'shared', 'migrations']) await walk(join(repoRoot, top));
    expect(offenders).toEqual([]);
  });

  test('with no rules, a client signs in and uploads through it, and the server receives only ciphertext', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const org: SeededOrganisation = await seedOrganisation(evil.server, evil.smtp, [
      'Carla Client',
    ]);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      const file = await textFile(dir, 'Jaarrekening');
      const since = proxy.mark();
      await signIn(page, client);
      await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: budget(90_000) });
      await page.getByLabel('Upload files').setInputFiles(file.path);
      await expect(documentRow(page, file.name)).toBeVisible({ timeout: budget(120_000) });
      const received = proxy.received(since);
      expect(
        received.some(
          (request) =>
            request.method === 'PUT' && /\/api\/uploads\/[^/]+\/parts\/\d+$/.test(request.url),
        ),
      ).toBe(true);
      expect(received.every((request) => request.bodyKnown)).toBe(true);
      expectServerReceivedNothing(proxy, since, [file.name, file.content]);
      // The recorder can fail: the login e-mail address did reach the server.
      expect(findSecretLeaks(received, [client.email]).length).toBeGreaterThan(0);
    });
  });

  test('one rule: a rewritten /api/health answer is what the page shows', async ({
    page,
    evilProxy: proxy,
  }) => {
    const forged = `6.6.6-${randomBytes(3).toString('hex')}`;
    const rule = proxy.rule({
      method: 'GET',
      path: '/api/health',
      rewriteJson: (body) => ({ ...(body as object), version: forged }),
    });
    await page.goto('/');
    await expect(page.getByText(`Version ${forged}`)).toBeVisible();
    expect(rule.hits()).toBeGreaterThan(0);
    rule.remove();
    const real = (await (await page.request.get('/api/health')).json()) as { version: string };
    expect(real.version).not.toBe(forged);
  });
});

// --- scenario helpers ------------------------------------------------------------------------------

interface SpaceView {
  id: string;
  kind: string;
  clientId: string | null;
  sealedKey: string | null;
  wrappedKey: string | null;
  legacy: boolean;
  historyLength: number;
}
interface SpaceList {
  spaces: SpaceView[];
  escrowPublicKey: string;
}
interface HistoryAnswer {
  entries: SignedPayload[];
  more: boolean;
}

/**
 * What each warning must say (client/i18n/en.ts): not just "something is wrong", but what. The
 * space texts are `spaces.security.problems.*`, the account texts `errors.*`.
 */
const SAYS = {
  /** The client's own space: served as a keyless "legacy" space with an empty history. */
  clientSpaceKey:
    /older state of this space|rolled back|offered a key for this space that its creator did not sign/i,
  /** Staff: a seal and entry 0 the client never signed. */
  staffSpaceKey:
    /offered a key for this space that its creator did not sign|nobody vouches for|altered after its author signed/i,
  /** Staff: a user-key escrow copy that does not match its owner's signed statement. */
  escrowCopy:
    /escrow copy|copy your organisation holds|vouched for the copy|does not match|tampered/i,
  /** Staff: the client's keys swapped in the directory. */
  clientKeys:
    /nobody vouches for|did not sign|wrong person|keys of .* changed|not the ones made with their invitation link|not verified/i,
  /** Administrator: the Team Member's key swapped in the directory. */
  grant:
    /keys of .* changed|not the ones made with their invitation link|not verified yet, so nothing was shared/i,
  reattributed: /attributed to someone else|differently from what its author signed|wrong person/i,
  alteredEntry: /altered after its author signed|nobody vouches for|wrong person/i,
  brokenChain: /missing from this space.s history|reordered or duplicated/i,
  rollback: /older state of this space|rolled back/i,
  keySafeRollback: /older copy of your key safe/i,
  /** The recovery form: parameters below the floors are refused as tampering, before any stretching. */
  weakKdf: /weak|parameters|too low|altered|tampered/i,
} as const;

/** A security warning on the page: an alert whose text says what is wrong. */
function securityWarning(page: Page, what: RegExp) {
  return page.getByRole('alert').filter({ hasText: what });
}

const WARNING_BUDGET = { timeout: budget(90_000) };

async function openOwnSpace(page: Page, client: SeededMember): Promise<void> {
  await signIn(page, client);
  await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible({ timeout: budget(90_000) });
}

/** Staff open a client's space from the Clients list, by the client's e-mail address (the name may not decrypt). */
async function openClientSpace(
  page: Page,
  staff: SeededMember,
  client: SeededMember,
): Promise<void> {
  await signIn(page, staff);
  await page.getByRole('link', { name: 'Clients' }).click();
  await page.getByRole('row').filter({ hasText: client.email }).getByRole('link').first().click();
}

async function uploadFile(page: Page, file: { name: string; path: string }): Promise<void> {
  await page.getByLabel('Upload files').setInputFiles(file.path);
  await expect(documentRow(page, file.name)).toBeVisible({ timeout: budget(120_000) });
}

/**
 * After a refused attack the person still tries to upload (if the page lets them): whatever the
 * page does, the proxy's record must then show no new document in the space and no plaintext.
 */
async function tryToUpload(page: Page, file: { name: string; path: string }): Promise<void> {
  const input = page.getByLabel('Upload files');
  if ((await input.count()) === 0 || !(await input.isEnabled())) return;
  await input.setInputFiles(file.path);
  // An upload the page starts shows in Transfers: wait until it has ended, however it ended. The
  // page may also refuse before any transfer starts; then there is nothing to wait for.
  const transfers = page.getByRole('region', { name: 'Transfers' });
  const started = await transfers
    .getByText(file.name)
    .first()
    .waitFor({ timeout: budget(15_000) })
    .then(
      () => true,
      () => false,
    );
  if (started) await expect(transfers).not.toContainText(/in progress/, { timeout: budget(120_000) });
}

/** The space of `clientId` as the server last listed it to anyone. */
function listedSpace(proxy: EvilProxy, clientId: string): SpaceView {
  const lists = proxy.answers('GET', '/api/spaces').map((answer) => answer.body as SpaceList);
  for (const list of lists.reverse()) {
    const space = list.spaces?.find((candidate) => candidate.clientId === clientId);
    if (space) return space;
  }
  throw new Error(`the server never listed a space of ${clientId}`);
}

function escrowPublicKeyOf(proxy: EvilProxy): string {
  const list = proxy.answers('GET', '/api/spaces').at(-1)?.body as SpaceList | undefined;
  if (!list) throw new Error('no space list seen yet');
  return list.escrowPublicKey;
}

/** The whole signed history of a space as the server stores it (asked directly, as the server knows it). */
async function storedHistory(page: Page, spaceId: string): Promise<SignedPayload[]> {
  const answer = (await (
    await page.request.get(`/api/spaces/${spaceId}/history`)
  ).json()) as HistoryAnswer;
  return answer.entries;
}

/** Requests that would put something into `spaceId` (new documents, versions, threads, messages, uploads, adoption). */
function writesTo(proxy: EvilProxy, since: number, spaceId: string): string[] {
  return proxy
    .received(since)
    .filter((request) => request.method !== 'GET' && request.method !== 'HEAD')
    .map((request) => `${request.method} ${new URL(request.url).pathname}`)
    .filter(
      (line) =>
        line.includes(`/api/spaces/${spaceId}`) ||
        /^POST \/api\/uploads$/.test(line) ||
        /^PUT \/api\/uploads\//.test(line),
    );
}

const rewriteSpace = (spaceId: string, change: (space: SpaceView) => SpaceView) => ({
  list: (body: unknown) => {
    const list = body as SpaceList;
    return {
      ...list,
      spaces: list.spaces.map((space) => (space.id === spaceId ? change(space) : space)),
    };
  },
  one: (body: unknown) => {
    const space = body as SpaceView;
    return space.id === spaceId ? change(space) : space;
  },
});

function installSpaceRewrite(
  proxy: EvilProxy,
  spaceId: string,
  change: (space: SpaceView) => SpaceView,
): void {
  const rewrite = rewriteSpace(spaceId, change);
  proxy.rule({ method: 'GET', path: '/api/spaces', rewriteJson: rewrite.list });
  proxy.rule({
    method: 'GET',
    path: '/api/spaces/:spaceId',
    when: (c) => c.params.spaceId === spaceId,
    rewriteJson: rewrite.one,
  });
}

function installHistoryRewrite(
  proxy: EvilProxy,
  spaceId: string,
  change: (entries: SignedPayload[], context: RuleContext) => SignedPayload[],
) {
  return proxy.rule({
    method: 'GET',
    path: '/api/spaces/:spaceId/history',
    when: (c) => c.params.spaceId === spaceId,
    rewriteJson: (body, context) => {
      const answer = body as HistoryAnswer;
      return { ...answer, entries: change(answer.entries, context) };
    },
  });
}

/** A client with a space holding `count` uploaded documents (each upload is one more signed entry). */
async function clientWithDocuments(page: Page, client: SeededMember, dir: string, count: number) {
  await openOwnSpace(page, client);
  const files = [];
  for (let index = 0; index < count; index += 1) {
    const file = await textFile(dir, `Stuk ${index + 1}`);
    await uploadFile(page, file);
    files.push(file);
  }
  return files;
}

/** The signed history of a space rewritten whole from the position the browser asks for (`after`). */
function fromAfter(entries: SignedPayload[], context: RuleContext): SignedPayload[] {
  const after = context.query.get('after');
  return after === null ? entries : entries.slice(Number(after) + 1);
}

/**
 * Rewrites one person in the people list (GET /api/users) and the key directory (GET /api/directory):
 * only fields the answer already has are replaced, so the forged answer keeps the contract's shape.
 */
function installPersonRewrite(
  proxy: EvilProxy,
  userId: string,
  patch: Record<string, unknown>,
): void {
  const apply = (person: Record<string, unknown>) => {
    if (person.id !== userId) return person;
    const next = { ...person };
    for (const [field, value] of Object.entries(patch)) if (field in person) next[field] = value;
    return next;
  };
  proxy.rule({
    method: 'GET',
    path: '/api/users',
    rewriteJson: (body) => ({
      ...(body as object),
      users: (body as { users: Record<string, unknown>[] }).users.map(apply),
    }),
  });
  proxy.rule({
    method: 'GET',
    path: '/api/directory',
    rewriteJson: (body) => ({
      ...(body as object),
      entries: (body as { entries: Record<string, unknown>[] }).entries.map(apply),
    }),
  });
}

/**
 * A Team Member opens the People page and sees `client` with their real name: their browser has
 * certified the client from the invitation link and opened the genuine escrow copy.
 */
async function seenOnPeoplePage(
  page: Page,
  staff: SeededMember,
  client: SeededMember,
): Promise<void> {
  await signIn(page, staff);
  await page
    .getByRole('navigation', { name: 'Portal' })
    .getByRole('link', { name: 'People' })
    .click();
  const row = page.getByRole('row').filter({ hasText: client.email });
  await expect(row).toContainText(client.name, WARNING_BUDGET);
  await expect(row).toContainText('Keys verified');
  await page.close();
}

/** A second Team Member, invited by the Administrator and signed up, not yet granted the escrow key (node-side real flows). */
async function joinAsTeamMember(
  org: SeededOrganisation,
  evil: EvilStack,
  person: { email: string; name: string },
): Promise<SeededMember> {
  const password = 'gele-kanaries-in-de-kooi';
  await invite(org.admin.client.api, org.admin.vault, {
    email: person.email,
    role: 'team',
    language: 'en',
  });
  const mail = await evil.smtp.waitForMessage((m) => m.envelope.to.includes(person.email), budget(60_000));
  const fragment = /https?:\/\/\S+\/invite#(t=\S+)/.exec(mail.text ?? '')?.[1];
  const token = fragment ? new URLSearchParams(fragment).get('t') : null;
  if (!fragment || !token) throw new Error(`no invitation link in the e-mail to ${person.email}`);
  const client = browserLikeClient(`http://127.0.0.1:${evil.server.port}`, evil.server.origin);
  const { userId } = await signup(client.api, {
    token,
    fragment,
    name: person.name,
    password,
    language: 'en',
  });
  const { vault } = await login(client.api, person.email, password);
  return { role: 'team', email: person.email, password, name: person.name, userId, client, vault };
}

// --- the attacks ---------------------------------------------------------------------------------

test.describe('a malicious server', () => {
  test('cannot make a client use a space key of its choosing', async ({
    page,
    newPage,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      const [first] = await clientWithDocuments(page, client, dir, 1);
      const space = listedSpace(proxy, client.userId);
      // The server's own key, sealed to the client's public key as a "legacy" space with no history,
      // and in a second round as the client's own wrap (a wrap it cannot make: it has no user key).
      const evilKey = await serverChosenSpaceKey();
      const clientSpki = toBase64Url(client.vault.privateKey.publicKey.spki);
      const sealed = await sealTo(clientSpki, evilKey, { id: space.id, owner: client.userId });
      installSpaceRewrite(proxy, space.id, (listed) => ({
        ...listed,
        wrappedKey: null,
        sealedKey: sealed,
        legacy: true,
        historyLength: 0,
      }));
      installHistoryRewrite(proxy, space.id, () => []);

      const since = proxy.mark();
      const second = await newPage();
      await openOwnSpace(second, client);
      await expect(securityWarning(second, SAYS.clientSpaceKey).first()).toBeVisible(
        WARNING_BUDGET,
      );
      await expect(documentRow(second, first!.name)).toHaveCount(0);
      const later = await textFile(dir, 'Na de aanval');
      await tryToUpload(second, later);
      expect(
        writesTo(proxy, since, space.id),
        'nothing written to the space after the attack',
      ).toEqual([]);
      expect(
        proxy
          .received(since)
          .some((request) => request.url.endsWith(`/api/spaces/${space.id}/adopt`)),
      ).toBe(false);
      expectServerReceivedNothing(proxy, since, [later.name, later.content]);
    });
  });

  test('cannot make a Team Member use a space key of its choosing (forged escrow seal and entry 0)', async ({
    page,
    newPage,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      await openOwnSpace(page, client);
      const space = listedSpace(proxy, client.userId);
      const stored = await storedHistory(page, space.id);
      const evilKey = await serverChosenSpaceKey();
      const evilSigner = await serverSigningKey();
      const forgedSeal = await sealTo(escrowPublicKeyOf(proxy), evilKey, {
        id: space.id,
        owner: 'escrow',
      });
      const forgedGenesis = await forgedSpaceCreate({
        spaceId: space.id,
        clientId: client.userId,
        author: client.userId,
        signingKey: evilSigner.privateKey,
        escrowSeal: forgedSeal,
        clientWrap:
          entryPayload(stored[0]!).type === 'space.create'
            ? (entryPayload(stored[0]!).body as { clientWrap: string | null }).clientWrap
            : null,
        spaceKey: evilKey,
      });
      installSpaceRewrite(proxy, space.id, (listed) => ({
        ...listed,
        sealedKey: forgedSeal,
        historyLength: 1,
      }));
      installHistoryRewrite(proxy, space.id, (_entries, context) =>
        fromAfter([forgedGenesis], context),
      );

      const since = proxy.mark();
      const teamPage = await newPage();
      await openClientSpace(teamPage, org.team, client);
      await expect(securityWarning(teamPage, SAYS.staffSpaceKey).first()).toBeVisible(
        WARNING_BUDGET,
      );
      const later = await textFile(dir, 'Van het team');
      await tryToUpload(teamPage, later);
      expect(
        writesTo(proxy, since, space.id),
        'nothing written to the space after the attack',
      ).toEqual([]);
      expectServerReceivedNothing(proxy, since, [later.name, later.content]);
    });
  });

  test('cannot make staff open a client profile under a user key of its choosing (forged escrow copy)', async ({
    page,
    newPage,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    // The client signs in once: their space puts them on the staff's Clients list. The Team Member
    // then sees them on the People page (which certifies them from their invitation link) with
    // their real name: the genuine escrow copy opens.
    await openOwnSpace(await newPage(), client);
    await seenOnPeoplePage(await newPage(), org.team, client);
    const forgedName = `Mallory ${marker('PROFIEL')}`;
    const evilUserKey = await serverChosenUserKey();
    // The escrow public key as the server serves it to anyone who creates a space.
    const escrowSpki = toBase64Url(org.admin.vault.escrow!.publicKey.spki);
    const forgedCopy = await sealTo(escrowSpki, evilUserKey, {
      id: client.userId,
      owner: 'escrow',
    });
    const forgedProfile = await recordUnder(
      evilUserKey,
      { name: forgedName },
      { type: 'profile', id: client.userId, owner: client.userId },
    );
    installPersonRewrite(proxy, client.userId, {
      escrowUserKey: forgedCopy,
      profile: forgedProfile,
    });

    const since = proxy.mark();
    await signIn(page, org.team);
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'People' })
      .click();
    await expect(securityWarning(page, SAYS.escrowCopy).first()).toBeVisible(WARNING_BUDGET);
    await expect(page.getByText(forgedName)).toHaveCount(0);
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'Clients' })
      .click();
    await expect(page.getByRole('row').filter({ hasText: client.email })).toBeVisible();
    await expect(page.getByText(forgedName)).toHaveCount(0);
    expectServerReceivedNothing(proxy, since, [forgedName]);
  });

  test('cannot substitute the escrow public key a client seals their new space key to', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    const substitute = await serverRsaPublicKey();
    proxy.rule({
      method: 'GET',
      path: '/api/spaces',
      rewriteJson: (body) => ({ ...(body as SpaceList), escrowPublicKey: substitute }),
    });
    const since = proxy.mark();
    await signIn(page, client);
    await expect(
      securityWarning(
        page,
        /security|organisation key|escrow|fingerprint|does not match|altered/i,
      ).first(),
    ).toBeVisible(WARNING_BUDGET);
    expect(
      proxy
        .received(since)
        .filter(
          (request) => request.method === 'POST' && new URL(request.url).pathname === '/api/spaces',
        ),
    ).toEqual([]);
    expectNoKeyMaterial(proxy.received(since));
  });

  for (const certified of [true, false]) {
    test(`cannot substitute a client’s keys in the directory when staff share with the client (${certified ? 'a certified client' : 'before any staff browser certified the client'})`, async ({
      page,
      newPage,
      evilProxy: proxy,
      evil,
    }) => {
      const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
      const client = org.clients[0]!;
      await withTempDir(async (dir) => {
        await openOwnSpace(page, client);
        // Certified: a Team Member saw them on the People page before the server turned evil. Not yet
        // certified: the client's invitation binding is the only thing that can tell their keys apart.
        if (certified) await seenOnPeoplePage(await newPage(), org.team, client);
        const space = listedSpace(proxy, client.userId);
        const genesis = entryPayload((await storedHistory(page, space.id))[0]!);
        // The server swaps the client's encryption and signing keys for its own and signs a new entry 0 with them.
        const evilSigner = await serverSigningKey();
        const evilRsa = await serverRsaPublicKey();
        const evilKey = await serverChosenSpaceKey();
        const forgedSeal = await sealTo(escrowPublicKeyOf(proxy), evilKey, {
          id: space.id,
          owner: 'escrow',
        });
        const forgedGenesis = await forgedSpaceCreate({
          spaceId: space.id,
          clientId: client.userId,
          author: client.userId,
          signingKey: evilSigner.privateKey,
          escrowSeal: forgedSeal,
          clientWrap: genesis.type === 'space.create' ? genesis.body.clientWrap : null,
          spaceKey: evilKey,
        });
        installPersonRewrite(proxy, client.userId, {
          publicKey: evilRsa,
          signingPublicKey: evilSigner.spki,
        });
        installSpaceRewrite(proxy, space.id, (listed) => ({
          ...listed,
          sealedKey: forgedSeal,
          historyLength: 1,
        }));
        installHistoryRewrite(proxy, space.id, (_entries, context) =>
          fromAfter([forgedGenesis], context),
        );

        const since = proxy.mark();
        const teamPage = await newPage();
        await openClientSpace(teamPage, org.team, client);
        // Soft: whether or not the warning shows, what reached the server is checked too.
        await expect
          .soft(securityWarning(teamPage, SAYS.clientKeys).first())
          .toBeVisible(WARNING_BUDGET);
        const later = await textFile(dir, 'Gedeeld door het team');
        await tryToUpload(teamPage, later);
        expect(
          writesTo(proxy, since, space.id),
          'nothing written to the space after the attack',
        ).toEqual([]);
        expectServerReceivedNothing(proxy, since, [later.name, later.content]);
      });
    });
  }

  test('cannot substitute a Team Member’s public key when an Administrator grants the escrow key', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, []);
    const newcomer = await joinAsTeamMember(org, evil, {
      email: 'tineke@kantoor.test',
      name: 'Tineke Team',
    });
    const substitute = await serverRsaPublicKey();
    installPersonRewrite(proxy, newcomer.userId, { publicKey: substitute });

    const since = proxy.mark();
    await signIn(page, org.admin);
    await page
      .getByRole('navigation', { name: 'Portal' })
      .getByRole('link', { name: 'People' })
      .click();
    // By e-mail address: the People page may not be able to decrypt the newcomer's name.
    const row = page.getByRole('row').filter({ hasText: newcomer.email });
    await expect(row).toBeVisible();
    // Either the grant action is withheld with a warning, or the grant itself is refused with one.
    const grant = row.getByRole('button', { name: /^Grant the organisation key to / });
    if ((await grant.count()) > 0 && (await grant.isEnabled())) {
      await grant.click();
      const dialog = page.getByRole('dialog', { name: /^Grant the organisation key to / });
      const confirm = dialog.getByLabel('I compared the fingerprint and it matches');
      if ((await confirm.count()) > 0 && (await confirm.isEnabled())) {
        await confirm.check();
        const grantKey = dialog.getByRole('button', { name: 'Grant the key' });
        if (await grantKey.isEnabled()) await grantKey.click();
      }
    }
    await expect(securityWarning(page, SAYS.grant).first()).toBeVisible(WARNING_BUDGET);
    await expect(page.getByText(/was granted the organisation key/)).toHaveCount(0);
    expect(
      proxy
        .received(since)
        .filter(
          (request) =>
            request.method === 'POST' && new URL(request.url).pathname === '/api/escrow/grants',
        ),
    ).toEqual([]);
    expectNoKeyMaterial(proxy.received(since));
  });

  test('cannot re-attribute a message', async ({ page, newPage, evilProxy: proxy, evil }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await openOwnSpace(page, client);
    const subject = `Vraag ${marker('ONDERWERP')}`;
    const text = `Graag de jaarrekening ${marker('BERICHT')}`;
    const teamPage = await newPage();
    await openClientSpace(teamPage, org.team, client);
    await teamPage.getByRole('tab', { name: 'Messages' }).click();
    await teamPage.getByRole('button', { name: 'New thread' }).click();
    await teamPage.getByLabel('Subject').fill(subject);
    await teamPage.getByLabel('Message').fill(text);
    await teamPage.getByRole('button', { name: 'Send' }).click();
    await expect(teamPage.getByText(text)).toBeVisible({ timeout: budget(60_000) });

    // The server claims the client wrote it (listing and thread alike).
    const asClient = (message: Record<string, unknown>) => ({
      ...message,
      authorId: client.userId,
    });
    proxy.rule({
      method: 'GET',
      path: '/api/threads/:threadId',
      rewriteJson: (body) => {
        const answer = body as {
          thread: Record<string, unknown>;
          messages: Record<string, unknown>[];
        };
        return {
          ...answer,
          thread: { ...answer.thread, createdBy: client.userId },
          messages: answer.messages.map(asClient),
        };
      },
    });
    proxy.rule({
      method: 'GET',
      path: '/api/spaces/:spaceId/threads',
      rewriteJson: (body) => {
        const answer = body as { threads: Record<string, unknown>[] };
        return {
          ...answer,
          threads: answer.threads.map((thread) => ({
            ...thread,
            createdBy: client.userId,
            lastAuthorId: client.userId,
          })),
        };
      },
    });
    const since = proxy.mark();
    const again = await newPage();
    await openOwnSpace(again, client);
    await again.getByRole('tab', { name: /Messages/ }).click();
    await again.getByRole('link', { name: subject }).click();
    await expect(securityWarning(again, SAYS.reattributed).first()).toBeVisible(WARNING_BUDGET);
    expectServerReceivedNothing(proxy, since, [subject, text]);
  });

  test('cannot re-attribute an upload', async ({ page, newPage, evilProxy: proxy, evil }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      await openOwnSpace(page, client);
      const teamPage = await newPage();
      await openClientSpace(teamPage, org.team, client);
      const file = await textFile(dir, 'Aangifte van het team');
      await uploadFile(teamPage, file);

      // The server says the client uploaded it.
      const asClient = (version: Record<string, unknown>) => ({
        ...version,
        uploadedBy: client.userId,
      });
      const rewriteDocument = (document: Record<string, unknown>) => ({
        ...document,
        createdBy: client.userId,
        current: asClient(document.current as Record<string, unknown>),
      });
      proxy.rule({
        method: 'GET',
        path: '/api/spaces/:spaceId/documents',
        rewriteJson: (body) => ({
          ...(body as object),
          documents: (body as { documents: Record<string, unknown>[] }).documents.map(
            rewriteDocument,
          ),
        }),
      });
      proxy.rule({
        method: 'GET',
        path: '/api/documents/:documentId',
        rewriteJson: (body) => {
          const answer = body as {
            document: Record<string, unknown>;
            versions: Record<string, unknown>[];
          };
          return {
            ...answer,
            document: rewriteDocument(answer.document),
            versions: answer.versions.map(asClient),
          };
        },
      });
      const since = proxy.mark();
      const again = await newPage();
      await openOwnSpace(again, client);
      await expect(securityWarning(again, SAYS.reattributed).first()).toBeVisible(WARNING_BUDGET);
      expectServerReceivedNothing(proxy, since, [file.name, file.content]);
    });
  });

  test('cannot change the author of a signed entry', async ({
    page,
    newPage,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      const files = await clientWithDocuments(page, client, dir, 1);
      const space = listedSpace(proxy, client.userId);
      // Entry 1 (the upload) now names the Team Member as its author; the signature is the client's.
      installHistoryRewrite(proxy, space.id, (entries) =>
        entries.map((entry) =>
          entryPayload(entry).seq === 1
            ? alteredEntry(entry, (payload) => ({ ...payload, author: org.team.userId }))
            : entry,
        ),
      );
      const since = proxy.mark();
      const teamPage = await newPage();
      await openClientSpace(teamPage, org.team, client);
      await expect(securityWarning(teamPage, SAYS.alteredEntry).first()).toBeVisible(
        WARNING_BUDGET,
      );
      expectServerReceivedNothing(
        proxy,
        since,
        files.flatMap((file) => [file.name, file.content]),
      );
    });
  });

  for (const attack of [
    {
      name: 'drop',
      what: 'a dropped entry',
      change: (entries: SignedPayload[]) =>
        entries.filter((entry) => entryPayload(entry).seq !== 1),
    },
    {
      name: 'reorder',
      what: 'reordered entries',
      change: (entries: SignedPayload[]) => {
        const at = entries.findIndex((entry) => entryPayload(entry).seq === 1);
        if (at < 0 || at + 1 >= entries.length) return entries;
        const copy = [...entries];
        [copy[at], copy[at + 1]] = [copy[at + 1]!, copy[at]!];
        return copy;
      },
    },
    {
      name: 'duplicate',
      what: 'a duplicated entry',
      change: (entries: SignedPayload[]) =>
        entries.flatMap((entry) => (entryPayload(entry).seq === 1 ? [entry, entry] : [entry])),
    },
  ]) {
    test(`cannot show a space history with ${attack.what}`, async ({
      page,
      newPage,
      evilProxy: proxy,
      evil,
    }) => {
      const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
      const client = org.clients[0]!;
      await withTempDir(async (dir) => {
        const files = await clientWithDocuments(page, client, dir, 2);
        const space = listedSpace(proxy, client.userId);
        installHistoryRewrite(proxy, space.id, (entries) => attack.change(entries));
        const since = proxy.mark();
        const teamPage = await newPage();
        await openClientSpace(teamPage, org.team, client);
        await expect(securityWarning(teamPage, SAYS.brokenChain).first()).toBeVisible(
          WARNING_BUDGET,
        );
        const later = await textFile(dir, 'Na het knoeien');
        await tryToUpload(teamPage, later);
        expect(writesTo(proxy, since, space.id), 'nothing built on a tampered history').toEqual([]);
        expectServerReceivedNothing(proxy, since, [
          ...files.flatMap((file) => [file.name, file.content]),
          later.name,
          later.content,
        ]);
      });
    });
  }

  test('cannot roll a space back to an older state', async ({ page, evilProxy: proxy, evil }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      const [first] = await clientWithDocuments(page, client, dir, 1);
      const space = listedSpace(proxy, client.userId);
      const older = proxy.answers('GET', '/api/spaces/:spaceId/documents').at(-1)!;
      const olderHistory = (await storedHistory(page, space.id)).length;
      const second = await textFile(dir, 'Net geüpload');
      const beforeSecond = proxy.mark();
      await uploadFile(page, second);
      // The browser remembers the newer head in its key safe (written in batches, a moment after the
      // write): wait for a key-safe update sent after the second document was created.
      const created = proxy
        .received(beforeSecond)
        .filter(
          (request) =>
            request.method === 'POST' &&
            new URL(request.url).pathname === `/api/spaces/${space.id}/documents`,
        )
        .at(-1);
      expect(created, 'the second upload created a document').toBeDefined();
      await proxy.waitForAnswer('PUT', '/api/account/key-safe', created!.seq, budget(90_000));
      // Now the server serves the state before the second upload.
      installHistoryRewrite(proxy, space.id, (entries) =>
        entries.filter((entry) => entryPayload(entry).seq < olderHistory),
      );
      installSpaceRewrite(
        proxy,
        space.id,
        (listed) => ({ ...listed, historyLength: olderHistory, documentCount: 1 }) as SpaceView,
      );
      proxy.rule({
        method: 'GET',
        path: '/api/spaces/:spaceId/documents',
        when: (c) => c.params.spaceId === space.id,
        replay: older,
      });
      const since = proxy.mark();
      await page.reload();
      await expect(page.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toBeVisible();
      await page.getByLabel('Password', { exact: true }).fill(client.password);
      await page.getByRole('button', { name: 'Unlock' }).click();
      await expect(securityWarning(page, SAYS.rollback).first()).toBeVisible(WARNING_BUDGET);
      expect(first).toBeDefined();
      expectServerReceivedNothing(proxy, since, [
        first!.name,
        first!.content,
        second.name,
        second.content,
      ]);
    });
  });

  test('cannot replay an older key safe at sign-in', async ({ page, evilProxy: proxy, evil }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      const since0 = proxy.mark();
      await openOwnSpace(page, client);
      const firstLogin = await proxy.waitForAnswer('POST', '/api/auth/login/finish', since0);
      const oldKeys = (firstLogin.body as { keys: { keySafe: string; keySafeRevision: number } })
        .keys;
      // Anything that updates the key safe (a verified new head after an upload): its revision goes up.
      const afterLogin = proxy.mark();
      const marksBefore = await deviceMarks(page);
      const file = await textFile(dir, 'Bijgewerkt');
      await uploadFile(page, file);
      await proxy.waitForAnswer('PUT', '/api/account/key-safe', afterLogin, budget(90_000));
      // The worker raises this device's mark (OPFS) right after the key safe write is answered; a
      // reload before that would leave the old mark, and the replay could not be told apart.
      await expect.poll(() => deviceMarks(page), { timeout: budget(90_000) }).not.toBe(marksBefore);

      proxy.rule({
        method: 'POST',
        path: '/api/auth/login/finish',
        rewriteJson: (body) => {
          const bundle = body as { keys: Record<string, unknown> };
          return {
            ...bundle,
            keys: {
              ...bundle.keys,
              keySafe: oldKeys.keySafe,
              keySafeRevision: oldKeys.keySafeRevision,
            },
          };
        },
      });
      const since = proxy.mark();
      await page.reload();
      await expect(page.getByRole('heading', { level: 1, name: 'Kluis is locked' })).toBeVisible();
      await page.getByLabel('Password', { exact: true }).fill(client.password);
      await page.getByRole('button', { name: 'Unlock' }).click();
      await expect(securityWarning(page, SAYS.keySafeRollback).first()).toBeVisible(WARNING_BUDGET);
      expectServerReceivedNothing(proxy, since, [file.name, file.content, client.password]);
    });
  });

  test('cannot downgrade the key-stretching parameters of the recovery secret', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, []);
    // The operator restarts Kluis in recovery mode on the same data (behind the same proxy).
    // The OPAQUE server secret is lost (recovery mode refuses to start while it is intact).
    await evil.server.stop({ keepDataDir: true });
    await rm(join(evil.server.secretsDir, 'opaque-server-setup'));
    const recovering = await startKluisServer({
      directories: { dataDir: evil.server.dataDir, secretsDir: evil.server.secretsDir },
      env: { SMTP_URL: evil.smtp.url, PUBLIC_ORIGIN: proxy.origin, KLUIS_RECOVERY_MODE: 'true' },
    });
    try {
      proxy.target(`http://127.0.0.1:${recovering.port}`);
      const [link] = await recovering.waitForOutput(
        /http:\/\/\S+\/recover#token=[A-Za-z0-9_-]{43}/,
      );
      const rule = proxy.rule({
        method: 'POST',
        path: '/api/recovery/start',
        rewriteJson: (body) => {
          const answer = body as { escrow: Record<string, unknown> };
          return {
            ...answer,
            escrow: {
              ...answer.escrow,
              recoveryParams: { memoryKiB: 1024, iterations: 1, parallelism: 1 },
            },
          };
        },
      });
      const since = proxy.mark();
      await page.goto(link);
      await page.getByLabel('E-mail address').fill(org.admin.email);
      await page.getByLabel('Recovery secret').fill('ABCD-EFGH-JKMN-PQRS-TVWX-YZ23-4567-89AB');
      await page.getByLabel('New password', { exact: true }).fill('groene-appels-in-de-herfst');
      // The live checklist (zxcvbn in the crypto worker) agrees before the form is sent.
      await expect(page.getByText('The password meets every rule.')).toBeAttached();
      await page.getByRole('button', { name: 'Recover and sign in' }).click();
      await expect(securityWarning(page, SAYS.weakKdf).first()).toBeVisible(WARNING_BUDGET);
      // Refused before any key stretching: not the answer a wrong secret gets.
      await expect(
        page.getByText('This recovery secret does not open the organisation key'),
      ).toHaveCount(0);
      expect(rule.hits()).toBeGreaterThan(0);
      expect(
        proxy
          .received(since)
          .some((request) => new URL(request.url).pathname === '/api/recovery/finish'),
      ).toBe(false);
      expectNoKeyMaterial(proxy.received(since));
    } finally {
      await recovering.stop();
    }
  });

  test('cannot swap the wrapped file keys of two versions', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    await withTempDir(async (dir) => {
      const [file] = await clientWithDocuments(page, client, dir, 1);
      await documentRow(page, file!.name).getByRole('button', { name: 'History' }).click();
      const history = page.getByRole('dialog');
      const v2Dir = join(dir, 'v2');
      await mkdir(v2Dir);
      await writeFile(join(v2Dir, file!.name), `${marker('V2')} ${'y'.repeat(200)}`);
      await history.getByLabel('Upload new version').setInputFiles(join(v2Dir, file!.name));
      await expect(history.getByRole('listitem')).toHaveCount(2, { timeout: budget(90_000) });
      await page.keyboard.press('Escape');

      const swapKeys = (versions: Record<string, unknown>[]) => {
        if (versions.length < 2) return versions;
        const [a, b] = [versions[0]!, versions[1]!];
        return [
          { ...a, wrappedFileKey: b.wrappedFileKey },
          { ...b, wrappedFileKey: a.wrappedFileKey },
          ...versions.slice(2),
        ];
      };
      let swappedCurrent: string | undefined;
      proxy.rule({
        method: 'GET',
        path: '/api/documents/:documentId',
        rewriteJson: (body) => {
          const answer = body as {
            document: { current: Record<string, unknown> };
            versions: Record<string, unknown>[];
          };
          const versions = swapKeys(answer.versions);
          const current =
            versions.find((version) => version.id === answer.document.current.id) ??
            answer.document.current;
          swappedCurrent = current.wrappedFileKey as string;
          return { ...answer, document: { ...answer.document, current }, versions };
        },
      });
      proxy.rule({
        method: 'GET',
        path: '/api/spaces/:spaceId/documents',
        rewriteJson: (body) => {
          const answer = body as { documents: { current: Record<string, unknown> }[] };
          return {
            ...answer,
            documents: answer.documents.map((document) =>
              swappedCurrent
                ? { ...document, current: { ...document.current, wrappedFileKey: swappedCurrent } }
                : document,
            ),
          };
        },
      });
      const since = proxy.mark();
      await documentRow(page, file!.name).getByRole('button', { name: 'History' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Download version 1' }).click();
      await expect(page.getByText(/altered or (is )?damaged/i).first()).toBeVisible(WARNING_BUDGET);
      await expect(page.getByText(/up-to-date browser/i)).toHaveCount(0);
      expectServerReceivedNothing(proxy, since, [file!.name, file!.content]);
    });
  });

  for (const attack of [
    { what: 'truncated', change: (bytes: Buffer) => bytes.subarray(0, bytes.length - 17) },
    { what: 'extended', change: (bytes: Buffer) => Buffer.concat([bytes, randomBytes(64)]) },
  ]) {
    test(`cannot serve a ${attack.what} file`, async ({ page, evilProxy: proxy, evil }) => {
      const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
      const client = org.clients[0]!;
      await withTempDir(async (dir) => {
        const [file] = await clientWithDocuments(page, client, dir, 1);
        const rule = proxy.rule({
          method: 'GET',
          path: '/api/versions/:versionId/content',
          rewriteBytes: attack.change,
        });
        const since = proxy.mark();
        const started = page.waitForEvent('download', { timeout: budget(120_000) });
        await documentRow(page, file!.name).getByRole('button', { name: 'Download' }).click();
        const download = await started;
        expect(await download.failure()).not.toBeNull();
        await expect(page.getByRole('region', { name: 'Transfers' })).toContainText(
          /altered or (is )?damaged/i,
          WARNING_BUDGET,
        );
        expect(rule.hits()).toBeGreaterThan(0);
        expectServerReceivedNothing(proxy, since, [file!.name, file!.content]);
      });
    });
  }
});

// --- issue 20: passkeys ("unlock with passkey") and the second sign-in step -----------------------

/** What the browser says when it refuses a sign-in the server tampered with (client/i18n/en.ts). */
const SIGN_IN_SAYS = {
  /** A passkey sign-in whose answer does not open with the passkey: `passkeys.signIn.tampered`. */
  passkeyTampered: /does not open with your passkey.*tampered with/i,
  /** Options naming another site than this page's: `passkeys.errors.foreignSite`. */
  foreignSite: /asked for a passkey of another website/i,
  /** A password sign-in whose keys do not open: `login.tampered`. */
  passwordTampered: /do not open with your password.*tampered with/i,
} as const;

const passkeysSection = (page: Page) => page.getByRole('region', { name: 'Passkeys and security keys' });
const passkeySignIn = (page: Page) => page.getByRole('region', { name: 'Sign in with a passkey' });
const portalHeading = (page: Page) => page.getByRole('heading', { level: 1, name: 'My documents' });

async function openAccount(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Passkeys and security keys' })).toBeVisible();
}

async function logOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: /Account menu/ }).click();
  await page.getByRole('list', { name: 'Account menu' }).getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
}

/** The password step alone (the second step, if the account has one, is the caller's). */
async function submitPassword(page: Page, member: SeededMember): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('E-mail address').fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

interface UnlockingPasskey {
  readonly authenticator: VirtualAuthenticator;
  /** base64url, as the browser reports it. */
  readonly credentialId: string;
  readonly factorId: string;
  /** The wrapping of the user key the browser uploaded (base64url), as the server stores it. */
  readonly wrappedUserKey: string;
}

/**
 * A passkey added under Account by a signed-in person, with "unlock with passkey" turned on, as
 * e2e/passkeys.spec.ts does it; the credential comes from the authenticator, the factor id and the
 * wrapping from the request the server received.
 */
async function addUnlockingPasskey(
  page: Page,
  proxy: EvilProxy,
  authenticator: VirtualAuthenticator,
  name: string,
): Promise<UnlockingPasskey> {
  const known = new Set((await authenticator.credentials()).map((c) => c.credentialId));
  await openAccount(page);
  await passkeysSection(page).getByLabel('Name', { exact: true }).fill(name);
  await passkeysSection(page).getByRole('button', { name: 'Add passkey' }).click();
  await expect(passkeysSection(page)).toContainText(`“${name}” was added. It can also unlock Kluis`);
  const credential = (await authenticator.credentials()).find((c) => !known.has(c.credentialId));
  expect(credential, 'the new credential in the authenticator').toBeDefined();
  const since = proxy.mark();
  await passkeysSection(page)
    .getByRole('button', { name: `Use “${name}” to unlock Kluis without the password` })
    .click();
  await expect(passkeysSection(page)).toContainText(`“${name}” now unlocks Kluis`);
  const put = proxy
    .received(since)
    .find((r) => r.method === 'PUT' && /\/api\/account\/passkeys\/[A-Za-z0-9_-]{22}\/unlock$/.test(r.url));
  expect(put, 'the request that turned unlock on').toBeDefined();
  return {
    authenticator,
    credentialId: Buffer.from(credential!.credentialId, 'base64').toString('base64url'),
    factorId: /passkeys\/([A-Za-z0-9_-]{22})\/unlock$/.exec(put!.url)![1]!,
    wrappedUserKey: (JSON.parse(put!.body.toString('utf8')) as { wrappedUserKey: string }).wrappedUserKey,
  };
}

/** A person with a browser (a context of its own) and an unlocking passkey there, signed out again. */
async function personWithUnlockingPasskey(
  page: Page,
  proxy: EvilProxy,
  member: SeededMember,
  name: string,
): Promise<UnlockingPasskey> {
  const authenticator = await addVirtualAuthenticator(page.context(), page, { prf: true });
  await signIn(page, member);
  await expect(portalHeading(page)).toBeVisible(WARNING_BUDGET);
  const passkey = await addUnlockingPasskey(page, proxy, authenticator, name);
  await logOut(page);
  return passkey;
}

/** Requests after `since` that would change anything on the server (all but reads). */
function writesAfter(proxy: EvilProxy, since: number): string[] {
  return proxy
    .received(since)
    .filter((request) => request.method !== 'GET' && request.method !== 'HEAD')
    .map((request) => `${request.method} ${new URL(request.url).pathname}`);
}

/**
 * Clicks "Sign in with a passkey" while `rewrite` changes the server's answer to the passkey sign-in,
 * and checks the refusal: an alert that says what happened, no portal, no name of whoever the forged
 * answer names, and nothing sent after the answer but the request that asked for it.
 */
async function expectPasskeySignInRefused(
  page: Page,
  proxy: EvilProxy,
  attack: { readonly rewrite: (bundle: PasskeyBundle) => unknown; readonly mustNotShow: readonly string[] },
): Promise<void> {
  const rule = proxy.rule({
    method: 'POST',
    path: '/api/auth/passkey/finish',
    times: 1,
    rewriteJson: (body) => attack.rewrite(body as PasskeyBundle),
  });
  const since = proxy.mark();
  await passkeySignIn(page).getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(
    passkeySignIn(page).getByRole('alert').filter({ hasText: SIGN_IN_SAYS.passkeyTampered }),
  ).toBeVisible(WARNING_BUDGET);
  expect(rule.hits(), 'the forged answer was served').toBe(1);
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expect(portalHeading(page)).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Account menu/ })).toHaveCount(0);
  for (const text of attack.mustNotShow) await expect(page.getByText(text)).toHaveCount(0);
  // The browser wrote nothing with what it was handed: only the ceremony itself reached the server.
  expect(writesAfter(proxy, since)).toEqual(['POST /api/auth/passkey/start', 'POST /api/auth/passkey/finish']);
  rule.remove();
}

test.describe('a malicious server, at passkey sign-in and the second step (issue 20)', () => {
  test('cannot make a passkey sign-in open another wrapping: another passkey’s, another account’s, the password’s, or one of a user key it chose', async ({
    page,
    newPage,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client', 'Bram Buiten']);
    const [carla, bram] = org.clients as [SeededMember, SeededMember];
    const start = proxy.mark();
    // Carla's laptop (this page) and phone (a browser of its own), both unlocking; Bram's laptop.
    const laptopAuthenticator = await addVirtualAuthenticator(page.context(), page, { prf: true });
    await signIn(page, carla);
    await expect(portalHeading(page)).toBeVisible(WARNING_BUDGET);
    const phone = await personWithUnlockingPasskey(await newPage(), proxy, carla, 'Phone');
    // Still signed in on the laptop from before the phone was a factor; the login is recent.
    const laptop = await addUnlockingPasskey(page, proxy, laptopAuthenticator, 'Laptop');
    await logOut(page);
    const bramsPasskey = await personWithUnlockingPasskey(await newPage(), proxy, bram, 'Bram’s laptop');
    expect(new Set([laptop.credentialId, phone.credentialId, bramsPasskey.credentialId]).size).toBe(3);

    const forgedName = `Mallory ${marker('PASSKEY')}`;
    const attacks: { what: string; rewrite: (bundle: PasskeyBundle) => unknown }[] = [
      {
        what: 'the phone’s wrapping, served as the laptop’s',
        rewrite: (b) => ({ ...b, unlock: { ...b.unlock, wrappedUserKey: phone.wrappedUserKey } }),
      },
      {
        what: 'the phone’s unlock entry whole (its credential and factor)',
        rewrite: (b) => ({
          ...b,
          unlock: { credentialId: phone.credentialId, factorId: phone.factorId, wrappedUserKey: phone.wrappedUserKey },
        }),
      },
      {
        what: 'Bram’s wrapping',
        rewrite: (b) => ({ ...b, unlock: { ...b.unlock, wrappedUserKey: bramsPasskey.wrappedUserKey } }),
      },
      {
        what: 'the password’s wrapping of the user key',
        rewrite: (b) => ({ ...b, unlock: { ...b.unlock, wrappedUserKey: b.keys.wrappedUserKey } }),
      },
    ];
    for (const attack of attacks) {
      await test.step(attack.what, async () => {
        await expectPasskeySignInRefused(page, proxy, { rewrite: attack.rewrite, mustNotShow: ['Carla Client', 'Bram Buiten'] });
      });
    }
    await test.step('a whole bundle under a user key the server chose, with the wrapping it can make', async () => {
      const like = (await proxy.waitForAnswer('POST', '/api/auth/passkey/finish', start)).body as PasskeyBundle;
      const { bundle } = await forgedPasskeyBundle({
        like,
        userId: carla.userId,
        pins: pinsOf(carla.vault.keySafe),
        name: forgedName,
        credentialId: laptop.credentialId,
        factorId: laptop.factorId,
      });
      await expectPasskeySignInRefused(page, proxy, { rewrite: () => bundle, mustNotShow: [forgedName, 'Carla Client'] });
    });

    await test.step('with the server honest again, the laptop signs in and unlocks', async () => {
      await passkeySignIn(page).getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expect(portalHeading(page)).toBeVisible(WARNING_BUDGET);
      await expect(page.getByRole('button', { name: /Account menu/ })).toContainText('Carla Client');
    });
    expectServerReceivedNothing(proxy, start, [carla.password, bram.password, forgedName]);
  });

  test('cannot answer a passkey sign-in with another account’s bundle', async ({
    page,
    newPage,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client', 'Bram Buiten']);
    const [carla, bram] = org.clients as [SeededMember, SeededMember];
    const start = proxy.mark();
    const laptop = await personWithUnlockingPasskey(page, proxy, carla, 'Laptop');
    // Bram signs in with his own passkey once: the server keeps what it answered him.
    const bramsPage = await newPage();
    await personWithUnlockingPasskey(bramsPage, proxy, bram, 'Bram’s laptop');
    const beforeBram = proxy.mark();
    await passkeySignIn(bramsPage).getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(portalHeading(bramsPage)).toBeVisible(WARNING_BUDGET);
    const bramsBundle = (await proxy.waitForAnswer('POST', '/api/auth/passkey/finish', beforeBram)).body as PasskeyBundle;
    expect(bramsBundle.session.user.id).toBe(bram.userId);
    const forgedName = `Mallory ${marker('BUNDEL')}`;
    // A bundle for Bram under a user key the server chose, "unlocking" with Carla's passkey.
    const forged = await forgedPasskeyBundle({
      like: bramsBundle,
      userId: bram.userId,
      pins: pinsOf(bram.vault.keySafe),
      name: forgedName,
      credentialId: laptop.credentialId,
      factorId: laptop.factorId,
    });

    const mustNotShow = ['Bram Buiten', bram.email, forgedName];
    const attacks: { what: string; rewrite: (bundle: PasskeyBundle) => unknown }[] = [
      { what: 'Bram’s answer to his own passkey sign-in, whole', rewrite: () => bramsBundle },
      { what: 'Bram’s session and keys with Carla’s unlock entry', rewrite: (b) => ({ ...bramsBundle, unlock: b.unlock }) },
      { what: 'Carla’s session and unlock entry with Bram’s keys', rewrite: (b) => ({ ...b, keys: bramsBundle.keys }) },
      { what: 'a bundle for Bram under a user key the server chose, unlocking with Carla’s passkey', rewrite: () => forged.bundle },
    ];
    for (const attack of attacks) {
      await test.step(attack.what, async () => {
        await expectPasskeySignInRefused(page, proxy, { rewrite: attack.rewrite, mustNotShow });
      });
    }
    await test.step('with the server honest again, Carla’s passkey signs her in as herself', async () => {
      await passkeySignIn(page).getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expect(page.getByRole('button', { name: /Account menu/ })).toContainText('Carla Client', WARNING_BUDGET);
    });
    expectServerReceivedNothing(proxy, start, [carla.password, bram.password, forgedName]);
  });

  test('cannot have the browser use a passkey for another site (options with a foreign RP ID)', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const FOREIGN = 'evil.example';
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const carla = org.clients[0]!;
    const start = proxy.mark();
    const authenticator = await addVirtualAuthenticator(page.context(), page, { prf: true });
    await signIn(page, carla);
    await expect(portalHeading(page)).toBeVisible(WARNING_BUDGET);
    const sentAfter = (since: number, path: string) =>
      proxy.received(since).filter((r) => r.method === 'POST' && new URL(r.url).pathname === path);

    await test.step('adding a passkey: registration options for another site', async () => {
      const rule = proxy.rule({
        method: 'POST',
        path: '/api/account/passkeys/registration/start',
        times: 1,
        rewriteJson: (body) => {
          const answer = body as { options: { rp: Record<string, unknown> } };
          return { ...answer, options: { ...answer.options, rp: { ...answer.options.rp, id: FOREIGN } } };
        },
      });
      const since = proxy.mark();
      await openAccount(page);
      await passkeysSection(page).getByLabel('Name', { exact: true }).fill('Laptop');
      await passkeysSection(page).getByRole('button', { name: 'Add passkey' }).click();
      await expect(passkeysSection(page).getByRole('alert').filter({ hasText: SIGN_IN_SAYS.foreignSite })).toBeVisible(WARNING_BUDGET);
      expect(rule.hits()).toBe(1);
      expect(await authenticator.credentials(), 'no credential was made').toEqual([]);
      expect(sentAfter(since, '/api/account/passkeys/registration/finish')).toEqual([]);
    });

    await test.step('the same passkey added with the honest options', async () => {
      await addUnlockingPasskey(page, proxy, authenticator, 'Laptop');
    });
    await logOut(page);
    const signCount = async () => (await authenticator.credentials())[0]?.signCount;
    const countBefore = await signCount();

    await test.step('signing in with a passkey: request options for another site', async () => {
      const rule = proxy.rule({
        method: 'POST',
        path: '/api/auth/passkey/start',
        times: 1,
        rewriteJson: (body) => {
          const answer = body as { options: Record<string, unknown> };
          return { ...answer, options: { ...answer.options, rpId: FOREIGN } };
        },
      });
      const since = proxy.mark();
      await passkeySignIn(page).getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expect(passkeySignIn(page).getByRole('alert').filter({ hasText: SIGN_IN_SAYS.foreignSite })).toBeVisible(WARNING_BUDGET);
      expect(rule.hits()).toBe(1);
      await expect(portalHeading(page)).toHaveCount(0);
      expect(sentAfter(since, '/api/auth/passkey/finish'), 'no assertion reached the server').toEqual([]);
      expect(await signCount(), 'the authenticator signed nothing').toBe(countBefore);
    });

    await test.step('the second sign-in step: passkey options for another site', async () => {
      const rule = proxy.rule({
        method: 'POST',
        path: '/api/auth/login/finish',
        times: 1,
        rewriteJson: (body) => {
          if (!(typeof body === 'object' && body !== null && 'secondFactor' in body)) return body;
          const { secondFactor } = body as { secondFactor: { passkeyOptions: Record<string, unknown> } };
          return { secondFactor: { ...secondFactor, passkeyOptions: { ...secondFactor.passkeyOptions, rpId: FOREIGN } } };
        },
      });
      const since = proxy.mark();
      await submitPassword(page, carla);
      const secondStep = page.getByRole('region', { name: 'Confirm it is you' });
      await secondStep.getByRole('button', { name: 'Use my passkey' }).click();
      await expect(secondStep.getByRole('alert').filter({ hasText: SIGN_IN_SAYS.foreignSite })).toBeVisible(WARNING_BUDGET);
      expect(rule.hits()).toBe(1);
      await expect(portalHeading(page)).toHaveCount(0);
      expect(sentAfter(since, '/api/auth/login/second-factor'), 'no assertion reached the server').toEqual([]);
      expect(await signCount(), 'the authenticator signed nothing').toBe(countBefore);
    });

    await test.step('with the server honest again, the passkey signs in', async () => {
      await page.goto('/login');
      await passkeySignIn(page).getByRole('button', { name: 'Sign in with a passkey' }).click();
      await expect(portalHeading(page)).toBeVisible(WARNING_BUDGET);
      expect(await signCount()).toBeGreaterThan(countBefore ?? 0);
    });
    expectServerReceivedNothing(proxy, start, [carla.password]);
  });

  test('cannot choose the PRF input of a passkey sign-in, nor learn a PRF output', async ({
    page,
    requests,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const carla = org.clients[0]!;
    const laptop = await personWithUnlockingPasskey(page, proxy, carla, 'Laptop');
    // The server asks for a PRF output for a salt of its choosing, for any credential and for this one.
    const serverSalt = randomBytes(32);
    const asked = { first: serverSalt.toString('base64url') };
    const rule = proxy.rule({
      method: 'POST',
      path: '/api/auth/passkey/start',
      rewriteJson: (body) => {
        const answer = body as { options: { extensions?: Record<string, unknown> } };
        return {
          ...answer,
          options: {
            ...answer.options,
            extensions: { ...answer.options.extensions, prf: { eval: asked, evalByCredential: { [laptop.credentialId]: asked } } },
          },
        };
      },
    });
    const since = proxy.mark();
    await passkeySignIn(page).getByRole('button', { name: 'Sign in with a passkey' }).click();
    await proxy.waitForAnswer('POST', '/api/auth/passkey/finish', since);
    expect(rule.hits()).toBe(1);
    const finish = proxy
      .received(since)
      .find((r) => r.method === 'POST' && new URL(r.url).pathname === '/api/auth/passkey/finish');
    const sent = JSON.parse(finish!.body.toString('utf8')) as { response: { clientExtensionResults: object } };
    // Soft: the searches below must find a leaked output on their own too.
    expect.soft(Object.keys(sent.response.clientExtensionResults)).not.toContain('prf');

    // Both PRF outputs, asked of the same authenticator by the test itself (outside Kluis's code).
    const ownOutput = await prfOutputOf(page, laptop.credentialId, DOCUMENTED_PRF_SALT);
    const serverOutput = await prfOutputOf(page, laptop.credentialId, serverSalt);
    expect(ownOutput).toHaveLength(32);
    expect(serverOutput).toHaveLength(32);
    expect(ownOutput.equals(serverOutput)).toBe(false);
    const wrapped = Buffer.from(laptop.wrappedUserKey, 'base64url');
    // The stored wrapping opens with the output for the documented salt (so these are the right
    // values to look for, and the search below can fail), and not with the server's.
    const userKey = openPasskeyWrapping(ownOutput, carla.userId, laptop.credentialId, wrapped);
    expect(userKey).toHaveLength(32);
    expect(() => openPasskeyWrapping(serverOutput, carla.userId, laptop.credentialId, wrapped)).toThrow();
    expectServerReceivedNothing(proxy, 0, [ownOutput, serverOutput, userKey, carla.password]);
    await requests.expectNoSecrets([ownOutput, serverOutput, userKey]);

    // And it signed in and unlocked: the wrapping opens only with the PRF output for the page's own salt.
    await expect(page.getByRole('button', { name: /Account menu/ })).toContainText('Carla Client', WARNING_BUDGET);
  });

  test('cannot answer a password sign-in that needs a second factor with another account’s bundle', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client', 'Bram Buiten']);
    const [carla, bram] = org.clients as [SeededMember, SeededMember];
    // What the server holds of both: their bundles (Carla's from before she had a second factor).
    const carlasBundle = (await login(carla.client.api, carla.email, carla.password)).bundle;
    const bramsBundle = (await login(bram.client.api, bram.email, bram.password)).bundle;
    // Carla's authenticator app, set up over the API (the set-up screens are e2e/second-factors.spec.ts's).
    const started = await carla.client.api(startTotpSetup, { body: {} });
    const app = authenticator(started.secret);
    await carla.client.api(confirmTotpSetup, { body: { setupId: started.setupId, code: await app.nextCode(), name: 'Phone' } });

    const start = proxy.mark();
    const secondStep = page.getByRole('region', { name: 'Confirm it is you' });
    const attacks: { what: string; bundle: unknown }[] = [
      { what: 'Bram’s bundle instead of Carla’s second step', bundle: bramsBundle },
      { what: 'Carla’s session with Bram’s keys', bundle: { ...bramsBundle, session: carlasBundle.session } },
    ];
    for (const attack of attacks) {
      await test.step(attack.what, async () => {
        let skipped = 0;
        const rule = proxy.rule({
          method: 'POST',
          path: '/api/auth/login/finish',
          times: 1,
          rewriteJson: (body) => {
            if (typeof body === 'object' && body !== null && 'secondFactor' in body) skipped += 1;
            return attack.bundle;
          },
        });
        const since = proxy.mark();
        await submitPassword(page, carla);
        await expect(page.getByRole('alert').filter({ hasText: SIGN_IN_SAYS.passwordTampered })).toBeVisible(WARNING_BUDGET);
        expect(rule.hits()).toBe(1);
        expect(skipped, 'the server had asked for the second step').toBe(1);
        await expect(secondStep).toHaveCount(0);
        await expect(portalHeading(page)).toHaveCount(0);
        await expect(page.getByRole('button', { name: /Account menu/ })).toHaveCount(0);
        await expect(page.getByText('Bram Buiten')).toHaveCount(0);
        expect(writesAfter(proxy, since)).toEqual(['POST /api/auth/login/start', 'POST /api/auth/login/finish']);
        rule.remove();
      });
    }
    await test.step('with the server honest again, the second step comes and the code signs Carla in', async () => {
      await submitPassword(page, carla);
      await secondStep.getByRole('textbox', { name: 'Code from your authenticator app' }).fill(await app.nextCode());
      await secondStep.getByRole('button', { name: 'Confirm' }).click();
      await expect(page.getByRole('button', { name: /Account menu/ })).toContainText('Carla Client', WARNING_BUDGET);
    });
    expectServerReceivedNothing(proxy, start, [carla.password, bram.password, app.key]);
  });
});

// --- the audit log (issue 22) ------------------------------------------------------------------

/** The newest tree head answer, re-signed by a log key the server made up (a valid signature under a new key). */
function underNewLogKey(body: unknown): unknown {
  const answer = body as { logKey: { spki: string; keyId: string }; treeHead: SignedTreeHead | null };
  if (!answer.treeHead) return body;
  const pair = generateKeyPairSync('ed25519');
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha256').update(spki).digest('hex');
  const fields = { ...answer.treeHead, keyId };
  const signature = cryptoSign(null, treeHeadBytes(fields), pair.privateKey).toString('base64url');
  return { ...answer, logKey: { algorithm: 'Ed25519', spki: spki.toString('base64url'), keyId }, treeHead: { ...fields, signature } };
}

test.describe('a malicious server, against the audit log (issue 22)', () => {
  test('cannot make an Auditor’s browser accept a forged head signature, another log key, or an older head after a newer one was verified', async ({
    page,
    evilProxy: proxy,
    evil,
  }) => {
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const auditor = await joinAuditor(evil.server, evil.smtp, org.admin);
    // An export makes the server sign a head over everything so far.
    const first = await auditor.client.api(createAuditExport, { body: { filter: {}, format: 'json' } });
    await signIn(page, auditor);
    await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible(WARNING_BUDGET);
    const verifyButton = page.getByRole('button', { name: 'Verify the log' });
    const verified = page.getByRole('status').filter({ hasText: 'The audit log verified' });
    const refused = page.getByRole('alert').filter({ hasText: 'Security warning: the audit log did not verify' });

    const pinned = await test.step('an honest verification pins the head', async () => {
      const since = proxy.mark();
      await verifyButton.click();
      await expect(verified).toBeVisible(WARNING_BUDGET);
      const answer = proxy.answers('GET', '/api/audit/head', since).at(-1)!;
      const size = (answer.body as { treeHead: SignedTreeHead }).treeHead.treeSize;
      expect(size).toBeGreaterThanOrEqual(first.treeHead.treeSize);
      await expect(verified).toContainText(`(${size} events)`);
      await expect(page.getByText(`Last verified here: head ${size} ·`)).toBeVisible();
      return { size, answer };
    });

    /** The browser warns, moves no pin, offers no countersignature and sends no write. */
    async function expectRefused(says: string): Promise<void> {
      const since = proxy.mark();
      await verifyButton.click();
      await expect(refused).toContainText(says, WARNING_BUDGET);
      await expect(verified).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'Countersign this head' })).toHaveCount(0);
      expect(proxy.received(since).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([]);
    }

    await test.step('a head whose signature was forged', async () => {
      const rule = proxy.rule({
        method: 'GET',
        path: '/api/audit/head',
        rewriteJson: (body) => {
          const answer = body as { treeHead: SignedTreeHead };
          const bytes = Buffer.from(answer.treeHead.signature, 'base64url');
          bytes[0] = (bytes[0] ?? 0) ^ 1;
          return { ...answer, treeHead: { ...answer.treeHead, signature: bytes.toString('base64url') } };
        },
      });
      await expectRefused('The signed tree head does not carry the log key’s signature');
      expect(rule.hits()).toBeGreaterThan(0);
      rule.remove();
    });

    await test.step('a head validly signed by another log key', async () => {
      const rule = proxy.rule({ method: 'GET', path: '/api/audit/head', rewriteJson: underNewLogKey });
      await expectRefused('The log is now signed with another key than the one this browser verified before.');
      expect(rule.hits()).toBeGreaterThan(0);
      rule.remove();
    });

    await test.step('an older head after a newer one was verified', async () => {
      const newer = await auditor.client.api(createAuditExport, { body: { filter: {}, format: 'json' } });
      expect(newer.treeHead.treeSize).toBeGreaterThan(pinned.size);
      await verifyButton.click();
      await expect(verified).toBeVisible(WARNING_BUDGET);
      const text = (await verified.textContent()) ?? '';
      const size = Number(/\((\d+) events\)/.exec(text)?.[1]);
      expect(size).toBeGreaterThan(pinned.size);
      await expect(verified).toContainText(`Consistent with the head of ${pinned.size} events`);
      const rule = proxy.rule({ method: 'GET', path: '/api/audit/head', replay: pinned.answer });
      await expectRefused(`The newest signed head has ${pinned.size} events, fewer than the ${size} this browser verified before`);
      expect(rule.hits()).toBeGreaterThan(0);
      await expect(page.getByText(`Last verified here: head ${size} ·`)).toBeVisible();
      rule.remove();
    });
    await expectNoSeriousA11yViolations(page, 'the audit log with a security warning');
  });
});
