// The TanStack Query client: ApiError is the registered default error; only transient failures are retried.
import { QueryClient } from '@tanstack/react-query';
import { isApiError, type ApiError } from './api';

declare module '@tanstack/react-query' {
  interface Register {
    // Every queryFn goes through callApi, which throws nothing but ApiError.
    defaultError: ApiError;
  }
}

/**
 * WARNING: the query cache holds server answers (ciphertext, metadata) and never key material;
 * keys stay in the crypto worker (client/vault).
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        retry: (failureCount, error) => isApiError(error) && error.isTransient && failureCount < 2,
      },
      mutations: { retry: false },
    },
  });
}
