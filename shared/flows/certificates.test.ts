// The key directory as a browser verifies it: certificate chains to the pinned root, invitation bindings and escrow-copy statements.
import { beforeAll, describe, expect, it } from 'vitest';
import type { DirectoryEntry, SignedPayload } from '../api';
import {
  type GeneratedKeyPair,
  type SecretKey,
  type SigningPrivateKey,
  deriveInvitationBindingKey,
  fromBase64Url,
  fromUtf8,
  generateKeyPair,
  generateSecretKey,
  generateSigningKeyPair,
  keyCommitment,
  signStatement,
  toBase64Url,
  toHex,
  utf8,
} from '../crypto';
import {
  type CertificateBasis,
  type VerifiedIdentity,
  checkBinding,
  checkEscrowCopy,
  makeBinding,
  signCertificate,
  signEscrowCopy,
  verifyDirectory,
} from './certificates';
import { budget } from '../../server/test/budget';

type Role = DirectoryEntry['role'];
interface Person {
  id: string;
  email: string;
  role: Role;
  enc: GeneratedKeyPair;
  sig: SigningPrivateKey;
}

const ID = (name: string) => name.padEnd(22, '_');
const fp = (key: { fingerprint: Uint8Array }) => toHex(key.fingerprint);
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

let userKey: SecretKey<'user'>;
let root: Person, admin: Person, team: Person, team2: Person, client: Person, spare: Person;

async function person(name: string, role: Role): Promise<Person> {
  const ctx = { id: ID(name), owner: ID(name) };
  const [enc, sig] = await Promise.all([
    generateKeyPair(userKey, ctx),
    generateSigningKeyPair(userKey, ctx),
  ]);
  return { id: ID(name), email: `${name}@example.test`, role, enc, sig: sig.privateKey };
}

beforeAll(async () => {
  userKey = await generateSecretKey('user');
  [root, admin, team, team2, client, spare] = await Promise.all([
    person('root', 'admin'),
    person('admin', 'admin'),
    person('team', 'team'),
    person('team2', 'team'),
    person('client', 'client'),
    person('spare', 'client'),
  ]);
}, budget(120_000));

const subject = (p: Person, role: Role = p.role) => ({
  userId: p.id,
  email: p.email,
  role,
  encKey: fp(p.enc.publicKey),
  sigKey: fp(p.sig.publicKey),
});
const certify = (
  issuer: Person,
  p: Person,
  minute: number,
  basis: CertificateBasis = 'invitation',
  role: Role = p.role,
) =>
  signCertificate(
    { userId: issuer.id, signingKey: issuer.sig },
    subject(p, role),
    basis,
    at(minute),
  );
const listing = (
  p: Person,
  certificates: SignedPayload[],
  change: Partial<DirectoryEntry> = {},
): DirectoryEntry => ({
  id: p.id,
  email: p.email,
  role: p.role,
  publicKey: toBase64Url(p.enc.publicKey.spki),
  signingPublicKey: toBase64Url(p.sig.publicKey.spki),
  certificates,
  binding: null,
  escrowCopyStatement: null,
  ...change,
});
const pins = () => ({ adminRootFingerprint: fp(root.sig.publicKey) });

/** The organisation: root certifies admin and team; admin certifies team2; team certifies the client. */
async function organisation() {
  return {
    root: listing(root, [await certify(root, root, 0, 'root')]),
    admin: listing(admin, [await certify(root, admin, 1)]),
    team: listing(team, [await certify(root, team, 2)]),
    team2: listing(team2, [await certify(admin, team2, 3)]),
    client: listing(client, [await certify(team, client, 4)]),
  };
}

