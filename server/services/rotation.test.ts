// Integration: an escrow rotation through the real browser flows over real HTTP and SQLite, with real
// keys: started twice at once, interrupted and resumed, compare-and-swap, finish refused while items
// are pending, and afterwards the removed holder's saved escrow keys open nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSpace,
  finishRotation as finishRotationEndpoint,
  getEscrowChain,
  getRotation,
  listUsers,
  listRotationItems,
  resealRotationItems,
  startRotation as startRotationEndpoint,
} from '../../shared/api';
import { type CallApi, isApiError } from '../../shared/api/client';
import {
  ARGON2ID_FLOOR,
  type PrivateKey,
  type SecretKey,
  fromBase64Url,
  generateSecretKey,
  keyCommitment,
  openSealedSecretKey,
  sealSecretKey,
  toBase64Url,
  toHex,
  unwrapPrivateKey,
  unwrapSecretKey,
} from '../../shared/crypto';
import {
  EscrowCopyUnverifiedError,
  certifiedIdentity,
  certifyByBinding,
  grantEscrowAccess,
  invite,
  loadDirectory,
  login,
  openProfile,
  signup,
} from '../../shared/flows/account-flows';
import {
  RotationRefusedError,
  checkRotation,
  continueRotation,
  finishRotation,
  previousFingerprintsOf,
  startRotation,
  verifyEscrowChain,
} from '../../shared/flows/escrow-rotation';
import { startEscrowReset } from '../../shared/flows/escrow-reset';
import { parseEntryPayload, recordDigest } from '../../shared/flows/space-history';
import { ESCROW_HOLDER, SpaceKeyRejectedError, createSpaceKey, openSpaceKey, spaceKeyContext } from '../../shared/flows/spaces';
import { type UnlockedVault, escrowGrantContext, escrowPrivateKeyContext, escrowUserKeyContext, openEscrow } from '../../shared/flows/vault';
import { newId } from '../lib/ids';
import { budget } from '../test/budget';
import { type Member, type TestOrganisation, createTestOrganisation, fast, invitationLinkFor, parseInvitationLink } from '../test/org-fixture';

const cheapKit = { recoveryParams: ARGON2ID_FLOOR };

