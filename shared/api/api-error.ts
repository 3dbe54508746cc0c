// The one error type of every API call (browser and Node callers): server errors, network failures and bad responses.
import { errorCodes, type ErrorCode } from './errors';

/**
 * Codes that only the client produces. The first three are failures that never got a well-formed
 * answer from the server: no connection at all, an answer that breaks the contract, or a call the
 * caller aborted. The others are failures the browser itself detected while running an account
 * protocol in the crypto worker (client/worker): they carry status 0.
 */
export const clientErrorCodes = [
  'network_error',
  'invalid_response',
  'aborted',
  /** OPAQUE said no in the browser: wrong password, unknown or locked account (one answer for all). */
  'login_rejected',
  /** The server presented a key that differs from a value pinned in the key safe: stop and warn. */
  'pin_mismatch',
  /** The new password breaks the floors or the organisation's rules (checked before any request). */
  'password_rejected',
  /** What was typed cannot be a recovery secret (32 characters in groups of four). */
  'recovery_secret_invalid',
  /** A secret the user typed does not open what it should: a wrong recovery secret. */
  'decryption_failed',
  /**
   * A key, record, sealed or wrapped key failed authentication (or broke the format's rules):
   * what the server served was altered or is damaged. Never the browser's fault.
   */
  'integrity_failed',
  /** A link's #fragment is incomplete or damaged (invitation pins, tokens). */
  'invalid_link',
  /** The crypto worker holds no unlocked vault (signed out, locked, or the page was reloaded). */
  'not_signed_in',
  /** The vault was locked while the operation was running; its keys are gone. */
  'vault_locked',
  /** The encryption engine itself failed (WebCrypto or WebAssembly missing, an unsupported browser...). */
  'crypto_failed',
  /** The user cancelled a transfer (upload, download, preview); nothing was stored or saved. */
  'cancelled',
  /** A file's content failed authentication or ended early: altered, truncated or damaged. */
  'file_damaged',
  /** This browser can neither stream a download (no service worker) nor hold the file in memory. */
  'download_unsupported',
  /** The file being uploaded changed, moved or became unreadable on this computer meanwhile. */
  'file_changed',
  /** A Team Member or Administrator without the organisation escrow key opened a client space. */
  'no_escrow_access',
  /** The space has an open security warning (its history or key cannot be trusted): changes are refused. */
  'space_untrusted',
  /** The item was made before signed histories (not in the space's signed history): it cannot be changed. */
  'item_unsigned',
  /** The server served an older key safe than this device already saw (a replay): a security warning. */
  'key_safe_rollback',
  /** A person's keys are not vouched for by a certificate chain to the pinned root: nothing is sealed to them. */
  'key_not_verified',
  /** The sign-in needs the second factor and none was given (the person cancelled the second step). */
  'second_factor_needed',
  /**
   * A reset link's wrapped user key does not open with the key from link and code (another reset's
   * or person's, or made under a key the server chose): nothing was registered (issue 21).
   */
  'reset_wrap_rejected',
  /** What was typed cannot be a recovery code (12 characters in groups of four). */
  'reset_code_format',
  /**
   * The server offered a new organisation escrow key that no chain of rotations signed by certified
   * Administrators leads to from the pinned one (issue 21): the pin stays, nothing is sealed to it.
   */
  'escrow_chain_invalid',
  /** This browser will not start or go on with an escrow rotation (shared/flows/escrow-rotation.ts RotationRefusedError). */
  'rotation_refused',
  /**
   * The audit log failed verification in this browser (issue 22): a changed, missing or reordered
   * event, a head whose signature is not the log key's, or a head inconsistent with the one this
   * browser verified before. The message names where.
   */
  'audit_verification_failed',
] as const;
export type ClientErrorCode = (typeof clientErrorCodes)[number];

export type ApiErrorCode = ErrorCode | ClientErrorCode;

const apiErrorCodes: ReadonlySet<string> = new Set<ApiErrorCode>([...errorCodes, ...clientErrorCodes]);

/** Whether `code` is one of the API's or the client's own codes (each has a message under `errors.*`). */
export function isApiErrorCode(code: string): code is ApiErrorCode {
  return apiErrorCodes.has(code);
}

export interface ApiErrorIssue {
  readonly path: string;
  readonly message: string;
}

export interface ApiErrorInit {
  /** HTTP status of the answer; 0 when no answer arrived. */
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly requestId?: string | undefined;
  readonly issues?: readonly ApiErrorIssue[] | undefined;
  readonly cause?: unknown;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: ApiErrorCode;
  /** The server's request id, to quote in a support request; absent when no answer arrived. */
  readonly requestId: string | undefined;
  /** Field-level problems of a `validation_failed` answer. */
  readonly issues: readonly ApiErrorIssue[];

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.issues = init.issues ?? [];
  }

  /** True when trying again later may help: no connection, or the server said it is busy or down. */
  get isTransient(): boolean {
    return (
      this.code === 'network_error' ||
      this.code === 'rate_limited' ||
      this.code === 'service_unavailable' ||
      this.status >= 502
    );
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
