// Password reset through escrow and escrow transparency (issue 21, SECURITY.md 5.8), as the crypto worker offers them to
// the page: the resetter's side (open the person's user key through escrow, wrap it under the one-time reset key), the
// person's side (link + code → the wrap, a new password), and "who can open my key safe, and who did".
import type { PasswordRules } from '../../shared/accounts/password-rules';
import { type Endpoint, type EndpointInput, type Language, type ResetView, getMyEscrow, listUsers } from '../../shared/api';
import { type ApiCallOptions, ApiError, type CallApi } from '../../shared/api/client';
import type { SecondFactorPrompt } from '../../shared/flows/second-factor';
import { verifyHolderStatements } from '../../shared/flows/escrow-ledger';
import {
  type EscrowResetInput,
  completeEscrowReset,
  openEscrowReset,
  startEscrowReset,
  verifyEscrowUse,
} from '../../shared/flows/escrow-reset';
import type { AccountSlot, SignedIn } from './account-operations';
import { NotSignedInError } from './outcome';
import type { DirectoryTrust } from './trust';

/**
 * WARNING: this module runs only inside the crypto worker. The user key opened through escrow, the
 * reset key and the proof stay here; the page receives the recovery code (the resetter reads it out
 * to the person: that is its purpose), the reset's public view, and verification results.
 */

export interface StartResetOptions {
  readonly liftLockout: boolean;
  readonly removeSecondFactors: boolean;
}

/** What the resetter's page shows: the code to pass on (never by e-mail) and the reset as the server stored it. */
export interface StartedReset {
  readonly code: string;
  readonly reset: ResetView;
}

/** Steps of the person's reset, reported as they start (for a progress view). */
export type ResetStep = 'link' | 'password' | 'store' | 'signin';

/** The link's #fragment values and the code as typed. */
export type ResetLink = EscrowResetInput;

/** What the person's page needs to choose a new password, after link and code proved right and the wrap opened. */
export interface CheckedReset {
  readonly email: string;
  readonly expiresAt: string;
  readonly removeSecondFactors: boolean;
  readonly passwordRules: PasswordRules;
  readonly organisationName: string;
  readonly language: Language;
}

export type EscrowUseState =
  /** Signed by the certified key of the staff member it names, over this account and this reset. */
  | 'verified'
  /** A statement that does not verify, a signer nobody certified, or a reset without a statement: a warning. */
  | 'unverified'
  /** Recorded by the server without a signed statement (a first access, a rotation re-seal). */
  | 'recorded';

export interface EscrowUseView {
  readonly id: string;
  readonly kind: 'reset' | 'first-access' | 'rotation';
  readonly actorEmail: string;
  readonly occurredAt: string;
  readonly state: EscrowUseState;
}

export interface EscrowHolderInfo {
  readonly holderId: string;
  /** From the verified directory; null when the directory does not certify this person for this viewer. */
  readonly email: string | null;
  readonly holderKeyFingerprint: string;
  readonly grantedAt: string;
  readonly verified: boolean;
}

export interface MyEscrow {
  /** The escrow key this account's key safe pins (hex SHA-256 of its public key). */
  readonly escrowFingerprint: string;
  readonly holders: readonly EscrowHolderInfo[];
  readonly uses: readonly EscrowUseView[];
  readonly fourEyes: boolean;
}

