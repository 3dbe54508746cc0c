// The account protocols as the browser runs them: setup, sign-up, login, invitation, password change,
// escrow grants and recovery with the kit. DOM-free: the crypto worker, the demo and tests all use these.
import { z } from 'zod';
import { DEFAULT_PASSWORD_RULES, KLUIS_CONTEXT_WORDS, checkPassword, type PasswordProblem, type PasswordRules } from '../accounts/password-rules';
import {
  ARGON2ID_DEFAULT,
  decryptRecordText,
  deriveInvitationBindingKey,
  keyCommitment,
  ARGON2ID_SALT_BYTES,
  type SigningPrivateKey,
  type PublicKey,
  type SecretKey,
  DecryptionError,
  deriveKeySafeKey,
  deriveRecoveryKey,
  encryptRecord,
  finishOpaqueLogin,
  finishOpaqueRegistration,
  fromBase64Url,
  generateKeyPair,
  generateSecretKey,
  generateSigningKeyPair,
  openSealedSecretKey,
  randomBytes,
  sealSecretKey,
  startOpaqueLogin,
  startOpaqueRegistration,
  toBase64Url,
  toHex,
  unwrapPrivateKey,
  unwrapSecretKey,
  wrapSecretKey,
} from '../crypto';
import type { OPAQUE_BENCH_KEY_STRETCHING, OPAQUE_KEY_STRETCHING } from '../crypto/opaque';
import {
  type AccountBundle,
  type Language,
  languageSchema,
  type Role,
  abortLogin,
  acceptEscrowGrant,
  finishLogin,
  finishPasswordChange,
  finishRecovery,
  finishSetup,
  finishSignup,
  grantEscrow,
  addSigningKey,
  issueCertificate,
  getDirectory,
  type DirectoryEntry,
  putEscrowCopyStatement,
  type SignedPayload,
  lookupInvitation,
  startLogin,
  startPasswordChange,
  startRecovery,
  startSetup,
  startSignup,
  createInvitation,
  type SecondFactorChallenge,
  type authenticationResponseSchema,
  verifySecondFactor,
} from '../api';
import { type ApiErrorCode, type CallApi, isApiError } from '../api/client';
import { SecondFactorNeededError, type SecondFactorPrompt } from './second-factor';
import {
  type UnverifiedPerson,
  type VerifiedDirectory,
  type VerifiedIdentity,
  checkBinding,
  checkEscrowCopy,
  makeBinding,
  verifyDirectory,
  signCertificate,
  signEscrowCopy,
} from './certificates';
import { followEscrowChain } from './escrow-chain';
import { type HolderStatement, signHolderStatement } from './escrow-ledger';
import { type Pins, newKeySafe, openKeySafe, pinsFromFragment, pinsToFragment, sealKeySafe } from './key-safe';
import { generateRecoverySecret, parseRecoverySecret } from './recovery-secret';
import { newClientId } from './spaces';
import {
  type UnlockedVault,
  PinMismatchError,
  escrowGrantContext,
  escrowPrivateKeyContext,
  escrowUserKeyContext,
  importPinnedEscrowKey,
  keyContext,
  openEscrowSealed,
  openVault,
  recoveryContext,
} from './vault';

export interface FlowOptions {
  /** Benchmarks only: cheap client-side key stretching (the server does the same work). */
  readonly keyStretching?: typeof OPAQUE_KEY_STRETCHING | typeof OPAQUE_BENCH_KEY_STRETCHING;
  /** Asks for the second factor when the account has one; without it such a sign-in throws SecondFactorNeededError. */
  readonly secondFactor?: SecondFactorPrompt;
}

/** The browser refused a password against the floors or the organisation's rules (before any request). */
export class PasswordRejectedError extends Error {
  constructor(readonly problems: readonly PasswordProblem[]) {
    super(`The password does not meet the password rules: ${problems.join(', ')}.`);
    this.name = 'PasswordRejectedError';
  }
}

/**
 * Checks a new password in the browser (the server never sees it, so only the browser can):
 * the ASVS floors, the organisation's rules, the person's e-mail and name, and context words.
 */
