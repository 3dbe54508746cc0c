// The signed escrow chain with real keys: every forged rotation is refused, the holder list and escrow
// copies of a rotated key verify only through a verified rotation, and re-sealed seals only with the signed commitment.
import { beforeAll, describe, expect, it } from 'vitest';
import type { EscrowChain, SignedPayload } from '../api';
import {
  type PrivateKey,
  type PublicKey,
  type SigningPrivateKey,
  fromBase64Url,
  generateKeyPair,
  generateSecretKey,
  generateSigningKeyPair,
  keyCommitment,
  randomBytes,
  sealSecretKey,
  signStatement,
  toBase64Url,
  toHex,
} from '../crypto';
import { budget } from '../../server/test/budget';
import { type VerifiedDirectory, type VerifiedIdentity, checkEscrowCopy, signEscrowCopy } from './certificates';
import { type HolderStatement, signHolderStatement, verifyHolderStatements } from './escrow-ledger';
import { EscrowChainError, type EscrowChainProblem, previousFingerprintsOf, rotationSignersInto, signRotation, verifyEscrowChain } from './escrow-rotation';
import { escrowUserKeyContext } from './vault';

const newId = () => toBase64Url(randomBytes(16));

interface Person {
  readonly identity: VerifiedIdentity;
  readonly signer: { userId: string; signingKey: SigningPrivateKey };
}

let encryptionKey: PublicKey;
let admin: Person;
let admin2: Person;
let team: Person;
/** Certified nowhere: the server's own key. */
let stranger: Person;
/** Three escrow key pairs: A (pinned), B, C. */
const escrow: { publicKey: PublicKey; privateKey: PrivateKey; spki: string; fingerprint: string }[] = [];
let directory: VerifiedDirectory;

async function person(role: 'admin' | 'team'): Promise<Person> {
  const userId = newId();
  const wrapping = await generateSecretKey('user');
  const signing = await generateSigningKeyPair(wrapping, { id: userId, owner: userId });
  return {
    identity: { userId, email: `${userId}@kluis.test`, role, encryptionKey, signingKey: signing.publicKey, basis: 'invitation', issuer: userId },
    signer: { userId, signingKey: signing.privateKey },
  };
}

const fp = (i: number) => escrow[i]!.fingerprint;
const at = '2026-12-06T10:00:00.000Z';

async function step(by: Person, from: string, to: string): Promise<EscrowChain['rotations'][number]> {
  return { ...(await signRotation(by.signer, { rotation: newId(), from, to, at })), signerId: by.signer.userId };
}

function chainTo(i: number, rotations: EscrowChain['rotations']): EscrowChain {
  return { publicKey: escrow[i]!.spki, fingerprint: fp(i), rotations };
}

async function refusal(chain: EscrowChain, pin: string): Promise<EscrowChainProblem> {
  const error = await verifyEscrowChain(chain, pin, directory).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof EscrowChainError)) throw new Error(`expected an EscrowChainError, got ${String(error)}`);
  return error.problem;
}

/** The payload JSON with one field changed, re-encoded (the signature no longer covers it). */
function withField(statement: SignedPayload, field: string, value: string): string {
  const json = JSON.parse(new TextDecoder().decode(fromBase64Url(statement.payload))) as Record<string, unknown>;
  json[field] = value;
  return toBase64Url(new TextEncoder().encode(JSON.stringify(json)));
}

beforeAll(async () => {
  const wrapping = await generateSecretKey('escrow');
  for (let i = 0; i < 3; i += 1) {
    const pair = await generateKeyPair(wrapping, { id: 'escrow', owner: 'organisation' });
    escrow.push({ publicKey: pair.publicKey, privateKey: pair.privateKey, spki: toBase64Url(pair.publicKey.spki), fingerprint: toHex(pair.publicKey.fingerprint) });
  }
  encryptionKey = escrow[0]!.publicKey;
  [admin, admin2, team, stranger] = await Promise.all([person('admin'), person('admin'), person('team'), person('admin')]);
  directory = {
    identities: new Map([admin, admin2, team].map((p) => [p.identity.userId, p.identity])),
    unverified: new Map(),
    rootFound: true,
  };
}, budget(60_000));

