// The one server error type and the one place that turns any failure into an API error response.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { errorStatus, type ApiErrorBody, type ErrorCode, type ErrorStatus } from '../shared/api';
import type { AppEnv } from './http/app-env';

export interface ValidationIssue {
  /** Where the problem is, e.g. `body.name` or `query.limit`. */
  readonly path: string;
  readonly message: string;
}

export interface AppErrorOptions {
  readonly issues?: readonly ValidationIssue[];
  /**
   * Response headers that belong to this failure (Allow on a 405, Content-Range on a 416,
   * Retry-After on a 429...): the one error handler sets them, as Hono's HTTPException carries a response.
   */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
  /** The service recorded this refusal in the audit log itself (server/http/refusal-audit.ts adds no second event). */
  readonly audited?: boolean;
}

/**
 * Thrown by services, routes and middleware for every expected failure; app.onError answers it.
 * `message` is sent to the client: write it for the client, never include secrets, SQL or stack traces.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: ErrorStatus;
  readonly code: ErrorCode;
  readonly issues: readonly ValidationIssue[] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly audited: boolean;

  /** `status` must be `errorStatus[code]` (shared/api/errors.ts); a mismatch is a bug and throws. */
  constructor(status: ErrorStatus, code: ErrorCode, message: string, options?: AppErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (errorStatus[code] !== status) throw new TypeError(`AppError: ${code} is answered with ${errorStatus[code]}, not ${status}`);
    this.status = status;
    this.code = code;
    this.issues = options?.issues;
    this.headers = options?.headers ?? {};
    this.audited = options?.audited ?? false;
  }
}

/** An AppError with the status that belongs to `code`. */
export function fail(code: ErrorCode, message: string, options?: AppErrorOptions): AppError {
  return new AppError(errorStatus[code], code, message, options);
}

const statusCodes = new Map<number, ErrorCode>([
  [400, 'bad_request'],
  [401, 'unauthenticated'],
  [403, 'forbidden'],
  [404, 'not_found'],
  [405, 'method_not_allowed'],
  [413, 'payload_too_large'],
  [415, 'unsupported_media_type'],
  [429, 'rate_limited'],
  [503, 'service_unavailable'],
]);

const INTERNAL_ERROR_MESSAGE = 'Something went wrong on the server. Quote the request id when reporting it.';
const STORAGE_FULL_MESSAGE = 'The server has no room to save this. Try again later or contact the administrator.';

/** SQLite's "database or disk is full" (the disk under the database, or its max_page_count). */
function isDatabaseFull(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'SQLITE_FULL';
}

/** Builds the JSON error response every failure ends in: `{ error: { code, message, requestId } }` and the error's headers. */
function errorResponse(c: Context<AppEnv>, error: AppError): Response {
  const body: ApiErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      requestId: c.get('requestId'),
      ...(error.issues ? { issues: [...error.issues] } : {}),
    },
  };
  return c.json(body, error.status, { ...error.headers });
}

/** Maps a thrown error to an AppError. Anything not made for the client becomes internal_error. */
function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  // Thrown by Hono's own middleware (e.g. body-limit). Keep the status, never its message.
  if (error instanceof HTTPException) {
    const code = statusCodes.get(error.status);
    if (code) return new AppError(errorStatus[code], code, `The request could not be handled (${code}).`);
  }
  // Nothing was written (SQLite rolled the transaction back): the request can be repeated once there is room.
  if (isDatabaseFull(error)) return new AppError(errorStatus.storage_full, 'storage_full', STORAGE_FULL_MESSAGE);
  return new AppError(500, 'internal_error', INTERNAL_ERROR_MESSAGE);
}

/** app.onError: the single mapper from failures to responses. */
export function handleError(error: unknown, c: Context<AppEnv>): Response {
  const appError = toAppError(error);
  const logger = c.get('logger');
  if (appError.status >= 500) {
    // The original error (with stack) goes to the log only; the client sees the generic message.
    logger.error({ err: error, code: appError.code }, 'request failed');
  } else {
    logger.debug({ code: appError.code }, 'request rejected');
  }
  return errorResponse(c, appError);
}

/** app.notFound: no route matched. */
export function handleNotFound(c: Context<AppEnv>): Response {
  return errorResponse(c, new AppError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}.`));
}
