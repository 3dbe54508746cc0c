// The account operations the crypto worker offers the page: shared flows over this worker's own vault.
import type { z } from 'zod';
import {
  checkPassword as checkPasswordRules,
  type PasswordCheck,
  type PasswordContext,
  type PasswordRules,
} from '../../shared/accounts/password-rules';
import {
  type AccountBundle,
  type Endpoint,
  type EndpointInput,
  type Language,
  type Role,
  type SecondFactorKind,
  type UserListItem,
  type sessionInfoSchema,
  getEscrowChain,
  getSession,
  listEscrowHolders,
  listUsers,
} from '../../shared/api';
import { fromBase64Url, importPublicKey, toHex } from '../../shared/crypto';
import {
  EscrowCopyUnverifiedError,
  KeyNotVerifiedError,
  LoginRejectedError,
  changePassword as changePasswordFlow,
  grantEscrowAccess,
  invite as inviteFlow,
  login as loginFlow,
  openProfile,
  recoverWithKit,
  setupOrganisation,
  signup as signupFlow,
} from '../../shared/flows/account-flows';
import { verifyHolderStatements } from '../../shared/flows/escrow-ledger';
import { rotationSignersInto } from '../../shared/flows/escrow-rotation';
import { type PasskeyAssertion, enablePasskeyUnlock as enablePasskeyUnlockFlow, passkeyLogin } from '../../shared/flows/passkey-unlock';
import { SecondFactorNeededError, type SecondFactorPrompt } from '../../shared/flows/second-factor';
import { PinMismatchError, type UnlockedVault } from '../../shared/flows/vault';
import type { ApiCallOptions, CallApi } from '../../shared/api/client';
import { type StateStorage, checkKeySafeMark, createKeySafeKeeper, type KeySafeKeeper } from './key-safe-keeper';
import { KeyChangedError, NotSignedInError } from './outcome';
import { type DirectoryTrust, type KeyStatus, type TrustWarning, createTrust } from './trust';

/**
 * WARNING: this module runs only inside the crypto worker. The vault (user key, private keys,
 * escrow key) lives in the closure below and nowhere else; every function returns only what the
 * page may hold: public keys' fingerprints, session metadata, and plaintext the user may see.
 * Nothing is ever persisted. Terminating the worker drops it all (client/vault).
 */

export type SessionInfo = z.infer<typeof sessionInfoSchema>;

/** What the page learns after a login: the session and the user's own decrypted name. */
export interface SignedIn {
  readonly session: SessionInfo;
  /** Null when the profile could not be decrypted (the page says so and keeps working). */
  readonly name: string | null;
}

/** Steps of a long operation, reported as they start (for a progress view). */
export type ProgressStep = 'link' | 'keys' | 'store' | 'signin' | 'password' | 'recovery';
export type ProgressListener = (step: ProgressStep) => void;

export interface SetupRequest {
  readonly setupToken: string;
  readonly organisationName: string;
  readonly email: string;
  readonly name: string;
  readonly password: string;
  readonly language: Language;
  /** The roles that must use a second factor, as the founding Administrator chose them. */
  readonly secondFactorRoles: readonly Role[];
}

export interface SetupOutcome extends SignedIn {
  /** Shown once on the recovery kit page; never sent to the server, never kept by the worker. */
  readonly recoverySecret: string;
  /** SHA-256 of the escrow public key, hex. */
  readonly escrowFingerprint: string;
}

export interface SignupRequest {
  readonly token: string;
  readonly fragment: string;
  readonly name: string;
  readonly password: string;
  readonly language: Language;
}

export interface RecoverRequest {
  readonly recoveryToken: string;
  readonly email: string;
  readonly recoverySecret: string;
  readonly newPassword: string;
}

export type EscrowStatus =
  /** No grant. */
  | 'none'
  /** Granted (sealed to their key) and signed; they accept it at their next sign-in. */
  | 'granted'
  /** Holds the escrow key, with a verified signed statement. */
  | 'holder'
  /** The server says there is a grant, but no statement verifies back to the pinned root: a warning. */
  | 'unverified';

