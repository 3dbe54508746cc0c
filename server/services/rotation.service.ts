// Escrow rotation (issue 21): a new escrow key pair, re-sealing every item, resumable, checked before it finishes; the signed chain.
import type { AccountDeps } from './account-deps';

export function createRotationService(deps: AccountDeps) {
  void deps;
  return {};
}

export type RotationService = ReturnType<typeof createRotationService>;
