// Golden vectors of the signed formats (shared/crypto/vectors/signed-v1.json): a failure here means a format changed.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference the code under test is checked against
import { createHash, createHmac, hkdfSync, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DirectoryEntry, SignedPayload } from '../api';
import vectors from '../crypto/vectors/signed-v1.json';
import {
  deriveInvitationBindingKey,
  fromBase64Url,
  fromHex,
  importSecretKey,
  importSigningPublicKey,
  keyCommitment,
  toHex,
  unwrapSecretKey,
  unwrapSigningKey,
  verifyStatement,
} from '../crypto';
import { checkBinding, checkEscrowCopy, verifyDirectory } from './certificates';
import {
  type AuthorKeyResolver,
  HistoryError,
  entryHash,
  foldEntries,
  recordDigest,
  verifyEntries,
} from './space-history';

const directory = vectors.directory as DirectoryEntry[];
const pins = vectors.pins;
const people = Object.values(vectors.people);

/** Authors as the verified directory vouches for them. */
async function resolver(): Promise<AuthorKeyResolver> {
  const { identities } = await verifyDirectory(directory, pins);
  return (author, fingerprint) => {
    const identity = identities.get(author);
    return Promise.resolve(
      identity && toHex(identity.signingKey.fingerprint) === fingerprint
        ? { key: identity.signingKey, role: identity.role }
        : null,
    );
  };
}

/** Outside reference: ECDSA P-256 / SHA-256, P1363, over "kluis/v1/signature" || u32be(len) || context || payload. */
function referenceVerify(spki: string, context: string, signed: SignedPayload): boolean {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(Buffer.byteLength(context));
  const message = Buffer.concat([
    Buffer.from('kluis/v1/signature'),
    length,
    Buffer.from(context),
    Buffer.from(signed.payload, 'base64url'),
  ]);
  const key = {
    key: Buffer.from(spki, 'base64url'),
    format: 'der',
    type: 'spki',
    dsaEncoding: 'ieee-p1363',
  } as const;
  return nodeVerify('sha256', message, key, Buffer.from(signed.signature, 'base64url'));
}
const sha256 = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('signed vectors v1: keys and certificates', () => {
  it('key fingerprints are SHA-256 of the SPKI; the signing private keys unwrap under the user key', async () => {
    const userKey = await importSecretKey('user', fromHex(vectors.keys.user));
    for (const p of people) {
      expect(p.encryptionKey.fingerprint).toBe(
        sha256(Buffer.from(p.encryptionKey.spki, 'base64url')),
      );
      expect(p.signingKey.fingerprint).toBe(sha256(Buffer.from(p.signingKey.spki, 'base64url')));
      const key = await unwrapSigningKey(
        userKey,
        fromBase64Url(p.signingKey.wrappedPrivateKey),
        p.keyCtx,
      );
      expect(toHex(key.publicKey.fingerprint)).toBe(p.signingKey.fingerprint);
    }
  });

  it('each certificate verifies under its issuer’s key, by an outside implementation too', async () => {
    const { root, teamByAdmin, clientByTeam } = vectors.certificates;
    const { root: rootPerson, team } = vectors.people;
    expect(root.signedMessage).toBe(
      Buffer.concat([
        Buffer.from('kluis/v1/signature'),
        Buffer.from([0, 0, 0, 9]),
        Buffer.from('user-cert'),
        Buffer.from(root.payload, 'base64url'),
      ]).toString('hex'),
    );
    for (const [signed, issuer] of [
      [root, rootPerson],
      [teamByAdmin, rootPerson],
      [clientByTeam, team],
    ] as const) {
      expect(referenceVerify(issuer.signingKey.spki, 'user-cert', signed)).toBe(true);
      const key = await importSigningPublicKey(fromBase64Url(issuer.signingKey.spki));
      expect(
        await verifyStatement(
          key,
          'user-cert',
          fromBase64Url(signed.payload),
          fromBase64Url(signed.signature),
        ),
      ).toBe(true);
    }
  });

  it('the directory verifies from the pinned root with the certified roles', async () => {
    const result = await verifyDirectory(directory, pins);
    expect(result.rootFound).toBe(true);
    expect(result.unverified.size).toBe(0);
    const summary = Object.fromEntries(
      [...result.identities.values()].map((i) => [i.userId, [i.role, i.basis, i.issuer]]),
    );
    const { root, team, client } = vectors.people;
    expect(summary).toEqual({
      [root.id]: ['admin', 'root', root.id],
      [team.id]: ['team', 'invitation', root.id],
      [client.id]: ['client', 'invitation', team.id],
    });
  });

  it.each(vectors.negative.directory)('refuses: $name', async (c) => {
    const result = await verifyDirectory(c.directory as DirectoryEntry[], pins);
    expect(result.identities.has(c.user)).toBe(false);
    expect(result.unverified.get(c.user)?.reason).toBe(c.reason);
  });
});

