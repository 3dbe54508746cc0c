// Unit: a reset's link secret at rest: AES-256-GCM bound to the reset and the person, checked against an independent decryption.
import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LinkSecretSealError, openLinkSecret, sealLinkSecret } from './reset-links';

const key = randomBytes(32);
const secret = randomBytes(32).toString('base64url');
const resetId = 'resetAAAAAAAAAAAAAAAAA';
const userId = 'userBBBBBBBBBBBBBBBBBB';

describe('link secret sealing', () => {
  it('is AES-256-GCM with a fresh 96-bit IV and the reset and person as associated data (decrypted independently)', () => {
    const sealed = sealLinkSecret(key, secret, resetId, userId);
    const [version, ivText, bodyText] = sealed.split('.');
    expect(version).toBe('v1');
    const iv = Buffer.from(ivText!, 'base64url');
    const body = Buffer.from(bodyText!, 'base64url');
    expect([iv.length, body.length]).toEqual([12, 32 + 16]);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(`kluis/v1/reset-link-secret\u0000${resetId}\u0000${userId}`, 'utf8'));
    decipher.setAuthTag(body.subarray(32));
    expect(Buffer.concat([decipher.update(body.subarray(0, 32)), decipher.final()]).toString('base64url')).toBe(secret);
    // The secret itself is nowhere in the sealed text, and two seals differ.
    expect(sealed).not.toContain(secret);
    expect(sealLinkSecret(key, secret, resetId, userId)).not.toBe(sealed);
    expect(openLinkSecret(key, sealed, resetId, userId)).toBe(secret);
  });

  it('opens for no other reset, person or key, and not when altered', () => {
    const sealed = sealLinkSecret(key, secret, resetId, userId);
    expect(() => openLinkSecret(key, sealed, 'resetCCCCCCCCCCCCCCCCCC', userId)).toThrow(LinkSecretSealError);
    expect(() => openLinkSecret(key, sealed, resetId, 'userDDDDDDDDDDDDDDDDDD')).toThrow(LinkSecretSealError);
    expect(() => openLinkSecret(randomBytes(32), sealed, resetId, userId)).toThrow(LinkSecretSealError);
    const [v, iv, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => openLinkSecret(key, `${v}.${iv}.${flipped.toString('base64url')}`, resetId, userId)).toThrow(LinkSecretSealError);
    expect(() => openLinkSecret(key, `v2.${iv}.${body}`, resetId, userId)).toThrow(LinkSecretSealError);
    expect(() => openLinkSecret(key, `${v}.${iv}`, resetId, userId)).toThrow(LinkSecretSealError);
    expect(() => sealLinkSecret(key, randomBytes(16).toString('base64url'), resetId, userId)).toThrow(LinkSecretSealError);
  });
});