export async function assertPasswordAllowed(
  password: string,
  context: { email: string; name?: string; organisationName: string; languages: readonly Language[] },
  rules: PasswordRules,
): Promise<void> {
  const { strengthEstimator } = await import('../accounts/password-strength');
  const result = checkPassword(
    password,
    { email: context.email, ...(context.name ? { name: context.name } : {}), contextWords: [context.organisationName, ...KLUIS_CONTEXT_WORDS] },
    rules,
    await strengthEstimator(context.languages),
  );
  if (!result.ok) throw new PasswordRejectedError(result.problems);
}

/** Encrypted profile fields (only the e-mail address stays readable: login and notifications need it). */
export const profileSchema = z
  .object({
    name: z.string().max(200),
    phone: z.string().max(50).optional(),
    address: z.string().max(500).optional(),
    notes: z.string().max(5000).optional(),
  })
  .strict();
export type Profile = z.infer<typeof profileSchema>;

export const profileContext = (userId: string) => ({ type: 'profile', id: userId, owner: userId });

type SigningPair = Awaited<ReturnType<typeof generateSigningKeyPair>>;

/**
 * Creates a new account's keys; only ciphertext, public keys and signed statements leave this function.
 * Every account gets a signing key (pass `signing` when it was made earlier, as the root key at setup)
 * and signs a statement about its user key's escrow copy, so staff can tell a forged copy apart.
 */
async function createAccountKeys(args: {
  userId: string;
  exportKey: Uint8Array;
  pins: Pins;
  escrowPublicKey: PublicKey;
  profile: Profile;
  userKey?: SecretKey<'user'>;
  signing?: SigningPair;
}) {
  const { userId, pins } = args;
  const userKey = args.userKey ?? (await generateSecretKey('user'));
  const keySafeKey = await deriveKeySafeKey(args.exportKey);
  const pair = await generateKeyPair(userKey, keyContext(userId));
  const signing = args.signing ?? (await generateSigningKeyPair(userKey, keyContext(userId)));
  const escrowUserKey = toBase64Url(await sealSecretKey(args.escrowPublicKey, userKey, escrowUserKeyContext(userId)));
  const keys = {
    wrappedUserKey: toBase64Url(await wrapSecretKey(keySafeKey, userKey, keyContext(userId))),
    keySafe: toBase64Url(await sealKeySafe(userKey, userId, newKeySafe(pins))),
    publicKey: toBase64Url(pair.publicKey.spki),
    wrappedPrivateKey: toBase64Url(pair.wrappedPrivateKey),
    escrowUserKey,
    profile: toBase64Url(await encryptRecord(userKey, JSON.stringify(args.profile), profileContext(userId))),
    signing: { publicKey: toBase64Url(signing.publicKey.spki), wrappedPrivateKey: toBase64Url(signing.wrappedPrivateKey) },
    escrowCopyStatement: await signEscrowCopy({ userId, signingKey: signing.privateKey, userKey }, pins.escrowFingerprint, escrowUserKey),
  };
  return { keys, userKey, pair, signing };
}

export interface SetupInput {
  readonly setupToken: string;
  readonly organisationName: string;
  readonly email: string;
  readonly name: string;
  readonly password: string;
  readonly language: Language;
  /** The organisation's initial second-factor policy (default: the server's, staff and auditors). */
  readonly secondFactorRoles?: readonly Role[];
}

export interface SetupResult {
  readonly userId: string;
  /** Shown once to the Administrator; never sent to the server. */
  readonly recoverySecret: string;
  readonly escrowFingerprint: string;
}