describe('verifyDirectory', () => {
  it('verifies the whole organisation from the pinned root, with the roles the certificates state', async () => {
    const org = await organisation();
    const directory = await verifyDirectory(Object.values(org), pins());
    expect(directory.rootFound).toBe(true);
    expect(directory.unverified.size).toBe(0);
    const roles = Object.fromEntries(
      [...directory.identities.values()].map((i) => [i.email, [i.role, i.basis, i.issuer]]),
    );
    expect(roles).toEqual({
      'root@example.test': ['admin', 'root', root.id],
      'admin@example.test': ['admin', 'invitation', root.id],
      'team@example.test': ['team', 'invitation', root.id],
      'team2@example.test': ['team', 'invitation', admin.id],
      'client@example.test': ['client', 'invitation', team.id],
    });
    const c = directory.identities.get(client.id)!;
    expect(fp(c.encryptionKey)).toBe(fp(client.enc.publicKey));
    expect(fp(c.signingKey)).toBe(fp(client.sig.publicKey));
  });

  it('finds the root only under the pinned fingerprint', async () => {
    const org = await organisation();
    const other = await verifyDirectory(Object.values(org), {
      adminRootFingerprint: fp(admin.sig.publicKey),
    });
    expect(other.rootFound).toBe(false);
    expect(other.identities.size).toBe(0);
    // Another Administrator's self-signed root certificate is not a root.
    const fakeRoot = listing(admin, [await certify(admin, admin, 0, 'root')]);
    const directory = await verifyDirectory([fakeRoot], {
      adminRootFingerprint: fp(root.sig.publicKey),
    });
    expect(directory.rootFound).toBe(false);
    expect(directory.unverified.get(admin.id)?.reason).toBe('certificate-mismatch');
    // Pinning the fake root's key does not help a root certificate naming someone else's key.
    const rootKeyElsewhere = listing(root, [await certify(root, root, 0, 'root')], {
      signingPublicKey: toBase64Url(admin.sig.publicKey.spki),
    });
    expect((await verifyDirectory([rootKeyElsewhere], pins())).rootFound).toBe(false);
  });

  it('accepts chains listed in any order', async () => {
    const org = await organisation();
    const orders = [
      [org.client, org.team2, org.team, org.admin, org.root],
      [org.team2, org.client, org.root, org.admin, org.team],
      [org.admin, org.root, org.client, org.team, org.team2],
    ];
    for (const entries of orders) {
      const directory = await verifyDirectory(entries, pins());
      expect(directory.identities.size).toBe(5);
    }
    // A certificate issued (by its clock) before its issuer's own certificate still chains.
    const early = { ...org, client: listing(client, [await certify(team2, client, -5)]) };
    expect(
      (await verifyDirectory(Object.values(early).reverse(), pins())).identities.get(client.id)
        ?.issuer,
    ).toBe(team2.id);
  });

  it('refuses a staff or Administrator certificate issued by a Team Member', async () => {
    const org = await organisation();
    const byTeam = {
      ...org,
      team2: listing(team2, [await certify(team, team2, 3)]),
      admin: listing(admin, [await certify(team, admin, 1)]),
    };
    const directory = await verifyDirectory(Object.values(byTeam), pins());
    expect(directory.identities.has(team2.id)).toBe(false);
    expect(directory.identities.has(admin.id)).toBe(false);
    expect(directory.unverified.get(team2.id)?.reason).toBe('certificate-mismatch');
  });

  it('refuses a certificate issued by a client, or by a verified person who is not an issuer of that role', async () => {
    const org = await organisation();
    const byClient = { ...org, team2: listing(team2, [await certify(client, team2, 5)]) };
    expect((await verifyDirectory(Object.values(byClient), pins())).identities.has(team2.id)).toBe(
      false,
    );
    const clientByClient = { ...org, spare: listing(spare, [await certify(client, spare, 5)]) };
    expect(
      (await verifyDirectory(Object.values(clientByClient), pins())).identities.has(spare.id),
    ).toBe(false);
  });

  it('refuses a certificate for other keys: a substituted encryption or signing key', async () => {
    const org = await organisation();
    for (const change of [
      { publicKey: toBase64Url(spare.enc.publicKey.spki) },
      { signingPublicKey: toBase64Url(spare.sig.publicKey.spki) },
    ]) {
      const substituted = { ...org, client: { ...org.client, ...change } };
      const directory = await verifyDirectory(Object.values(substituted), pins());
      expect(directory.identities.has(client.id)).toBe(false);
      expect(directory.unverified.get(client.id)?.reason).toBe('certificate-mismatch');
    }
    // A substituted staff signing key takes away their power to certify, too.
    const staffSwap = {
      ...org,
      team: { ...org.team, signingPublicKey: toBase64Url(spare.sig.publicKey.spki) },
    };
    const directory = await verifyDirectory(Object.values(staffSwap), pins());
    expect(directory.identities.has(team.id)).toBe(false);
    expect(directory.identities.has(client.id)).toBe(false);
  });

  it('refuses a certificate moved to another person or with the e-mail address changed by the server', async () => {
    const org = await organisation();
    const moved = { ...org, spare: listing(spare, org.client.certificates) };
    expect((await verifyDirectory(Object.values(moved), pins())).identities.has(spare.id)).toBe(
      false,
    );
    const renamed = { ...org, client: { ...org.client, email: 'attacker@example.test' } };
    expect((await verifyDirectory(Object.values(renamed), pins())).identities.has(client.id)).toBe(
      false,
    );
  });

  it('refuses a forged issuer: a certificate by someone nobody certified, however it names the issuer', async () => {
    const org = await organisation();
    const forged = await signCertificate(
      { userId: spare.id, signingKey: spare.sig },
      subject(client),
      'invitation',
      at(4),
    );
    const stranger = listing(spare, [], { role: 'admin' });
    expect(
      (
        await verifyDirectory(
          [...Object.values(org).slice(0, 3), stranger, listing(client, [forged])],
          pins(),
        )
      ).identities.has(client.id),
    ).toBe(false);
    // Claims the team member as issuer (id and key fingerprint), but the stranger signed it.
    const payload = JSON.parse(fromUtf8(fromBase64Url(forged.payload))) as Record<string, unknown>;
    const claimed = utf8(
      JSON.stringify({ ...payload, issuer: team.id, issuerKey: fp(team.sig.publicKey) }),
    );
    const impostor = {
      payload: toBase64Url(claimed),
      signature: toBase64Url(await signStatement(spare.sig, 'user-cert', claimed)),
    };
    const directory = await verifyDirectory(
      [...Object.values(org).slice(0, 3), stranger, listing(client, [impostor])],
      pins(),
    );
    expect(directory.identities.has(client.id)).toBe(false);
    expect(directory.identities.has(spare.id)).toBe(false);
  });

  it('refuses a certificate that names another issuer than the one who signed it', async () => {
    const org = await organisation();
    const signed = await certify(admin, team2, 3);
    const payload = JSON.parse(fromUtf8(fromBase64Url(signed.payload))) as Record<string, unknown>;
    const bytes = utf8(JSON.stringify({ ...payload, issuer: root.id }));
    const misnamed = {
      payload: toBase64Url(bytes),
      signature: toBase64Url(await signStatement(admin.sig, 'user-cert', bytes)),
    };
    const directory = await verifyDirectory(
      Object.values({ ...org, team2: listing(team2, [misnamed]) }),
      pins(),
    );
    expect(directory.identities.has(team2.id)).toBe(false);
  });

  it('a signature made for another statement context is no certificate', async () => {
    const org = await organisation();
    const bytes = fromBase64Url(org.client.certificates[0]!.payload);
    const asEntry = {
      payload: org.client.certificates[0]!.payload,
      signature: toBase64Url(await signStatement(team.sig, 'space-entry', bytes)),
    };
    expect(
      (
        await verifyDirectory(Object.values({ ...org, client: listing(client, [asEntry]) }), pins())
      ).identities.has(client.id),
    ).toBe(false);
  });

  it('a role changed by the server does not change the certified role', async () => {
    const org = await organisation();
    const raised = {
      ...org,
      team: { ...org.team, role: 'admin' as const },
      client: { ...org.client, role: 'team' as const },
    };
    const directory = await verifyDirectory(Object.values(raised), pins());
    expect(directory.identities.get(team.id)?.role).toBe('team');
    expect(directory.identities.get(client.id)?.role).toBe('client');
    // A Team Member the server calls an Administrator still cannot certify staff.
    const staffByTeam = { ...raised, team2: listing(team2, [await certify(team, team2, 3)]) };
    expect(
      (await verifyDirectory(Object.values(staffByTeam), pins())).identities.has(team2.id),
    ).toBe(false);
  });

  it('the newest valid certificate states the role, whatever order the chains verify in', async () => {
    const org = await organisation();
    // team2 was made an Administrator by root (minute 10), then an auditor by admin (minute 20).
    const entries = {
      ...org,
      team2: listing(team2, [
        await certify(root, team2, 10, 'invitation', 'admin'),
        await certify(admin, team2, 20, 'invitation', 'auditor'),
      ]),
    };
    const directory = await verifyDirectory(Object.values(entries), pins());
    expect(directory.identities.get(team2.id)?.role).toBe('auditor');
    // ... and someone whose newest certificate makes them an auditor issues nothing any more.
    const issued = { ...entries, spare: listing(spare, [await certify(team2, spare, 30)]) };
    expect((await verifyDirectory(Object.values(issued), pins())).identities.has(spare.id)).toBe(
      false,
    );
    // The same with the demotion verified first (its issuer chains earlier than the promotion's).
    const swapped = {
      ...org,
      team2: listing(team2, [
        await certify(team, team2, 10, 'invitation', 'admin'),
        await certify(root, team2, 5, 'invitation', 'auditor'),
      ]),
    };
    // team cannot make an Administrator: only the auditor certificate verifies.
    expect(
      (await verifyDirectory(Object.values(swapped), pins())).identities.get(team2.id)?.role,
    ).toBe('auditor');
    const promotedLater = {
      ...org,
      team2: listing(team2, [
        await certify(root, team2, 5, 'invitation', 'auditor'),
        await certify(admin, team2, 10, 'invitation', 'admin'),
      ]),
    };
    expect(
      (await verifyDirectory(Object.values(promotedLater), pins())).identities.get(team2.id)?.role,
    ).toBe('admin');
  });
});

