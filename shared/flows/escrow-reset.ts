// Password reset through escrow (issue 21, SECURITY.md 5.8): the recovery code, the link secret, the
// wrap of the user key under the one-time reset key, and the resetter's signed "escrow-use" statement.
import { z } from 'zod';
import type { PasswordRules } from '../accounts/password-rules';
import { type Language, type ResetView, type SignedPayload, createReset, finishResetPassword, openReset, startResetPassword } from '../api';
import type { CallApi } from '../api/client';
import {
  type SecretKey,
  DecryptionError,
  IntegrityError,
  deriveKeySafeKey,
  finishOpaqueRegistration,
  startOpaqueRegistration,
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
import { type FlowOptions, assertPasswordAllowed, escrowCopyProof, openEscrowCopy } from './account-flows';
import { parseSigned } from './certificates';
import { openKeySafe } from './key-safe';
import { recordDigest } from './space-history';
import { newClientId } from './spaces';
import { type UnlockedVault, PinMismatchError, keyContext } from './vault';

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

// ---------------------------------------------------------------------------------------------
// The two browser flows: the resetter starts a reset, the person completes it

/** Only a staff member whose vault holds the escrow key (and a signing key) can start a reset. */
export class EscrowNotHeldError extends Error {
  override readonly name = 'EscrowNotHeldError';
  constructor() {
    super('Only someone holding the organisation escrow key can reset a password.');
  }
}

/** What the resetter chose in the dialog. */
export interface EscrowResetOptions {
  readonly liftLockout: boolean;
  readonly removeSecondFactors: boolean;
  /**
   * Escrow fingerprints a VERIFIED rotation chain leads from to the pinned one (escrow-chain.ts,
   * `previousFingerprints`): a copy re-sealed by a rotation is then accepted on its signed commitment.
   */
  readonly previousFingerprints?: readonly string[];
}

/** The reset as the server stored it, and the recovery code: shown to the resetter only, never sent. */
export interface StartedEscrowReset {
  readonly reset: ResetView;
  readonly code: string;
}

/**
 * The resetter's side (SECURITY.md 5.8). Opens the person's user key through escrow, but only after
 * `checkEscrowCopy` vouched for the copy (the certified owner's signed statement names this seal, and
 * the opened key has the commitment it names); wraps it under a one-time reset key derived from a
 * fresh link secret and recovery code; signs the "escrow-use" statement over that wrap; POSTs it.
 * The caller makes sure of a recent login (the reauth dialog) first: the server refuses otherwise.
 * @param target the person as listed (`listUsers` item: id and the escrow copy as served)
 * @throws EscrowNotHeldError, EscrowCopyUnverifiedError, ApiError (reset_not_allowed,
 *   reauthentication_required, ...)
 */
export async function startEscrowReset(
  api: CallApi,
  vault: UnlockedVault,
  target: { readonly id: string; readonly escrowUserKey: string },
  options: EscrowResetOptions,
): Promise<StartedEscrowReset> {
  if (!vault.escrow || !vault.signingKey) throw new EscrowNotHeldError();
  // WARNING: never wrap a key nothing vouches for: a server that swapped the escrow copy would
  // otherwise have the resetter hand the person a key of the server's choosing.
  const proof = await escrowCopyProof(api, vault, target.id);
  const userKey = await openEscrowCopy(vault, target, { ...proof, previousFingerprints: options.previousFingerprints ?? [] }, { extractable: true });

  const resetId = newClientId();
  const linkSecret = generateLinkSecret();
  const code = generateResetCode();
  const { resetKey, proofHash } = await resetSecrets(resetId, linkSecret, code);
  const wrappedUserKey = await wrapUserKeyForReset(resetKey, userKey, resetId, target.id);
  const statement = await signEscrowUse(vault.signingKey, {
    user: target.id,
    reset: resetId,
    wrap: await recordDigest(wrappedUserKey),
    by: vault.userId,
    at: new Date().toISOString(),
  });
  const { reset } = await api(createReset, {
    params: { id: target.id },
    body: { resetId, wrappedUserKey, proofHash, linkSecret, statement, liftLockout: options.liftLockout, removeSecondFactors: options.removeSecondFactors },
  });
  return { reset, code };
}

/** The typed recovery code cannot be one (wrong length or characters): nothing was sent. */
export class ResetCodeFormatError extends Error {
  override readonly name = 'ResetCodeFormatError';
  constructor() {
    super('This is not a recovery code: it has 12 characters in groups of four.');
  }
}

/**
 * The server answered a wrapped user key (or key safe) that does not open with the key from link and
 * code: it was swapped or damaged. Nothing was registered.
 */
export class ResetWrapRejectedError extends Error {
  override readonly name = 'ResetWrapRejectedError';
  constructor() {
    super('The key the server sent for this reset does not open with your link and code. Nothing was changed; contact your office.');
  }
}

export interface EscrowResetInput {
  readonly resetId: string;
  readonly linkSecret: string;
  /** As typed (spaces, dashes and look-alikes are tolerated). */
  readonly code: string;
}

/** What the person's browser holds after proving link and code: the user key, opened and checked. */
export interface OpenedEscrowReset {
  readonly userId: string;
  readonly email: string;
  readonly expiresAt: string;
  readonly removeSecondFactors: boolean;
  readonly passwordRules: PasswordRules;
  readonly organisationName: string;
  readonly language: Language;
  /** The proof (base64url), sent again with each password step. */
  readonly proof: string;
  readonly userKey: SecretKey<'user'>;
  /** The pins from the person's own key safe (the new OPAQUE registration is checked against them). */
  readonly opaqueServerPublicKey: string;
}

/**
 * The person's first step: proves link and code (a wrong code is counted by the server) and opens the
 * wrapped user key and the key safe with the reset key. The UI may call it alone to check the code
 * before asking for the new password; `completeEscrowReset` calls it again (a right proof is not counted).
 * @throws ResetCodeFormatError, ResetWrapRejectedError, ApiError (reset_code_invalid, reset_expired, ...)
 */
export async function openEscrowReset(api: CallApi, input: EscrowResetInput): Promise<OpenedEscrowReset> {
  if (!parseResetCode(input.code)) throw new ResetCodeFormatError();
  const { resetKey, proof } = await resetSecrets(input.resetId, input.linkSecret, input.code);
  const opened = await api(openReset, { body: { resetId: input.resetId, proof } });
  let userKey: SecretKey<'user'>;
  let opaqueServerPublicKey: string;
  try {
    // WARNING: the wrap's context binds it to this reset and this person; a swapped wrap fails here.
    userKey = await openResetWrap(resetKey, opened.wrappedUserKey, input.resetId, opened.userId);
    opaqueServerPublicKey = (await openKeySafe(userKey, opened.userId, fromBase64Url(opened.keySafe))).opaqueServerPublicKey;
  } catch (error) {
    if (error instanceof IntegrityError || error instanceof DecryptionError) throw new ResetWrapRejectedError();
    throw error;
  }
  return {
    userId: opened.userId,
    email: opened.email,
    expiresAt: opened.expiresAt,
    removeSecondFactors: opened.removeSecondFactors,
    passwordRules: opened.passwordRules,
    organisationName: opened.organisationName,
    language: opened.language,
    proof,
    userKey,
    opaqueServerPublicKey,
  };
}

/**
 * The person's side (SECURITY.md 5.8): opens the reset (link + code), checks the new password against
 * the organisation's rules, registers it with OPAQUE (the server key must be the one the key safe
 * pins, as at a password change) and re-wraps the same user key under the new key-safe key. Then the
 * browser signs in normally with the new password. Only ciphertext and the proof leave this function.
 * @throws PasswordRejectedError (before any registration), PinMismatchError, and as openEscrowReset
 */
export async function completeEscrowReset(
  api: CallApi,
  input: EscrowResetInput & { readonly newPassword: string },
  options: Pick<FlowOptions, 'keyStretching'> = {},
): Promise<{ userId: string; email: string }> {
  const opened = await openEscrowReset(api, input);
  await assertPasswordAllowed(input.newPassword, { email: opened.email, organisationName: opened.organisationName, languages: [opened.language] }, opened.passwordRules);
  const registration = await startOpaqueRegistration(input.newPassword);
  const start = await api(startResetPassword, { body: { resetId: input.resetId, proof: opened.proof, registrationRequest: registration.request } });
  const finished = await finishOpaqueRegistration(registration.state, start.registrationResponse, input.newPassword, options.keyStretching);
  if (finished.serverStaticPublicKey !== opened.opaqueServerPublicKey) throw new PinMismatchError('opaque-server-key');
  const keySafeKey = await deriveKeySafeKey(finished.exportKey);
  const wrappedUserKey = toBase64Url(await wrapSecretKey(keySafeKey, opened.userKey, keyContext(opened.userId)));
  await api(finishResetPassword, {
    body: { resetId: input.resetId, proof: opened.proof, registrationId: start.registrationId, registrationRecord: finished.record, wrappedUserKey },
  });
  return { userId: opened.userId, email: opened.email };
}