/** Creates the organisation: the escrow key pair, the recovery kit and the first Administrator. */
export async function setupOrganisation(api: CallApi, input: SetupInput, options: FlowOptions = {}): Promise<SetupResult> {
  await assertPasswordAllowed(input.password, { email: input.email, name: input.name, organisationName: input.organisationName, languages: [input.language] }, DEFAULT_PASSWORD_RULES);
  const registration = await startOpaqueRegistration(input.password);
  const start = await api(startSetup, {
    body: { setupToken: input.setupToken, email: input.email, registrationRequest: registration.request },
  });
  const finished = await finishOpaqueRegistration(registration.state, start.registrationResponse, input.password, options.keyStretching);
  if (finished.serverStaticPublicKey !== start.opaqueServerPublicKey) throw new PinMismatchError('opaque-server-key');
  const userId = start.userId;

  const escrowKey = await generateSecretKey('escrow');
  const escrowPair = await generateKeyPair(escrowKey, escrowPrivateKeyContext);
  const userKey = await generateSecretKey('user');
  // The root key: the founding Administrator's account signing key, pinned by every invitee.
  const adminSigning = await generateSigningKeyPair(userKey, keyContext(userId));
  const pins: Pins = {
    escrowFingerprint: toHex(escrowPair.publicKey.fingerprint),
    opaqueServerPublicKey: finished.serverStaticPublicKey,
    adminRootFingerprint: toHex(adminSigning.publicKey.fingerprint),
  };
  const account = await createAccountKeys({
    userId,
    exportKey: finished.exportKey,
    pins,
    escrowPublicKey: escrowPair.publicKey,
    profile: { name: input.name },
    userKey,
    signing: adminSigning,
  });
  const certificate = await signCertificate(
    { userId, signingKey: adminSigning.privateKey },
    { userId, email: input.email, role: 'admin', encKey: toHex(account.pair.publicKey.fingerprint), sigKey: pins.adminRootFingerprint },
    'root',
  );

  const recoverySecret = generateRecoverySecret();
  const recoverySalt = randomBytes(ARGON2ID_SALT_BYTES);
  const recoveryKey = await deriveRecoveryKey(recoverySecret, recoverySalt, ARGON2ID_DEFAULT);
  const statement: HolderStatement = {
    v: 1,
    kind: 'escrow-holder',
    escrowFingerprint: pins.escrowFingerprint,
    holderId: userId,
    holderKeyFingerprint: toHex(account.pair.publicKey.fingerprint),
    holderSigningKeyFingerprint: pins.adminRootFingerprint,
    grantedBy: userId,
    grantedAt: new Date().toISOString(),
  };

  await api(finishSetup, {
    body: {
      setupToken: input.setupToken,
      registrationId: start.registrationId,
      registrationRecord: finished.record,
      organisationName: input.organisationName,
      language: input.language,
      ...(input.secondFactorRoles ? { secondFactorRoles: [...input.secondFactorRoles] } : {}),
      keys: account.keys,
      certificate,
      escrow: {
        publicKey: toBase64Url(escrowPair.publicKey.spki),
        wrappedPrivateKey: toBase64Url(escrowPair.wrappedPrivateKey),
        grant: toBase64Url(await wrapSecretKey(userKey, escrowKey, escrowGrantContext(userId))),
        recoveryWrappedKey: toBase64Url(await wrapSecretKey(recoveryKey, escrowKey, recoveryContext)),
        recoverySalt: toBase64Url(recoverySalt),
        recoveryParams: { ...ARGON2ID_DEFAULT },
      },
      holderStatement: await signHolderStatement(adminSigning.privateKey, statement),
    },
  });
  return { userId, recoverySecret, escrowFingerprint: pins.escrowFingerprint };
}

/** A login the browser itself found wrong (wrong password, unknown or locked account): one answer for all. */
export class LoginRejectedError extends Error {
  constructor() {
    super('The e-mail address or password is not correct.');
    this.name = 'LoginRejectedError';
  }
}

/**
 * OPAQUE login, then opening the key safe. Accepts a sealed escrow grant by re-wrapping it under
 * the user key (after checking it opens the pinned escrow key).
 */
export async function login(
  api: CallApi,
  email: string,
  password: string,
  options: FlowOptions = {},
): Promise<{ vault: UnlockedVault; bundle: AccountBundle }> {
  const attempt = await startOpaqueLogin(password);
  const start = await api(startLogin, { body: { email, startLoginRequest: attempt.request } });
  let finished;
  try {
    finished = await finishOpaqueLogin(attempt.state, start.loginResponse, password, options.keyStretching);
  } catch (error) {
    if (!(error instanceof DecryptionError)) throw error;
    await api(abortLogin, { body: { loginId: start.loginId } }).catch(() => undefined);
    throw new LoginRejectedError();
  }
  const outcome = await api(finishLogin, { body: { loginId: start.loginId, finishLoginRequest: finished.finishRequest } });
  const bundle = 'secondFactor' in outcome ? await passSecondFactor(api, outcome.secondFactor, options.secondFactor) : outcome;
  const vault = await settleSignIn(api, await openVault(bundle, finished.exportKey, finished.serverStaticPublicKey), bundle);
  return { vault, bundle };
}

/**
 * What every sign-in does once the vault is open (password or passkey): completes the account's
 * keys, and accepts a sealed escrow grant by re-wrapping it under the user key (its opening was
 * already checked against the pinned escrow key).
 */
