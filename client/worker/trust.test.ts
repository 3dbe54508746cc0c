// Integration: the worker's trust against the real server over HTTP: certification through invitation
// bindings, a substituted key refused at an escrow grant, first-use warnings, key safe compare-and-swap
// and a replayed key safe caught by this device's mark. Real crypto; storage is real bytes in memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, generateKeyPair, generateSecretKey, generateSigningKeyPair, toBase64Url, toHex } from '../../shared/crypto';
import { KeyNotVerifiedError, grantEscrowAccess, invite, login, signup } from '../../shared/flows/account-flows';
import { KeySafeRollbackError, openKeySafe } from '../../shared/flows/key-safe';
import { type Member, type TestOrganisation, createTestOrganisation, fast, invitationLinkFor, parseInvitationLink } from '../../server/test/org-fixture';
import { type StateStorage, checkKeySafeMark, createKeySafeKeeper } from './key-safe-keeper';
import { type TrustWarning, createTrust } from './trust';
import { budget } from '../../server/test/budget';

/** Real storage of bytes, kept in memory (OPFS stands in for this in the browser). */
function memoryStorage(): StateStorage {
  const files = new Map<string, Uint8Array>();
  return {
    read: (name) => Promise.resolve(files.get(name)?.slice() ?? null),
    write: (name, data) => {
      files.set(name, data.slice());
      return Promise.resolve();
    },
  };
}

function trustOf(member: Member, storage: StateStorage | null = null) {
  const warnings: TrustWarning[] = [];
  const keySafe = createKeySafeKeeper({
    api: member.client.api,
    owner: member.vault,
    initial: { safe: member.vault.keySafe, revision: member.vault.keySafeRevision },
    storage,
    delayMs: 5,
  });
  const account = { current: { vault: member.vault, keySafe } };
  return { trust: createTrust({ api: member.client.api, account, onWarning: (w) => warnings.push(w) }), keySafe, warnings };
}

async function join(org: TestOrganisation, inviter: Member, email: string, role: 'team' | 'client' | 'auditor'): Promise<Member> {
  await invite(inviter.client.api, inviter.vault, { email, role, language: 'en' });
  const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
  const client = org.newClient();
  const password = 'rode-tulpen-langs-de-dijk';
  const { userId } = await signup(client.api, { token, fragment, name: 'Nieuw Persoon', password, language: 'en' }, fast);
  const { vault } = await login(client.api, email, password, fast);
  return { role, email, password, userId, client, vault };
}