describe('signed vectors v1: escrow copy and invitation binding', () => {
  it('the escrow-copy statement verifies and names the user key’s commitment', async () => {
    const { identities } = await verifyDirectory(directory, pins);
    const owner = identities.get(vectors.people.client.id)!;
    const e = vectors.escrowCopy;
    expect(
      referenceVerify(vectors.people.client.signingKey.spki, 'user-key-escrow', e.statement),
    ).toBe(true);
    const userKey = await importSecretKey('user', fromHex(vectors.keys.user));
    expect(e.userKeyCommitment).toBe(await keyCommitment(userKey));
    expect(await checkEscrowCopy(owner, e.escrowFingerprint, e.sealedCopy, e.statement)).toBe(
      e.userKeyCommitment,
    );
    expect(
      await checkEscrowCopy(
        owner,
        e.escrowFingerprint,
        vectors.negative.escrowCopy.sealedCopy,
        e.statement,
      ),
    ).toBeNull();
  });

  it('the binding key and MAC match HKDF and HMAC computed outside, and the escrow holder’s check', async () => {
    const b = vectors.invitationBinding;
    const expectedKey = Buffer.from(
      hkdfSync('sha256', fromHex(vectors.keys.escrow), Buffer.alloc(0), b.label, 32),
    ).toString('hex');
    expect(b.bindingKey).toBe(expectedKey);
    const escrow = await importSecretKey('escrow', fromHex(vectors.keys.escrow));
    expect(toHex(await deriveInvitationBindingKey(escrow, b.invitationId))).toBe(expectedKey);
    const message = Buffer.concat([
      Buffer.from('kluis/v1/invitation-binding'),
      ...b.fields.flatMap((field) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(Buffer.byteLength(field));
        return [length, Buffer.from(field)];
      }),
    ]);
    expect(createHmac('sha256', fromHex(b.bindingKey)).update(message).digest('base64url')).toBe(
      b.mac,
    );
    const withBinding = (binding: { invitationId: string; mac: string }) =>
      directory.map((entry) =>
        entry.id === vectors.people.client.id ? { ...entry, certificates: [], binding } : entry,
      );
    const bound = (
      await verifyDirectory(withBinding({ invitationId: b.invitationId, mac: b.mac }), pins)
    ).unverified.get(vectors.people.client.id)!;
    expect(await checkBinding(escrow, bound)).toBe(true);
    const other = (
      await verifyDirectory(withBinding(vectors.negative.binding), pins)
    ).unverified.get(vectors.people.client.id)!;
    expect(await checkBinding(escrow, other)).toBe(false);
  });
});

describe('signed vectors v1: space history', () => {
  const h = vectors.history;

  it('the stored values have the digests the entries name; the client wrap opens to the committed space key', async () => {
    const bodies = h.entries.map(
      (e) =>
        (
          JSON.parse(Buffer.from(e.payload, 'base64url').toString('utf8')) as {
            body: Record<string, string>;
          }
        ).body,
    );
    expect(bodies[0]!.escrowSeal).toBe(sha256(Buffer.from(h.stored.escrowSeal, 'base64url')));
    expect(bodies[0]!.clientWrap).toBe(await recordDigest(h.stored.clientWrap));
    expect(bodies[2]!.fileKey).toBe(sha256(Buffer.from(h.stored.wrappedFileKey, 'base64url')));
    expect(bodies[4]!.text).toBe(sha256(Buffer.from(h.stored.message2, 'base64url')));
    const userKey = await importSecretKey('user', fromHex(vectors.keys.user));
    const spaceKey = await unwrapSecretKey(userKey, fromBase64Url(h.stored.clientWrap), 'space', {
      id: h.spaceId,
      owner: vectors.people.client.id,
    });
    expect(await keyCommitment(spaceKey)).toBe(bodies[0]!.key);
    expect(h.spaceKeyCommitment).toBe(bodies[0]!.key);
  });

  it('the entry hashes chain, computed outside: SHA-256("kluis/v1/space-entry" || u32be(len) || payload)', async () => {
    let prev = '0'.repeat(64);
    for (const [seq, entry] of h.entries.entries()) {
      const bytes = Buffer.from(entry.payload, 'base64url');
      const payload = JSON.parse(bytes.toString('utf8')) as {
        seq: number;
        prev: string;
        authorKey: string;
      };
      expect(payload.seq).toBe(seq);
      expect(payload.prev).toBe(prev);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      prev = createHash('sha256')
        .update('kluis/v1/space-entry')
        .update(length)
        .update(bytes)
        .digest('hex');
      expect(h.hashes[seq]).toBe(prev);
      expect(await entryHash(bytes)).toBe(prev);
      const author = people.find((p) => p.signingKey.fingerprint === payload.authorKey)!;
      expect(referenceVerify(author.signingKey.spki, 'space-entry', entry)).toBe(true);
    }
    expect(h.head.hash).toBe(prev);
  });

  it('verifies and folds', async () => {
    const verified = await verifyEntries({
      spaceId: h.spaceId,
      from: null,
      entries: h.entries,
      resolveAuthor: await resolver(),
      remembered: h.head,
    });
    expect(verified.head).toEqual(h.head);
    const state = foldEntries(null, verified.entries);
    expect(state.genesis.author).toBe(vectors.people.client.id);
    expect([...state.documents.keys()]).toHaveLength(1);
    expect(state.threads.values().next().value?.messages).toHaveLength(2);
  });

  it.each(vectors.negative.history)('refuses: $name', async (c) => {
    const error = await verifyEntries({
      spaceId: h.spaceId,
      from: null,
      entries: c.entries,
      resolveAuthor: await resolver(),
      remembered: c.remembered,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HistoryError);
    expect({ problem: (error as HistoryError).problem, seq: (error as HistoryError).seq }).toEqual({
      problem: c.problem,
      seq: c.seq,
    });
  });
});
