// Every endpoint of the HTTP API, grouped by feature. The server registers exactly these.
import { z } from 'zod';
import { defineEndpoint } from './contract';

export const healthResponseSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    time: z.iso.datetime(),
  })
  .meta({ id: 'Health' });

export const health = defineEndpoint({
  method: 'get',
  path: '/api/health',
  operationId: 'getHealth',
  summary: 'Liveness and version of this server',
  tags: ['system'],
  access: 'public',
  response: healthResponseSchema,
  errors: [],
});

/** The registry: the server iterates it to build routes and the OpenAPI document. */
export const endpoints = { health } as const;
