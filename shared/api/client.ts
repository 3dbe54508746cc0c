// The shape of a typed API caller. The browser's implementation is client/api/call-api.ts; Node
// callers (demo, tests, benchmarks) use the same one with their own fetch.
import type { Endpoint, EndpointInput, EndpointResponse } from './contract';

export interface ApiCallOptions {
  /** Aborts the call; TanStack Query passes its own signal here. */
  readonly signal?: AbortSignal;
}

export type CallApi = <E extends Endpoint>(endpoint: E, input: EndpointInput<E>, options?: ApiCallOptions) => Promise<EndpointResponse<E>>;
