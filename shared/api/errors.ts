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
] as const;

export type ErrorCode = (typeof errorCodes)[number];

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
