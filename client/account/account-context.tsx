// The signed-in account as the page knows it (session metadata, own name), and sign-in, lock and sign-out.
import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  use,
  useCallback,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from 'react';
import { getSession, logout } from '../../shared/api';
import { ApiError, callApi, isApiError } from '../api';
import { useVaultSession, VaultLockedError } from '../vault';
import type { CryptoEngineApi, SessionInfo, SignedIn, WorkerOutcome } from '../worker';

/**
 * WARNING: decrypted data must not outlive a lock. The page holds only session metadata and, while
 * signed in, the user's own decrypted name; lock() drops both, clears the TanStack Query cache
 * (decrypted people lists live there) and terminates the crypto worker, which holds every key.
 * Nothing here is persisted: a reload starts locked.
 */
export type LockReason = 'idle' | 'manual' | 'reload' | 'session-ended';
export type SignOutNotice = 'signed-out' | 'signed-out-everywhere' | 'session-ended';

export type AccountState =
  /** Page load under /app: whether the browser still has a session is being asked. */
  | { readonly kind: 'unknown' }
  | { readonly kind: 'signed-out'; readonly notice: SignOutNotice | null }
  /** A server session exists (or just ended) but the keys are gone: ask for the password again. */
  | {
      readonly kind: 'locked';
      readonly email: string;
      readonly organisationName: string | null;
      readonly reason: LockReason;
    }
  | { readonly kind: 'signed-in'; readonly session: SessionInfo; readonly name: string | null };

export interface Account {
  readonly state: AccountState;
  /** Asks the server whether this browser still has a session (after a reload). */
  readonly probe: () => Promise<void>;
  /** Runs a worker operation that installs keys (login, setup, sign-up...) and signs in with its result. */
  readonly unlockWith: <T extends SignedIn>(
    operation: (api: CryptoEngineApi) => Promise<WorkerOutcome<T>>,
  ) => Promise<T>;
  /** Runs a worker operation on the unlocked vault; failures arrive as ApiError. */
  readonly run: <T>(operation: (api: CryptoEngineApi) => Promise<WorkerOutcome<T>>) => Promise<T>;
  /** A new session for the same keys (after re-authentication or a password change). */
  readonly refresh: (signedIn: SignedIn) => void;
  readonly lock: (reason: LockReason) => void;
  /** Ends the session (unless the server already did: `callServer` false), drops every key. */
  readonly signOut: (notice?: SignOutNotice, callServer?: boolean) => Promise<void>;
}

const AccountContext = createContext<Account | null>(null);

/** Turns a worker outcome into its value, or throws the one client error type. */
export function unwrapOutcome<T>(outcome: WorkerOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new ApiError(outcome.failure);
}

function asApiError(error: unknown): unknown {
  if (error instanceof VaultLockedError) {
    return new ApiError({ status: 0, code: 'vault_locked', message: error.message, cause: error });
  }
  return error;
}

export function AccountProvider({ children }: { children: ReactNode }) {
  const vault = useVaultSession();
  const queryClient = useQueryClient();
  const [state, setState] = useState<AccountState>({ kind: 'unknown' });

  const dropSecrets = useCallback(() => {
    vault.lock();
    queryClient.clear();
  }, [vault, queryClient]);

  const lock = useCallback(
    (reason: LockReason) => {
      dropSecrets();
      setState((previous) => {
        if (previous.kind === 'signed-in') {
          return {
            kind: 'locked',
            email: previous.session.user.email,
            organisationName: previous.session.organisation.name,
            reason,
          };
        }
        if (previous.kind === 'locked') return { ...previous, reason };
        return previous;
      });
    },
    [dropSecrets],
  );

  const signOut = useCallback(
    async (notice: SignOutNotice = 'signed-out', callServer = true) => {
      if (callServer) {
        try {
          await callApi(logout, {});
        } catch {
          // Signed out locally all the same: the keys are dropped below, the cookie expires on its own.
        }
      }
      dropSecrets();
      setState({ kind: 'signed-out', notice });
    },
    [dropSecrets],
  );

  const probe = useCallback(async () => {
    try {
      const session = await callApi(getSession, {});
      setState({
        kind: 'locked',
        email: session.user.email,
        organisationName: session.organisation.name,
        reason: 'reload',
      });
    } catch (error) {
      if (isApiError(error) && error.isTransient) throw error;
      setState({ kind: 'signed-out', notice: null });
    }
  }, []);

  const handleFailure = useCallback(
    (error: unknown) => {
      // The server ended the session (idle timeout, logged out elsewhere, password changed elsewhere).
      if (
        isApiError(error) &&
        (error.code === 'unauthenticated' || error.code === 'not_signed_in')
      ) {
        lock('session-ended');
      }
      // The organisation now requires a second factor for this role and the account has none: the
      // server refuses everything else, so the app shows only the set-up page (client/features/app).
      if (isApiError(error) && error.code === 'second_factor_required') {
        setState((previous) =>
          previous.kind === 'signed-in' && !previous.session.secondFactorMissing
            ? { ...previous, session: { ...previous.session, secondFactorMissing: true } }
            : previous,
        );
      }
    },
    [lock],
  );

  const unlockWith = useCallback(
    async <T extends SignedIn>(operation: (api: CryptoEngineApi) => Promise<WorkerOutcome<T>>) => {
      let result: T | undefined;
      try {
        await vault.unlock(async (api) => {
          result = unwrapOutcome(await operation(api));
        });
      } catch (error) {
        throw asApiError(error);
      }
      if (result === undefined)
        throw new ApiError({ status: 0, code: 'vault_locked', message: 'locked' });
      const signedIn: T = result;
      setState({ kind: 'signed-in', session: signedIn.session, name: signedIn.name });
      return signedIn;
    },
    [vault],
  );

  const run = useCallback(
    async <T,>(operation: (api: CryptoEngineApi) => Promise<WorkerOutcome<T>>) => {
      try {
        return unwrapOutcome(await vault.run(operation));
      } catch (error) {
        const failure = asApiError(error);
        handleFailure(failure);
        throw failure;
      }
    },
    [vault, handleFailure],
  );

  const refresh = useCallback((signedIn: SignedIn) => {
    setState({ kind: 'signed-in', session: signedIn.session, name: signedIn.name });
  }, []);

  // Page-side API calls (TanStack Query) that find the session gone lock the vault too.
  useEffect(() => {
    const queries = queryClient.getQueryCache().subscribe((event) => {
      if (event.type === 'updated' && event.action.type === 'error')
        handleFailure(event.action.error);
    });
    const mutations = queryClient.getMutationCache().subscribe((event) => {
      if (event.type === 'updated' && event.action.type === 'error')
        handleFailure(event.action.error);
    });
    return () => {
      queries();
      mutations();
    };
  }, [queryClient, handleFailure]);

  const account = useMemo<Account>(
    () => ({ state, probe, unlockWith, run, refresh, lock, signOut }),
    [state, probe, unlockWith, run, refresh, lock, signOut],
  );
  return <AccountContext value={account}>{children}</AccountContext>;
}

export function useAccount(): Account {
  const account = use(AccountContext);
  if (!account) throw new Error('useAccount() needs an <AccountProvider> above it');
  return account;
}

/** The signed-in session; only for components rendered inside the signed-in area. */
export function useSignedIn(): { session: SessionInfo; name: string | null } {
  const { state } = useAccount();
  if (state.kind !== 'signed-in') throw new Error('useSignedIn() outside the signed-in area');
  return state;
}
