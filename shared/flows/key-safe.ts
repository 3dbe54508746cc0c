// The key safe: values a user's browser pins once and remembers, kept encrypted under the user key.
import { z } from 'zod';
import { getKeySafe, updateKeySafe as updateKeySafeEndpoint } from '../api';
import type { CallApi } from '../api/client';
import { type SecretKey, decryptRecordText, encryptRecord, fromBase64Url, toBase64Url } from '../crypto';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const id = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

/**
 * Pinned in the key safe, so a server that later substitutes keys is detected: the escrow public
 * key's fingerprint, the OPAQUE server's static public key, and the fingerprint of the founding
 * Administrator's signing key (the root of certificates and of the signed escrow holder list).
 */
const pinsShape = {
  escrowFingerprint: hex64,
  opaqueServerPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  adminRootFingerprint: hex64,
};
export const pinsSchema = z.strictObject(pinsShape);
export type Pins = z.infer<typeof pinsSchema>;

const keySafeV1Schema = z.strictObject({ v: z.literal(1), ...pinsShape });

/**
 * Version 2 adds what the browser remembers between sessions (record type "key-safe", id and owner =
 * user id): `rev`, bumped on every write and mirrored by the server for compare-and-swap (a replayed
 * older safe is caught with the device's mark, client/worker/key-safe-mark.ts); `heads`, the newest
 * verified head of each space's history (rollback detection); `seen`, the key fingerprints first seen
 * for people nobody has certified yet (trust on first use: a change is a security warning).
 */
export const keySafeSchema = z.strictObject({
  v: z.literal(2),
  ...pinsShape,
  rev: z.number().int().min(0),
  heads: z.record(z.string().max(64), z.strictObject({ seq: z.number().int().min(0), hash: hex64 })),
  seen: z.record(id, z.strictObject({ enc: hex64, sig: hex64 })),
  /**
   * Issue 22: the newest audit tree head this person's browser verified (shared/audit/verify.ts
   * AuditPin). Every later head must be consistent with it; a smaller or inconsistent head is a
   * security warning. Absent until the first verification.
   */
  audit: z
    .strictObject({
      logId: z.string().min(1).max(64),
      keyId: hex64,
      treeSize: z.number().int().min(0),
      rootHash: hex64,
      signedAt: z.string().max(40),
    })
    .optional(),
});

export type KeySafe = z.infer<typeof keySafeSchema>;

/** A fresh key safe for new pins (setup, sign-up). */
export function newKeySafe(pins: Pins): KeySafe {
  return { v: 2, ...pinsSchema.parse(pinsOf(pins)), rev: 0, heads: {}, seen: {} };
}

export function pinsOf(safe: Pins): Pins {
  return { escrowFingerprint: safe.escrowFingerprint, opaqueServerPublicKey: safe.opaqueServerPublicKey, adminRootFingerprint: safe.adminRootFingerprint };
}

export const keySafeContext = (userId: string) => ({ type: 'key-safe', id: userId, owner: userId });

export function sealKeySafe(userKey: SecretKey<'user'>, userId: string, safe: KeySafe): Promise<Uint8Array<ArrayBuffer>> {
  return encryptRecord(userKey, JSON.stringify(keySafeSchema.parse(safe)), keySafeContext(userId));
}

/** Opens a key safe; a version 1 safe reads as revision 0 with nothing remembered. */
export async function openKeySafe(userKey: SecretKey<'user'>, userId: string, envelope: Uint8Array): Promise<KeySafe> {
  const value = JSON.parse(await decryptRecordText(userKey, envelope, keySafeContext(userId))) as { v?: unknown };
  if (value.v === 1) return newKeySafe(keySafeV1Schema.parse(value));
  return keySafeSchema.parse(value);
}

/** The pins part of an invitation fragment: "e=<hex>&o=<b64url>&a=<hex>" (the full fragment also has "t=<token>&"). */
export function pinsToFragment(safe: Pins): string {
  return `e=${safe.escrowFingerprint}&o=${safe.opaqueServerPublicKey}&a=${safe.adminRootFingerprint}`;
}

