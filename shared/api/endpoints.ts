// Every endpoint of the HTTP API, grouped by feature. The server registers exactly these.
import { z } from 'zod';
import { accountEndpoints, recoveryEndpoints } from './accounts';
import { auditEndpoints } from './audit';
import { defineEndpoint } from './contract';
import { spaceEndpoints } from './documents';
import { directoryEndpoints } from './directory';
import { escrowEndpoints } from './escrow';
import { secondFactorEndpoints } from './second-factors';
import { uploadEndpoints } from './uploads';

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
  errors: ['service_unavailable'],
});

export const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document' });

export const openApiDocument = defineEndpoint({
  method: 'get',
  path: '/api/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'OpenAPI 3.1 description of every API route, generated from this contract',
  tags: ['system'],
  access: 'public',
  response: openApiDocumentSchema,
  errors: [],
});

/** The registry: the server iterates it to build routes and the OpenAPI document. */
export const endpoints = { health, openApiDocument, ...accountEndpoints, ...recoveryEndpoints, ...secondFactorEndpoints, ...uploadEndpoints, ...spaceEndpoints, ...directoryEndpoints, ...escrowEndpoints, ...auditEndpoints } as const;
