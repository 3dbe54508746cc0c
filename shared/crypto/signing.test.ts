// ECDSA P-256 statement signatures: round trip, domain separation, tampering, wrapped private keys.
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from './bytes';
import { DecryptionError, IntegrityError } from './errors';
import { type SecretKey, generateSecretKey } from './keys';
import {
  type SigningPrivateKey,
  generateSigningKeyPair,
  importSigningPublicKey,
  signStatement,
  unwrapSigningKey,
  verifyStatement,
} from './signing';

const ctx = { id: 'admin_1', owner: 'admin_1' };

describe('signing keys', () => {
  let userKey: SecretKey<'user'>;
  let signer: Awaited<ReturnType<typeof generateSigningKeyPair>>;
  let other: SigningPrivateKey;

  beforeAll(async () => {
    userKey = await generateSecretKey('user');
    signer = await generateSigningKeyPair(userKey, ctx);
    other = (await generateSigningKeyPair(userKey, { id: 'x', owner: 'x' })).privateKey;
  });

  it('signs and verifies a statement', async () => {
    const payload = utf8('{"holder":"user_7"}');
    const signature = await signStatement(signer.privateKey, 'escrow-holder', payload);
    expect(signature.length).toBe(64);
    expect(await verifyStatement(signer.publicKey, 'escrow-holder', payload, signature)).toBe(true);
  });

  it('rejects another key, another context, another payload and a flipped signature bit', async () => {
    const payload = utf8('{"holder":"user_7"}');
    const signature = await signStatement(signer.privateKey, 'escrow-holder', payload);
    expect(await verifyStatement(other.publicKey, 'escrow-holder', payload, signature)).toBe(false);
    expect(await verifyStatement(signer.publicKey, 'admin-key', payload, signature)).toBe(false);
    expect(await verifyStatement(signer.publicKey, 'escrow-holder', utf8('{"holder":"user_8"}'), signature)).toBe(false);
    const flipped = signature.slice();
    flipped[10]! ^= 1;
    expect(await verifyStatement(signer.publicKey, 'escrow-holder', payload, flipped)).toBe(false);
    expect(await verifyStatement(signer.publicKey, 'escrow-holder', payload, signature.subarray(0, 63))).toBe(false);
  });

  it('unwraps the private key and recomputes the same public key', async () => {
    const unwrapped = await unwrapSigningKey(userKey, signer.wrappedPrivateKey, ctx);
    expect(toHex(unwrapped.publicKey.fingerprint)).toBe(toHex(signer.publicKey.fingerprint));
    expect(unwrapped.key.extractable).toBe(false);
    const signature = await signStatement(unwrapped, 'c', utf8('p'));
    expect(await verifyStatement(signer.publicKey, 'c', utf8('p'), signature)).toBe(true);
  });

  it('reports a wrong wrapping key and a moved wrapped key distinctly', async () => {
    await expect(unwrapSigningKey(await generateSecretKey('user'), signer.wrappedPrivateKey, ctx)).rejects.toBeInstanceOf(DecryptionError);
    await expect(unwrapSigningKey(userKey, signer.wrappedPrivateKey, { id: 'y', owner: 'y' })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('imports a stored public key and refuses garbage', async () => {
    const imported = await importSigningPublicKey(signer.publicKey.spki);
    expect(toHex(imported.fingerprint)).toBe(toHex(signer.publicKey.fingerprint));
    await expect(importSigningPublicKey(new Uint8Array(5))).rejects.toMatchObject({ reason: 'malformed' });
  });
});