/** The API error code a promise rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isApiError(error)) throw new Error(`expected an API error, got ${String(error)}`);
  return error.code;
}

describe('escrow rotation', () => {
  let org: TestOrganisation;
  let admin: Member;
  let team: Member;
  let client: Member;
  /** A second Team Member who held the escrow key and is then removed; what they could keep. */
  let removed: { userId: string; escrowKey: SecretKey<'escrow'>; privateKey: PrivateKey };
  let oldFingerprint: string;
  let adminVault: UnlockedVault;
  let rotationId: string;
  const itemCount = () => 5 + 2; // users (admin, team, client, auditor, removed) + spaces (client, team)

  beforeAll(async () => {
    org = await createTestOrganisation(['team', 'client', 'auditor']);
    admin = org.admin;
    team = org.members.team!;
    client = org.members.client!;
    // The Team Member to remove: invited, signed up, certified and granted like any other.
    await invite(admin.client.api, admin.vault, { email: 'leaver@kluis.test', role: 'team', language: 'en' });
    const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, 'leaver@kluis.test'));
    const leaverClient = org.newClient();
    const { userId } = await signup(leaverClient.api, { token, fragment, name: 'Lea Leaver', password: 'blauwe-fiets-bij-het-station', language: 'en' }, fast);
    await grantEscrowAccess(admin.client.api, admin.vault, await certifiedIdentity(admin.client.api, admin.vault, userId));
    const leaver = await login(org.newClient().api, 'leaver@kluis.test', 'blauwe-fiets-bij-het-station', fast);
    removed = { userId, escrowKey: leaver.vault.escrow!.escrowKey, privateKey: leaver.vault.escrow!.privateKey };
    // Everyone certified (clients and auditors by their invitation binding), so items are checked, not merely re-sealed.
    await certifyByBinding(admin.client.api, admin.vault, await loadDirectory(admin.client.api, admin.vault));
    // Documents' keys: the client's own space and the team space, sealed to the current escrow key.
    oldFingerprint = admin.vault.keySafe.escrowFingerprint;
    for (const [member, kind] of [
      [client, 'client'],
      [admin, 'team'],
    ] as const) {
      const { body } = await createSpaceKey(member.vault, kind, admin.vault.escrow!.publicKey);
      // The client's browser names the key it sealed to; the team space's does not (stored as unknown).
      await member.client.api(createSpace, { body: kind === 'client' ? { ...body, escrowFingerprint: oldFingerprint } : body });
    }
    const fingerprints = await org.testApp.db.selectFrom('spaces').select(['kind', 'escrow_fingerprint']).orderBy('kind').execute();
    expect(fingerprints).toEqual([
      { kind: 'client', escrow_fingerprint: oldFingerprint },
      { kind: 'team', escrow_fingerprint: null },
    ]);
    // Removal (srv-life's deactivation does this): the grant goes, the loss is recorded.
    await org.testApp.db.deleteFrom('escrow_grants').where('user_id', '=', userId).execute();
    await org.testApp.db
      .insertInto('escrow_revocations')
      .values({ id: newId(), user_id: userId, revoked_at: new Date().toISOString(), revoked_by: admin.userId, reason: 'deactivated' })
      .execute();
  }, budget(180_000));
  afterAll(() => org?.close());

  /**
   * What `member`'s browser holds after following the signed chain: the verified chain, and its vault
   * with the pin moved and the new escrow key opened from the grant the rotating Administrator sealed.
   */
  async function followChain(member: Member) {
    const db = org.testApp.db;
    const chain = await member.client.api(getEscrowChain, {});
    const directory = await loadDirectory(member.client.api, member.vault);
    const verified = await verifyEscrowChain(chain, member.vault.keySafe.escrowFingerprint, directory);
    const grant = await db.selectFrom('escrow_grants').selectAll().where('user_id', '=', member.userId).executeTakeFirstOrThrow();
    const escrowKey = await openSealedSecretKey(member.vault.privateKey, fromBase64Url(grant.value), 'escrow', escrowGrantContext(member.userId), { extractable: true });
    const organisation = await db.selectFrom('organisation').selectAll().executeTakeFirstOrThrow();
    const followed: UnlockedVault = {
      ...member.vault,
      keySafe: { ...member.vault.keySafe, escrowFingerprint: verified.fingerprint },
      escrow: await openEscrow(escrowKey, organisation.escrow_wrapped_private_key, verified.fingerprint),
    };
    return { directory, verified, followed };
  }

  it('says a rotation is needed after someone lost the escrow key', async () => {
    const state = await admin.client.api(getRotation, {});
    expect(state.rotation).toBeNull();
    expect(state.previous).toBeNull();
    expect(state.formerHolders.map((h) => [h.userId, h.email])).toEqual([[removed.userId, 'leaver@kluis.test']]);
    expect(await codeOf(team.client.api(getRotation, {}))).toBe('forbidden');
  });

  it('refuses grants that do not cover exactly the current holders', async () => {
    const directory = await loadDirectory(admin.client.api, admin.vault);
    // Someone is granted again between the browser's reading of the holders and its request.
    const racing: CallApi = async (endpoint, ...rest) => {
      if (endpoint.operationId === startRotationEndpoint.operationId) {
        await org.testApp.db
          .insertInto('escrow_grants')
          .values({ user_id: removed.userId, kind: 'sealed', value: 'AAAA', granted_by: admin.userId, granted_at: new Date().toISOString(), statement_payload: 'AA', statement_signature: 'AA' })
          .execute();
      }
      return admin.client.api(endpoint, ...rest);
    };
    expect(await codeOf(startRotation(racing, admin.vault, directory, cheapKit))).toBe('rotation_holders_changed');
    await org.testApp.db.deleteFrom('escrow_grants').where('user_id', '=', removed.userId).execute();
    expect(await org.testApp.db.selectFrom('escrow_rotations').selectAll().execute()).toEqual([]);
    const organisation = await org.testApp.db.selectFrom('organisation').selectAll().executeTakeFirstOrThrow();
    expect(organisation.escrow_fingerprint).toBe(oldFingerprint);
  });

  it('lets one of two rotations started at once win; the other is refused', async () => {
    const directory = await loadDirectory(admin.client.api, admin.vault);
    const results = await Promise.allSettled([
      startRotation(admin.client.api, admin.vault, directory, cheapKit),
      startRotation(admin.client.api, admin.vault, directory, cheapKit),
    ]);
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isApiError(lost[0]) && lost[0].code).toBe('rotation_in_progress');
    const started = won[0]!;
    adminVault = started.vault;
    rotationId = started.rotation.id;
    expect(started.rotation).toMatchObject({ from: oldFingerprint, to: started.fingerprint, done: 0, total: itemCount(), remaining: itemCount(), finishedAt: null });
    expect(adminVault.keySafe.escrowFingerprint).toBe(started.fingerprint);
    expect(started.recoverySecret).toMatch(/^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/);
    // The database itself refuses a second running rotation, whatever the service checks first.
    await expect(
      org.testApp.db
        .insertInto('escrow_rotations')
        .values({ id: newId(), from_fingerprint: started.fingerprint, to_fingerprint: 'f'.repeat(64), statement_payload: 'x', statement_signature: 'x', started_by: admin.userId, started_at: new Date().toISOString(), finished_at: null, total: 0 })
        .execute(),
    ).rejects.toThrow(/UNIQUE/);
    // The new key is current; the old pair and grants wait aside; the remaining holders got new grants.
    const organisation = await org.testApp.db.selectFrom('organisation').selectAll().executeTakeFirstOrThrow();
    expect([organisation.escrow_fingerprint, organisation.previous_escrow_fingerprint]).toEqual([started.fingerprint, oldFingerprint]);
    expect(organisation.recovery_confirmed_at).toBeNull();
    const grants = await org.testApp.db.selectFrom('escrow_grants').select(['user_id', 'kind']).orderBy('user_id').execute();
    expect(grants).toEqual([{ user_id: admin.userId, kind: 'wrapped' }, { user_id: team.userId, kind: 'sealed' }].sort((a, b) => (a.user_id < b.user_id ? -1 : 1)));
    const previous = await org.testApp.db.selectFrom('escrow_previous_grants').select('user_id').orderBy('user_id').execute();
    expect(previous.map((p) => p.user_id)).toEqual([admin.userId, team.userId].sort());
    const actions = (await org.testApp.db.selectFrom('audit_events').select('action').execute()).map((e) => e.action);
    expect(actions.filter((a) => a === 'escrow.rotation_started')).toHaveLength(1);
  });

  it('publishes the signed chain, which a client follows from its pin to the new key', async () => {
    const chain = await client.client.api(getEscrowChain, {});
    expect(chain.rotations).toHaveLength(1);
    const verified = await verifyEscrowChain(chain, client.vault.keySafe.escrowFingerprint, await loadDirectory(client.client.api, client.vault));
    expect(verified.fingerprint).toBe(adminVault.keySafe.escrowFingerprint);
    expect(previousFingerprintsOf(verified)).toEqual([oldFingerprint]);
    const state = await admin.client.api(getRotation, {});
    expect(state.formerHolders).toEqual([]);
    expect(state.previous).toMatchObject({ fingerprint: oldFingerprint, grant: { kind: 'wrapped' } });
  });

  it('refuses to finish while items are still sealed to the old key', async () => {
    expect(await codeOf(admin.client.api(finishRotationEndpoint, { body: { rotationId, checked: itemCount() } }))).toBe('rotation_incomplete');
    const check = await checkRotation(admin.client.api, adminVault, await loadDirectory(admin.client.api, adminVault));
    expect(check.failed.map((f) => f.problem)).toEqual(Array(itemCount()).fill('pending'));
    await expect(finishRotation(admin.client.api, check)).rejects.toBeInstanceOf(RotationRefusedError);
  });

  it('re-seals in batches, stops when interrupted, and never leaves an item sealed to neither key', async () => {
    const directory = await loadDirectory(admin.client.api, adminVault);
    const controller = new AbortController();
    const seen: number[] = [];
    await expect(
      continueRotation(
        admin.client.api,
        adminVault,
        directory,
        (progress) => {
          seen.push(progress.rotation.done);
          controller.abort();
        },
        { batchSize: 2, signal: controller.signal },
      ),
    ).rejects.toThrow(/abort/i);
    expect(seen).toEqual([2]);
    const { rotation } = await admin.client.api(getRotation, {});
    expect(rotation).toMatchObject({ done: 2, remaining: itemCount() - 2 });
    // Every item opens with exactly one of the two keys.
    const oldKey = removed.privateKey;
    const newKey = adminVault.escrow!.privateKey;
    const { items } = await admin.client.api(listRotationItems, { query: { which: 'all', limit: 200 } });
    expect(items).toHaveLength(itemCount());
    for (const item of items) {
      const open = (key: PrivateKey) =>
        item.kind === 'space'
          ? openSealedSecretKey(key, fromBase64Url(item.seal), 'space', spaceKeyContext(item.id, ESCROW_HOLDER)).then(() => true, () => false)
          : openSealedSecretKey(key, fromBase64Url(item.seal), 'user', escrowUserKeyContext(item.id)).then(() => true, () => false);
      const opens = [await open(oldKey), await open(newKey)];
      expect(opens).toEqual(item.escrowFingerprint === adminVault.keySafe.escrowFingerprint ? [false, true] : [true, false]);
    }
  });

  it('stores a re-seal only over the seal it names (compare-and-swap)', async () => {
    const { items } = await admin.client.api(listRotationItems, { query: { which: 'pending', limit: 1 } });
    const item = items[0]!;
    const table = item.kind === 'space' ? 'spaces' : 'users';
    const stored = async () =>
      item.kind === 'space'
        ? (await org.testApp.db.selectFrom('spaces').select('sealed_for_escrow as seal').where('id', '=', item.id).executeTakeFirstOrThrow()).seal
        : (await org.testApp.db.selectFrom('users').select('escrow_user_key as seal').where('id', '=', item.id).executeTakeFirstOrThrow()).seal;
    // The same key sealed afresh to the OLD key stands in for a seal that changed meanwhile (a legacy adoption).
    const ctx = item.kind === 'space' ? spaceKeyContext(item.id, ESCROW_HOLDER) : escrowUserKeyContext(item.id);
    const key =
      item.kind === 'space'
        ? await openSealedSecretKey(removed.privateKey, fromBase64Url(item.seal), 'space', ctx, { extractable: true })
        : await openSealedSecretKey(removed.privateKey, fromBase64Url(item.seal), 'user', ctx, { extractable: true });
    const changed = toBase64Url(await sealSecretKey(removed.privateKey.publicKey, key, ctx));
    if (table === 'spaces') await org.testApp.db.updateTable('spaces').set({ sealed_for_escrow: changed }).where('id', '=', item.id).execute();
    else await org.testApp.db.updateTable('users').set({ escrow_user_key: changed }).where('id', '=', item.id).execute();
    const newSeal = toBase64Url(await sealSecretKey(adminVault.escrow!.publicKey, key, ctx));
    const answer = await admin.client.api(resealRotationItems, {
      body: { rotationId, items: [{ kind: item.kind, id: item.id, previousDigest: await recordDigest(item.seal), seal: newSeal }] },
    });
    expect([answer.updated, answer.skipped, answer.rotation.done]).toEqual([0, 1, 2]);
    expect(await stored()).toBe(changed);
    // Another rotation's id is refused outright.
    expect(await codeOf(admin.client.api(resealRotationItems, { body: { rotationId: newId(), items: [{ kind: item.kind, id: item.id, previousDigest: await recordDigest(changed), seal: newSeal }] } }))).toBe(
      'rotation_not_running',
    );
  });

  it('resumes in a new session (the tab was closed) and re-seals the rest, the changed seal included', async () => {
    await org.relogin(admin);
    // The pin moved at start, so the new sign-in opens the new escrow key; the old one comes with the bundle.
    expect(admin.vault.keySafe.escrowFingerprint).toBe(adminVault.keySafe.escrowFingerprint);
    expect(toHex(admin.vault.escrow!.publicKey.fingerprint)).toBe(adminVault.keySafe.escrowFingerprint);
    const { bundle } = await login(org.newClient().api, admin.email, admin.password, fast);
    expect(bundle.escrow?.previous?.grant.kind).toBe('wrapped');
    expect(bundle.escrow?.previous?.publicKey).toBe((await org.testApp.db.selectFrom('organisation').select('previous_escrow_public_key').executeTakeFirstOrThrow()).previous_escrow_public_key);
    const directory = await loadDirectory(admin.client.api, admin.vault);
    // A space sealed to the NEW key by a browser that named no fingerprint is stored as unknown: the
    // rotation takes it as pending, finds it opens with the new key and only records its fingerprint.
    const resealedSpace = (await org.testApp.db.selectFrom('spaces').select(['id', 'sealed_for_escrow']).where('escrow_fingerprint', '=', adminVault.keySafe.escrowFingerprint).executeTakeFirstOrThrow());
    await org.testApp.db.updateTable('spaces').set({ escrow_fingerprint: null }).where('id', '=', resealedSpace.id).execute();
    // The server swaps the client's escrow copy for a seal (to the old key) of a key of its choosing:
    // the browser refuses to carry it over to the new key, and the item stays pending.
    const original = (await org.testApp.db.selectFrom('users').select('escrow_user_key').where('id', '=', client.userId).executeTakeFirstOrThrow()).escrow_user_key;
    const forged = toBase64Url(await sealSecretKey(removed.privateKey.publicKey, await generateSecretKey('user', { extractable: true }), escrowUserKeyContext(client.userId)));
    await org.testApp.db.updateTable('users').set({ escrow_user_key: forged }).where('id', '=', client.userId).execute();
    const refused = await continueRotation(admin.client.api, admin.vault, directory, () => {}, { batchSize: 2 });
    expect(refused.refusedItems).toEqual([{ kind: 'user', id: client.userId, problem: 'key-commitment' }]);
    expect(refused.rotation.remaining).toBe(1);
    await org.testApp.db.updateTable('users').set({ escrow_user_key: original }).where('id', '=', client.userId).execute();
    const run = await continueRotation(admin.client.api, admin.vault, directory, () => {}, { batchSize: 2 });
    expect(run.refusedItems).toEqual([]);
    expect(run.uncheckedItems).toEqual([]);
    // One more than the items: the space without a fingerprint was counted again when its fingerprint was stored.
    expect(run.rotation).toMatchObject({ done: itemCount() + 1, remaining: 0 });
    const space = await org.testApp.db.selectFrom('spaces').selectAll().where('id', '=', resealedSpace.id).executeTakeFirstOrThrow();
    expect([space.sealed_for_escrow, space.escrow_fingerprint]).toEqual([resealedSpace.sealed_for_escrow, adminVault.keySafe.escrowFingerprint]);
  });

  it('records one rotation use per person and tells them once', async () => {
    const uses = await org.testApp.db.selectFrom('escrow_uses').selectAll().where('kind', '=', 'rotation').execute();
    expect(uses.filter((u) => u.user_id === client.userId)).toHaveLength(1);
    expect(new Set(uses.map((u) => u.user_id)).size).toBe(uses.length);
    expect(uses.every((u) => u.subject_id === rotationId && u.actor_id === admin.userId)).toBe(true);
    const sent = (org.testApp.notifier as unknown as { sent: { to: string; notification: { kind: string } }[] }).sent;
    expect(sent.filter((m) => m.to === client.email && m.notification.kind === 'escrow_used')).toHaveLength(1);
  });

  it('checks that every item opens with the new key, then destroys the old key pair and its grants', async () => {
    const check = await checkRotation(admin.client.api, admin.vault, await loadDirectory(admin.client.api, admin.vault));
    expect(check).toEqual({ rotationId, checked: itemCount(), failed: [] });
    const finished = await finishRotation(admin.client.api, check);
    expect(finished.finishedAt).not.toBeNull();
    const organisation = await org.testApp.db.selectFrom('organisation').selectAll().executeTakeFirstOrThrow();
    expect([organisation.previous_escrow_public_key, organisation.previous_escrow_fingerprint, organisation.previous_escrow_wrapped_private_key]).toEqual([null, null, null]);
    expect(await org.testApp.db.selectFrom('escrow_previous_grants').selectAll().execute()).toEqual([]);
    expect(await codeOf(admin.client.api(finishRotationEndpoint, { body: { rotationId, checked: 0 } }))).toBe('rotation_not_running');
    const actions = (await org.testApp.db.selectFrom('audit_events').select('action').execute()).map((e) => e.action);
    expect(actions).toContain('escrow.rotation_finished');
    expect(actions).toContain('escrow.rotation_resealed');
  });

  it("leaves the removed holder's saved escrow keys opening no stored seal, grant or key", async () => {
    const db = org.testApp.db;
    const spaces = await db.selectFrom('spaces').select(['id', 'sealed_for_escrow']).execute();
    const users = await db.selectFrom('users').select(['id', 'escrow_user_key']).execute();
    const fails = (p: Promise<unknown>) => p.then(() => 'opened', () => 'refused');
    for (const s of spaces) expect(await fails(openSealedSecretKey(removed.privateKey, fromBase64Url(s.sealed_for_escrow), 'space', spaceKeyContext(s.id, ESCROW_HOLDER)))).toBe('refused');
    for (const u of users) expect(await fails(openSealedSecretKey(removed.privateKey, fromBase64Url(u.escrow_user_key), 'user', escrowUserKeyContext(u.id)))).toBe('refused');
    for (const g of await db.selectFrom('escrow_grants').selectAll().execute()) {
      expect(await fails(openSealedSecretKey(removed.privateKey, fromBase64Url(g.value), 'escrow', escrowGrantContext(g.user_id)))).toBe('refused');
      expect(await fails(unwrapSecretKey(removed.escrowKey, fromBase64Url(g.value), 'escrow', escrowGrantContext(g.user_id)))).toBe('refused');
    }
    const organisation = await db.selectFrom('organisation').selectAll().executeTakeFirstOrThrow();
    expect(await fails(unwrapPrivateKey(removed.escrowKey, fromBase64Url(organisation.escrow_wrapped_private_key), escrowPrivateKeyContext))).toBe('refused');
    // Control: the same checks open with the new key, so "refused" is not a broken check.
    const u = users[0]!;
    expect(await fails(openSealedSecretKey(admin.vault.escrow!.privateKey, fromBase64Url(u.escrow_user_key), 'user', escrowUserKeyContext(u.id)))).toBe('opened');
  });

  it("lets a remaining Team Member read a client's profile and space after following the chain", async () => {
    const db = org.testApp.db;
    const { directory, verified, followed } = await followChain(team);
    const row = await db.selectFrom('users').selectAll().where('id', '=', client.userId).executeTakeFirstOrThrow();
    const user = { id: row.id, profile: row.profile, escrowUserKey: row.escrow_user_key };
    const owner = directory.identities.get(client.userId)!;
    const statement = JSON.parse(row.escrow_copy_statement!) as { payload: string; signature: string };
    await expect(openProfile(followed, user, { owner, statement })).rejects.toBeInstanceOf(EscrowCopyUnverifiedError);
    expect(await openProfile(followed, user, { owner, statement, previousFingerprints: previousFingerprintsOf(verified) })).toEqual({ name: 'client Persoon' });

    const space = await db.selectFrom('spaces').selectAll().where('client_id', '=', client.userId).executeTakeFirstOrThrow();
    const entry = await db.selectFrom('space_entries').selectAll().where('space_id', '=', space.id).where('seq', '=', 0).executeTakeFirstOrThrow();
    const payload = parseEntryPayload({ payload: entry.payload, signature: entry.signature });
    if (payload?.type !== 'space.create') throw new Error('entry 0 is not space.create');
    const genesis = { body: payload.body, author: payload.author, authorRole: 'client' };
    const view = { id: space.id, kind: space.kind, clientId: space.client_id, sealedKey: space.sealed_for_escrow, wrappedKey: null };
    await expect(openSpaceKey(followed, view, genesis)).rejects.toMatchObject({ reason: 'seal-not-signed' });
    const key = await openSpaceKey(followed, view, genesis, { rotated: true });
    expect(await keyCommitment(key)).toBe(payload.body.key);
    // A seal the server swapped for another key is refused even after a rotation.
    const swapped = toBase64Url(await sealSecretKey(followed.escrow!.publicKey, await generateSecretKey('space', { extractable: true }), spaceKeyContext(space.id, ESCROW_HOLDER)));
    await expect(openSpaceKey(followed, { ...view, sealedKey: swapped }, genesis, { rotated: true })).rejects.toEqual(new SpaceKeyRejectedError('key-commitment'));
  });

  it('lets a Team Member reset a client whose escrow copy the rotation re-sealed, once they follow the chain', async () => {
    const { verified, followed } = await followChain(team);
    const resetter = await org.relogin(team);
    const { users } = await resetter.client.api(listUsers, {});
    const person = users.find((u) => u.id === client.userId)!;
    const options = { liftLockout: false, removeSecondFactors: false };
    // The client's statement names the old escrow key: without the verified chain the copy is refused.
    await expect(startEscrowReset(resetter.client.api, followed, person, options)).rejects.toBeInstanceOf(EscrowCopyUnverifiedError);
    const { code, reset } = await startEscrowReset(resetter.client.api, followed, person, { ...options, previousFingerprints: previousFingerprintsOf(verified) });
    expect(reset.userId).toBe(client.userId);
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  });
});
