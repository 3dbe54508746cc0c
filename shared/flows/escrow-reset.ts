// Password reset through escrow (issue 21, SECURITY.md 5.8): the recovery code, the link secret, the
// wrap of the user key under the one-time reset key, and the resetter's signed "escrow-use" statement.
import { z } from 'zod';
import type { SignedPayload } from '../api';
import {
  type SecretKey,
  type SigningPrivateKey,
  type SigningPublicKey,
  RESET_LINK_SECRET_BYTES,
  deriveResetKeys,
  fromBase64Url,
  randomBytes,
  sha256,
  signStatement,
  toBase64Url,
  toHex,
  unwrapSecretKey,
  utf8,
  verifyStatement,
  wrapSecretKey,
} from '../crypto';
import { parseSigned } from './certificates';
import { recordDigest } from './space-history';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 12 Crockford base32 characters: 60 bits, in three groups of four ("7Q2M-XV4D-9P3K"). */
export const RESET_CODE_LENGTH = 12;

/** A fresh recovery code, shown to the resetter to pass on by phone or in person. */
export function generateResetCode(): string {
  const bytes = randomBytes(8);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < RESET_CODE_LENGTH; i += 1) {
    out += ALPHABET[Number(value & 31n)]!;
    value >>= 5n;
  }
  return formatResetCode(out);
}

export function formatResetCode(canonical: string): string {
  return (canonical.match(/.{1,4}/g) ?? []).join('-');
}

/**
 * Canonical form of a typed code: upper case, spaces and dashes dropped, Crockford look-alikes mapped
 * (O→0, I/L→1). Null when it cannot be a recovery code.
 */
export function parseResetCode(typed: string): string | null {
  const canonical = typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (canonical.length !== RESET_CODE_LENGTH || [...canonical].some((c) => !ALPHABET.includes(c))) return null;
  return formatResetCode(canonical);
}

/** A fresh link secret (base64url of 32 random bytes), for the reset link's #fragment. */
export function generateLinkSecret(): string {
  return toBase64Url(randomBytes(RESET_LINK_SECRET_BYTES));
}

/** The reset link: the id and the link secret in the #fragment, which browsers never send to a server. */
export function resetLink(origin: string, resetId: string, linkSecret: string): string {
  return `${origin}/reset#r=${encodeURIComponent(resetId)}&s=${encodeURIComponent(linkSecret)}`;
}

/** Reads `r` and `s` from a reset link's fragment; null when either is missing or malformed. */
export function parseResetFragment(fragment: string): { resetId: string; linkSecret: string } | null {
  const params = new URLSearchParams(fragment.replace(/^#/, ''));
  const resetId = params.get('r');
  const linkSecret = params.get('s');
  if (!resetId || !/^[A-Za-z0-9_-]{22}$/.test(resetId)) return null;
  if (!linkSecret || !/^[A-Za-z0-9_-]{43}$/.test(linkSecret)) return null;
  return { resetId, linkSecret };
}

/** The wrap's context: bound to this reset and this person, so a wrap moved to another reset or person fails. */
export const resetWrapContext = (resetId: string, userId: string) => ({ id: `reset/${resetId}`, owner: userId });

/** The reset key and the proof (base64url) and its hash (hex, what the server stores). */
export async function resetSecrets(resetId: string, linkSecret: string, code: string) {
  const canonical = parseResetCode(code);
  if (!canonical) throw new TypeError('not a recovery code');
  const { resetKey, proof } = await deriveResetKeys(resetId, fromBase64Url(linkSecret), canonical);
  return { resetKey, proof: toBase64Url(proof), proofHash: toHex(await sha256(proof)) };
}

/** The resetter's side: wraps the user key (opened through escrow and checked) under the reset key. */
export async function wrapUserKeyForReset(resetKey: SecretKey<'reset'>, userKey: SecretKey<'user'>, resetId: string, userId: string): Promise<string> {
  return toBase64Url(await wrapSecretKey(resetKey, userKey, resetWrapContext(resetId, userId)));
}

/**
 * The person's side: opens the wrap with the key from link and code. A wrap the server swapped (another
 * reset's, another person's, or made under a key of its choosing) fails here with IntegrityError.
 */
export function openResetWrap(resetKey: SecretKey<'reset'>, wrapped: string, resetId: string, userId: string): Promise<SecretKey<'user'>> {
  return unwrapSecretKey(resetKey, fromBase64Url(wrapped), 'user', resetWrapContext(resetId, userId), { extractable: true });
}

// ---------------------------------------------------------------------------------------------
// The "escrow-use" statement: who opened whose key through escrow, for what (signed, context escrow-use)

export const ESCROW_USE_CONTEXT = 'escrow-use';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const id = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

export const escrowUsePayloadSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('escrow-use'),
  use: z.literal('reset'),
  /** Whose user key was opened through escrow. */
  user: id,
  reset: id,
  /** recordDigest of the wrapped user key as sent to the server. */
  wrap: hex64,
  by: id,
  /** Fingerprint (hex) of the signer's signing key. */
  byKey: hex64,
  at: z.iso.datetime(),
});
export type EscrowUsePayload = z.infer<typeof escrowUsePayloadSchema>;

export async function signEscrowUse(signer: SigningPrivateKey, fields: Omit<EscrowUsePayload, 'v' | 'kind' | 'use' | 'byKey'>): Promise<SignedPayload> {
  const payload: EscrowUsePayload = {
    v: 1,
    kind: 'escrow-use',
    use: 'reset',
    user: fields.user,
    reset: fields.reset,
    wrap: fields.wrap,
    by: fields.by,
    byKey: toHex(signer.publicKey.fingerprint),
    at: fields.at,
  };
  const bytes = utf8(JSON.stringify(payload));
  return { payload: toBase64Url(bytes), signature: toBase64Url(await signStatement(signer, ESCROW_USE_CONTEXT, bytes)) };
}

/**
 * Verifies an escrow-use statement under the signer's CERTIFIED signing key (the caller looks it up
 * in the verified directory by `by`/`byKey`); null when the signature, the shape or the wrap differ.
 */
export async function verifyEscrowUse(
  signed: SignedPayload,
  signer: SigningPublicKey,
  expected: { user: string; reset: string; wrap?: string },
): Promise<EscrowUsePayload | null> {
  const parsed = parseSigned(signed, escrowUsePayloadSchema);
  if (!parsed) return null;
  const { value } = parsed;
  if (value.user !== expected.user || value.reset !== expected.reset) return null;
  if (expected.wrap !== undefined && value.wrap !== expected.wrap) return null;
  if (value.byKey !== toHex(signer.fingerprint)) return null;
  if (!(await verifyStatement(signer, ESCROW_USE_CONTEXT, parsed.bytes, fromBase64Url(signed.signature)))) return null;
  return value;
}

export { recordDigest };