describe('verifyEscrowChain', () => {
  it('follows rotations signed by certified Administrators, in any listed order', async () => {
    const ab = await step(admin, fp(0), fp(1));
    const bc = await step(admin2, fp(1), fp(2));
    const verified = await verifyEscrowChain(chainTo(2, [bc, ab]), fp(0), directory);
    expect(verified.fingerprint).toBe(fp(2));
    expect(verified.steps.map((s) => [s.from, s.to, s.by])).toEqual([
      [fp(0), fp(1), admin.signer.userId],
      [fp(1), fp(2), admin2.signer.userId],
    ]);
    expect(previousFingerprintsOf(verified)).toEqual([fp(0), fp(1)]);
    // A pin that is current walks nothing.
    expect((await verifyEscrowChain(chainTo(2, [ab, bc]), fp(2), directory)).steps).toEqual([]);
  });

  it('refuses a rotation signed by a certified Team Member (not an Administrator)', async () => {
    expect(await refusal(chainTo(1, [await step(team, fp(0), fp(1))]), fp(0))).toBe('unsigned-rotation');
  });

  it('refuses a rotation signed by a key the directory does not certify', async () => {
    expect(await refusal(chainTo(1, [await step(stranger, fp(0), fp(1))]), fp(0))).toBe('unsigned-rotation');
    // The stranger claims to be the Administrator: by/signerId name them, the key is the stranger's.
    const claimed = await signRotation({ userId: admin.signer.userId, signingKey: stranger.signer.signingKey }, { rotation: newId(), from: fp(0), to: fp(1), at });
    expect(await refusal(chainTo(1, [{ ...claimed, signerId: admin.signer.userId }]), fp(0))).toBe('unsigned-rotation');
  });

  it('refuses a statement whose fields changed after signing, or whose signer id differs', async () => {
    const good = await step(admin, fp(0), fp(2));
    expect(await refusal(chainTo(1, [{ ...good, payload: withField(good, 'to', fp(1)) }]), fp(0))).toBe('unsigned-rotation');
    expect(await refusal(chainTo(2, [{ ...good, signerId: admin2.signer.userId }]), fp(0))).toBe('unsigned-rotation');
    // The Administrator's real signature under another context (a holder statement's) is no rotation.
    const bytes = fromBase64Url(good.payload);
    const otherContext = toBase64Url(await signStatement(admin.signer.signingKey, 'escrow-holder', bytes));
    expect(await refusal(chainTo(2, [{ ...good, signature: otherContext }]), fp(0))).toBe('unsigned-rotation');
  });

  it('refuses a chain that does not start at the pin (wrong from), loops, or is empty', async () => {
    expect(await refusal(chainTo(2, [await step(admin, fp(1), fp(2))]), fp(0))).toBe('no-path');
    expect(await refusal(chainTo(2, [await step(admin, fp(0), fp(1)), await step(admin, fp(1), fp(0))]), fp(0))).toBe('no-path');
    expect(await refusal(chainTo(1, []), fp(0))).toBe('no-path');
  });

  it('refuses a served public key that is not the key the signed chain ends at', async () => {
    const ab = await step(admin, fp(0), fp(1));
    // The server names B's fingerprint but serves C's key.
    expect(await refusal({ publicKey: escrow[2]!.spki, fingerprint: fp(1), rotations: [ab] }, fp(0))).toBe('key-mismatch');
  });
});