describe('invitation bindings', () => {
  let escrowKey: SecretKey<'escrow'>;
  const invitationId = ID('invitation');
  beforeAll(async () => {
    escrowKey = await generateSecretKey('escrow');
  });

  async function boundDirectory(
    change: Partial<DirectoryEntry> = {},
    binding?: { invitationId: string; mac: string },
  ) {
    const org = await organisation();
    const k = await deriveInvitationBindingKey(escrowKey, invitationId);
    const mac = await makeBinding(k, { invitationId, ...subject(spare) });
    const entry = listing(spare, [], { binding: binding ?? { invitationId, mac }, ...change });
    const directory = await verifyDirectory([...Object.values(org), entry], pins());
    return { person: directory.unverified.get(spare.id)!, mac };
  }

  it('an invitee’s binding verifies for the keys they made', async () => {
    const { person } = await boundDirectory();
    expect(person.reason).toBe('not-certified');
    expect(await checkBinding(escrowKey, person)).toBe(true);
  });

  it('fails for a substituted key, another e-mail address or role, another invitation or another escrow key', async () => {
    expect(
      await checkBinding(
        escrowKey,
        (await boundDirectory({ publicKey: toBase64Url(client.enc.publicKey.spki) })).person,
      ),
    ).toBe(false);
    expect(
      await checkBinding(
        escrowKey,
        (await boundDirectory({ signingPublicKey: toBase64Url(client.sig.publicKey.spki) })).person,
      ),
    ).toBe(false);
    expect(
      await checkBinding(escrowKey, (await boundDirectory({ email: 'other@example.test' })).person),
    ).toBe(false);
    expect(await checkBinding(escrowKey, (await boundDirectory({ role: 'team' })).person)).toBe(
      false,
    );
    const { mac } = await boundDirectory();
    expect(
      await checkBinding(
        escrowKey,
        (await boundDirectory({}, { invitationId: ID('other-invitation'), mac })).person,
      ),
    ).toBe(false);
    expect(
      await checkBinding(await generateSecretKey('escrow'), (await boundDirectory()).person),
    ).toBe(false);
    expect(await checkBinding(escrowKey, (await boundDirectory({ binding: null })).person)).toBe(
      false,
    );
  });
});

