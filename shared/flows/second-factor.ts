// What a sign-in asks of the person between the password and the key safe (issue 20).
import type { SecondFactorChallenge } from '../api';
import type { ApiErrorCode } from '../api/client';

/** The person's answer to the second sign-in step. `response` is a WebAuthn AuthenticationResponseJSON without PRF outputs. */
export type SecondFactorAnswer =
  | { readonly method: 'totp' | 'email' | 'backup'; readonly code: string; readonly trustDevice: boolean }
  | { readonly method: 'passkey'; readonly response: unknown; readonly trustDevice: boolean };

/**
 * Asks the person for their second factor. `problem` is the error code the previous answer got
 * (null the first time). Resolves null when they cancel. Called again after each wrong answer,
 * until the server locks the account (account_locked) or the step expires.
 */
export type SecondFactorPrompt = (challenge: SecondFactorChallenge, problem: ApiErrorCode | null) => Promise<SecondFactorAnswer | null>;

/** A sign-in needed a second factor and no prompt was given (or the person cancelled). */
export class SecondFactorNeededError extends Error {
  override readonly name = 'SecondFactorNeededError';
  constructor(readonly challenge: SecondFactorChallenge) {
    super('This account needs a second factor to sign in.');
  }
}