export interface Person {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly lastLoginAt: string | null;
  readonly lockedUntil: string | null;
  /** The decrypted profile name, or null when this viewer cannot decrypt it. */
  readonly name: string | null;
  /** SHA-256 of the person's public key (hex), to compare out of band before an escrow grant. */
  readonly keyFingerprint: string | null;
  /** Only for viewers who may see it (Administrators); null otherwise. */
  readonly escrow: EscrowStatus | null;
  /** Whether the directory vouches for this person's keys (a certificate chain to the pinned root). */
  readonly keys: KeyStatus | null;
  /** Staff could not verify the escrow copy of this person's user key: the profile stays closed. */
  readonly profileUnverified: boolean;
  /**
   * Whether this viewer may certify the listed keys by hand ("Verify keys"): the keys are not
   * verified yet and both are listed, and the viewer holds the escrow key and a certified signing key
   * that may vouch for this person (shared/flows/certificates.ts: Administrators for anyone, Team
   * Members for clients). Never for a person whose invitation binding failed.
   */
  readonly mayVerifyKeys: boolean;
  /** The kinds of second factor the person has set up, as the server lists them (no names, no secrets). */
  readonly secondFactors: readonly SecondFactorKind[];
  /** The account life-cycle (issue 21), as the server states it. */
  readonly status: UserListItem['status'];
  /** A deleted account: when its keys are destroyed (restorable until then). */
  readonly purgeAfter: string | null;
  /** An open escrow reset of this person. */
  readonly pendingReset: UserListItem['pendingReset'];
}

export interface EscrowHolderView {
  readonly holderId: string;
  readonly holderKeyFingerprint: string;
  readonly grantedBy: string;
  readonly grantedAt: string;
  readonly verified: boolean;
}

export interface OwnKeys {
  readonly keyFingerprint: string;
  /** SHA-256 of the signing public key (hex); null until the account has one (added at sign-in). */
  readonly signingKeyFingerprint: string | null;
  readonly escrowFingerprint: string;
}

/** The People page's list: the people, what this viewer may do, and the security warnings about keys. */
export interface PeopleList {
  readonly people: Person[];
  readonly canGrantEscrow: boolean;
  readonly warnings: readonly TrustWarning[];
}

/** What an unlocked account holds in this worker. WARNING: key material; never returned to the page. */
export interface HeldAccount {
  readonly vault: UnlockedVault;
  /** The key safe as this worker keeps it (remembered heads and first-seen keys, written in batches). */
  readonly keySafe: KeySafeKeeper;
  readonly session: SessionInfo;
  readonly name: string | null;
  /** The user's own encrypted profile as last stored. */
  readonly profile: string;
}

/** The worker's one slot for the unlocked account, shared with the space operations (./space-operations.ts). */
export interface AccountSlot {
  current: HeldAccount | null;
}

