// The wire shape of every error response, as a zod schema (validation in tests, the OpenAPI document).
import { z } from 'zod';
import { errorCodes } from './errors';

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