export async function settleSignIn(api: CallApi, opened: UnlockedVault, bundle: AccountBundle): Promise<UnlockedVault> {
  // An escrow key that is not the pin (the organisation rotated it): trusted only along the signed
  // chain, which moves the pin (issue 21). EscrowChainError ends the sign-in, as a pin mismatch does.
  const followed = opened.escrowUnverified ? await followEscrowChain(api, opened, await loadDirectory(api, opened)) : opened;
  const vault = await completeAccountKeys(api, followed, bundle);
  if (vault.escrow && vault.escrowGrantNeedsAccept) {
    const wrapped = await wrapSecretKey(vault.userKey, vault.escrow.escrowKey, escrowGrantContext(vault.userId));
    await api(acceptEscrowGrant, { body: { wrappedEscrowKey: toBase64Url(wrapped) } });
    return { ...vault, escrowGrantNeedsAccept: false };
  }
  return vault;
}

/**
 * The second sign-in step: asks `prompt` until an answer opens the session (the server hands out
 * the key safe only then). Wrong answers are asked again with their error code; the account's lock
 * (account_locked), an expired step and any other error end the sign-in.
 * @throws SecondFactorNeededError without a prompt or when the person cancels
 */
async function passSecondFactor(api: CallApi, challenge: SecondFactorChallenge, prompt: SecondFactorPrompt | undefined): Promise<AccountBundle> {
  let problem: ApiErrorCode | null = null;
  for (;;) {
    const answer = prompt ? await prompt(challenge, problem) : null;
    if (!answer) throw new SecondFactorNeededError(challenge);
    try {
      const body =
        answer.method === 'passkey'
          ? { challengeId: challenge.challengeId, method: answer.method, response: answer.response as z.input<typeof authenticationResponseSchema>, trustDevice: answer.trustDevice }
          : { challengeId: challenge.challengeId, method: answer.method, code: answer.code, trustDevice: answer.trustDevice };
      return await api(verifySecondFactor, { body });
    } catch (error) {
      if (!isApiError(error) || !RETRYABLE_SECOND_FACTOR_ERRORS.has(error.code)) throw error;
      problem = error.code;
    }
  }
}

/** Errors after which the person may try another code or method on the same step. */
const RETRYABLE_SECOND_FACTOR_ERRORS: ReadonlySet<ApiErrorCode> = new Set([
  'second_factor_invalid',
  'second_factor_reused',
  'second_factor_unavailable',
  'passkey_rejected',
  'passkey_counter_regressed',
  'validation_failed',
]);

/**
 * Brings an account made before everyone had a signing key up to date at sign-in: adds a signing
 * key (wrapped under the user key) and signs the statement about the user key's escrow copy.
 * @returns the vault, now with its signing key
 */
async function completeAccountKeys(api: CallApi, vault: UnlockedVault, bundle: AccountBundle): Promise<UnlockedVault & { signingKey: SigningPrivateKey }> {
  let signingKey = vault.signingKey;
  if (!signingKey) {
    const signing = await generateSigningKeyPair(vault.userKey, keyContext(vault.userId));
    await api(addSigningKey, { body: { publicKey: toBase64Url(signing.publicKey.spki), wrappedPrivateKey: toBase64Url(signing.wrappedPrivateKey) } });
    signingKey = signing.privateKey;
  }
  if (!bundle.keys.escrowCopySigned) {
    const statement = await signEscrowCopy(
      { userId: vault.userId, signingKey, userKey: vault.userKey },
      vault.keySafe.escrowFingerprint,
      bundle.keys.escrowUserKey,
    );
    await api(putEscrowCopyStatement, { body: statement });
  }
  return { ...vault, signingKey };
}

export interface SignupInput {
  readonly token: string;
  /** The invitation link's #fragment: the pins the inviter's browser vouched for. */
  readonly fragment: string;
  readonly name: string;
  readonly password: string;
  readonly language: Language;
}

