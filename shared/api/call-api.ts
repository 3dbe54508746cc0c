// The typed API client: the one way the browser (client/api) and Node callers (server/lib/node-api-client.ts)
// talk to the server, typed and validated by the shared endpoint contract; only fetch differs.
import type { Endpoint, EndpointInput, EndpointResponse } from './contract';
import { readErrorAnswer } from './errors';
import { ApiError } from './api-error';

export interface ApiClientOptions {
  /** Origin to resolve endpoint paths against, e.g. `http://127.0.0.1:8080`; same origin when omitted. */
  readonly baseUrl?: string;
  /** The fetch to use; the global one when omitted. */
  readonly fetch?: typeof fetch;
}

export interface ApiCallOptions {
  /** Aborts the call; TanStack Query passes its own signal here. */
  readonly signal?: AbortSignal;
}

export type CallApi = <E extends Endpoint>(
  endpoint: E,
  input: EndpointInput<E>,
  options?: ApiCallOptions,
) => Promise<EndpointResponse<E>>;

/** The parts of an input at runtime; the static type `EndpointInput<E>` is what guarantees their shape. */
interface RuntimeInput {
  readonly body?: unknown;
  readonly query?: unknown;
  readonly params?: unknown;
}

// Hono path parameters: `:name`, optionally with a `{regex}` constraint and a `?` for optional.
const PATH_PARAM = /:([A-Za-z_][A-Za-z0-9_]*)(?:\{[^}]*\})?(\?)?/g;

/** Builds a caller bound to one server. Tests point it at a local server; the app uses client/api's `callApi`. */
export function createApiClient(options: ApiClientOptions = {}): CallApi {
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const baseUrl = options.baseUrl;

  return async function call<E extends Endpoint>(
    endpoint: E,
    input: EndpointInput<E>,
    callOptions: ApiCallOptions = {},
  ): Promise<EndpointResponse<E>> {
    const parts: RuntimeInput = input;
    const url = buildUrl(endpoint, parts, baseUrl);
    const headers = new Headers({ accept: 'application/json' });
    let body: string | undefined;
    if (endpoint.body !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(parts.body);
    }
    const signal = callOptions.signal;

    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, {
        method: endpoint.method.toUpperCase(),
        headers,
        body,
        credentials: 'same-origin',
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) {
        throw new ApiError({
          status: 0,
          code: 'aborted',
          message: 'The request was cancelled.',
          cause: error,
        });
      }
      throw new ApiError({
        status: 0,
        code: 'network_error',
        message: 'The server could not be reached.',
        cause: error,
      });
    }

    const headerRequestId = response.headers.get('x-request-id') ?? undefined;
    const json = parseJson(text, response.headers.get('content-type'));

    if (!response.ok) throw new ApiError(readErrorAnswer(response.status, text, headerRequestId));

    const parsed = endpoint.response.safeParse(json === NO_BODY ? null : json); // 204: no body is null
    if (!parsed.success) {
      throw new ApiError({
        status: response.status,
        code: 'invalid_response',
        message: `The answer of ${endpoint.operationId} does not match the contract.`,
        requestId: headerRequestId,
        cause: parsed.error,
      });
    }
    // The schema is E["response"]; TypeScript loses that link through the generic, the parse does not.
    return parsed.data as EndpointResponse<E>;
  };
}

const NO_BODY = Symbol('no body');
const NOT_JSON = Symbol('not JSON');

function parseJson(text: string, contentType: string | null): unknown {
  if (text === '') return NO_BODY;
  if (contentType === null || !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType))
    return NOT_JSON;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function buildUrl(endpoint: Endpoint, input: RuntimeInput, baseUrl: string | undefined): string {
  const params = asRecord(input.params, 'params');
  const path = endpoint.path.replace(
    PATH_PARAM,
    (_match, name: string, optional: string | undefined) => {
      const value = params[name];
      if (value === undefined || value === null || value === '') {
        if (optional) return '';
        throw new TypeError(`${endpoint.operationId}: path parameter "${name}" is missing`);
      }
      return encodeURIComponent(
        scalarToString(value, `${endpoint.operationId}: path parameter "${name}"`),
      );
    },
  );

  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(asRecord(input.query, 'query'))) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (item === undefined || item === null) continue;
      search.append(
        name,
        scalarToString(item, `${endpoint.operationId}: query parameter "${name}"`),
      );
    }
  }
  const query = search.size > 0 ? `?${search.toString()}` : '';
  return baseUrl === undefined ? path + query : new URL(path + query, baseUrl).toString();
}

function scalarToString(value: unknown, what: string): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      throw new TypeError(`${what} must be a string, number or boolean`);
  }
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`callApi: ${what} must be an object`);
  }
  return value as Record<string, unknown>;
}
