// Integration: browsers following the signed escrow chain (issue 21, SECURITY.md 5.10) through the real flows over
// real HTTP: a holder's sign-in after a rotation moves the pin by compare-and-swap and opens the new and the
// previous escrow key; a browser that seals accepts a new escrow key only along Administrator-signed rotations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EscrowChain, getEscrowChain, getKeySafe, listSpaces } from '../../shared/api';
import type { CallApi } from '../../shared/api/client';
import { ARGON2ID_FLOOR, fromBase64Url, generateKeyPair, generateSecretKey, importPublicKey, toBase64Url, toHex } from '../../shared/crypto';
import { loadDirectory, login } from '../../shared/flows/account-flows';
import { escrowKeyToSealTo, movePin } from '../../shared/flows/escrow-chain';
import { EscrowChainError, signRotation, startRotation } from '../../shared/flows/escrow-rotation';
import { newKeySafe, openKeySafe } from '../../shared/flows/key-safe';
import { newClientId } from '../../shared/flows/spaces';
import { escrowPrivateKeyContext } from '../../shared/flows/vault';
import { budget } from '../test/budget';
import { type Member, type TestOrganisation, createTestOrganisation, fast } from '../test/org-fixture';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('movePin (the compare-and-swap on the key safe content)', () => {
  const safe = newKeySafe({ escrowFingerprint: A, opaqueServerPublicKey: 'o'.repeat(43), adminRootFingerprint: C });
  it.each([
    ['moves a pin that is still the old key', A, B, A, B],
    ['leaves a pin another window already moved', A, B, B, B],
    ['never moves a pin back, nor elsewhere', B, A, C, C],
  ])('%s', (_name, from, to, stored, expected) => {
    expect(movePin(from, to)({ ...safe, escrowFingerprint: stored }).escrowFingerprint).toBe(expected);
  });
});

describe('following the escrow chain', () => {
  let org: TestOrganisation;
  let admin: Member;
  let team: Member;
  let client: Member;
  let oldFingerprint: string;
  let newFingerprint: string;

  beforeAll(async () => {
    org = await createTestOrganisation(['team', 'client']);
    admin = org.admin;
    team = org.members.team!;
    client = org.members.client!;
    oldFingerprint = admin.vault.keySafe.escrowFingerprint;
    const started = await startRotation(admin.client.api, admin.vault, await loadDirectory(admin.client.api, admin.vault), { recoveryParams: ARGON2ID_FLOOR });
    newFingerprint = started.fingerprint;
  }, budget(180_000));
  afterAll(() => org?.close());

  it('a holder signing in after a rotation moves the pin and opens the new key, and the previous one while it runs', async () => {
    expect(team.vault.keySafe.escrowFingerprint).toBe(oldFingerprint);
    const fresh = org.newClient();
    const { vault } = await login(fresh.api, team.email, team.password, fast);
    expect(newFingerprint).not.toBe(oldFingerprint);
    expect(toHex(vault.escrow!.publicKey.fingerprint)).toBe(newFingerprint);
    expect(toHex(vault.escrowPrevious!.publicKey.fingerprint)).toBe(oldFingerprint);
    expect(vault.escrowUnverified).toBeUndefined();
    // Written into the stored key safe (compare-and-swap), so the next sign-in starts from the new pin.
    const stored = await fresh.api(getKeySafe, {});
    expect((await openKeySafe(vault.userKey, vault.userId, fromBase64Url(stored.keySafe))).escrowFingerprint).toBe(newFingerprint);
    const again = await login(org.newClient().api, team.email, team.password, fast);
    expect(toHex(again.vault.escrow!.publicKey.fingerprint)).toBe(newFingerprint);
    expect(toHex(again.vault.escrowPrevious!.publicKey.fingerprint)).toBe(oldFingerprint);
  });

  it('a sealing browser accepts the new escrow key only through a rotation an Administrator signed', async () => {
    const directory = () => loadDirectory(client.client.api, client.vault);
    const served = (await client.client.api(listSpaces, {})).escrowPublicKey;
    const followed = await escrowKeyToSealTo(client.client.api, oldFingerprint, served, directory);
    expect(followed).toMatchObject({ fingerprint: newFingerprint, moved: true });
    expect(followed.steps.map((step) => [step.from, step.to, step.by])).toEqual([[oldFingerprint, newFingerprint, admin.userId]]);
    // The pinned key itself needs no chain.
    expect((await escrowKeyToSealTo(client.client.api, newFingerprint, served, directory)).moved).toBe(false);

    // A server that adds a rotation to its own key, signed by a certified Team Member (not an Administrator).
    const forgedPair = await generateKeyPair(await generateSecretKey('escrow', { extractable: true }), escrowPrivateKeyContext);
    const forgedSpki = toBase64Url(forgedPair.publicKey.spki);
    const forgedFingerprint = toHex(forgedPair.publicKey.fingerprint);
    const forged = await signRotation(
      { userId: team.userId, signingKey: team.vault.signingKey! },
      { rotation: newClientId(), from: newFingerprint, to: forgedFingerprint, at: new Date().toISOString() },
    );
    const evil: CallApi = (async (endpoint, input, options) => {
      const answer = await client.client.api(endpoint, input, options);
      if (endpoint.operationId !== getEscrowChain.operationId) return answer;
      const chain = answer as EscrowChain;
      return { publicKey: forgedSpki, fingerprint: forgedFingerprint, rotations: [...chain.rotations, { ...forged, signerId: team.userId }] };
    }) as CallApi;
    await expect(escrowKeyToSealTo(evil, oldFingerprint, forgedSpki, directory)).rejects.toEqual(new EscrowChainError('unsigned-rotation'));
    // Served beside the genuine chain, a key no rotation names is refused too.
    await expect(escrowKeyToSealTo(client.client.api, oldFingerprint, forgedSpki, directory)).rejects.toEqual(new EscrowChainError('key-mismatch'));
    expect(toHex((await importPublicKey(fromBase64Url(served))).fingerprint)).toBe(newFingerprint);
  });
});
