// Issue 21, journey 3 and the forged-rotation case: a Team Member leaves, an Administrator rotates the escrow key in
// real Chromium (interrupted once by closing the tab, then resumed), everyone left reads everything, and the key the
// removed person kept opens nothing stored afterwards; a server that offers a new escrow key no Administrator signed
// moves no browser's pin and gets nothing sealed to it.
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import type { Page } from '@playwright/test';
import { budgetedStep, expect, testWithMail } from './fixtures';
import { evilTest } from './support/evil-fixture';
import { serverRsaPublicKey } from './support/evil-forgery';
import { expectNoKeyMaterial } from './support/key-material';
import {
  createSpace,
  deactivateUser,
  getEscrowChain,
  getRotation,
  listSpaces,
  type SignedPayload,
} from '../shared/api';
import {
  type PrivateKey,
  type SecretKey,
  fromBase64Url,
  importPublicKey,
  openSealedSecretKey,
  toHex,
  unwrapPrivateKey,
} from '../shared/crypto';
import {
  certifiedIdentity,
  grantEscrowAccess,
  invite,
  login,
  signup,
} from '../shared/flows/account-flows';
import { signRotation } from '../shared/flows/escrow-rotation';
import {
  ESCROW_HOLDER,
  createSpaceKey,
  newClientId,
  spaceKeyContext,
} from '../shared/flows/spaces';
import {
  escrowPrivateKeyContext,
  escrowUserKeyContext,
  importPinnedEscrowKey,
} from '../shared/flows/vault';
import { browserLikeClient } from '../server/lib/node-api-client';
import { seedOrganisation, type SeededMember } from '../server/test/seed-organisation';
import type { TestSmtpServer } from '../server/test/smtp-server';
import type { KluisServer } from '../server/test/kluis-server';
import { budget } from '../server/test/budget';

