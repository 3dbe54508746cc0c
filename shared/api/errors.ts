// Stable error codes of the HTTP API and the wire shape of every error response.
import { z } from 'zod';

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
  'file_too_large',
  'storage_full',
  'blob_not_found',
  'range_not_satisfiable',
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
  file_too_large: 413,
  storage_full: 507,
  blob_not_found: 404,
  range_not_satisfiable: 416,
} as const satisfies Record<ErrorCode, number>;

export type ErrorStatus = (typeof errorStatus)[ErrorCode];

export const apiErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes),
      message: z.string(),
      requestId: z.string().optional(),
      /** Field-level problems for `validation_failed`: JSON path and message, never the value. */
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'ApiError' });

export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;
