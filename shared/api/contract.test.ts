// Rules every endpoint in the registry must follow, and the types the contract derives from a declaration.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { ALL_ROLES, defineEndpoint, errorCodesOf, type Endpoint, type EndpointInput, type EndpointValidated } from './contract';
import { endpoints } from './endpoints';

/** Declares every part, so the rules below also run over a body, a query and params. */
const withEverything = defineEndpoint({
  method: 'post',
  path: '/api/things/:id',
  operationId: 'createThing',
  summary: 'x',
  tags: [],
  access: { roles: ALL_ROLES },
  params: z.strictObject({ id: z.string() }),
  query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
  body: z.strictObject({ count: z.string().transform(Number) }),
  response: z.object({ ok: z.boolean() }),
  errors: [],
});

const registry: readonly Endpoint[] = Object.values(endpoints);
const checked: readonly Endpoint[] = [...registry, withEverything];

/** Every object node of a JSON Schema, with its location. */
function objectNodes(node: unknown, path: string): { path: string; node: Record<string, unknown> }[] {
  if (Array.isArray(node)) return node.flatMap((child, i) => objectNodes(child, `${path}[${i}]`));
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Record<string, unknown>;
  const here = record.type === 'object' ? [{ path, node: record }] : [];
  return [...here, ...Object.entries(record).flatMap(([key, child]) => objectNodes(child, `${path}.${key}`))];
}

describe('the endpoint registry', () => {
  it('has unique operation ids and unique method + path pairs under /api/', () => {
    expect(new Set(registry.map((e) => e.operationId)).size).toBe(registry.length);
    expect(new Set(registry.map((e) => `${e.method} ${e.path}`)).size).toBe(registry.length);
    for (const endpoint of registry) expect(endpoint.path).toMatch(/^\/api\//);
  });

  it('uses strict objects for every body, query and params schema (unknown fields are refused)', () => {
    for (const endpoint of checked) {
      for (const part of ['body', 'query', 'params'] as const) {
        const schema = endpoint[part];
        if (!schema) continue;
        const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
        for (const { path, node } of objectNodes(json, `${endpoint.operationId}.${part}`)) {
          const isMap = typeof node.additionalProperties === 'object' && node.properties === undefined;
          if (!isMap) expect(node.additionalProperties, path).toBe(false);
        }
      }
    }
  });

  it('declares exactly the path parameters its path has', () => {
    for (const endpoint of checked) {
      const inPath = [...endpoint.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]).sort();
      const json = endpoint.params ? z.toJSONSchema(endpoint.params, { io: 'input' }) : { properties: {} };
      const declared = Object.keys((json as { properties?: object }).properties ?? {}).sort();
      expect(declared, endpoint.operationId).toEqual(inPath);
    }
  });
});

describe('errorCodesOf', () => {
  const base = { method: 'get', path: '/api/x', operationId: 'x', summary: 'x', tags: [], response: z.object({}) } as const;

  it('adds what the shape implies to what the endpoint declares', () => {
    // A public GET writes nothing: no storage_full; an endpoint behind a session does (it refreshes it).
    expect(errorCodesOf(defineEndpoint({ ...base, access: 'public', errors: ['conflict'] }))).toEqual([
      'validation_failed',
      'conflict',
      'internal_error',
    ]);
    expect(errorCodesOf(defineEndpoint({ ...base, access: { roles: ALL_ROLES }, body: z.strictObject({}), errors: ['conflict', 'validation_failed'] }))).toEqual([
      'validation_failed',
      'malformed_json',
      'unsupported_media_type',
      'payload_too_large',
      'unauthenticated',
      'csrf_rejected',
      'ip_not_allowed',
      'password_expired',
      'second_factor_required',
      'conflict',
      'storage_full',
      'internal_error',
    ]);
    // A role list narrower than everyone adds forbidden; allowExpiredPassword drops password_expired,
    // allowMissingSecondFactor drops second_factor_required.
    expect(errorCodesOf(defineEndpoint({ ...base, access: { roles: ['admin'] }, allowExpiredPassword: true, allowMissingSecondFactor: true, errors: [] }))).toEqual([
      'validation_failed',
      'unauthenticated',
      'csrf_rejected',
      'ip_not_allowed',
      'forbidden',
      'storage_full',
      'internal_error',
    ]);
  });
});

describe('derived types', () => {
  it('gives handlers the parsed parts an endpoint declares, and undefined for the others', () => {
    expectTypeOf<EndpointValidated<typeof withEverything>['body']>().toEqualTypeOf<{ count: number }>();
    expectTypeOf<EndpointValidated<typeof withEverything>['params']>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<EndpointValidated<typeof endpoints.health>['body']>().toEqualTypeOf<undefined>();
    expectTypeOf<EndpointValidated<typeof endpoints.health>['query']>().toEqualTypeOf<undefined>();
  });

  it('asks callers for exactly the declared parts, in their input form', () => {
    expectTypeOf<EndpointInput<typeof withEverything>>().toHaveProperty('body').toEqualTypeOf<{ count: string }>();
    expectTypeOf<EndpointInput<typeof withEverything>>().toHaveProperty('query');
    expectTypeOf<EndpointInput<typeof endpoints.health>>().not.toHaveProperty('body');
    expectTypeOf<EndpointInput<typeof endpoints.health>>().not.toHaveProperty('params');
  });
});
