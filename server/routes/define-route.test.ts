// defineRoute through the real pipeline: every input and body error code, deny-by-default, response encoding, 500s.
import { HTTPException } from 'hono/http-exception';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ALL_ROLES, apiErrorBodySchema, defineEndpoint, type ErrorCode } from '../../shared/api';
import { loadConfig } from '../env';
import { AppError } from '../errors';
import { createPipeline } from '../http/pipeline';
import { defineRoute } from './define-route';

const createThing = defineEndpoint({
  method: 'post',
  path: '/api/test/things/:thingId',
  operationId: 'createThing',
  summary: 'Test endpoint with params, query and body',
  tags: ['test'],
  access: 'public',
  params: z.strictObject({ thingId: z.string().regex(/^[a-z]+$/) }),
  query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
  body: z.strictObject({ name: z.string().min(1).max(20), count: z.number().int() }),
  status: 201,
  response: z.object({ id: z.string(), name: z.string(), count: z.number(), dryRun: z.boolean() }),
  errors: [],
});

const sessionOnly = defineEndpoint({
  method: 'get',
  path: '/api/test/private',
  operationId: 'getPrivate',
  summary: 'Test endpoint behind a session',
  tags: ['test'],
  access: { roles: ALL_ROLES },
  response: z.object({ secret: z.string() }),
  errors: [],
});

const failing = defineEndpoint({
  method: 'get',
  path: '/api/test/fail/:how',
  operationId: 'fail',
  summary: 'Test endpoint that throws',
  tags: ['test'],
  access: 'public',
  params: z.strictObject({ how: z.enum(['error', 'zod', 'http', 'response', 'headers']) }),
  response: z.object({ ok: z.boolean() }),
  errors: [],
});

function makeApp(env: Record<string, string> = {}) {
  const lines: string[] = [];
  const config = loadConfig({ LOG_LEVEL: 'debug', ...env });
  const app = createPipeline({ config, logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }) });
  defineRoute(app, createThing, ({ body, query, params }) => {
    // A handler returning more than the contract declares: the extra field must not leave.
    const result = { id: params.thingId, name: body.name, count: body.count, dryRun: query.dryRun === 'true', internalNote: 'row 42' };
    return result;
  });
  defineRoute(app, sessionOnly, () => ({ secret: 'session-canary' }));
  defineRoute(app, failing, ({ params }) => {
    if (params.how === 'error') throw new Error('connection string postgres://admin:hunter2@db');
    if (params.how === 'zod') return { ok: z.string().parse(42) === 'never' };
    if (params.how === 'http') throw new HTTPException(429, { message: 'internal limiter state: bucket 7' });
    if (params.how === 'headers') throw new AppError(429, 'rate_limited', 'Slow down.', { headers: { 'Retry-After': '120' } });
    return { ok: 'yes' as unknown as boolean };
  });
  return { app, logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const json = { 'Content-Type': 'application/json' };

async function expectError(res: Response, status: number, code: ErrorCode) {
  expect(res.status).toBe(status);
  const body = apiErrorBodySchema.parse(await res.json());
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get('X-Request-Id'));
  return body.error;
}

describe('defineRoute: valid requests', () => {
  it('passes validated input to the handler and answers with the declared status', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/things/abc?dryRun=true', { method: 'POST', headers: json, body: JSON.stringify({ name: 'Box', count: 3 }) });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: 'abc', name: 'Box', count: 3, dryRun: true });
  });

  it('accepts a charset parameter on the JSON content type', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/things/abc', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ name: 'Box', count: 3 }),
    });
    expect(res.status).toBe(201);
  });

  it('strips fields the response schema does not declare', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/things/abc', { method: 'POST', headers: json, body: JSON.stringify({ name: 'Box', count: 3 }) });
    expect(await res.text()).not.toContain('internalNote');
  });
});

describe('defineRoute: validation_failed', () => {
  it('lists body issues by path and message, never echoing values', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/things/abc', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'value-canary-far-too-long-for-the-limit', count: 1.5, extra: 'extra-canary' }),
    });
    const error = await expectError(res, 400, 'validation_failed');
    expect(error.issues?.map((issue) => issue.path).sort()).toEqual(['body', 'body.count', 'body.name']);
    expect(JSON.stringify(error)).not.toMatch(/value-canary|extra-canary/);
  });

  it('rejects invalid path params', async () => {
    const { app } = makeApp();
    const error = await expectError(
      await app.request('/api/test/things/ABC', { method: 'POST', headers: json, body: JSON.stringify({ name: 'Box', count: 3 }) }),
      400,
      'validation_failed',
    );
    expect(error.issues?.map((issue) => issue.path)).toEqual(['params.thingId']);
  });

  it('rejects invalid and unknown query parameters', async () => {
    const { app } = makeApp();
    const error = await expectError(
      await app.request('/api/test/things/abc?dryRun=maybe&page=2', { method: 'POST', headers: json, body: JSON.stringify({ name: 'Box', count: 3 }) }),
      400,
      'validation_failed',
    );
    expect(error.issues?.map((issue) => issue.path).sort()).toEqual(['query', 'query.dryRun']);
  });

  it('rejects a JSON body that is not an object', async () => {
    const { app } = makeApp();
    await expectError(await app.request('/api/test/things/abc', { method: 'POST', headers: json, body: '[1,2]' }), 400, 'validation_failed');
  });
});