/** The pins of an invitation fragment; other parameters (the token, the binding "i" and "k") are not pins. */
export function pinsFromFragment(fragment: string): Pins {
  const params = new URLSearchParams(fragment.replace(/^#/, ''));
  return pinsSchema.parse({
    escrowFingerprint: params.get('e'),
    opaqueServerPublicKey: params.get('o'),
    adminRootFingerprint: params.get('a'),
  });
}

/** A stored key safe is older than one this browser already read or wrote: the server replayed it. */
export class KeySafeRollbackError extends Error {
  override readonly name = 'KeySafeRollbackError';
  constructor(
    readonly seen: number,
    readonly served: number,
  ) {
    super(`The server served an older copy of your key safe (revision ${served}, this device saw ${seen}).`);
  }
}

/** Two records of the same person's first-seen keys disagree: never resolved silently. */
export interface SeenConflict {
  readonly userId: string;
  readonly kept: { enc: string; sig: string };
  readonly dropped: { enc: string; sig: string };
}

/**
 * Merges what this browser wanted to write (`mine`) into the newest stored safe (`stored`): the
 * newest head per space, the union of first-seen keys. An entry `stored` already has is never
 * overwritten; a disagreeing one is reported.
 */
export function mergeKeySafes(stored: KeySafe, mine: KeySafe): { safe: KeySafe; conflicts: SeenConflict[] } {
  const heads = { ...stored.heads };
  for (const [spaceId, head] of Object.entries(mine.heads)) {
    const current = heads[spaceId];
    if (!current || current.seq < head.seq) heads[spaceId] = head;
  }
  const seen = { ...stored.seen };
  const conflicts: SeenConflict[] = [];
  for (const [userId, keys] of Object.entries(mine.seen)) {
    const current = seen[userId];
    if (!current) seen[userId] = keys;
    else if (current.enc !== keys.enc || current.sig !== keys.sig) conflicts.push({ userId, kept: current, dropped: keys });
  }
  return { safe: { ...stored, heads, seen }, conflicts };
}

/** The key safe as this browser last read or wrote it, with the server's revision for compare-and-swap. */
export interface KeySafeState {
  readonly safe: KeySafe;
  /** The server's revision (keySafeRevision): what the next write expects. */
  readonly revision: number;
}

const MAX_ATTEMPTS = 5;
const isConflict = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'key_safe_conflict';

/**
 * Writes `change(safe)` with compare-and-swap. On key_safe_conflict (another window wrote first)
 * it re-reads the stored safe, refuses one older than what this browser holds (a replay), merges
 * (mergeKeySafes) and tries again.
 * @returns the new state and the first-seen conflicts met while merging
 * @throws KeySafeRollbackError when the re-read safe is older than the one this browser held
 */
export async function updateKeySafe(
  api: CallApi,
  owner: { userId: string; userKey: SecretKey<'user'> },
  state: KeySafeState,
  change: (safe: KeySafe) => KeySafe,
): Promise<{ state: KeySafeState; conflicts: SeenConflict[] }> {
  let current = state;
  const conflicts: SeenConflict[] = [];
  for (let attempt = 1; ; attempt++) {
    const next: KeySafe = { ...change(current.safe), rev: Math.max(current.safe.rev, current.revision) + 1 };
    try {
      const sealed = toBase64Url(await sealKeySafe(owner.userKey, owner.userId, next));
      const { revision } = await api(updateKeySafeEndpoint, { body: { expectedRevision: current.revision, keySafe: sealed } });
      return { state: { safe: next, revision }, conflicts };
    } catch (error) {
      if (!isConflict(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
    const stored = await api(getKeySafe, {});
    const safe = await openKeySafe(owner.userKey, owner.userId, fromBase64Url(stored.keySafe));
    if (safe.rev < current.safe.rev) throw new KeySafeRollbackError(current.safe.rev, safe.rev);
    const merged = mergeKeySafes(safe, current.safe);
    conflicts.push(...merged.conflicts);
    current = { safe: merged.safe, revision: stored.revision };
  }
}
