// Which space keys a browser accepts, with real keys: the client only its own AEAD wrap, staff only an escrow seal entry 0 vouches for.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Space } from '../api';
import {
  IntegrityError,
  KluisCryptoError,
  type PublicKey,
  type SecretKey,
  fromBase64Url,
  generateKeyPair,
  generateSecretKey,
  generateSigningKeyPair,
  openSealedSecretKey,
  randomBytes,
  sealSecretKey,
  toBase64Url,
  createSha256,
  toHex,
} from '../crypto';

/** SHA-256 through hash-wasm (WASM), a second implementation next to the WebCrypto one the code under test uses. */
async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = await createSha256();
  hash.update(bytes);
  return toHex(hash.digest());
}
import { type EntryPayload, verifyEntries } from './space-history';
import {
  ESCROW_HOLDER,
  NoSigningKeyError,
  SpaceKeyRejectedError,
  type VerifiedGenesis,
  adoptionOf,
  createSpaceKey,
  openLegacySpaceKey,
  openSpaceKey,
  spaceKeyContext,
} from './spaces';
import type { UnlockedVault } from './vault';
import { budget } from '../../server/test/budget';

const newId = () => toBase64Url(randomBytes(16));

let escrowKey: SecretKey<'escrow'>;
let escrowPublic: PublicKey;
let escrowPrivate: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let client: UnlockedVault;
let staff: UnlockedVault;

/** A vault as openVault returns it, made of fresh real keys (RSA-OAEP-4096, ECDSA P-256, AES-256 user key). */
async function vaultOf(role: 'client' | 'team', withEscrow: boolean): Promise<UnlockedVault> {
  const userId = newId();
  const userKey = await generateSecretKey('user', { extractable: true });
  const { privateKey } = await generateKeyPair(userKey, { id: userId, owner: userId });
  const signing = await generateSigningKeyPair(userKey, { id: userId, owner: userId });
  const vault: UnlockedVault = {
    userId,
    email: `${role}@kluis.test`,
    role,
    userKey,
    privateKey,
    keySafe: {
      v: 2,
      rev: 0,
      escrowFingerprint: toHex(escrowPublic.fingerprint),
      opaqueServerPublicKey: 'A'.repeat(43),
      adminRootFingerprint: '0'.repeat(64),
      heads: {},
      seen: {},
    },
    signingKey: signing.privateKey,
    ...(withEscrow && { escrow: { escrowKey, privateKey: escrowPrivate, publicKey: escrowPublic } }),
    escrowGrantNeedsAccept: false,
    keySafeRevision: 0,
  };
  return vault;
}

/** The payload bytes of a signed entry, read here with JSON.parse (not the code under test). */
const payloadOf = (entry: { payload: string }) => JSON.parse(new TextDecoder().decode(fromBase64Url(entry.payload))) as EntryPayload;

const resolverFor = (...people: UnlockedVault[]) => (authorId: string) => {
  const found = people.find((p) => p.userId === authorId);
  return Promise.resolve(found?.signingKey ? { key: found.signingKey.publicKey, role: found.role } : null);
};

/** The verified entry 0 of a created space, as the worker hands it to openSpaceKey. */
async function genesisOf(spaceId: string, entry: { payload: string; signature: string }, ...people: UnlockedVault[]): Promise<VerifiedGenesis> {
  const { entries } = await verifyEntries({ spaceId, from: null, entries: [entry], resolveAuthor: resolverFor(...people) });
  const first = entries[0]!;
  if (first.payload.type !== 'space.create') throw new Error('not a genesis');
  return { body: first.payload.body, author: first.payload.author, authorRole: first.authorRole };
}