describe('defineRoute: body errors', () => {
  it('malformed_json', async () => {
    const { app } = makeApp();
    await expectError(await app.request('/api/test/things/abc', { method: 'POST', headers: json, body: '{"name":' }), 400, 'malformed_json');
  });

  it('malformed_json for an empty body', async () => {
    const { app } = makeApp();
    await expectError(await app.request('/api/test/things/abc', { method: 'POST', headers: json }), 400, 'malformed_json');
  });

  it('unsupported_media_type for another or a missing content type', async () => {
    const { app } = makeApp();
    const body = JSON.stringify({ name: 'Box', count: 3 });
    await expectError(
      await app.request('/api/test/things/abc', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body }),
      415,
      'unsupported_media_type',
    );
    await expectError(
      await app.request('/api/test/things/abc', { method: 'POST', headers: { 'Content-Type': 'application/jsonx' }, body }),
      415,
      'unsupported_media_type',
    );
    await expectError(await app.request('/api/test/things/abc', { method: 'POST', body: new Blob([body]) }), 415, 'unsupported_media_type');
  });

  it('payload_too_large by Content-Length, before the body is read', async () => {
    const { app } = makeApp({ MAX_BODY_BYTES: '1024' });
    const body = JSON.stringify({ name: 'Box', count: 3, pad: 'x'.repeat(2000) });
    const res = await app.request('/api/test/things/abc', { method: 'POST', headers: { ...json, 'Content-Length': String(body.length) }, body });
    await expectError(res, 413, 'payload_too_large');
    // The unread rest of the body must not be taken for the next request on this connection.
    expect(res.headers.get('Connection')).toBe('close');
  });

  it('payload_too_large for a streamed body without Content-Length', async () => {
    const { app } = makeApp({ MAX_BODY_BYTES: '1024' });
    const chunk = new TextEncoder().encode('x'.repeat(600));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await app.request('/api/test/things/abc', { method: 'POST', headers: json, body: stream, duplex: 'half' });
    await expectError(res, 413, 'payload_too_large');
    expect(res.headers.get('Connection')).toBe('close');
  });

  it('accepts a body just under the limit', async () => {
    const { app } = makeApp({ MAX_BODY_BYTES: '1024' });
    const name = 'n'.repeat(20);
    const body = JSON.stringify({ name, count: 3 }).padEnd(1024, ' ');
    const res = await app.request('/api/test/things/abc', { method: 'POST', headers: json, body });
    expect(res.status).toBe(201);
  });
});

describe('defineRoute: access', () => {
  it('denies session endpoints by default (unauthenticated) and never runs the handler', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/private');
    const error = await expectError(res, 401, 'unauthenticated');
    expect(JSON.stringify(error)).not.toContain('session-canary');
  });
});

describe('defineRoute: internal_error', () => {
  it('answers a generic 500 and logs the real error with the request id', async () => {
    const { app, logs } = makeApp();
    const res = await app.request('/api/test/fail/error');
    const text = await res.clone().text();
    const error = await expectError(res, 500, 'internal_error');
    expect(text).not.toMatch(/hunter2|postgres|stack|at /);
    const logged = logs().find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({ requestId: error.requestId, err: { message: 'connection string postgres://admin:hunter2@db' } });
  });

  it('treats a ZodError outside request validation as a server bug, not a 400', async () => {
    const { app } = makeApp();
    const error = await expectError(await app.request('/api/test/fail/zod'), 500, 'internal_error');
    expect(error.issues).toBeUndefined();
  });

  it('refuses to send a response that breaks its schema', async () => {
    const { app } = makeApp();
    await expectError(await app.request('/api/test/fail/response'), 500, 'internal_error');
  });

  it('answers with the headers the thrown AppError carries, next to the usual ones', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/fail/headers');
    const error = await expectError(res, 429, 'rate_limited');
    expect(error.message).toBe('Slow down.');
    expect(res.headers.get('Retry-After')).toBe('120');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  });

  it('answers other failures without those headers', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/fail/http');
    await expectError(res, 429, 'rate_limited');
    expect(res.headers.get('Retry-After')).toBeNull();
  });

  it("keeps the status of Hono's HTTPException but not its message", async () => {
    const { app } = makeApp();
    const res = await app.request('/api/test/fail/http');
    const text = await res.clone().text();
    await expectError(res, 429, 'rate_limited');
    expect(text).not.toContain('bucket 7');
  });
});

describe('AppError', () => {
  it('refuses a status that does not belong to the code', () => {
    expect(() => new AppError(404, 'conflict', 'x')).toThrow(TypeError);
    expect(new AppError(409, 'conflict', 'x').status).toBe(409);
  });
});
