// React access to the vault session: <VaultProvider> and useVault() (state, engine status, lock, run).
import { createContext, use, useSyncExternalStore, type ReactNode } from 'react';
import type { VaultSession, VaultSnapshot } from './vault-session';

const VaultContext = createContext<VaultSession | null>(null);

export function VaultProvider({
  session,
  children,
}: {
  session: VaultSession;
  children: ReactNode;
}) {
  return <VaultContext value={session}>{children}</VaultContext>;
}

export interface Vault extends VaultSnapshot {
  readonly lock: VaultSession['lock'];
  readonly unlock: VaultSession['unlock'];
  readonly run: VaultSession['run'];
}

/** The vault's state (never its keys) and the operations on it; re-renders when the state changes. */
export function useVault(): Vault {
  const session = use(VaultContext);
  if (!session) throw new Error('useVault() needs a <VaultProvider> above it');
  const snapshot = useSyncExternalStore(session.subscribe, session.getSnapshot);
  return {
    ...snapshot,
    lock: session.lock,
    unlock: (operation) => session.unlock(operation),
    run: (operation) => session.run(operation),
  };
}

/** The session object itself (stable across renders), for code that only calls its operations. */
export function useVaultSession(): VaultSession {
  const session = use(VaultContext);
  if (!session) throw new Error('useVaultSession() needs a <VaultProvider> above it');
  return session;
}