describe('escrow-copy statements', () => {
  const escrowFingerprint = 'e'.repeat(64);
  const sealed = toBase64Url(Uint8Array.from({ length: 512 }, (_, i) => i & 0xff));
  let ownerKey: SecretKey<'user'>;
  let owner: VerifiedIdentity;
  let other: VerifiedIdentity;
  let statement: SignedPayload;

  beforeAll(async () => {
    ownerKey = await generateSecretKey('user');
    const directory = await verifyDirectory(Object.values(await organisation()), pins());
    owner = directory.identities.get(client.id)!;
    other = directory.identities.get(team.id)!;
    statement = await signEscrowCopy(
      { userId: client.id, signingKey: client.sig, userKey: ownerKey },
      escrowFingerprint,
      sealed,
    );
  });

  it('round trip: returns the commitment of the owner’s user key', async () => {
    expect(await checkEscrowCopy(owner, escrowFingerprint, sealed, statement)).toBe(
      await keyCommitment(ownerKey),
    );
  });

  it('fails for another seal, another owner, another escrow key, no statement or a statement signed by someone else', async () => {
    const otherSeal = toBase64Url(Uint8Array.from({ length: 512 }, (_, i) => (i + 1) & 0xff));
    expect(await checkEscrowCopy(owner, escrowFingerprint, otherSeal, statement)).toBeNull();
    expect(await checkEscrowCopy(other, escrowFingerprint, sealed, statement)).toBeNull();
    expect(await checkEscrowCopy(owner, 'f'.repeat(64), sealed, statement)).toBeNull();
    expect(await checkEscrowCopy(owner, escrowFingerprint, sealed, null)).toBeNull();
    const bytes = fromBase64Url(statement.payload);
    const byTeam = {
      payload: statement.payload,
      signature: toBase64Url(await signStatement(team.sig, 'user-key-escrow', bytes)),
    };
    expect(await checkEscrowCopy(owner, escrowFingerprint, sealed, byTeam)).toBeNull();
    // The owner's own signature over a statement about someone else's copy.
    const aboutSpare = await signEscrowCopy(
      { userId: spare.id, signingKey: client.sig, userKey: ownerKey },
      escrowFingerprint,
      sealed,
    );
    expect(await checkEscrowCopy(owner, escrowFingerprint, sealed, aboutSpare)).toBeNull();
    const otherContext = {
      payload: statement.payload,
      signature: toBase64Url(await signStatement(client.sig, 'user-cert', bytes)),
    };
    expect(await checkEscrowCopy(owner, escrowFingerprint, sealed, otherContext)).toBeNull();
  });
});
