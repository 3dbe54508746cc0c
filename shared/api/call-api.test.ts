// The typed API client against a real HTTP server on loopback: success parsing, every error path, URL and body building.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEndpoint, health } from '.';
import { ApiError } from './api-error';
import { createApiClient, type CallApi } from './call-api';

const echo = defineEndpoint({
  method: 'post',
  path: '/api/spaces/:spaceId/documents/:documentId',
  operationId: 'echo',
  summary: 'test echo',
  tags: ['test'],
  access: 'public',
  params: z.object({ spaceId: z.string(), documentId: z.string() }),
  query: z.object({
    tag: z.array(z.string()).optional(),
    limit: z.number().optional(),
    cursor: z.string().optional(),
  }),
  body: z.object({ name: z.string() }),
  response: z.object({
    method: z.string(),
    path: z.string(),
    search: z.string(),
    contentType: z.string(),
    body: z.unknown(),
  }),
  errors: [],
});

const deleteThing = defineEndpoint({
  method: 'delete',
  path: '/api/things/:id',
  operationId: 'deleteThing',
  summary: 'test 204',
  tags: ['test'],
  access: 'public',
  params: z.object({ id: z.string() }),
  status: 204,
  // As in the contract (shared/api): a 204 answer has no body, which callApi reads as null.
  response: z.null(),
  errors: [],
});

function failing(path: string) {
  return defineEndpoint({
    method: 'get',
    path,
    operationId: `get${path}`,
    summary: 'test failure',
    tags: ['test'],
    access: 'public',
    response: z.object({ ok: z.literal(true) }),
    errors: [],
  });
}

const app = new Hono();
app.get('/api/health', (c) =>
  c.json({ status: 'ok', version: '9.9.9', time: new Date().toISOString() }),
);
app.post('/api/spaces/:spaceId/documents/:documentId', async (c) =>
  c.json({
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    search: new URL(c.req.url).search,
    contentType: c.req.header('content-type') ?? '',
    body: await c.req.json(),
  }),
);
app.delete('/api/things/:id', (c) => c.body(null, 204));
app.get('/api/conflict', (c) =>
  c.json({ error: { code: 'conflict', message: 'Already exists.', requestId: 'req-body' } }, 409),
);
app.get('/api/invalid', (c) =>
  c.json(
    {
      error: {
        code: 'validation_failed',
        message: 'Invalid input.',
        issues: [{ path: 'name', message: 'Required' }],
      },
    },
    422,
    { 'x-request-id': 'req-header' },
  ),
);
app.get('/api/proxy-down', (c) => c.html('<h1>Bad gateway</h1>', 502));
app.get('/api/teapot', (c) => c.text('short and stout', 418));
app.get('/api/unknown-code', (c) => c.json({ error: { code: 'no_such_code', message: 'x' } }, 400));
app.get('/api/off-contract', (c) => c.json({ ok: 'yes' }));
app.get('/api/not-json', (c) => c.text('{"ok":true}'));
app.get('/api/slow', async (c) => {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return c.json({ ok: true });
});

let server: ServerType;
let api: CallApi;
let origin: string;

beforeAll(async () => {
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
      resolve(info.port),
    );
  });
  origin = `http://127.0.0.1:${port}`;
  api = createApiClient({ baseUrl: origin });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await promise.then(
    () => new Error('expected the call to fail'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('callApi', () => {
  it('parses a successful answer with the endpoint schema', async () => {
    const result = await api(health, {});
    expect(result.status).toBe('ok');
    expect(result.version).toBe('9.9.9');
  });

  it('substitutes encoded path parameters, repeats list query values and sends a JSON body', async () => {
    const result = await api(echo, {
      params: { spaceId: 'a/b c', documentId: 'ü?' },
      query: { tag: ['x', 'y z'], limit: 5, cursor: undefined },
      body: { name: 'Jaarrekening 2025' },
    });
    expect(result).toEqual({
      method: 'POST',
      path: '/api/spaces/a%2Fb%20c/documents/%C3%BC%3F',
      search: '?tag=x&tag=y+z&limit=5',
      contentType: 'application/json',
      body: { name: 'Jaarrekening 2025' },
    });
  });

  it('accepts an empty 204 answer', async () => {
    await expect(api(deleteThing, { params: { id: '1' } })).resolves.toBeNull();
  });

  it('throws ApiError with the server code, message and request id', async () => {
    const error = await rejection(api(failing('/api/conflict'), {}));
    expect(error).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'Already exists.',
      requestId: 'req-body',
    });
  });

  it('takes the request id from the header when the body has none, and keeps field issues', async () => {
    const error = await rejection(api(failing('/api/invalid'), {}));
    expect(error).toMatchObject({
      status: 422,
      code: 'validation_failed',
      requestId: 'req-header',
    });
    expect(error.issues).toEqual([{ path: 'name', message: 'Required' }]);
  });

  it('maps a proxy error page to service_unavailable and other off-contract errors to invalid_response', async () => {
    expect(await rejection(api(failing('/api/proxy-down'), {}))).toMatchObject({
      status: 502,
      code: 'service_unavailable',
    });
    expect(await rejection(api(failing('/api/teapot'), {}))).toMatchObject({
      status: 418,
      code: 'invalid_response',
    });
    expect(await rejection(api(failing('/api/unknown-code'), {}))).toMatchObject({
      status: 400,
      code: 'invalid_response',
    });
  });

  it('rejects a successful answer that breaks the contract or is not JSON', async () => {
    expect(await rejection(api(failing('/api/off-contract'), {}))).toMatchObject({
      status: 200,
      code: 'invalid_response',
    });
    expect(await rejection(api(failing('/api/not-json'), {}))).toMatchObject({
      status: 200,
      code: 'invalid_response',
    });
  });

  it('reports an aborted call as aborted, not as a network failure', async () => {
    const controller = new AbortController();
    const call = api(failing('/api/slow'), {}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await rejection(call)).toMatchObject({ status: 0, code: 'aborted' });
  });

  it('turns a refused connection into network_error', async () => {
    // A port that was just free: bind, read the number, close.
    const closed = await new Promise<ServerType>((resolve) => {
      const probe = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () =>
        resolve(probe),
      );
    });
    const address = closed.address();
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const offline = createApiClient({ baseUrl: `http://127.0.0.1:${port}` });
    const error = await rejection(offline(health, {}));
    expect(error).toMatchObject({ status: 0, code: 'network_error', requestId: undefined });
    expect(error.isTransient).toBe(true);
  });

  it('refuses to call a path with a missing parameter', async () => {
    const call = api(deleteThing, { params: { id: '' } });
    await expect(call).rejects.toThrow(TypeError);
  });
});
