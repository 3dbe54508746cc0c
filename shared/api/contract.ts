// The API contract: one declaration per endpoint, shared by the server (validation, routing,
// OpenAPI) and the client (typed calls). Adding an endpoint here is the only way to add a route.
import type { z } from 'zod';
import type { ErrorCode } from './errors';
import type { Role } from './wire';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call an endpoint. WARNING: deny by default: a signed-in user whose role is not listed
 * gets `forbidden` before the handler runs. Finer rules (which role may invite or unlock whom)
 * live in server/services/authorization.ts.
 */
export type Access = 'public' | { readonly roles: readonly Role[] };

export const ALL_ROLES = ['admin', 'team', 'client', 'auditor'] as const satisfies readonly Role[];
export const STAFF_ROLES = ['admin', 'team'] as const satisfies readonly Role[];

export interface Endpoint<
  Body extends z.ZodType | undefined = z.ZodType | undefined,
  Query extends z.ZodType | undefined = z.ZodType | undefined,
  Params extends z.ZodType | undefined = z.ZodType | undefined,
  Response extends z.ZodType = z.ZodType,
> {
  readonly method: HttpMethod;
  /** Hono-style path, e.g. `/api/documents/:id`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly access: Access;
  readonly body?: Body;
  readonly query?: Query;
  readonly params?: Params;
  /** Status of a successful answer (200 unless stated). */
  readonly status?: 200 | 201 | 202 | 204;
  readonly response: Response;
  /** Error codes this endpoint can answer with besides the ones every endpoint can. */
  readonly errors: readonly ErrorCode[];
  /** Reachable while the password has outlived the organisation's maximum age (to change it). */
  readonly allowExpiredPassword?: boolean;
  /**
   * Reachable by a user whose role must use a second factor while they have none yet (setting one
   * up, signing out); every other endpoint answers second_factor_required.
   */
  readonly allowMissingSecondFactor?: boolean;
}

/** Identity function that keeps the literal types of an endpoint declaration. */
export function defineEndpoint<
  Body extends z.ZodType | undefined = undefined,
  Query extends z.ZodType | undefined = undefined,
  Params extends z.ZodType | undefined = undefined,
  Response extends z.ZodType = z.ZodType,
>(endpoint: Endpoint<Body, Query, Params, Response>): Endpoint<Body, Query, Params, Response> {
  return endpoint;
}

/**
 * Every error code an endpoint can answer with: the ones its shape implies, then the ones it
 * declares. Unknown query parameters are rejected on every endpoint, so each one can answer
 * `validation_failed`; a JSON body adds the body errors; a session adds `unauthenticated`; a
 * write adds `storage_full`.
 */
export function errorCodesOf(endpoint: Endpoint): readonly ErrorCode[] {
  const codes: ErrorCode[] = ['validation_failed'];
  if (endpoint.body) codes.push('malformed_json', 'unsupported_media_type', 'payload_too_large');
  if (endpoint.access !== 'public') {
    codes.push('unauthenticated', 'csrf_rejected', 'ip_not_allowed');
    if (endpoint.access.roles.length < ALL_ROLES.length) codes.push('forbidden');
    if (!endpoint.allowExpiredPassword) codes.push('password_expired');
    if (!endpoint.allowMissingSecondFactor) codes.push('second_factor_required');
  }
  codes.push(...endpoint.errors);
  // Whatever writes (any method but GET; every signed-in request refreshes its session) can find
  // the disk under the database full.
  if (endpoint.method !== 'get' || endpoint.access !== 'public') codes.push('storage_full');
  codes.push('internal_error');
  return [...new Set(codes)];
}

type InputPart = 'body' | 'query' | 'params';

/**
 * The schema an endpoint declares for `part`, or never. `body?` etc. are optional properties, so
 * `E['body']` always includes undefined: test the declared part without it, and without
 * distributing over the union.
 */
type Declared<E extends Endpoint, K extends InputPart> = NonNullable<E[K]>;
type InputOf<E extends Endpoint, K extends InputPart> = [Declared<E, K>] extends [never]
  ? undefined
  : Declared<E, K> extends z.ZodType
    ? z.input<Declared<E, K>>
    : undefined;
type OutputOf<E extends Endpoint, K extends InputPart> = [Declared<E, K>] extends [never]
  ? undefined
  : Declared<E, K> extends z.ZodType
    ? z.output<Declared<E, K>>
    : undefined;
type PartInput<E extends Endpoint, K extends InputPart> = [Declared<E, K>] extends [never] ? object : { [P in K]: InputOf<E, K> };

/** What a caller passes: only the parts the endpoint declares. */
export type EndpointInput<E extends Endpoint> = PartInput<E, 'body'> & PartInput<E, 'query'> & PartInput<E, 'params'>;

/** What a server handler receives after validation. */
export type EndpointValidated<E extends Endpoint> = {
  body: OutputOf<E, 'body'>;
  query: OutputOf<E, 'query'>;
  params: OutputOf<E, 'params'>;
};

export type EndpointResponse<E extends Endpoint> = z.output<E['response']>;