export function createAccountOperations(
  api: CallApi,
  signedIn: AccountSlot = { current: null },
  options: { readonly storage?: StateStorage | null; readonly trust?: DirectoryTrust } = {},
) {
  const held = signedIn;
  const storage = options.storage ?? null;
  const trust = options.trust ?? createTrust({ api, account: held });

  function requireSignedIn() {
    if (!held.current) throw new NotSignedInError();
    return held.current;
  }

  /** A CallApi that reports a progress step when selected endpoints are called or answer. */
  function reporting(
    onProgress: ProgressListener | undefined,
    steps: {
      readonly before?: Record<string, ProgressStep>;
      readonly after?: Record<string, ProgressStep>;
    },
  ): CallApi {
    if (!onProgress) return api;
    return async <E extends Endpoint>(
      endpoint: E,
      input: EndpointInput<E>,
      options?: ApiCallOptions,
    ) => {
      const before = steps.before?.[endpoint.operationId];
      if (before) onProgress(before);
      const result = await api(endpoint, input, options);
      const after = steps.after?.[endpoint.operationId];
      if (after) onProgress(after);
      return result;
    };
  }

  /**
   * `secondFactor` is the page's prompt for the second sign-in step (a comlink proxy: it runs on the
   * page, where the person types the code or touches the passkey); without it an account that needs
   * one ends in SecondFactorNeededError.
   */
  async function signIn(email: string, password: string, secondFactor?: SecondFactorPrompt): Promise<SignedIn> {
    // Drop the old keys first: a failed login must not leave a previous vault usable.
    await dropHeld();
    const { vault, bundle } = await loginFlow(api, email, password, secondFactor ? { secondFactor } : {});
    return hold(vault, bundle);
  }

  /** Keeps a vault that a sign-in (password or passkey) opened, after the key safe's replay check. */
  async function hold(vault: UnlockedVault, bundle: AccountBundle): Promise<SignedIn> {
    // A key safe older than this device saw before is a replay: refuse it (SECURITY.md §7).
    await checkKeySafeMark(storage, vault, vault.keySafe);
    const keySafe = createKeySafeKeeper({ api, owner: vault, initial: { safe: vault.keySafe, revision: vault.keySafeRevision }, storage });
    const own = { id: vault.userId, profile: bundle.keys.profile, escrowUserKey: '' };
    const name = await openProfile(vault, own).then(
      (profile) => profile.name,
      () => null,
    );
    held.current = { vault, keySafe, session: bundle.session, name, profile: bundle.keys.profile };
    trust.refresh();
    return { session: bundle.session, name };
  }

  /** Forgets the unlocked account, first writing what its key safe still has pending (when it can). */
  async function dropHeld(): Promise<void> {
    const before = held.current;
    held.current = null;
    await before?.keySafe.flush().catch(() => undefined);
  }

  async function fingerprintOf(spki: string): Promise<string | null> {
    try {
      return toHex((await importPublicKey(fromBase64Url(spki))).fingerprint);
    } catch {
      return null;
    }
  }

  async function verifiedHolders(vault: UnlockedVault): Promise<EscrowHolderView[]> {
    const { statements, signingKeys } = await api(listEscrowHolders, {});
    // After a rotation the holder statements for the new key are signed by the rotating Administrator,
    // trusted only as the signer of a verified rotation into the pinned key (issue 21).
    const rotationSigners = await rotationSignersInto(await api(getEscrowChain, {}), vault.keySafe.escrowFingerprint, await trust.directory());
    const verified = await verifyHolderStatements(statements, signingKeys, vault.keySafe, { rotationSigners });
    return verified.map(({ statement, verified: ok }) => ({
      holderId: statement.holderId,
      holderKeyFingerprint: statement.holderKeyFingerprint,
      grantedBy: statement.grantedBy,
      grantedAt: statement.grantedAt,
      verified: ok,
    }));
  }

  return {
    /** Creates the organisation, then signs the new Administrator in. */
    async setup(request: SetupRequest, onProgress?: ProgressListener): Promise<SetupOutcome> {
      held.current = null;
      const calls = reporting(onProgress, {
        before: { startSetup: 'link', finishSetup: 'store' },
        after: { startSetup: 'keys' },
      });
      const result = await setupOrganisation(calls, request);
      onProgress?.('signin');
      const signedIn = await signIn(request.email, request.password);
      return {
        ...signedIn,
        recoverySecret: result.recoverySecret,
        escrowFingerprint: result.escrowFingerprint,
      };
    },

    /** Signs in; `secondFactor` (passed with comlink's proxy()) asks the person for the second step when the account has one. */
    login: (email: string, password: string, secondFactor?: SecondFactorPrompt): Promise<SignedIn> => signIn(email, password, secondFactor),

    /** Accepts an invitation, then signs the new user in. */
    async signup(request: SignupRequest, onProgress?: ProgressListener): Promise<SignedIn> {
      held.current = null;
      const calls = reporting(onProgress, {
        before: { lookupInvitation: 'link', finishSignup: 'store' },
        after: { startSignup: 'keys' },
      });
      const { email } = await signupFlow(calls, request);
      onProgress?.('signin');
      return signIn(email, request.password);
    },

    /** Recovery mode: opens the escrow key with the kit, registers a new password, signs in (with the second step when the account has one). */
    async recover(request: RecoverRequest, onProgress?: ProgressListener, secondFactor?: SecondFactorPrompt): Promise<SignedIn> {
      held.current = null;
      const calls = reporting(onProgress, {
        before: { startRecovery: 'link', finishRecovery: 'store' },
        after: { startRecovery: 'recovery' },
      });
      await recoverWithKit(calls, request);
      onProgress?.('signin');
      return signIn(request.email, request.newPassword, secondFactor);
    },

    /**
     * Signs in again with the current password: the "ask for the password again" step before a
     * sensitive action. A fresh login refreshes the server's 15-minute recent-authentication window.
     * The server does not ask this signed-in browser for the second factor again; should it ask
     * anyway, `secondFactor` answers (the dialog shows the same step as the login page).
     */
    async reauthenticate(password: string, secondFactor?: SecondFactorPrompt): Promise<SignedIn> {
      const before = requireSignedIn();
      try {
        return await signIn(before.session.user.email, password, secondFactor);
      } catch (error) {
        // A mistyped password or an unanswered second step leaves the unlocked vault as it was (no
        // new key safe was handed out); a key mismatch does not.
        if (error instanceof LoginRejectedError || error instanceof SecondFactorNeededError) held.current = before;
        throw error;
      }
    },

    /**
     * Changes the password. The shared flow first signs in again with the current password (the
     * "ask for the password again" step, ASVS 6.2.3; it also renews the server's 15-minute window
     * for sensitive actions), then registers the new one and re-wraps the user key. The server ends
     * every other session.
     */
    async changePassword(
      currentPassword: string,
      newPassword: string,
      onProgress?: ProgressListener,
    ): Promise<SignedIn> {
      const before = requireSignedIn();
      // The flow replaces the session; until it succeeds, the old vault is no longer trusted.
      held.current = null;
      onProgress?.('password');
      let vault: UnlockedVault;
      try {
        vault = await changePasswordFlow(api, before.vault, currentPassword, newPassword);
      } catch (error) {
        // Same user, same keys: a wrong current password or a refused new one keeps the vault open.
        // WARNING: never after a pin mismatch, which means the server is not the one this account trusts.
        if (!(error instanceof PinMismatchError)) held.current = before;
        throw error;
      }
      const session = await api(getSession, {});
      held.current = { vault, keySafe: before.keySafe, session, name: before.name, profile: before.profile };
      return { session, name: before.name };
    },

    async invite(input: { email: string; role: Role; language: Language }) {
      const { vault } = requireSignedIn();
      const { invitation } = await inviteFlow(api, vault, input);
      return { invitation, escrowFingerprint: vault.keySafe.escrowFingerprint };
    },

    /**
     * The people this user manages, with names decrypted where this vault can, and whether this
     * user can grant the escrow key (an Administrator who holds it and has a signing key).
     */
    async listPeople(): Promise<PeopleList> {
      const { vault } = requireSignedIn();
      const { users } = await api(listUsers, {});
      const holders = vault.role === 'admin' ? await verifiedHolders(vault) : null;
      // A fresh directory: people who signed up since it was last loaded are listed (and certified) too.
      trust.refresh();
      const directory = await trust.directory();
      const statuses = await trust.keyStatuses();
      const bindingFailed = new Set(
        trust.warnings().filter((w) => w.kind === 'binding-failed').map((w) => w.userId),
      );
      // Whose certificates count (verifyDirectory): a verified Administrator's for anyone, verified staff's for clients.
      const issuerRole = directory.identities.get(vault.userId)?.role;
      const mayCertify = (role: Role) =>
        vault.escrow !== undefined &&
        vault.signingKey !== undefined &&
        (issuerRole === 'admin' || (issuerRole === 'team' && role === 'client'));
      const escrowCopyWarnings: TrustWarning[] = [];
      // Escrow copies signed for an escrow key a verified rotation replaced (issue 21).
      const previousFingerprints = vault.escrow ? (await trust.escrowHistory()).previousFingerprints : [];
      const people = await Promise.all(
        users.map(async (user): Promise<Person> => {
          // The escrow copy opens only when its certified owner vouched for it (not on the server's word).
          const proof = {
            owner: directory.identities.get(user.id) ?? null,
            statement: directory.entries.find((e) => e.id === user.id)?.escrowCopyStatement ?? null,
            previousFingerprints,
          };
          let profileUnverified = false;
          let escrowCopyFailed = false;
          // One row that cannot be decrypted says so (null); the page keeps working.
          const name = await openProfile(vault, user, proof).then(
            (profile) => profile.name,
            (error: unknown) => {
              profileUnverified = error instanceof EscrowCopyUnverifiedError;
              // Nothing vouching for the copy of an uncertified person is "not verified yet"; for a
              // certified owner it means the copy is not the one they signed: a security warning.
              escrowCopyFailed = profileUnverified && proof.owner !== null && proof.statement !== null;
              return null;
            },
          );
          const keyFingerprint = await fingerprintOf(user.publicKey);
          let escrow: EscrowStatus | null = null;
          if (holders && (user.role === 'admin' || user.role === 'team')) {
            const signed = holders.some(
              (h) =>
                h.verified && h.holderId === user.id && h.holderKeyFingerprint === keyFingerprint,
            );
            if (user.escrowGrant === 'none') escrow = 'none';
            else if (!signed) escrow = 'unverified';
            else escrow = user.escrowGrant === 'wrapped' ? 'holder' : 'granted';
          }
          const keys = statuses.get(user.id) ?? null;
          const mayVerifyKeys =
            keys?.state === 'unverified' &&
            keys.enc !== null &&
            keys.sig !== null &&
            user.id !== vault.userId &&
            !bindingFailed.has(user.id) &&
            mayCertify(user.role);
          if (escrowCopyFailed) escrowCopyWarnings.push({ kind: 'escrow-copy-failed', userId: user.id, email: user.email });
          return {
            id: user.id,
            email: user.email,
            role: user.role,
            createdAt: user.createdAt,
            lastLoginAt: user.lastLoginAt,
            lockedUntil: user.lockedUntil,
            name,
            keyFingerprint,
            escrow,
            keys,
            profileUnverified,
            mayVerifyKeys,
            secondFactors: user.secondFactors,
            status: user.status,
            purgeAfter: user.purgeAfter,
            pendingReset: user.pendingReset,
          };
        }),
      );
      const canGrantEscrow =
        vault.role === 'admin' && vault.escrow !== undefined && vault.signingKey !== undefined;
      return { people, canGrantEscrow, warnings: [...trust.warnings(), ...escrowCopyWarnings] };
    },

    /** The signed escrow holder list, each statement verified back to the pinned root key. */
    async verifyEscrowHolders(): Promise<EscrowHolderView[]> {
      return verifiedHolders(requireSignedIn().vault);
    },

    /**
     * Grants a Team Member or Administrator the escrow key. `expectedFingerprint` is the key
     * fingerprint the Administrator was shown and compared: the grant is refused if the server now
     * hands out a different key for this person.
     */
    async grantEscrow(
      userId: string,
      expectedFingerprint: string,
    ): Promise<{ holderFingerprint: string }> {
      const { vault } = requireSignedIn();
      trust.refresh();
      // Only a certified key from the verified directory, never a bare /api/users answer.
      const holder = await trust.identity(userId);
      if (!holder) throw new KeyNotVerifiedError();
      if (toHex(holder.encryptionKey.fingerprint) !== expectedFingerprint) throw new KeyChangedError();
      return grantEscrowAccess(api, vault, holder);
    },

    /** A staff member compared the fingerprints with the person: issues a first-use certificate. */
    async confirmKeys(userId: string, shown: { enc: string; sig: string }): Promise<void> {
      requireSignedIn();
      await trust.confirmKeys(userId, shown);
    },

    /** Security warnings about people's keys met since sign-in. */
    trustWarnings(): readonly TrustWarning[] {
      requireSignedIn();
      return trust.warnings();
    },

    /** This user's own key fingerprints (public values): for out-of-band comparison. */
    ownKeys(): OwnKeys {
      const { vault } = requireSignedIn();
      return {
        keyFingerprint: toHex(vault.privateKey.publicKey.fingerprint),
        signingKeyFingerprint: vault.signingKey ? toHex(vault.signingKey.publicKey.fingerprint) : null,
        escrowFingerprint: vault.keySafe.escrowFingerprint,
      };
    },

    /**
     * Floors and organisation rules, with the zxcvbn estimate against the words of `language` (the
     * language on screen); that language's dictionaries load on first use.
     */
    async checkPassword(
      password: string,
      context: PasswordContext,
      rules: PasswordRules,
      language: Language,
    ): Promise<PasswordCheck> {
      const { strengthEstimator } = await import('../../shared/accounts/password-strength');
      return checkPasswordRules(password, context, rules, await strengthEstimator([language]));
    },

    /**
     * Signs in with a passkey alone. The page ran the ceremony (startPasskeyLogin, then the
     * authenticator with the fixed PRF salt) and hands over the assertion and its PRF output.
     * WARNING: `prfOutput` is key material: the page transfers its buffer (comlink transfer), it is
     * used here only to open the wrapping, never sent, and wiped afterwards.
     */
    async signInWithPasskey(ceremonyId: string, response: PasskeyAssertion['response'], prfOutput: ArrayBuffer): Promise<SignedIn> {
      await dropHeld();
      const prf = new Uint8Array(prfOutput);
      try {
        const { vault, bundle } = await passkeyLogin(api, ceremonyId, { response, prfOutput: prf });
        return await hold(vault, bundle);
      } finally {
        prf.fill(0);
      }
    },

    /**
     * Turns on "unlock with passkey": wraps the user key under the key derived from this passkey's
     * PRF output (the page asked the authenticator for the credential `credentialId`).
     * WARNING: `prfOutput` as for signInWithPasskey: transferred, used here, wiped.
     */
    async enablePasskeyUnlock(factorId: string, credentialId: string, prfOutput: ArrayBuffer): Promise<void> {
      const { vault } = requireSignedIn();
      const prf = new Uint8Array(prfOutput);
      try {
        await enablePasskeyUnlockFlow(api, vault, { factorId, credentialId }, prf);
      } finally {
        prf.fill(0);
      }
    },

    /** Forgets the vault. The page also terminates this worker, which is what really drops the keys. */
    async lock(): Promise<void> {
      await dropHeld();
    },
  };
}

export type AccountOperations = ReturnType<typeof createAccountOperations>;
