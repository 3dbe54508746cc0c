// What crosses the worker boundary when an account operation ends: a value, or a failure with a stable code.
import { ZodError } from 'zod';
import { KluisCryptoError, SourceChangedError } from '../../shared/crypto';
import {
  EscrowCopyUnverifiedError,
  KeyNotVerifiedError,
  LoginRejectedError,
  PasswordRejectedError,
  RecoverySecretFormatError,
  RecoverySecretRejectedError,
} from '../../shared/flows/account-flows';
import { EscrowChainError, RotationRefusedError } from '../../shared/flows/escrow-rotation';
import { KeySafeRollbackError } from '../../shared/flows/key-safe';
import { SecondFactorNeededError } from '../../shared/flows/second-factor';
import { NoEscrowAccessError, NoSigningKeyError, SpaceKeyRejectedError } from '../../shared/flows/spaces';
import { PinMismatchError } from '../../shared/flows/vault';
import { EscrowNotHeldError, ResetCodeFormatError, ResetWrapRejectedError } from '../../shared/flows/escrow-reset';
import { ApiError, type ApiErrorInit } from '../../shared/api/client';
import type { SecurityWarning } from './space-types';

/**
 * comlink clones a thrown Error as just its name and message, so the code of an ApiError would be
 * lost on the way to the page. Worker operations therefore never throw: they return an outcome,
 * and the page turns a failure back into the one client error type, ApiError (client/account).
 */
export type WorkerOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: WorkerFailure };

/** A failure as plain data: an ApiError's fields without its cause. WARNING: never a secret in here: messages are fixed strings. */
export type WorkerFailure = Omit<ApiErrorInit, 'cause'>;

const INTEGRITY_FAILED = 'This item was altered or is damaged.';

/** Maps whatever an account flow threw to a stable code the UI can translate. */
export function toFailure(error: unknown): WorkerFailure {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      requestId: error.requestId,
      issues: error.issues,
    };
  }
  if (error instanceof LoginRejectedError) {
    return { status: 0, code: 'login_rejected', message: error.message };
  }
  if (error instanceof SecondFactorNeededError) {
    return { status: 0, code: 'second_factor_needed', message: error.message };
  }
  if (error instanceof PinMismatchError || error instanceof KeyChangedError) {
    return { status: 0, code: 'pin_mismatch', message: error.message };
  }
  if (error instanceof RotationRefusedError) {
    return { status: 0, code: 'rotation_refused', message: error.message };
  }
  if (error instanceof EscrowChainError) {
    // WARNING: a security warning: the pin did not move and nothing was sealed to the offered key.
    return { status: 0, code: 'escrow_chain_invalid', message: error.message };
  }
  if (error instanceof KeySafeRollbackError) {
    return { status: 0, code: 'key_safe_rollback', message: error.message };
  }
  if (error instanceof KeyNotVerifiedError) {
    return { status: 0, code: 'key_not_verified', message: error.message };
  }
  if (error instanceof EscrowCopyUnverifiedError) {
    return { status: 0, code: 'integrity_failed', message: INTEGRITY_FAILED };
  }
  if (error instanceof PasswordRejectedError) {
    return { status: 0, code: 'password_rejected', message: error.message };
  }
  if (error instanceof ResetWrapRejectedError) {
    return { status: 0, code: 'reset_wrap_rejected', message: error.message };
  }
  if (error instanceof ResetCodeFormatError) {
    return { status: 0, code: 'reset_code_format', message: error.message };
  }
  if (error instanceof EscrowNotHeldError) {
    return { status: 0, code: 'no_escrow_access', message: error.message };
  }
  if (error instanceof RecoverySecretFormatError) {
    return { status: 0, code: 'recovery_secret_invalid', message: error.message };
  }
  if (error instanceof TransferCancelledError) {
    return { status: 0, code: 'cancelled', message: error.message };
  }
  if (error instanceof SourceChangedError || (error instanceof DOMException && error.name === 'NotReadableError')) {
    return { status: 0, code: 'file_changed', message: 'The file changed or could not be read while it was uploaded.' };
  }
  if (error instanceof FileDamagedError) {
    return { status: 0, code: 'file_damaged', message: error.message };
  }
  if (error instanceof RecoverySecretRejectedError) {
    return { status: 0, code: 'decryption_failed', message: error.message };
  }
  if (error instanceof KluisCryptoError) {
    // WARNING: every authentication failure lands here (DecryptionError, IntegrityError, a refused
    // version or parameter): data the server served was altered or is damaged, never a browser
    // problem. A wrong password or recovery secret was turned into its own error by its flow.
    return { status: 0, code: 'integrity_failed', message: INTEGRITY_FAILED };
  }
  if (error instanceof SpaceUntrustedError || error instanceof SpaceKeyRejectedError) {
    // WARNING: a security warning, never "try again" or "use an up-to-date browser".
    return { status: 0, code: 'space_untrusted', message: error.message };
  }
  if (error instanceof UnsignedItemError) {
    return { status: 0, code: 'item_unsigned', message: error.message };
  }
  if (error instanceof NoSigningKeyError) {
    return { status: 0, code: 'not_signed_in', message: error.message };
  }
  if (error instanceof NoEscrowAccessError) {
    return { status: 0, code: 'no_escrow_access', message: error.message };
  }
  if (error instanceof NotSignedInError) {
    return { status: 0, code: 'not_signed_in', message: error.message };
  }
  if (error instanceof ZodError) {
    // Only local parsing can end here (callApi reports contract breaks as ApiError): a damaged link.
    return { status: 0, code: 'invalid_link', message: 'The link is incomplete or damaged.' };
  }
  return {
    status: 0,
    code: 'crypto_failed',
    message: 'The encryption engine could not complete this operation.',
  };
}