function spaceView(over: Partial<Space> & Pick<Space, 'id' | 'kind' | 'clientId'>): Space {
  return {
    createdAt: '2025-01-01T00:00:00.000Z',
    sealedKey: null,
    wrappedKey: null,
    legacy: false,
    historyLength: 1,
    documentCount: 0,
    storedBytes: 0,
    unreadMessages: 0,
    openRequestItems: 0,
    lastActivityAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

/** What the record commitment of a key is, computed through a second path: a record's envelope carries it (bytes 1..33). */
async function commitmentOf(key: SecretKey): Promise<string> {
  const { encryptRecord } = await import('../crypto');
  const envelope = await encryptRecord(key, 'x', { type: 't', id: 'i', owner: 'o' });
  return toHex(envelope.subarray(1, 33));
}

beforeAll(async () => {
  escrowKey = await generateSecretKey('escrow', { extractable: true });
  const escrow = await generateKeyPair(escrowKey, { id: 'escrow', owner: 'organisation' });
  escrowPublic = escrow.publicKey;
  escrowPrivate = escrow.privateKey;
  [client, staff] = await Promise.all([vaultOf('client', false), vaultOf('team', true)]);
}, budget(120_000));

describe('a client space', () => {
  it('is made with a wrap under the client’s user key and a signed entry 0 committing to the key', async () => {
    const { body, spaceKey } = await createSpaceKey(client, 'client', escrowPublic);
    expect(body.wrappedForClient).toBeDefined();
    expect(body).not.toHaveProperty('sealedForClient');
    const payload = payloadOf(body.entry);
    expect(payload).toMatchObject({ type: 'space.create', seq: 0, space: body.id, author: client.userId, prev: '0'.repeat(64) });
    expect(payload.body).toMatchObject({ spaceKind: 'client', client: client.userId, key: await commitmentOf(spaceKey) });
    const genesis = await genesisOf(body.id, body.entry, client);

    const space = spaceView({ id: body.id, kind: 'client', clientId: client.userId, wrappedKey: body.wrappedForClient! });
    const opened = await openSpaceKey(client, space, genesis);
    expect(await commitmentOf(opened)).toBe(await commitmentOf(spaceKey));
    // Staff accept the escrow seal because entry 0 names it and commits to what it opens to.
    const seen = await openSpaceKey(staff, { ...space, sealedKey: body.sealedForEscrow, wrappedKey: null }, genesis);
    expect(await commitmentOf(seen)).toBe(await commitmentOf(spaceKey));
  });

  it('the client never opens a seal the server made: only their own wrap of this space', async () => {
    const { body } = await createSpaceKey(client, 'client', escrowPublic);
    const other = await createSpaceKey(client, 'client', escrowPublic);
    const serverKey = await generateSecretKey('space', { extractable: true });
    const serverSeal = toBase64Url(await sealSecretKey(client.privateKey.publicKey, serverKey, spaceKeyContext(body.id, client.userId)));
    const base = { id: body.id, kind: 'client', clientId: client.userId } as const;
    // A seal to the client's public key (what made issue 18's attack work) is not even looked at.
    await expect(openSpaceKey(client, spaceView({ ...base, sealedKey: serverSeal }), null)).rejects.toEqual(new SpaceKeyRejectedError('no-wrap'));
    // Served as if it were the wrap, it does not authenticate.
    await expect(openSpaceKey(client, spaceView({ ...base, wrappedKey: serverSeal }), null)).rejects.toBeInstanceOf(KluisCryptoError);
    // The client's own wrap of another space is bound to that space.
    await expect(openSpaceKey(client, spaceView({ ...base, wrappedKey: other.body.wrappedForClient! }), null)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('staff refuse a key sealed to escrow by the server, and an entry 0 that is not the client’s', async () => {
    const { body } = await createSpaceKey(client, 'client', escrowPublic);
    const genesis = await genesisOf(body.id, body.entry, client);
    const space = spaceView({ id: body.id, kind: 'client', clientId: client.userId, sealedKey: body.sealedForEscrow });
    const serverKey = await generateSecretKey('space', { extractable: true });
    const serverSeal = toBase64Url(await sealSecretKey(escrowPublic, serverKey, spaceKeyContext(body.id, ESCROW_HOLDER)));

    await expect(openSpaceKey(staff, { ...space, sealedKey: serverSeal }, genesis)).rejects.toEqual(new SpaceKeyRejectedError('seal-not-signed'));
    await expect(openSpaceKey(staff, space, null)).rejects.toEqual(new SpaceKeyRejectedError('no-history'));
    // Even with the digest of its own seal in entry 0, the commitment gives the server's key away.
    const { recordDigest } = await import('./space-history');
    const forged = { ...genesis, body: { ...genesis.body, escrowSeal: await recordDigest(serverSeal) } };
    await expect(openSpaceKey(staff, { ...space, sealedKey: serverSeal }, forged)).rejects.toEqual(new SpaceKeyRejectedError('key-commitment'));
    // An entry 0 signed by someone else than the space's client (here: staff) is not the client's space.
    await expect(openSpaceKey(staff, space, { ...genesis, author: staff.userId, authorRole: 'team' })).rejects.toEqual(new SpaceKeyRejectedError('creator'));
    await expect(openSpaceKey(staff, { ...space, clientId: newId() }, genesis)).rejects.toEqual(new SpaceKeyRejectedError('creator'));
  });
});

describe('the team space', () => {
  it('is created by staff, accepted only with a staff-signed entry 0', async () => {
    const { body, spaceKey } = await createSpaceKey(staff, 'team', escrowPublic);
    expect(body.wrappedForClient).toBeUndefined();
    const genesis = await genesisOf(body.id, body.entry, staff);
    const space = spaceView({ id: body.id, kind: 'team', clientId: null, sealedKey: body.sealedForEscrow });
    expect(await commitmentOf(await openSpaceKey(staff, space, genesis))).toBe(await commitmentOf(spaceKey));
    await expect(openSpaceKey(staff, space, { ...genesis, authorRole: 'client' })).rejects.toEqual(new SpaceKeyRejectedError('creator'));
  });

  it('needs a signing key', async () => {
    const { signingKey: _dropped, ...unsigned } = staff;
    await expect(createSpaceKey(unsigned as UnlockedVault, 'team', escrowPublic)).rejects.toBeInstanceOf(NoSigningKeyError);
  });
});

describe('a legacy space (made before signed histories)', () => {
  it('is opened once from the client’s old seal and adopted: afterwards only the wrap opens it', async () => {
    const spaceId = newId();
    const legacyKey = await generateSecretKey('space', { extractable: true });
    const oldSeal = toBase64Url(await sealSecretKey(client.privateKey.publicKey, legacyKey, spaceKeyContext(spaceId, client.userId)));
    const legacy = spaceView({ id: spaceId, kind: 'client', clientId: client.userId, sealedKey: oldSeal, legacy: true, historyLength: 0 });

    const opened = await openLegacySpaceKey(client, legacy);
    expect(await commitmentOf(opened)).toBe(await commitmentOf(legacyKey));
    // The client cannot check the stored escrow seal: they seal the key afresh to the pinned escrow key.
    await expect(adoptionOf(client, legacy, opened, { storedEscrowSeal: oldSeal })).rejects.toThrow('a client seals the key afresh to the pinned escrow key');
    const adoption = await adoptionOf(client, legacy, opened, { escrowPublicKey: escrowPublic });
    const escrowSeal = adoption.sealedForEscrow!;
    expect(await commitmentOf(await openSealedSecretKey(escrowPrivate, fromBase64Url(escrowSeal), 'space', spaceKeyContext(spaceId, ESCROW_HOLDER)))).toBe(
      await commitmentOf(legacyKey),
    );
    const payload = payloadOf(adoption.entry);
    expect(payload.body).toMatchObject({ spaceKind: 'client', client: client.userId, key: await commitmentOf(legacyKey) });
    expect(payload.type === 'space.create' && payload.body.escrowSeal).toBe(
      await sha256(fromBase64Url(escrowSeal)),
    );
    expect(payload.type === 'space.create' && payload.body.clientWrap).toBe(await sha256(fromBase64Url(adoption.wrappedForClient!)));

    const genesis = await genesisOf(spaceId, adoption.entry, client);
    const adopted = spaceView({ id: spaceId, kind: 'client', clientId: client.userId, wrappedKey: adoption.wrappedForClient!, legacy: false });
    expect(await commitmentOf(await openSpaceKey(client, adopted, genesis))).toBe(await commitmentOf(legacyKey));
    expect(await commitmentOf(await openSpaceKey(staff, { ...adopted, wrappedKey: null, sealedKey: escrowSeal }, genesis))).toBe(
      await commitmentOf(legacyKey),
    );
    // A space that is not legacy is never opened from a seal again.
    await expect(openLegacySpaceKey(client, spaceView({ ...legacy, legacy: false }))).rejects.toEqual(new SpaceKeyRejectedError('no-history'));
  });

  it('staff adopt the team space, never a client’s', async () => {
    const spaceId = newId();
    const legacyKey = await generateSecretKey('space', { extractable: true });
    const escrowSeal = toBase64Url(await sealSecretKey(escrowPublic, legacyKey, spaceKeyContext(spaceId, ESCROW_HOLDER)));
    const team = spaceView({ id: spaceId, kind: 'team', clientId: null, sealedKey: escrowSeal, legacy: true, historyLength: 0 });
    const opened = await openLegacySpaceKey(staff, team);
    await expect(adoptionOf(staff, team, opened, { escrowPublicKey: escrowPublic })).rejects.toThrow('staff name the stored escrow seal of the team space');
    const adoption = await adoptionOf(staff, team, opened, { storedEscrowSeal: escrowSeal });
    expect(adoption).toEqual({ entry: adoption.entry });
    expect(payloadOf(adoption.entry).body).toMatchObject({ escrowSeal: await sha256(fromBase64Url(escrowSeal)), clientWrap: null });
    expect(await commitmentOf(await openSpaceKey(staff, spaceView({ ...team, legacy: false }), await genesisOf(spaceId, adoption.entry, staff)))).toBe(
      await commitmentOf(legacyKey),
    );
    const clientSpace = spaceView({ id: spaceId, kind: 'client', clientId: client.userId, sealedKey: escrowSeal, legacy: true });
    await expect(openLegacySpaceKey(staff, clientSpace)).rejects.toEqual(new SpaceKeyRejectedError('no-history'));
    await expect(adoptionOf(staff, clientSpace, opened, { storedEscrowSeal: escrowSeal })).rejects.toThrow('only its client adopts a client space');
  });
});