export function createResetOperations(deps: {
  readonly api: CallApi;
  readonly account: AccountSlot;
  readonly trust: DirectoryTrust;
  /** Signs in with the new password once the reset is complete (the account operations' login). */
  readonly login: (email: string, password: string, secondFactor?: SecondFactorPrompt) => Promise<SignedIn>;
}) {
  const { api, account, trust } = deps;

  /** Reports the step that starts as each endpoint of the reset is called. */
  function reporting(onProgress: ((step: ResetStep) => void) | undefined): CallApi {
    if (!onProgress) return api;
    const steps: Record<string, ResetStep> = { openReset: 'link', startResetPassword: 'password', finishResetPassword: 'store' };
    return <E extends Endpoint>(endpoint: E, input: EndpointInput<E>, options?: ApiCallOptions) => {
      const step = steps[endpoint.operationId];
      if (step) onProgress(step);
      return api(endpoint, input, options);
    };
  }

  function requireSignedIn() {
    if (!account.current) throw new NotSignedInError();
    return account.current;
  }

  return {
    /**
     * The resetter's side (the page asked for the password again first): the flow checks the person's
     * escrow copy against their certified, signed statement before opening it, wraps the user key under
     * a fresh reset key and starts the reset. The code goes to the person by phone or in person.
     */
    async startReset(userId: string, options: StartResetOptions): Promise<StartedReset> {
      const { vault } = requireSignedIn();
      // The escrow copy as served now; the flow trusts it only when its certified owner signed for it.
      const { users } = await api(listUsers, {});
      const target = users.find((user) => user.id === userId);
      // Not (or no longer) among the people this staff member manages.
      if (!target) throw new ApiError({ status: 404, code: 'not_found', message: 'No such person.' });
      // After an escrow rotation the copy is sealed to the new key but signed naming the old one.
      const { previousFingerprints } = await trust.escrowHistory();
      const { reset, code } = await startEscrowReset(api, vault, { id: target.id, escrowUserKey: target.escrowUserKey }, { ...options, previousFingerprints });
      return { reset, code };
    },

    /**
     * The person's first step: is this link and code right, and does the key it offers open (with the
     * key safe)? A swapped wrap is refused here, before anything is registered.
     * WARNING: the opened user key stays in this call; only the public facts go back.
     */
    async checkReset(link: ResetLink): Promise<CheckedReset> {
      const opened = await openEscrowReset(api, link);
      return {
        email: opened.email,
        expiresAt: opened.expiresAt,
        removeSecondFactors: opened.removeSecondFactors,
        passwordRules: opened.passwordRules,
        organisationName: opened.organisationName,
        language: opened.language,
      };
    },

    /**
     * The person's second step: the flow opens and checks the wrap again, registers the new password
     * (the OPAQUE server key must match the key safe's pin) and re-wraps the same user key; then this
     * browser signs in normally with the new password.
     */
    async completeReset(
      link: ResetLink,
      newPassword: string,
      onProgress?: (step: ResetStep) => void,
      secondFactor?: SecondFactorPrompt,
    ): Promise<SignedIn> {
      account.current = null;
      const { email } = await completeEscrowReset(reporting(onProgress), { ...link, newPassword });
      onProgress?.('signin');
      return deps.login(email, newPassword, secondFactor);
    },

    /** Escrow transparency: the holders of the escrow key and every use of escrow on this account, each verified here. */
    async myEscrow(): Promise<MyEscrow> {
      const { vault } = requireSignedIn();
      const { holders, uses, fourEyes } = await api(getMyEscrow, {});
      // The directory lists staff to everyone; an account that cannot load it sees every signature as
      // unverified rather than taking the server's word.
      const directory = await trust.directory().catch(() => null);
      const signingKeys = (directory?.entries ?? []).flatMap((entry) =>
        entry.signingPublicKey ? [{ userId: entry.id, publicKey: entry.signingPublicKey }] : [],
      );
      // Anchored on the root signing key pinned in the key safe: served keys count only when a pinned chain endorses them.
      const verified = await verifyHolderStatements(holders, signingKeys, vault.keySafe);
      const useViews = await Promise.all(
        uses.map(async (use): Promise<EscrowUseView> => {
          let state: EscrowUseState = use.kind === 'reset' ? 'unverified' : 'recorded';
          if (use.statement) {
            // WARNING: only the certified signing key of a staff member counts, never a key the server lists.
            const actor = directory?.identities.get(use.actorId);
            const staff = actor?.role === 'admin' || actor?.role === 'team';
            const payload =
              actor && staff && use.subjectId
                ? await verifyEscrowUse(use.statement, actor.signingKey, { user: vault.userId, reset: use.subjectId })
                : null;
            state = payload?.by === use.actorId ? 'verified' : 'unverified';
          }
          return { id: use.id, kind: use.kind, actorEmail: use.actorEmail, occurredAt: use.occurredAt, state };
        }),
      );
      return {
        escrowFingerprint: vault.keySafe.escrowFingerprint,
        holders: verified.map(({ statement, verified: ok }) => ({
          holderId: statement.holderId,
          email: directory?.identities.get(statement.holderId)?.email ?? null,
          holderKeyFingerprint: statement.holderKeyFingerprint,
          grantedAt: statement.grantedAt,
          verified: ok,
        })),
        uses: useViews,
        fourEyes,
      };
    },
  };
}

export type ResetOperations = ReturnType<typeof createResetOperations>;
