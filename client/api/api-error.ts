// The one error type of every API call in the browser: server errors, network failures and bad responses.
import type { ErrorCode } from '../../shared/api';

/**
 * Codes that only the client produces, for failures that never got a well-formed answer from the
 * server: no connection at all, an answer that breaks the contract, or a call the caller aborted.
 */
export const clientErrorCodes = ['network_error', 'invalid_response', 'aborted'] as const;
export type ClientErrorCode = (typeof clientErrorCodes)[number];

export type ApiErrorCode = ErrorCode | ClientErrorCode;

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
