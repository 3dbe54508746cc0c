// A role change's certificate as every browser judges it: verifyDirectory must then state the new role.
import { beforeAll, describe, expect, it } from 'vitest';
import type { DirectoryEntry, SignedPayload } from '../api';
import type { CallApi } from '../api/client';
import {
  type GeneratedKeyPair,
  type SecretKey,
  type SigningPrivateKey,
  fromBase64Url,
  fromUtf8,
  generateKeyPair,
  generateSecretKey,
  generateSigningKeyPair,
  toBase64Url,
  toHex,
} from '../crypto';
import { type CertificateBasis, signCertificate, verifyDirectory } from './certificates';
import { changeRole, roleCertificate } from './role-change';
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
let root: Person, admin: Person, team: Person, newcomer: Person;

async function person(name: string, role: Role): Promise<Person> {
  const ctx = { id: ID(name), owner: ID(name) };
  const [enc, sig] = await Promise.all([generateKeyPair(userKey, ctx), generateSigningKeyPair(userKey, ctx)]);
  return { id: ID(name), email: `${name}@example.test`, role, enc, sig: sig.privateKey };
}

beforeAll(async () => {
  userKey = await generateSecretKey('user');
  [root, admin, team, newcomer] = await Promise.all([
    person('root', 'admin'),
    person('admin', 'admin'),
    person('team', 'team'),
    person('newcomer', 'team'),
  ]);
}, budget(120_000));

const certify = (issuer: Person, p: Person, minute: number, basis: CertificateBasis = 'invitation') =>
  signCertificate(
    { userId: issuer.id, signingKey: issuer.sig },
    { userId: p.id, email: p.email, role: p.role, encKey: fp(p.enc.publicKey), sigKey: fp(p.sig.publicKey) },
    basis,
    at(minute),
  );
const listing = (p: Person, certificates: SignedPayload[]): DirectoryEntry => ({
  id: p.id,
  email: p.email,
  role: p.role,
  publicKey: toBase64Url(p.enc.publicKey.spki),
  signingPublicKey: toBase64Url(p.sig.publicKey.spki),
  certificates,
  binding: null,
  escrowCopyStatement: null,
});
const pins = () => ({ adminRootFingerprint: fp(root.sig.publicKey) });
const issuer = (p: Person) => ({ userId: p.id, signingKey: p.sig });

/** root certifies itself, admin and team; nobody certified the newcomer yet. */
async function organisation() {
  return {
    root: listing(root, [await certify(root, root, 0, 'root')]),
    admin: listing(admin, [await certify(root, admin, 1)]),
    team: listing(team, [await certify(root, team, 2)]),
  };
}

const payloadOf = (signed: SignedPayload): Record<string, unknown> =>
  JSON.parse(fromUtf8(fromBase64Url(signed.payload))) as Record<string, unknown>;

describe('roleCertificate', () => {
  it('promotes a Team Member in every browser: the directory then states Administrator, and their certificates for staff count', async () => {
    const org = await organisation();
    const before = await verifyDirectory(Object.values(org), pins());
    const teamIdentity = before.identities.get(team.id)!;
    expect(teamIdentity.role).toBe('team');

    const promotion = await roleCertificate(issuer(admin), teamIdentity, 'admin', at(10));
    expect(payloadOf(promotion)).toEqual({
      v: 1,
      kind: 'user-cert',
      user: team.id,
      email: 'team@example.test',
      role: 'admin',
      encKey: fp(team.enc.publicKey),
      sigKey: fp(team.sig.publicKey),
      basis: 'invitation',
      issuer: admin.id,
      issuerKey: fp(admin.sig.publicKey),
      issuedAt: '2026-01-01T00:10:00.000Z',
    });
    // Only a verified Administrator's certificate makes a staff member: the promoted one now certifies a newcomer.
    const promoted = { ...org, team: listing(team, [await certify(root, team, 2), promotion]) };
    const withNewcomer = [...Object.values(promoted), listing(newcomer, [await certify(team, newcomer, 11)])];
    const after = await verifyDirectory(withNewcomer, pins());
    expect(after.identities.get(team.id)?.role).toBe('admin');
    expect(after.identities.get(newcomer.id)?.issuer).toBe(team.id);
    // Without the promotion, the same newcomer certificate counts for nothing.
    const unpromoted = await verifyDirectory([...Object.values(org), listing(newcomer, [await certify(team, newcomer, 11)])], pins());
    expect(unpromoted.identities.has(newcomer.id)).toBe(false);
  });

  it('demotes an Administrator, the founding one included: their later certificates for staff no longer count', async () => {
    const org = await organisation();
    const before = await verifyDirectory(Object.values(org), pins());
    const rootIdentity = before.identities.get(root.id)!;
    expect(rootIdentity.basis).toBe('root');

    const demotion = await roleCertificate(issuer(admin), rootIdentity, 'team', at(10));
    // A root certificate is self-signed only; another Administrator vouches for checked keys.
    expect(payloadOf(demotion)).toMatchObject({ role: 'team', basis: 'first-use', user: root.id, issuer: admin.id });
    const demoted = { ...org, root: listing(root, [await certify(root, root, 0, 'root'), demotion]) };
    const after = await verifyDirectory(
      [...Object.values(demoted), listing(newcomer, [await certify(root, newcomer, 12)])],
      pins(),
    );
    expect(after.identities.get(root.id)?.role).toBe('team');
    expect(after.identities.get(newcomer.id)).toBeUndefined();
    // People the root certified before the demotion stay verified.
    expect(after.identities.get(team.id)?.role).toBe('team');
  });

  it('sends exactly the new role and its certificate to PUT /api/users/:id/role', async () => {
    const org = await organisation();
    const teamIdentity = (await verifyDirectory(Object.values(org), pins())).identities.get(team.id)!;
    const calls: { operationId: string; input: unknown }[] = [];
    const api: CallApi = (endpoint, input) => {
      calls.push({ operationId: endpoint.operationId, input });
      return Promise.resolve(null as never);
    };
    await changeRole(api, issuer(admin), teamIdentity, 'admin');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.operationId).toBe('changeRole');
    const input = calls[0]?.input as { params: { id: string }; body: { role: string; certificate: SignedPayload } };
    expect(input.params).toEqual({ id: team.id });
    expect(input.body.role).toBe('admin');
    expect(payloadOf(input.body.certificate)).toMatchObject({ role: 'admin', user: team.id, issuer: admin.id });
  });
});
