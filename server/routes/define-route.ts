// Registers one shared/api endpoint on a Hono app: checks access, validates inputs, encodes the answer.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { Endpoint, EndpointResponse, EndpointValidated } from '../../shared/api';
import { AppError, fail } from '../errors';
import type { AppEnv } from '../http/app-env';

export type RouteHandler<E extends Endpoint> = (
  input: EndpointValidated<E>,
  c: Context<AppEnv>,
) => EndpointResponse<E> | Promise<EndpointResponse<E>>;

type InputPart = 'body' | 'query' | 'params';

/** Used when an endpoint declares no query or params: any such input is an unknown field. */
const nothing = z.strictObject({});

const jsonContentType = /^application\/json\s*(;|$)/i;

async function validate(part: InputPart, schema: z.ZodType, value: unknown): Promise<unknown> {
  const result = await schema.safeParseAsync(value);
  if (result.success) return result.data;
  // Paths and zod's messages only: never the submitted values.
  const issues = result.error.issues.map((issue) => ({
    path: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new AppError(400, 'validation_failed', `The request ${part} is not valid.`, { issues });
}

async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  if (!jsonContentType.test(c.req.header('Content-Type') ?? '')) {
    throw new AppError(415, 'unsupported_media_type', 'Send the request body as application/json.');
  }
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError(400, 'malformed_json', 'The request body is not valid JSON.');
  }
}

/**
 * Adds `endpoint` to `app`. The handler receives validated input only and returns the response
 * value, which is encoded with the endpoint's response schema (unknown keys are stripped, so a
 * handler cannot leak a field the contract does not declare).
 */
/**
 * WARNING: deny by default. A non-public endpoint needs a live session whose role the contract
 * lists; staff outside the IP allowlist and expired passwords are refused here too.
 */
function assertAccess(endpoint: Endpoint, c: Context<AppEnv>): void {
  if (endpoint.access === 'public') return;
  const session = c.get('session') ?? null;
  if (!session) throw fail('unauthenticated', 'Sign in first.');
  if (session.ipBlocked) throw fail('ip_not_allowed', 'Team accounts can only be used from the organisation\'s network.');
  if (!endpoint.access.roles.includes(session.role)) throw fail('forbidden', 'Your role does not allow this.');
  if (session.passwordExpired && !endpoint.allowExpiredPassword) {
    throw fail('password_expired', 'Your password has expired. Choose a new one first.');
  }
  if (session.secondFactorMissing && !endpoint.allowMissingSecondFactor) {
    throw fail('second_factor_required', 'Your organisation requires a second factor for your role. Set one up first.');
  }
}

export function defineRoute<E extends Endpoint>(app: Hono<AppEnv>, endpoint: E, handler: RouteHandler<E>): void {
  app.on(endpoint.method.toUpperCase(), endpoint.path, async (c) => {
    assertAccess(endpoint, c);
    const params = await validate('params', endpoint.params ?? nothing, c.req.param());
    const query = await validate('query', endpoint.query ?? nothing, c.req.query());
    const body = endpoint.body ? await validate('body', endpoint.body, await readJsonBody(c)) : undefined;
    const input = { body, query: endpoint.query ? query : undefined, params: endpoint.params ? params : undefined };
    const result = await handler(input as EndpointValidated<E>, c);
    const encoded = z.safeEncode(endpoint.response, result);
    if (!encoded.success) {
      throw new Error(`${endpoint.operationId} produced a response that does not match its schema`, { cause: encoded.error });
    }
    const status = endpoint.status ?? 200;
    if (status === 204) return c.body(null, 204);
    return c.json(encoded.data as object, status);
  });
}

/**
 * Adds an endpoint whose answer is not JSON (a byte stream): the same access check and params and
 * query validation as defineRoute, then the handler builds the Response itself. No JSON body.
 */
export function defineRawRoute<E extends Endpoint>(
  app: Hono<AppEnv>,
  endpoint: E,
  handler: (input: EndpointValidated<E>, c: Context<AppEnv>) => Promise<Response>,
): void {
  if (endpoint.body) throw new TypeError(`${endpoint.operationId}: defineRawRoute takes no JSON body`);
  app.on(endpoint.method.toUpperCase(), endpoint.path, async (c) => {
    assertAccess(endpoint, c);
    const params = await validate('params', endpoint.params ?? nothing, c.req.param());
    const query = await validate('query', endpoint.query ?? nothing, c.req.query());
    const input = { body: undefined, query: endpoint.query ? query : undefined, params: endpoint.params ? params : undefined };
    return handler(input as EndpointValidated<E>, c);
  });
}