/** The invitation binding part of a link's fragment ("&i=<invitation id>&k=<binding key>"), or null when it has none. */
export function bindingFromFragment(fragment: string): { invitationId: string; key: Uint8Array } | null {
  const params = new URLSearchParams(fragment.replace(/^#/, ''));
  const ids = params.getAll('i');
  const keys = params.getAll('k');
  if (ids.length === 0 && keys.length === 0) return null;
  const [invitationId] = ids;
  const [key] = keys;
  if (ids.length !== 1 || keys.length !== 1 || !/^[A-Za-z0-9_-]{22}$/.test(invitationId!) || !/^[A-Za-z0-9_-]{43}$/.test(key!)) {
    throw new InvitationLinkError();
  }
  return { invitationId: invitationId!, key: fromBase64Url(key!) };
}

/** The invitation link was altered or cut short (its binding part does not parse). */
export class InvitationLinkError extends Error {
  constructor() {
    super('This invitation link is damaged. Copy the whole link from the e-mail, or ask for a new invitation.');
    this.name = 'InvitationLinkError';
  }
}

/** Accepts an invitation: registers with OPAQUE and uploads new keys wrapped to the pinned escrow key. */
export async function signup(api: CallApi, input: SignupInput, options: FlowOptions = {}): Promise<{ userId: string; email: string }> {
  const pins = pinsFromFragment(input.fragment);
  const bindingKey = bindingFromFragment(input.fragment);
  const invitation = await api(lookupInvitation, { body: { token: input.token } });
  const escrowPublicKey = await importPinnedEscrowKey(invitation.escrowPublicKey, pins.escrowFingerprint);
  await assertPasswordAllowed(input.password, { email: invitation.email, name: input.name, organisationName: invitation.organisationName, languages: [input.language] }, invitation.passwordRules);
  const registration = await startOpaqueRegistration(input.password);
  const start = await api(startSignup, { body: { token: input.token, registrationRequest: registration.request } });
  const finished = await finishOpaqueRegistration(registration.state, start.registrationResponse, input.password, options.keyStretching);
  if (finished.serverStaticPublicKey !== pins.opaqueServerPublicKey) throw new PinMismatchError('opaque-server-key');
  const account = await createAccountKeys({
    userId: start.userId,
    exportKey: finished.exportKey,
    pins,
    escrowPublicKey,
    profile: { name: input.name },
  });
  // Proof that whoever opened the link made these keys: escrow holders recompute it and certify them.
  const binding = bindingKey
    ? await makeBinding(bindingKey.key, {
        invitationId: bindingKey.invitationId,
        userId: start.userId,
        email: invitation.email,
        role: invitation.role,
        encKey: toHex(account.pair.publicKey.fingerprint),
        sigKey: toHex(account.signing.publicKey.fingerprint),
      })
    : null;
  await api(finishSignup, {
    body: { token: input.token, registrationId: start.registrationId, registrationRecord: finished.record, language: input.language, keys: account.keys, binding },
  });
  return { userId: start.userId, email: invitation.email };
}

/**
 * Invites someone; the link's fragment carries this browser's pinned values and, when this browser
 * holds the escrow key, the invitation binding key derived from it for this invitation's id.
 */
export async function invite(api: CallApi, vault: UnlockedVault, input: { email: string; role: Role; language: Language }) {
  const id = newClientId();
  let fragment = pinsToFragment(vault.keySafe);
  if (vault.escrow) fragment += `&i=${id}&k=${toBase64Url(await deriveInvitationBindingKey(vault.escrow.escrowKey, id))}`;
  return api(createInvitation, { body: { ...input, id, fragment } });
}

/**
 * Changes the password: first a login with the current password (ASVS 6.2.3; it also renews the
 * server's 15-minute window for sensitive actions and replaces the session), then a new OPAQUE
 * registration and the same user key re-wrapped under the new export key. Nothing else changes.
 * @returns the vault of the new session
 */
export async function changePassword(
  api: CallApi,
  currentVault: UnlockedVault,
  currentPassword: string,
  newPassword: string,
  options: FlowOptions = {},
): Promise<UnlockedVault> {
  const { vault, bundle } = await login(api, currentVault.email, currentPassword, options);
  const { name } = await openProfile(vault, { id: vault.userId, profile: bundle.keys.profile, escrowUserKey: '' });
  await assertPasswordAllowed(newPassword, { email: vault.email, name, organisationName: bundle.session.organisation.name, languages: [bundle.session.user.language] }, bundle.session.passwordRules);
  const registration = await startOpaqueRegistration(newPassword);
  const start = await api(startPasswordChange, { body: { registrationRequest: registration.request } });
  const finished = await finishOpaqueRegistration(registration.state, start.registrationResponse, newPassword, options.keyStretching);
  if (finished.serverStaticPublicKey !== vault.keySafe.opaqueServerPublicKey) throw new PinMismatchError('opaque-server-key');
  const keySafeKey = await deriveKeySafeKey(finished.exportKey);
  const wrappedUserKey = await wrapSecretKey(keySafeKey, vault.userKey, keyContext(vault.userId));
  await api(finishPasswordChange, {
    body: { registrationId: start.registrationId, registrationRecord: finished.record, wrappedUserKey: toBase64Url(wrappedUserKey) },
  });
  return vault;
}

/** The person's keys are not vouched for by a certificate chain to the pinned root: nothing is sealed to them. */
export class KeyNotVerifiedError extends Error {
  override readonly name = 'KeyNotVerifiedError';
  constructor() {
    super('The keys of this person are not verified yet. Verify their keys on the People page first.');
  }
}

/**
 * An Administrator gives a Team Member the escrow key, sealed to their certified encryption key
 * (from the verified directory, never a bare server field), with a signed statement.
 */
export async function grantEscrowAccess(api: CallApi, vault: UnlockedVault, holder: VerifiedIdentity | null): Promise<{ holderFingerprint: string }> {
  if (!vault.escrow || !vault.signingKey) throw new Error('Only an Administrator holding the escrow key can grant it.');
  if (!holder) throw new KeyNotVerifiedError();
  const sealed = await sealSecretKey(holder.encryptionKey, vault.escrow.escrowKey, escrowGrantContext(holder.userId));
  const statement: HolderStatement = {
    v: 1,
    kind: 'escrow-holder',
    escrowFingerprint: vault.keySafe.escrowFingerprint,
    holderId: holder.userId,
    holderKeyFingerprint: toHex(holder.encryptionKey.fingerprint),
    holderSigningKeyFingerprint: toHex(holder.signingKey.fingerprint),
    grantedBy: vault.userId,
    grantedAt: new Date().toISOString(),
  };
  await api(grantEscrow, {
    body: { userId: holder.userId, sealedEscrowKey: toBase64Url(sealed), statement: await signHolderStatement(vault.signingKey, statement) },
  });
  return { holderFingerprint: toHex(holder.encryptionKey.fingerprint) };
}

/** The key directory verified against this vault's pinned root, with the entries as served. */
export async function loadDirectory(api: CallApi, vault: UnlockedVault): Promise<VerifiedDirectory & { entries: readonly DirectoryEntry[] }> {
  const { entries } = await api(getDirectory, {});
  return { ...(await verifyDirectory(entries, vault.keySafe)), entries };
}

/** A person's verified identity, after certifying whoever's invitation binding verifies (escrow holders). */
export async function certifiedIdentity(api: CallApi, vault: UnlockedVault, userId: string): Promise<VerifiedIdentity | null> {
  let directory = await loadDirectory(api, vault);
  if (!directory.identities.has(userId) && (await certifyByBinding(api, vault, directory)).certified.length > 0) {
    directory = await loadDirectory(api, vault);
  }
  return directory.identities.get(userId) ?? null;
}

/** What openProfile needs to open someone's profile through escrow: their certified identity and escrow-copy statement. */
export async function escrowCopyProof(api: CallApi, vault: UnlockedVault, userId: string) {
  const owner = await certifiedIdentity(api, vault, userId);
  const { entries } = await loadDirectory(api, vault);
  return { owner, statement: entries.find((e) => e.id === userId)?.escrowCopyStatement ?? null };
}

/** What happened to each uncertified person an escrow holder looked at. */
export interface CertificationResult {
  /** Certificates issued (basis "invitation"). */
  readonly certified: readonly string[];
  /** People whose listed keys are not the ones their invitation binding proves: a security warning. */
  readonly bindingFailed: readonly string[];
}

/**
 * An escrow-holding staff member certifies everyone whose invitation binding verifies (checkBinding):
 * Administrators anyone, Team Members clients. A binding that does not verify is reported, never certified.
 */
export async function certifyByBinding(api: CallApi, vault: UnlockedVault, directory: VerifiedDirectory): Promise<CertificationResult> {
  const certified: string[] = [];
  const bindingFailed: string[] = [];
  if (!vault.escrow || !vault.signingKey || (vault.role !== 'admin' && vault.role !== 'team')) return { certified, bindingFailed };
  for (const person of directory.unverified.values()) {
    if (person.reason !== 'not-certified' || !person.binding || person.userId === vault.userId) continue;
    if (vault.role !== 'admin' && person.serverRole !== 'client') continue;
    if (!(await checkBinding(vault.escrow.escrowKey, person))) {
      bindingFailed.push(person.userId);
      continue;
    }
    await issueFor(api, vault, person, 'invitation');
    certified.push(person.userId);
  }
  return { certified, bindingFailed };
}

/**
 * A staff member checked the fingerprints by hand (accounts without an invitation binding): issues a
 * first-use certificate, only when the keys listed now are the ones the staff member was shown.
 */
export async function certifyFirstUse(
  api: CallApi,
  vault: UnlockedVault,
  directory: VerifiedDirectory,
  userId: string,
  shown: { enc: string; sig: string },
): Promise<void> {
  const person = directory.unverified.get(userId);
  if (!person?.encryptionKey || !person.signingKey) throw new KeyNotVerifiedError();
  if (toHex(person.encryptionKey.fingerprint) !== shown.enc || toHex(person.signingKey.fingerprint) !== shown.sig) throw new KeyNotVerifiedError();
  await issueFor(api, vault, person, 'first-use');
}

async function issueFor(api: CallApi, vault: UnlockedVault, person: UnverifiedPerson, basis: 'invitation' | 'first-use'): Promise<void> {
  if (!vault.signingKey || !person.encryptionKey || !person.signingKey) throw new KeyNotVerifiedError();
  const certificate = await signCertificate(
    { userId: vault.userId, signingKey: vault.signingKey },
    {
      userId: person.userId,
      email: person.email,
      role: person.serverRole,
      encKey: toHex(person.encryptionKey.fingerprint),
      sigKey: toHex(person.signingKey.fingerprint),
    },
    basis,
  );
  await api(issueCertificate, { params: { userId: person.userId }, body: certificate });
}

export interface RecoveryInput {
  readonly recoveryToken: string;
  readonly email: string;
  readonly recoverySecret: string;
  readonly newPassword: string;
}

export class RecoverySecretFormatError extends Error {
  constructor() {
    super('This is not a recovery secret: it has 32 characters in groups of four.');
    this.name = 'RecoverySecretFormatError';
  }
}

/** The typed recovery secret does not open the organisation key (its key commitment does not match). */
export class RecoverySecretRejectedError extends Error {
  constructor() {
    super('This recovery secret does not open the organisation key.');
    this.name = 'RecoverySecretRejectedError';
  }
}

/**
 * Recovery mode (after the OPAQUE server secret was lost): the recovery kit opens the escrow key,
 * the escrow key opens the Administrator's user key, and the Administrator registers a new password.
 * @throws RecoverySecretRejectedError when the recovery secret is wrong; DecryptionError or
 *   IntegrityError when what the server served (wrapped keys, key safe) was altered or is damaged.
 */
export async function recoverWithKit(api: CallApi, input: RecoveryInput, options: FlowOptions = {}): Promise<{ userId: string }> {
  const secret = parseRecoverySecret(input.recoverySecret);
  if (!secret) throw new RecoverySecretFormatError();
  // The Administrator's language is not known before the recovery starts: every language's words count.
  await assertPasswordAllowed(input.newPassword, { email: input.email, organisationName: '', languages: languageSchema.options }, DEFAULT_PASSWORD_RULES);
  const registration = await startOpaqueRegistration(input.newPassword);
  const start = await api(startRecovery, {
    body: { recoveryToken: input.recoveryToken, email: input.email, registrationRequest: registration.request },
  });
  const { escrow, account } = start;
  // Floors apply: stored parameters below them are refused (no KDF downgrade through the database).
  const recoveryKey = await deriveRecoveryKey(secret, fromBase64Url(escrow.recoverySalt), escrow.recoveryParams);
  // Only this first unwrap tests what the user typed: a key that does not match the commitment is a
  // wrong secret. Every failure after it is data the server served that does not authenticate.
  const escrowKey = await unwrapSecretKey(recoveryKey, fromBase64Url(escrow.recoveryWrappedKey), 'escrow', recoveryContext, {
    extractable: true,
  }).catch((error: unknown) => {
    throw error instanceof DecryptionError ? new RecoverySecretRejectedError() : error;
  });
  const escrowPrivateKey = await unwrapPrivateKey(escrowKey, fromBase64Url(escrow.wrappedPrivateKey), escrowPrivateKeyContext);
  const userKey = await openSealedSecretKey(escrowPrivateKey, fromBase64Url(account.escrowUserKey), 'user', escrowUserKeyContext(start.userId), {
    extractable: true,
  });
  const oldSafe = await openKeySafe(userKey, start.userId, fromBase64Url(account.keySafe));
  if (toHex(escrowPrivateKey.publicKey.fingerprint) !== oldSafe.escrowFingerprint) throw new PinMismatchError('escrow-key');

  const finished = await finishOpaqueRegistration(registration.state, start.registrationResponse, input.newPassword, options.keyStretching);
  if (finished.serverStaticPublicKey !== start.opaqueServerPublicKey) throw new PinMismatchError('opaque-server-key');
  const keySafeKey = await deriveKeySafeKey(finished.exportKey);
  await api(finishRecovery, {
    body: {
      recoveryToken: input.recoveryToken,
      registrationId: start.registrationId,
      registrationRecord: finished.record,
      wrappedUserKey: toBase64Url(await wrapSecretKey(keySafeKey, userKey, keyContext(start.userId))),
      keySafe: toBase64Url(await sealKeySafe(userKey, start.userId, { ...oldSafe, opaqueServerPublicKey: finished.serverStaticPublicKey })),
      escrowGrant: toBase64Url(await wrapSecretKey(userKey, escrowKey, escrowGrantContext(start.userId))),
    },
  });
  return { userId: start.userId };
}

/** Encrypts the signed-in user's own profile for `PUT /api/account/profile` (base64url record). */
export async function sealProfile(vault: UnlockedVault, profile: Profile): Promise<string> {
  const checked = profileSchema.parse(profile);
  return toBase64Url(await encryptRecord(vault.userKey, JSON.stringify(checked), profileContext(vault.userId)));
}

/** Staff cannot open a profile whose escrow copy no signed statement of its certified owner vouches for. */
export class EscrowCopyUnverifiedError extends Error {
  override readonly name = 'EscrowCopyUnverifiedError';
  constructor() {
    super('This profile cannot be verified: its owner has not vouched for the copy the server holds.');
  }
}

/**
 * Decrypts a user's profile with their user key (own vault) or through escrow (staff). Through
 * escrow only when `proof` vouches for the copy: the certified owner's signed statement verifies
 * (checkEscrowCopy) and the opened user key has the key commitment it names.
 * @throws EscrowCopyUnverifiedError when nothing vouches for the escrow copy
 */
export async function openProfile(
  vault: UnlockedVault,
  user: { id: string; profile: string; escrowUserKey: string },
  proof?: { owner: VerifiedIdentity | null; statement: SignedPayload | null; previousFingerprints?: readonly string[] },
): Promise<Profile> {
  let userKey: SecretKey<'user'>;
  if (user.id === vault.userId) userKey = vault.userKey;
  else if (vault.escrow) userKey = await openEscrowCopy(vault, user, proof);
  else throw new DecryptionError();
  return profileSchema.parse(JSON.parse(await decryptRecordText(userKey, fromBase64Url(user.profile), profileContext(user.id))));
}

/**
 * Opens a person's user key through escrow, only when `proof` vouches for the copy: the certified
 * owner's signed statement verifies (checkEscrowCopy; a copy a rotation re-sealed through the
 * verified chain's `previousFingerprints`) and the opened key has the commitment it names. During a
 * rotation the copy may still be sealed to the previous escrow key: the commitment decides.
 * @throws EscrowCopyUnverifiedError when nothing vouches for the copy, or the key is not the signed one
 */
export async function openEscrowCopy(
  vault: UnlockedVault,
  user: { readonly id: string; readonly escrowUserKey: string },
  proof: { owner: VerifiedIdentity | null; statement: SignedPayload | null; previousFingerprints?: readonly string[] } | undefined,
  options: { extractable?: boolean } = {},
): Promise<SecretKey<'user'>> {
  const commitment = proof?.owner
    ? await checkEscrowCopy(proof.owner, vault.keySafe.escrowFingerprint, user.escrowUserKey, proof.statement, {
        previousFingerprints: proof.previousFingerprints ?? [],
      })
    : null;
  if (!commitment) throw new EscrowCopyUnverifiedError();
  const userKey = await openEscrowSealed(vault, fromBase64Url(user.escrowUserKey), 'user', escrowUserKeyContext(user.id), options);
  if ((await keyCommitment(userKey)) !== commitment) throw new EscrowCopyUnverifiedError();
  return userKey;
}