describe('trust in the key directory', () => {
  let org: TestOrganisation;

  beforeAll(async () => {
    org = await createTestOrganisation(['team', 'client']);
  }, budget(120_000));
  afterAll(() => org?.close());

  it('certifies a client whose invitation binding verifies, so everyone sees them verified', async () => {
    const client = org.members.client!;
    const team = trustOf(org.members.team!);
    // The Team Member's browser saw the client's binding verify and certified them.
    expect(await team.trust.identity(client.userId)).toMatchObject({ role: 'client', basis: 'invitation', issuer: org.members.team!.userId });
    // The client's own browser now verifies the Team Member and the Administrator back to the root.
    const own = trustOf(client);
    expect((await own.trust.identity(org.members.team!.userId))?.basis).toBe('invitation');
    expect((await own.trust.identity(org.admin.userId))?.basis).toBe('root');
    const key = client.vault.signingKey!.publicKey;
    expect(await own.trust.authorKey(client.userId, toHex(key.fingerprint))).toMatchObject({ certified: true, role: 'client' });
    expect(await own.trust.authorKey(client.userId, 'ab'.repeat(32))).toBeNull();
    expect(team.warnings).toEqual([]);
  }, budget(30_000));

  it('refuses an escrow grant to a Team Member whose listed key the server substituted', async () => {
    const newcomer = await join(org, org.admin, 'substituted@kluis.test', 'team');
    // The server swaps in a key of its own choosing after sign-up.
    const evil = await generateKeyPair(await generateSecretKey('user'), { id: newcomer.userId, owner: newcomer.userId });
    await org.testApp.db.updateTable('users').set({ public_key: toBase64Url(evil.publicKey.spki) }).where('id', '=', newcomer.userId).execute();
    const admin = trustOf(org.admin);
    const identity = await admin.trust.identity(newcomer.userId);
    expect(identity).toBeNull();
    expect(admin.warnings).toContainEqual({ kind: 'binding-failed', userId: newcomer.userId, email: newcomer.email });
    await expect(grantEscrowAccess(org.admin.client.api, org.admin.vault, identity)).rejects.toBeInstanceOf(KeyNotVerifiedError);
    const grants = await org.testApp.db.selectFrom('escrow_grants').selectAll().where('user_id', '=', newcomer.userId).execute();
    expect(grants).toEqual([]);
  }, budget(60_000));

  it('does not trust on first use a person whose invitation binding fails (a substituted signing key)', async () => {
    const newcomer = await join(org, org.admin, 'swapped-client@kluis.test', 'client');
    // Before any staff browser certified them, the server lists a signing key of its own choosing.
    const evil = await generateSigningKeyPair(await generateSecretKey('user'), { id: newcomer.userId, owner: newcomer.userId });
    await org.testApp.db.updateTable('users').set({ signing_public_key: toBase64Url(evil.publicKey.spki) }).where('id', '=', newcomer.userId).execute();
    const team = trustOf(org.members.team!);
    // Entries signed by the server's key claim the client as author: nothing vouches for that key.
    expect(await team.trust.authorKey(newcomer.userId, toHex(evil.publicKey.fingerprint))).toBeNull();
    expect(team.warnings).toContainEqual({ kind: 'binding-failed', userId: newcomer.userId, email: newcomer.email });
    expect((await team.trust.keyStatuses()).get(newcomer.userId)).toEqual({ state: 'changed' });
    await team.keySafe.flush();
    expect(team.keySafe.current().seen[newcomer.userId]).toBeUndefined();
  }, budget(60_000));

  it('trusts an uncertified person on first use and warns when their keys change', async () => {
    // Invited by someone without the escrow key: no binding, so nobody certifies them.
    const noEscrow = { ...org.admin, vault: { ...org.admin.vault, escrow: undefined } };
    const person = await join(org, noEscrow, 'first-use@kluis.test', 'client');
    const team = trustOf(org.members.team!);
    const fp = toHex(person.vault.signingKey!.publicKey.fingerprint);
    expect(await team.trust.authorKey(person.userId, fp)).toMatchObject({ certified: false });
    await team.keySafe.flush();
    expect(team.keySafe.current().seen[person.userId]?.sig).toBe(fp);
    // The server now lists another signing key for them.
    const swapped = await generateSigningKeyPair(await generateSecretKey('user'), { id: 'x', owner: 'x' });
    await org.testApp.db.updateTable('users').set({ signing_public_key: toBase64Url(swapped.publicKey.spki) }).where('id', '=', person.userId).execute();
    team.trust.refresh();
    expect(await team.trust.authorKey(person.userId, toHex(swapped.publicKey.fingerprint))).toBeNull();
    expect(team.warnings).toContainEqual({ kind: 'keys-changed', userId: person.userId, email: person.email });
    expect((await team.trust.keyStatuses()).get(person.userId)).toEqual({ state: 'changed' });
  }, budget(60_000));

  it('merges two windows\' key safe writes with compare-and-swap, never moving a head backwards', async () => {
    const member = await org.relogin(org.members.client!);
    const one = trustOf(member);
    const two = trustOf(member);
    await one.trust.rememberHead('space-a', { seq: 3, hash: 'a'.repeat(64) });
    await two.trust.rememberHead('space-b', { seq: 1, hash: 'b'.repeat(64) });
    await two.trust.rememberHead('space-a', { seq: 1, hash: 'c'.repeat(64) });
    await one.keySafe.flush();
    await two.keySafe.flush(); // conflicts with one's write: re-reads, merges, retries
    const stored = await org.testApp.db.selectFrom('users').select(['key_safe', 'key_safe_revision']).where('id', '=', member.userId).executeTakeFirstOrThrow();
    const safe = await openKeySafe(member.vault.userKey, member.userId, fromBase64Url(stored.key_safe));
    expect(safe.heads).toEqual({ 'space-a': { seq: 3, hash: 'a'.repeat(64) }, 'space-b': { seq: 1, hash: 'b'.repeat(64) } });
    expect(stored.key_safe_revision).toBe(member.vault.keySafeRevision + 2);
    expect(safe.rev).toBe(stored.key_safe_revision);
    // Remembering an older head changes nothing.
    await one.trust.rememberHead('space-a', { seq: 2, hash: 'd'.repeat(64) });
    expect(one.trust.rememberedHead('space-a')).toEqual({ seq: 3, hash: 'a'.repeat(64) });
  }, budget(30_000));

  it('notices a replayed older key safe on this device', async () => {
    const member = await org.relogin(org.members.team!);
    const storage = memoryStorage();
    const old = await org.testApp.db.selectFrom('users').select(['key_safe', 'key_safe_revision']).where('id', '=', member.userId).executeTakeFirstOrThrow();
    await checkKeySafeMark(storage, member.vault, member.vault.keySafe);
    const { trust, keySafe } = trustOf(member, storage);
    await trust.rememberHead('space-x', { seq: 5, hash: 'e'.repeat(64) });
    await keySafe.flush();
    // Signing in again with the current key safe is fine.
    await org.relogin(member);
    await checkKeySafeMark(storage, member.vault, member.vault.keySafe);
    // The server replays the older key safe and its revision.
    await org.testApp.db.updateTable('users').set({ key_safe: old.key_safe, key_safe_revision: old.key_safe_revision }).where('id', '=', member.userId).execute();
    await org.relogin(member);
    await expect(checkKeySafeMark(storage, member.vault, member.vault.keySafe)).rejects.toBeInstanceOf(KeySafeRollbackError);
    // Without device storage (Node, or a browser without OPFS) the check is skipped.
    await checkKeySafeMark(null, member.vault, member.vault.keySafe);
  }, budget(60_000));
});
