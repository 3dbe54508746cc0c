// Stable error codes of the HTTP API and how a client reads an error answer (no zod here: the download
// service worker imports this file; the zod schema of the body is in error-body.ts).

/**
 * Every error the API can answer with. Codes are stable: clients branch on them and tests
 * assert them, so a code is never renamed or reused for another meaning.
 */
export const errorCodes = [
  'bad_request',
  'validation_failed',
  'malformed_json',
  'unsupported_media_type',
  'payload_too_large',
  'not_found',
  'method_not_allowed',
  'unauthenticated',
  'forbidden',
  'csrf_rejected',
  'conflict',
  'rate_limited',
  'service_unavailable',
  'internal_error',
  // accounts
  'setup_token_invalid',
  'already_set_up',
  'registration_expired',
  'invalid_credentials',
  'login_expired',
  'ip_not_allowed',
  'reauthentication_required',
  'password_expired',
  'invitation_invalid',
  'invitation_expired',
  'invitation_used',
  'email_domain_not_allowed',
  'recovery_token_invalid',
  'escrow_holder_not_staff',
  'allowlist_excludes_you',
  // second factors (shared/api/second-factors.ts)
  'second_factor_required',
  'second_factor_invalid',
  'second_factor_reused',
  'second_factor_expired',
  'second_factor_unavailable',
  'factor_setup_expired',
  'passkey_rejected',
  'passkey_counter_regressed',
  'passkey_unlock_unavailable',
  'account_locked',
  // uploads and blobs (shared/api/uploads.ts)
  'upload_not_found',
  'upload_expired',
  'upload_completed',
  'upload_aborted',
  'upload_busy',
  'upload_incomplete',
  'upload_digest_mismatch',
  'upload_quota_exceeded',
  'part_count_mismatch',
  'part_number_out_of_range',
  'part_length_mismatch',
  'part_digest_missing',
  'part_digest_mismatch',
  'file_too_large',
  'storage_full',
  'blob_not_found',
  'range_not_satisfiable',
  // spaces, documents, messages, requests (shared/api/documents.ts)
  'space_not_found',
  'space_exists',
  'space_quota_exceeded',
  'id_taken',
  'folder_not_found',
  'folder_deleted',
  'folder_not_empty',
  'document_not_found',
  'document_deleted',
  'version_not_found',
  'blob_in_use',
  'thread_not_found',
  'message_not_found',
  'message_not_editable',
  'message_revision_conflict',
  'attachment_invalid',
  'request_not_found',
  'request_item_not_found',
  'request_closed',
  'due_date_invalid',
  // signed histories and the key directory (shared/api/documents.ts, shared/api/directory.ts)
  'history_conflict',
  'entry_invalid',
  'space_adopted',
  'certificate_invalid',
  'signing_key_exists',
  'key_safe_conflict',
  // escrow resets, rotation and the account life-cycle (shared/api/escrow.ts)
  'reset_not_allowed',
  'escrow_copy_unusable',
  'account_inactive',
  'reset_approval_own',
  'reset_state',
  'reset_invalid',
  'reset_expired',
  'reset_used',
  'reset_code_invalid',
  'reset_failed',
  'rotation_in_progress',
  'rotation_holders_changed',
  'rotation_not_running',
  'rotation_incomplete',
  'cannot_change_self',
  'last_administrator',
  'last_escrow_holder',
  'account_state',
  'role_change_not_allowed',
  'account_purged',
  'account_deactivated',
  'escrow_key_changed',
  // the audit log (shared/api/audit.ts)
  'audit_filter_invalid',
  'audit_page_too_large',
  'audit_export_too_large',
  'audit_event_not_found',
  'audit_event_pruned',
  'audit_head_not_found',
  'audit_proof_unavailable',
  'audit_witness_invalid',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** The HTTP status that always accompanies each code. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  malformed_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  unauthenticated: 401,
  forbidden: 403,
  csrf_rejected: 403,
  conflict: 409,
  rate_limited: 429,
  service_unavailable: 503,
  internal_error: 500,
  setup_token_invalid: 403,
  already_set_up: 409,
  registration_expired: 410,
  invalid_credentials: 401,
  login_expired: 410,
  ip_not_allowed: 403,
  reauthentication_required: 401,
  password_expired: 403,
  invitation_invalid: 404,
  invitation_expired: 410,
  invitation_used: 410,
  email_domain_not_allowed: 422,
  recovery_token_invalid: 403,
  escrow_holder_not_staff: 422,
  allowlist_excludes_you: 422,
  second_factor_required: 403,
  second_factor_invalid: 401,
  second_factor_reused: 401,
  second_factor_expired: 410,
  second_factor_unavailable: 409,
  factor_setup_expired: 410,
  passkey_rejected: 401,
  passkey_counter_regressed: 401,
  passkey_unlock_unavailable: 409,
  account_locked: 423,
  upload_not_found: 404,
  upload_expired: 410,
  upload_completed: 409,
  upload_aborted: 409,
  upload_busy: 409,
  upload_incomplete: 409,
  upload_digest_mismatch: 422,
  upload_quota_exceeded: 429,
  part_count_mismatch: 409,
  part_number_out_of_range: 400,
  part_length_mismatch: 400,
  part_digest_missing: 400,
  part_digest_mismatch: 400,
  file_too_large: 413,
  storage_full: 507,
  blob_not_found: 404,
  range_not_satisfiable: 416,
  space_not_found: 404,
  space_exists: 409,
  space_quota_exceeded: 507,
  id_taken: 409,
  folder_not_found: 404,
  folder_deleted: 410,
  folder_not_empty: 409,
  document_not_found: 404,
  document_deleted: 410,
  version_not_found: 404,
  blob_in_use: 409,
  thread_not_found: 404,
  message_not_found: 404,
  message_not_editable: 403,
  message_revision_conflict: 409,
  attachment_invalid: 422,
  request_not_found: 404,
  request_item_not_found: 404,
  request_closed: 409,
  due_date_invalid: 400,
  history_conflict: 409,
  entry_invalid: 400,
  space_adopted: 409,
  certificate_invalid: 400,
  signing_key_exists: 409,
  key_safe_conflict: 409,
  reset_not_allowed: 403,
  escrow_copy_unusable: 409,
  account_inactive: 409,
  reset_approval_own: 403,
  reset_state: 409,
  reset_invalid: 404,
  reset_expired: 410,
  reset_used: 410,
  reset_code_invalid: 401,
  reset_failed: 410,
  rotation_in_progress: 409,
  rotation_holders_changed: 409,
  rotation_not_running: 409,
  rotation_incomplete: 409,
  cannot_change_self: 409,
  last_administrator: 409,
  last_escrow_holder: 409,
  account_state: 409,
  role_change_not_allowed: 422,
  account_purged: 410,
  account_deactivated: 403,
  escrow_key_changed: 409,
  audit_filter_invalid: 400,
  audit_page_too_large: 400,
  audit_export_too_large: 413,
  audit_event_not_found: 404,
  audit_event_pruned: 410,
  audit_head_not_found: 404,
  audit_proof_unavailable: 409,
  audit_witness_invalid: 400,
} as const satisfies Record<ErrorCode, number>;