describe('after a rotation: holder statements and escrow copies', () => {
  async function holderStatement(signer: Person, holder: Person, escrowFingerprint: string) {
    const statement: HolderStatement = {
      v: 1,
      kind: 'escrow-holder',
      escrowFingerprint,
      holderId: holder.signer.userId,
      holderKeyFingerprint: toHex(encryptionKey.fingerprint),
      holderSigningKeyFingerprint: holder.identity.role === 'admin' ? toHex(holder.identity.signingKey.fingerprint) : null,
      grantedBy: signer.signer.userId,
      grantedAt: at,
    };
    return { ...(await signHolderStatement(signer.signer.signingKey, statement)), signerId: signer.signer.userId };
  }
  const signingKeys = () =>
    [admin, admin2, team, stranger].map((p) => ({ userId: p.signer.userId, publicKey: toBase64Url(p.identity.signingKey.spki) }));

  it('trusts the holder statements of a non-root Administrator only through a verified rotation into that key', async () => {
    // The root is `admin`; `admin2` rotated A -> B and signed the new holder list.
    const pins = { escrowFingerprint: fp(1), adminRootFingerprint: toHex(admin.identity.signingKey.fingerprint) };
    const statements = [await holderStatement(admin2, admin2, fp(1)), await holderStatement(admin2, team, fp(1))];
    const without = await verifyHolderStatements(statements, signingKeys(), pins);
    expect(without.map((v) => v.verified)).toEqual([false, false]);

    const signers = await rotationSignersInto(chainTo(1, [await step(admin2, fp(0), fp(1))]), fp(1), directory);
    expect(signers).toEqual([toHex(admin2.identity.signingKey.fingerprint)]);
    const withRotation = await verifyHolderStatements(statements, signingKeys(), pins, { rotationSigners: signers });
    expect(withRotation.map((v) => v.verified)).toEqual([true, true]);

    // A "rotation" signed by a Team Member or a stranger endorses nobody.
    expect(await rotationSignersInto(chainTo(1, [await step(team, fp(0), fp(1))]), fp(1), directory)).toEqual([]);
    expect(await rotationSignersInto(chainTo(1, [await step(stranger, fp(0), fp(1))]), fp(1), directory)).toEqual([]);
    // A rotation into another key endorses nothing for this one.
    expect(await rotationSignersInto(chainTo(2, [await step(admin2, fp(0), fp(2))]), fp(1), directory)).toEqual([]);
  });

  it('accepts a re-sealed escrow copy only when its statement names a key the verified chain passed', async () => {
    const owner = admin;
    const userKey = await generateSecretKey('user', { extractable: true });
    const ctx = escrowUserKeyContext(owner.signer.userId);
    const oldSeal = toBase64Url(await sealSecretKey(escrow[0]!.publicKey, userKey, ctx));
    const statement = await signEscrowCopy({ ...owner.signer, userKey }, fp(0), oldSeal);
    const newSeal = toBase64Url(await sealSecretKey(escrow[1]!.publicKey, userKey, ctx));
    const commitment = await keyCommitment(userKey);

    // Before the rotation, exactly as signed.
    expect(await checkEscrowCopy(owner.identity, fp(0), oldSeal, statement)).toBe(commitment);
    // After: the pin is B and the seal differs; without the verified chain nothing vouches for it.
    expect(await checkEscrowCopy(owner.identity, fp(1), newSeal, statement)).toBeNull();
    expect(await checkEscrowCopy(owner.identity, fp(1), newSeal, statement, { previousFingerprints: [fp(0)] })).toBe(commitment);
    // A statement naming a key the chain never passed through stays refused.
    expect(await checkEscrowCopy(owner.identity, fp(1), newSeal, statement, { previousFingerprints: [fp(2)] })).toBeNull();
    // A statement naming the CURRENT key must name the exact seal, chain or not (even if a caller lists the current key too).
    const current = await signEscrowCopy({ ...owner.signer, userKey }, fp(1), newSeal);
    const swapped = toBase64Url(await sealSecretKey(escrow[1]!.publicKey, await generateSecretKey('user', { extractable: true }), ctx));
    expect(await checkEscrowCopy(owner.identity, fp(1), swapped, current, { previousFingerprints: [fp(0), fp(1)] })).toBeNull();
    // Someone else's statement never vouches.
    expect(await checkEscrowCopy(admin2.identity, fp(1), newSeal, statement, { previousFingerprints: [fp(0)] })).toBeNull();
  });
});