export class NotSignedInError extends Error {
  override readonly name = 'NotSignedInError';
  constructor() {
    super('Sign in first: the encryption engine holds no keys.');
  }
}

/** The user cancelled a transfer (client/worker/transfers.ts). */
export class TransferCancelledError extends Error {
  override readonly name = 'TransferCancelledError';
  constructor() {
    super('The transfer was cancelled.');
  }
}

/**
 * A file's content failed authentication (altered, reordered, truncated, extended) or its header
 * does not match its key: the STREAM format of SECURITY.md 4.4 caught it. No plaintext is handed out.
 */
export class FileDamagedError extends Error {
  override readonly name = 'FileDamagedError';
  constructor(options?: { cause?: unknown }) {
    super('This file was altered or is damaged.', options);
  }
}

/** The server now hands out another public key for a person than the one the user compared. */
export class KeyChangedError extends Error {
  override readonly name = 'KeyChangedError';
  constructor() {
    super('The key of this person changed after it was shown.');
  }
}

/** Writes are refused while the space has an open security warning (client/worker/space-verification.ts). */
export class SpaceUntrustedError extends Error {
  override readonly name = 'SpaceUntrustedError';
  constructor(readonly warnings: readonly SecurityWarning[] = []) {
    super('This space has a security warning: changes are refused until it is resolved.');
  }
}

/**
 * A change to an item that is not in the space's signed history (made before signed histories):
 * an entry naming it would make the history impossible for every browser, so it is refused.
 */
export class UnsignedItemError extends Error {
  override readonly name = 'UnsignedItemError';
  constructor() {
    super('This item was made before signed histories and cannot be changed: upload it again as a new document.');
  }
}

/** Runs an operation and returns its outcome instead of throwing. */
export async function outcomeOf<T>(operation: () => Promise<T>): Promise<WorkerOutcome<T>> {
  try {
    return { ok: true, value: await operation() };
  } catch (error) {
    return { ok: false, failure: toFailure(error) };
  }
}