export type ErrorStatus = (typeof errorStatus)[ErrorCode];


/** An error answer as a client reads it: the server's own error, or a generic one for an answer off the contract. */
export interface ErrorAnswer {
  /** The HTTP status as received. */
  readonly status: number;
  /** The server's code; `invalid_response` when the body is not a contract error (the client's verdict, never sent). */
  readonly code: ErrorCode | 'invalid_response';
  readonly message: string;
  readonly requestId: string | undefined;
  readonly issues: readonly { readonly path: string; readonly message: string }[] | undefined;
}

/** Statuses a gateway answers with when the server behind it is down or slow. */
const GATEWAY_DOWN = new Set([502, 503, 504]);

/**
 * The one reading of an error answer's body, for every client (callApi, the transfer engine, the
 * download service worker). A body is trusted only when it is JSON of the contract's shape with a
 * known code; anything else (a proxy's page, a truncated body, an unknown code) becomes
 * `service_unavailable` on a gateway status and `invalid_response` otherwise.
 * `headerRequestId` (X-Request-Id) is used when the body names none.
 */
export function readErrorAnswer(status: number, text: string, headerRequestId?: string): ErrorAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  const error = contractError(json);
  if (error) return { status, ...error, requestId: error.requestId ?? headerRequestId };
  const unavailable = GATEWAY_DOWN.has(status);
  return {
    status,
    code: unavailable ? 'service_unavailable' : 'invalid_response',
    message: unavailable ? 'The server is unavailable.' : `The server answered ${status} without a valid error body.`,
    requestId: headerRequestId,
    issues: undefined,
  };
}

const knownCodes: ReadonlySet<string> = new Set(errorCodes);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const isIssue = (value: unknown): value is { path: string; message: string } =>
  isRecord(value) && typeof value.path === 'string' && typeof value.message === 'string';

/**
 * The `error` of a body that apiErrorBodySchema (error-body.ts) accepts, else null: checked by hand so
 * that this file needs no zod (errors.test.ts holds the two to the same verdicts).
 */
function contractError(json: unknown): Omit<ErrorAnswer, 'status'> | null {
  const error = isRecord(json) ? json.error : undefined;
  if (!isRecord(error)) return null;
  const { code, message, requestId, issues } = error;
  if (typeof code !== 'string' || !knownCodes.has(code) || typeof message !== 'string') return null;
  if (requestId !== undefined && typeof requestId !== 'string') return null;
  if (issues !== undefined && !(Array.isArray(issues) && issues.every(isIssue))) return null;
  return {
    code: code as ErrorCode,
    message,
    requestId,
    issues: issues?.map((issue: { path: string; message: string }) => ({ path: issue.path, message: issue.message })),
  };
}
