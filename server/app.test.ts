// The whole app over a real database: security headers everywhere, API caching, errors, web client serving, logs.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiErrorBodySchema, healthResponseSchema } from '../shared/api';
import { makeTestApp, type TestApp } from './test/make-test-app';

const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; " +
  "connect-src 'self'; worker-src 'self' blob:; frame-src 'self' blob:; object-src blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const INDEX_HTML = '<!doctype html><html><head><script type="module" src="/assets/app-3f2a1b.js"></script></head><body></body></html>';

let clientDir: string;
let testApp: TestApp | undefined;

beforeAll(async () => {
  clientDir = await mkdtemp(join(tmpdir(), 'kluis-client-'));
  await mkdir(join(clientDir, 'assets'));
  await writeFile(join(clientDir, 'index.html'), INDEX_HTML);
  await writeFile(join(clientDir, 'assets', 'app-3f2a1b.js'), 'export const app = 1;\n');
  await writeFile(join(clientDir, 'download-sw.js'), 'self.addEventListener("fetch", () => undefined);\n');
  await writeFile(join(clientDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
});

afterAll(async () => {
  await rm(clientDir, { recursive: true, force: true });
});

afterEach(async () => {
  await testApp?.close();
  testApp = undefined;
});

async function start(options: Parameters<typeof makeTestApp>[0] = {}): Promise<TestApp> {
  testApp = await makeTestApp({ clientDir, ...options });
  return testApp;
}

function expectSecurityHeaders(res: Response, https: boolean): void {
  expect(res.headers.get('Content-Security-Policy')).toBe(CSP);
  expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
  expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
  expect(res.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
  expect(res.headers.get('Cross-Origin-Resource-Policy')).toBe('same-origin');
  expect(res.headers.get('X-Frame-Options')).toBe('DENY');
  expect(res.headers.get('Permissions-Policy')).toBe('camera=(), microphone=(), geolocation=()');
  if (https) expect(res.headers.get('Strict-Transport-Security')).toBe('max-age=31536000');
  else expect(res.headers.has('Strict-Transport-Security')).toBe(false);
}

/** One request of every kind the app answers, with what must come back. */
const responseKinds = [
  { name: 'API 200', method: 'GET', path: '/api/health', status: 200, api: true },
  { name: 'API HEAD', method: 'HEAD', path: '/api/health', status: 200, api: true },
  { name: 'API error', method: 'GET', path: '/api/health?unknown=1', status: 400, api: true },
  { name: 'API 404', method: 'GET', path: '/api/no-such-route', status: 404, api: true },
  { name: 'API 405', method: 'DELETE', path: '/api/health', status: 405, api: true },
  { name: 'static file', method: 'GET', path: '/assets/app-3f2a1b.js', status: 200, api: false },
  { name: 'missing asset', method: 'GET', path: '/assets/app-000000.js', status: 404, api: false },
  { name: 'index', method: 'GET', path: '/', status: 200, api: false },
  { name: 'SPA fallback', method: 'GET', path: '/documents/abc', status: 200, api: false },
  { name: 'non-GET outside the API', method: 'POST', path: '/documents/abc', status: 404, api: false },
] as const;

describe('security headers', () => {
  it.each(responseKinds)('are on every response: $name', async ({ method, path, status }) => {
    const { app } = await start();
    const res = await app.request(path, { method });
    expect(res.status).toBe(status);
    expectSecurityHeaders(res, false);
  });

  it.each(responseKinds)('include HSTS when the public origin is https: $name', async ({ method, path, status }) => {
    const { app } = await start({ env: { PUBLIC_ORIGIN: 'https://kluis.example.com' } });
    const res = await app.request(path, { method });
    expect(res.status).toBe(status);
    expectSecurityHeaders(res, true);
  });

  it('are on the 503 answered when no client build exists', async () => {
    const { app } = await start({ clientDir: join(clientDir, 'not-built') });
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expectSecurityHeaders(res, false);
  });
});

describe('caching', () => {
  it.each(responseKinds.filter((kind) => kind.api))('API responses are no-store: $name', async ({ method, path }) => {
    const { app } = await start();
    const res = await app.request(path, { method });
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('hashed assets are immutable, index.html and the fallback are revalidated', async () => {
    const { app } = await start();
    expect((await app.request('/assets/app-3f2a1b.js')).headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect((await app.request('/')).headers.get('Cache-Control')).toBe('no-cache');
    expect((await app.request('/documents/abc')).headers.get('Cache-Control')).toBe('no-cache');
    expect((await app.request('/favicon.svg')).headers.get('Cache-Control')).toBe('no-cache');
  });
});

describe('web client', () => {
  it('serves files with their content type', async () => {
    const { app } = await start();
    const res = await app.request('/assets/app-3f2a1b.js');
    expect(res.headers.get('Content-Type')).toMatch(/^text\/javascript/);
    expect(await res.text()).toBe('export const app = 1;\n');
  });

  it('serves the download service worker at the root: JavaScript, revalidated, under the same CSP', async () => {
    const { app } = await start();
    const res = await app.request('/download-sw.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('Cache-Control')).toBe('no-cache');
    expect(res.headers.get('Content-Security-Policy')).toBe(CSP);
    expect(res.headers.get('Service-Worker-Allowed')).toBeNull(); // its scope /download/ is below its own path
  });

  it('answers client-side routes with index.html', async () => {
    const { app } = await start();
    for (const path of ['/', '/documents/abc', '/settings/security']) {
      const res = await app.request(path);
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
      expect(await res.text()).toBe(INDEX_HTML);
    }
  });

  it('answers a missing hashed asset with 404, not with index.html', async () => {
    const { app } = await start();
    const res = await app.request('/assets/app-000000.js');
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('<html');
  });

  it('never falls back to index.html under /api', async () => {
    const { app } = await start();
    const res = await app.request('/api/no-such-feature/abc');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  });

  it('refuses path traversal', async () => {
    const { app } = await start();
    const res = await app.request('/assets/%2e%2e/%2e%2e/etc/passwd');
    expect(await res.text()).not.toContain('root:');
  });

  it('says how to build the client when there is no build', async () => {
    const { app } = await start({ clientDir: join(clientDir, 'not-built') });
    const res = await app.request('/documents/abc');
    expect(res.status).toBe(503);
    const body = apiErrorBodySchema.parse(await res.json());
    expect(body.error.code).toBe('service_unavailable');
    expect(body.error.message).toContain('npm run build');
    // The API keeps working without a client build.
    expect((await app.request('/api/health')).status).toBe(200);
  });
});

describe('API errors', () => {
  it('not_found: unknown API path', async () => {
    const { app } = await start();
    const res = await app.request('/api/no-such-route');
    expect(res.status).toBe(404);
    expect(apiErrorBodySchema.parse(await res.json()).error.code).toBe('not_found');
  });

  it('method_not_allowed: known path, wrong method, with Allow', async () => {
    const { app } = await start();
    const res = await app.request('/api/health', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET, HEAD');
    expect(apiErrorBodySchema.parse(await res.json()).error.code).toBe('method_not_allowed');
  });

  it('validation_failed: unknown query parameters are refused, naming the key but not the value', async () => {
    const { app } = await start();
    const res = await app.request('/api/health?verbose=value-canary');
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain('value-canary');
    const body = apiErrorBodySchema.parse(JSON.parse(text));
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.issues).toHaveLength(1);
    expect(body.error.issues?.[0]?.path).toBe('query');
    expect(body.error.issues?.[0]?.message).toContain('verbose');
  });

  it('service_unavailable: health fails when the database is gone', async () => {
    const test = await start();
    await test.db.destroy();
    const res = await test.app.request('/api/health');
    expect(res.status).toBe(503);
    expect(apiErrorBodySchema.parse(await res.json()).error.code).toBe('service_unavailable');
  });
});

describe('health', () => {
  it('reports status, version and server time', async () => {
    const { app } = await start();
    const res = await app.request('/api/health');
    const body = healthResponseSchema.parse(await res.json());
    expect(body.status).toBe('ok');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Math.abs(Date.parse(body.time) - Date.now())).toBeLessThan(60_000);
  });
});

describe('request ids and logs', () => {
  it('gives every response a fresh random X-Request-Id, also inside error bodies', async () => {
    const { app } = await start();
    const first = await app.request('/api/no-such-route', { headers: { 'X-Request-Id': 'chosen-by-client' } });
    const second = await app.request('/api/no-such-route');
    const id = first.headers.get('X-Request-Id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers.get('X-Request-Id')).not.toBe(id);
    expect(apiErrorBodySchema.parse(await first.json()).error.requestId).toBe(id);
  });

  it('logs one line per request with the request id, and no query, cookies, headers or bodies', async () => {
    const test = await start();
    const res = await test.app.request('/api/health?token=query-canary', {
      method: 'GET',
      headers: { Cookie: 'session=cookie-canary', Authorization: 'Bearer header-canary' },
    });
    await test.app.request('/api/no-such-route', { method: 'POST', body: '{"password":"body-canary"}', headers: { 'Content-Type': 'application/json' } });
    const requestLines = test.logs().filter((line) => line.msg === 'request');
    expect(requestLines).toHaveLength(2);
    expect(requestLines[0]).toMatchObject({ requestId: res.headers.get('X-Request-Id'), method: 'GET', path: '/api/health', status: 400 });
    const everything = JSON.stringify(test.logs());
    for (const canary of ['query-canary', 'cookie-canary', 'header-canary', 'body-canary']) expect(everything).not.toContain(canary);
  });

  it('takes the client IP from X-Forwarded-For only with TRUST_PROXY', async () => {
    const trusting = await start({ env: { TRUST_PROXY: 'true' } });
    await trusting.app.request('/api/health', { headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.5' } });
    expect(trusting.logs().find((line) => line.msg === 'request')).toMatchObject({ ip: '203.0.113.5' });
    await trusting.close();

    const direct = await start();
    await direct.app.request('/api/health', { headers: { 'X-Forwarded-For': '203.0.113.5' } });
    expect(direct.logs().find((line) => line.msg === 'request')).toMatchObject({ ip: null });
  });
});
