// The OpenAPI document: valid OpenAPI 3.1, in step with the routes Hono registered, with every error code.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ALL_ROLES, defineEndpoint, endpoints, errorCodesOf, type Endpoint } from '../../shared/api';
import { makeTestApp, type TestApp } from '../test/make-test-app';
import { buildOpenApiDocument, toOpenApiPath, type OpenApiDocument } from './build-openapi-document';

let testApp: TestApp;

beforeEach(async () => {
  testApp = await makeTestApp();
});

afterEach(async () => {
  await testApp.close();
});

async function servedDocument(): Promise<OpenApiDocument> {
  const res = await testApp.app.request('/api/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDocument;
}

async function expectValidOpenApi31(document: object): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document) as Record<string, unknown>);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
}

function operationsOf(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
}

function errorCodesIn(operation: Record<string, unknown>): string[] {
  const responses = operation.responses as Record<string, { content?: { 'application/json': { schema: { allOf?: unknown[] } } } }>;
  return Object.entries(responses)
    .filter(([status]) => Number(status) >= 400)
    .flatMap(([, response]) => {
      const narrowing = response.content?.['application/json'].schema.allOf?.[1] as {
        properties: { error: { properties: { code: { enum: string[] } } } };
      };
      return narrowing.properties.error.properties.code.enum;
    });
}

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await servedDocument();
    expect(document.openapi).toMatch(/^3\.1\./);
    await expectValidOpenApi31(document);
  });

  it('describes exactly the routes Hono has registered under /api', async () => {
    const document = await servedDocument();
    const registered = testApp.app.routes
      .filter((route) => route.method !== 'ALL' && route.path.startsWith('/api/'))
      .map((route) => `${route.method.toLowerCase()} ${toOpenApiPath(route.path)}`);
    expect(new Set(registered).size).toBe(registered.length);
    expect(operationsOf(document).sort()).toEqual(registered.sort());
  });

  it('describes every endpoint of the contract', async () => {
    const document = await servedDocument();
    const declared = Object.values(endpoints).map((endpoint) => `${endpoint.method} ${toOpenApiPath(endpoint.path)}`);
    expect(operationsOf(document).sort()).toEqual(declared.sort());
  });

  it('lists every error code each endpoint can answer, with the shared error schema', async () => {
    const document = await servedDocument();
    for (const endpoint of Object.values(endpoints) as Endpoint[]) {
      const operation = document.paths[toOpenApiPath(endpoint.path)]?.[endpoint.method];
      expect(operation, endpoint.operationId).toBeDefined();
      expect(errorCodesIn(operation ?? {}).sort()).toEqual([...errorCodesOf(endpoint)].sort());
    }
    expect(document.components.schemas.ApiError).toBeDefined();
    expect(document.components.schemas.Health).toBeDefined();
  });

  it('references only components that exist', async () => {
    const document = await servedDocument();
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(document.components.schemas[String(ref).slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
  });
});

describe('buildOpenApiDocument', () => {
  const thing = z.strictObject({ name: z.string().min(1), tags: z.array(z.string()) }).meta({ id: 'TestThing' });
  const createThing = defineEndpoint({
    method: 'post',
    path: '/api/spaces/:spaceId/things',
    operationId: 'createThing',
    summary: 'Create a thing',
    tags: ['test'],
    access: { roles: ALL_ROLES },
    params: z.strictObject({ spaceId: z.string() }),
    query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
    body: thing,
    status: 201,
    response: z.object({ id: z.string(), thing }),
    errors: ['conflict', 'forbidden'],
  });
  const deleteThing = defineEndpoint({
    method: 'delete',
    path: '/api/spaces/:spaceId/things',
    operationId: 'deleteThings',
    summary: 'Delete things',
    tags: ['test'],
    access: { roles: ALL_ROLES },
    params: z.strictObject({ spaceId: z.string() }),
    status: 204,
    response: z.null(),
    errors: [],
  });

  it('describes parameters, bodies, statuses and shared components validly', async () => {
    const document = buildOpenApiDocument([createThing, deleteThing], { title: 'test', version: '0.0.0' });
    await expectValidOpenApi31(document);
    const operation = document.paths['/api/spaces/{spaceId}/things']?.post;
    expect(operation?.parameters).toEqual([
      { name: 'spaceId', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
    ]);
    expect(operation?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TestThing' } } },
    });
    // Every write may meet a full disk (507 storage_full), whatever else it answers.
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415', '500', '507']);
    expect(document.components.schemas.TestThing).toMatchObject({ additionalProperties: false });
    expect(document.paths['/api/spaces/{spaceId}/things']?.delete?.responses).toHaveProperty('204', { description: 'Delete things' });
  });
});
