// The key safe: values a user's browser pins once and keeps encrypted under the user key.
import { z } from 'zod';
import { type SecretKey, decryptRecordText, encryptRecord } from '../crypto';

/**
 * Pinned in the key safe (record type "key-safe", id and owner = user id), so a server that later
 * substitutes keys is detected: the escrow public key's fingerprint, the OPAQUE server's static
 * public key, and the fingerprint of the founding Administrator's signing key (root of the signed
 * escrow holder list).
 */
export const keySafeSchema = z
  .object({
    v: z.literal(1),
    escrowFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    opaqueServerPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    adminRootFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export type KeySafe = z.infer<typeof keySafeSchema>;

export const keySafeContext = (userId: string) => ({ type: 'key-safe', id: userId, owner: userId });

export function sealKeySafe(userKey: SecretKey<'user'>, userId: string, safe: KeySafe): Promise<Uint8Array<ArrayBuffer>> {
  return encryptRecord(userKey, JSON.stringify(keySafeSchema.parse(safe)), keySafeContext(userId));
}

export async function openKeySafe(userKey: SecretKey<'user'>, userId: string, envelope: Uint8Array): Promise<KeySafe> {
  const text = await decryptRecordText(userKey, envelope, keySafeContext(userId));
  return keySafeSchema.parse(JSON.parse(text));
}

/** The pins part of an invitation fragment: "e=<hex>&o=<b64url>&a=<hex>" (the full fragment also has "t=<token>&"). */
export function pinsToFragment(safe: KeySafe): string {
  return `e=${safe.escrowFingerprint}&o=${safe.opaqueServerPublicKey}&a=${safe.adminRootFingerprint}`;
}

export function pinsFromFragment(fragment: string): KeySafe {
  const params = new URLSearchParams(fragment.replace(/^#/, ''));
  return keySafeSchema.parse({
    v: 1,
    escrowFingerprint: params.get('e'),
    opaqueServerPublicKey: params.get('o'),
    adminRootFingerprint: params.get('a'),
  });
}
