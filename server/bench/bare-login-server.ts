// Bench baseline server: OPAQUE login over bare Hono on @hono/node-server (pending state in a Map, no database, no middleware).
import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import * as opaque from '@serenity-kit/opaque';
import { Hono } from 'hono';

/**
 * Run as its own process by the bench (PORT from the environment). It answers the same OPAQUE
 * messages as Kluis's login, so the same load generator measures what HTTP and the OPAQUE calls
 * cost without Kluis's validation, SQLite, audit log and sessions. Never part of the app.
 */
await opaque.ready;
const serverSetup = opaque.server.createSetup();
const records = new Map<string, string>();
const pendingLogins = new Map<string, string>();

function field(body: unknown, name: string): string {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  return value;
}

const app = new Hono();
app.onError((error, c) => c.json({ error: error.message }, 400));
app.post('/register/start', async (c) => {
  const body: unknown = await c.req.json();
  const { registrationResponse } = opaque.server.createRegistrationResponse({
    serverSetup,
    userIdentifier: field(body, 'email'),
    registrationRequest: field(body, 'registrationRequest'),
  });
  return c.json({ registrationResponse });
});
app.post('/register/finish', async (c) => {
  const body: unknown = await c.req.json();
  records.set(field(body, 'email'), field(body, 'registrationRecord'));
  return c.json({ serverPublicKey: opaque.server.getPublicKey(serverSetup) });
});
app.post('/login/start', async (c) => {
  const body: unknown = await c.req.json();
  const email = field(body, 'email');
  const { serverLoginState, loginResponse } = opaque.server.startLogin({
    serverSetup,
    userIdentifier: email,
    registrationRecord: records.get(email) ?? null,
    startLoginRequest: field(body, 'startLoginRequest'),
  });
  const loginId = randomUUID();
  pendingLogins.set(loginId, serverLoginState);
  return c.json({ loginId, loginResponse });
});
app.post('/login/finish', async (c) => {
  const body: unknown = await c.req.json();
  const loginId = field(body, 'loginId');
  const state = pendingLogins.get(loginId);
  pendingLogins.delete(loginId);
  if (state === undefined) return c.json({ error: 'unknown login' }, 400);
  try {
    opaque.server.finishLogin({
      serverLoginState: state,
      finishLoginRequest: field(body, 'finishLoginRequest'),
    });
  } catch {
    return c.json({ error: 'not verified' }, 401);
  }
  return c.json({ ok: true });
});

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' },
  (info) => {
    process.stdout.write(`bare login server listening on ${info.port}\n`);
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
