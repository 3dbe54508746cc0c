// The page's access to the crypto worker's space operations, their query keys and the hooks that run them.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { useAccount, useSignedIn } from '../../account';
import type { CryptoEngineApi, WorkerOutcome } from '../../worker';
import type { SpaceOperations } from '../../worker/space-types';

/** The space operations as the worker exposes them: each answers with a WorkerOutcome. */
export type SpaceEngineApi = {
  readonly [K in keyof SpaceOperations]: (
    ...args: Parameters<SpaceOperations[K]>
  ) => Promise<WorkerOutcome<Awaited<ReturnType<SpaceOperations[K]>>>>;
};

/** The engine seen through its space operations (client/worker/space-types.ts); the compiler checks it. */
function spaceOperationsOf(api: CryptoEngineApi): SpaceEngineApi {
  return api;
}

/**
 * Query keys of everything decrypted about spaces, under one root per signed-in user. WARNING: the
 * cached values hold plaintext (names, messages); the account clears the whole cache on every lock.
 */
export const spaceKeys = {
  root: (userId: string) => ['spaces', userId] as const,
  directory: (userId: string) => ['spaces', userId, 'directory'] as const,
  space: (userId: string, spaceId: string) => ['spaces', userId, 'space', spaceId] as const,
  documents: (userId: string, spaceId: string) =>
    ['spaces', userId, 'space', spaceId, 'documents'] as const,
  history: (userId: string, spaceId: string, documentId: string) =>
    ['spaces', userId, 'space', spaceId, 'history', documentId] as const,
  threads: (userId: string, spaceId: string) =>
    ['spaces', userId, 'space', spaceId, 'threads'] as const,
  thread: (userId: string, spaceId: string, threadId: string) =>
    ['spaces', userId, 'space', spaceId, 'thread', threadId] as const,
  requests: (userId: string, spaceId: string) =>
    ['spaces', userId, 'space', spaceId, 'requests'] as const,
  profile: (userId: string) => ['profile', userId] as const,
};

/** Runs one space operation on the unlocked vault; failures arrive as ApiError (like account.run). */
export function useSpaceRun() {
  const { run } = useAccount();
  return useCallback(
    <T>(operation: (api: SpaceEngineApi) => Promise<WorkerOutcome<T>>): Promise<T> =>
      run((api) => operation(spaceOperationsOf(api))),
    [run],
  );
}

/** Marks what a change in one space makes stale: its lists and the directory's counts. */
export function useRefreshSpace() {
  const queryClient = useQueryClient();
  const { session } = useSignedIn();
  const userId = session.user.id;
  return useCallback(
    (spaceId: string) =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: spaceKeys.space(userId, spaceId) }),
        queryClient.invalidateQueries({ queryKey: spaceKeys.directory(userId) }),
      ]),
    [queryClient, userId],
  );
}