async function signIn(page: Page, member: { email: string; password: string }): Promise<void> {
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

async function downloadedBytes(page: Page, name: string): Promise<Buffer> {
  const started = page.waitForEvent('download', { timeout: budget(120_000) });
  await documentRow(page, name).getByRole('button', { name: 'Download' }).click();
  const download = await started;
  expect(await download.failure()).toBeNull();
  return readFile(await download.path());
}

/** Every escrow seal the server stores, read straight from its SQLite file. */
function storedSeals(server: KluisServer): {
  spaces: { id: string; seal: string }[];
  users: { id: string; seal: string }[];
  wrappedPrivateKey: string;
} {
  const db = new BetterSqlite3(join(server.dataDir, 'kluis.db'), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    const spaces = db
      .prepare("SELECT id, sealed_for_escrow AS seal FROM spaces WHERE sealed_for_escrow <> ''")
      .all() as { id: string; seal: string }[];
    const users = db
      .prepare("SELECT id, escrow_user_key AS seal FROM users WHERE escrow_user_key <> ''")
      .all() as { id: string; seal: string }[];
    const organisation = db
      .prepare('SELECT escrow_wrapped_private_key AS wrapped FROM organisation')
      .get() as { wrapped: string };
    return { spaces, users, wrappedPrivateKey: organisation.wrapped };
  } finally {
    db.close();
  }
}

/** How many stored seals the given escrow private key opens (spaces and user-key copies). */
async function sealsOpenedBy(
  privateKey: PrivateKey,
  seals: ReturnType<typeof storedSeals>,
): Promise<number> {
  let opened = 0;
  for (const { id, seal } of seals.spaces) {
    if (
      await openSealedSecretKey(
        privateKey,
        fromBase64Url(seal),
        'space',
        spaceKeyContext(id, ESCROW_HOLDER),
      ).then(
        () => true,
        () => false,
      )
    )
      opened += 1;
  }
  for (const { id, seal } of seals.users) {
    if (
      await openSealedSecretKey(
        privateKey,
        fromBase64Url(seal),
        'user',
        escrowUserKeyContext(id),
      ).then(
        () => true,
        () => false,
      )
    )
      opened += 1;
  }
  return opened;
}

/** A second Team Member holding the escrow key (real flows in Node): the one who will leave. */
async function escrowHoldingTeamMember(
  server: KluisServer,
  smtp: TestSmtpServer,
  admin: SeededMember,
): Promise<SeededMember> {
  const member = {
    role: 'team' as const,
    email: 'rita@kantoor.test',
    password: 'groene-paraplu-in-de-gang',
    name: 'Rita Weg',
  };
  await invite(admin.client.api, admin.vault, {
    email: member.email,
    role: member.role,
    language: 'en',
  });
  const mail = await smtp.waitForMessage(
    (m) => m.envelope.to.includes(member.email),
    budget(30_000),
  );
  const fragment = /https?:\/\/\S+\/invite#(t=\S+)/.exec(mail.text ?? '')?.[1];
  const token = fragment ? new URLSearchParams(fragment).get('t') : null;
  if (!fragment || !token) throw new Error('no invitation link for the second Team Member');
  const client = browserLikeClient(`http://127.0.0.1:${server.port}`, server.origin);
  const { userId } = await signup(client.api, {
    token,
    fragment,
    name: member.name,
    password: member.password,
    language: 'en',
  });
  await grantEscrowAccess(
    admin.client.api,
    admin.vault,
    await certifiedIdentity(admin.client.api, admin.vault, userId),
  );
  // Her next sign-in accepts the grant: her browser could now reach the escrow private key.
  const { vault } = await login(client.api, member.email, member.password);
  return { ...member, userId, client, vault };
}

/** A client's space with a real key, sealed to the pinned escrow key and signed (as the client's browser makes it). */
async function realSpace(member: SeededMember, kind: 'client' | 'team'): Promise<void> {
  const { escrowPublicKey, spaces } = await member.client.api(listSpaces, {});
  if (
    spaces.some(
      (space) => space.kind === kind && (kind === 'team' || space.clientId === member.userId),
    )
  )
    return;
  const key = await importPinnedEscrowKey(escrowPublicKey, member.vault.keySafe.escrowFingerprint);
  const { body } = await createSpaceKey(member.vault, kind, key);
  await member.client.api(createSpace, { body });
}

const test = testWithMail;

test.use({ mailServerFor: 'escrow-rotation' });
test.describe.configure({ timeout: budget(300_000) });

test.describe('escrow rotation', () => {

  test('journey 3: a Team Member leaves, the escrow key is rotated (interrupted once, resumed), everyone left reads everything and the kept key opens nothing', async ({
    page,
    newPage,
    kluisServer,
    smtp,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), 'kluis-rotation-'));
    try {
      const { org, rita } = await budgetedStep(
        'an organisation with four clients, two escrow-holding Team Members and their spaces',
        240_000,
        async () => {
          const seeded = await seedOrganisation(kluisServer, smtp, [
            'Carla Client',
            'Bram Buiten',
            'Cees Klant',
            'Door Klant',
          ]);
          const leaving = await escrowHoldingTeamMember(kluisServer, smtp, seeded.admin);
          for (const client of seeded.clients) await realSpace(client, 'client');
          await realSpace(seeded.team, 'team');
          return { org: seeded, rita: leaving };
        },
      );
      const carla = org.clients[0]!;

      // What the leaving Team Member could reach and keep: the escrow key E and the escrow private key.
      const keptEscrowKey: SecretKey<'escrow'> = rita.vault.escrow!.escrowKey;
      const keptPrivateKey: PrivateKey = rita.vault.escrow!.privateKey;
      const before = storedSeals(kluisServer);
      // The test can fail for its reason: before the rotation her key opens every seal.
      expect(await sealsOpenedBy(keptPrivateKey, before)).toBe(
        before.spaces.length + before.users.length,
      );
      expect(before.spaces.length + before.users.length).toBeGreaterThan(8);

      const file = {
        name: `Jaarrekening ${randomBytes(4).toString('hex')}.txt`,
        content: Buffer.from(`balans ${randomBytes(16).toString('hex')}\n`),
      };
      await budgetedStep('the client uploads a document', 120_000, async () => {
        await writeFile(join(dir, file.name), file.content);
        await signIn(page, carla);
        await expect(page.getByRole('tab', { name: 'Documents' })).toBeVisible({
          timeout: budget(90_000),
        });
        await page.getByLabel('Upload files').setInputFiles(join(dir, file.name));
        await expect(documentRow(page, file.name)).toBeVisible({ timeout: budget(120_000) });
        await page.close();
      });

      await budgetedStep('the Team Member is removed', 30_000, async () => {
        await org.admin.client.api(deactivateUser, { params: { id: rita.userId } });
        const state = await org.admin.client.api(getRotation, {});
        expect(state.formerHolders.map((holder) => holder.email)).toEqual([rita.email]);
      });

      const adminPage = await newPage();
      let resealPosts = 0;
      let blocked: () => void = () => undefined;
      const secondBatch = new Promise<void>((resolve) => {
        blocked = resolve;
      });
      await budgetedStep(
        'an Administrator starts the rotation and closes the tab halfway',
        180_000,
        async () => {
          // The second re-seal request never reaches the server: the tab closes while it is on its way.
          await adminPage.route('**/api/escrow/rotation/items', async (route) => {
            if (route.request().method() !== 'POST') return route.continue();
            resealPosts += 1;
            if (resealPosts === 1) return route.continue();
            blocked();
          });
          await signIn(adminPage, org.admin);
          await expect(
            adminPage.getByRole('status').filter({ hasText: 'Escrow key rotation needed' }),
          ).toBeVisible({ timeout: budget(60_000) });
          await adminPage.getByRole('link', { name: 'Go to the escrow key rotation' }).click();
          await expect(
            adminPage.getByRole('heading', { level: 1, name: 'Escrow key rotation' }),
          ).toBeVisible();
          await expect(adminPage.getByText(rita.email)).toBeVisible();
          await adminPage.getByRole('button', { name: 'Start rotation' }).click();
          // The new recovery kit, shown while the items are re-sealed.
          await expect(
            adminPage.getByRole('heading', { name: 'Your new recovery kit' }),
          ).toBeVisible({ timeout: budget(120_000) });
          await expect(adminPage.locator('.recovery-secret')).toHaveText(/^([0-9A-Z]{4}-?){8}$/);
          await secondBatch;
          await expect(
            adminPage
              .getByRole('status')
              .filter({ hasText: /of \d+ items re-sealed to the new key/ }),
          ).toBeVisible();
          await adminPage.close();
          const state = await org.admin.client.api(getRotation, {});
          expect(state.rotation?.finishedAt).toBeNull();
          // Halfway: some items are on the new key, some still on the old one, none on neither (each changes in one statement).
          expect(state.rotation!.done).toBeGreaterThan(0);
          expect(state.rotation!.remaining).toBeGreaterThan(0);
        },
      );

      await budgetedStep(
        'the Administrator comes back and resumes; the final check passes',
        180_000,
        async () => {
          const again = await newPage();
          await signIn(again, org.admin);
          await expect(
            again.getByRole('status').filter({ hasText: 'An escrow key rotation is not finished' }),
          ).toBeVisible({ timeout: budget(60_000) });
          await again.getByRole('link', { name: 'Go to the escrow key rotation' }).click();
          await again.getByRole('button', { name: 'Continue rotation' }).click();
          await expect(
            again.getByRole('status').filter({ hasText: 'Rotation finished' }),
          ).toBeVisible({ timeout: budget(120_000) });
          const state = await org.admin.client.api(getRotation, {});
          expect(state.rotation?.finishedAt).not.toBeNull();
          expect(state.rotation?.remaining).toBe(0);
          expect(state.formerHolders).toEqual([]);
        },
      );

      await budgetedStep('the client reads her document, byte for byte', 120_000, async () => {
        const clientPage = await newPage();
        await signIn(clientPage, carla);
        await expect(documentRow(clientPage, file.name)).toBeVisible({ timeout: budget(90_000) });
        expect((await downloadedBytes(clientPage, file.name)).equals(file.content)).toBe(true);
      });

      await budgetedStep(
        'the remaining Team Member follows the signed chain and reads it too',
        120_000,
        async () => {
          const teamPage = await newPage();
          await signIn(teamPage, org.team);
          await teamPage.getByRole('link', { name: 'Clients' }).click();
          await teamPage
            .getByRole('row')
            .filter({ hasText: carla.email })
            .getByRole('link')
            .first()
            .click();
          await expect(documentRow(teamPage, file.name)).toBeVisible({ timeout: budget(90_000) });
          expect((await downloadedBytes(teamPage, file.name)).equals(file.content)).toBe(true);
          await expect(teamPage.getByRole('alert')).toHaveCount(0);
        },
      );

      await budgetedStep(
        'the key the removed Team Member kept opens nothing stored now',
        60_000,
        async () => {
          const after = storedSeals(kluisServer);
          expect(after.spaces.length).toBe(before.spaces.length);
          expect(after.users.length).toBe(before.users.length);
          expect(await sealsOpenedBy(keptPrivateKey, after)).toBe(0);
          // Nor does her E open the organisation's new escrow private key.
          await expect(
            unwrapPrivateKey(
              keptEscrowKey,
              fromBase64Url(after.wrappedPrivateKey),
              escrowPrivateKeyContext,
            ),
          ).rejects.toThrow();
          // The server's current escrow key is a new one, reached from the old by a signed rotation.
          const chain = await org.admin.client.api(getEscrowChain, {});
          expect(chain.fingerprint).not.toBe(toHex(keptPrivateKey.publicKey.fingerprint));
          expect(chain.rotations).toHaveLength(1);
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

evilTest(
  'malicious server: a forged escrow rotation to a key no Administrator signed moves no pin and gets nothing sealed to it',
  async ({ page, evil }) => {
    evilTest.setTimeout(budget(300_000));
    const { proxy } = evil;
    const org = await seedOrganisation(evil.server, evil.smtp, ['Carla Client']);
    const client = org.clients[0]!;
    const pin = client.vault.keySafe.escrowFingerprint;
    // The server's own escrow key pair, and a rotation statement to it signed by a certified Team Member
    // (a real signature, by someone who is not an Administrator).
    const forgedSpki = await serverRsaPublicKey();
    const forgedFingerprint = toHex((await importPublicKey(fromBase64Url(forgedSpki))).fingerprint);
    const forged: SignedPayload = await signRotation(
      { userId: org.team.userId, signingKey: org.team.vault.signingKey! },
      { rotation: newClientId(), from: pin, to: forgedFingerprint, at: new Date().toISOString() },
    );
    proxy.rule({
      method: 'GET',
      path: '/api/spaces',
      rewriteJson: (body) => ({
        ...(body as { escrowPublicKey: string }),
        escrowPublicKey: forgedSpki,
      }),
    });
    proxy.rule({
      method: 'GET',
      path: '/api/escrow/chain',
      rewriteJson: (body) => {
        const chain = body as { rotations: unknown[] };
        return {
          publicKey: forgedSpki,
          fingerprint: forgedFingerprint,
          rotations: [...chain.rotations, { ...forged, signerId: org.team.userId }],
        };
      },
    });
    const since = proxy.mark();
    // A new client's browser must seal her new space key to the organisation escrow key.
    await signIn(page, client);
    await expect(
      page
        .getByRole('alert')
        .filter({ hasText: /new organisation escrow key that no Administrator signed/ })
        .first(),
    ).toBeVisible({ timeout: budget(90_000) });
    const received = proxy.received(since);
    // The browser asked for the chain, refused it, and sealed nothing: no space was created.
    expect(proxy.answers('GET', '/api/escrow/chain', since).length).toBeGreaterThan(0);
    expect(
      received.filter(
        (request) => request.method === 'POST' && new URL(request.url).pathname === '/api/spaces',
      ),
    ).toEqual([]);
    expect(
      received.filter((request) => request.body.includes(Buffer.from(forgedFingerprint))),
    ).toEqual([]);
    expectNoKeyMaterial(received);
    // Her key safe still pins the real escrow key (read back with her password, outside the proxy).
    await page.close();
    const direct = browserLikeClient(`http://127.0.0.1:${evil.server.port}`, evil.server.origin);
    const { vault } = await login(direct.api, client.email, client.password);
    expect(vault.keySafe.escrowFingerprint).toBe(pin);
    expect((await direct.api(listSpaces, {})).spaces).toEqual([]);
  },
);
