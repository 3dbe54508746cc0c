// Password resets through escrow (issue 21): start, four-eyes approval, the person's proof and new password; escrow transparency.
import type { AccountDeps } from './account-deps';

export function createResetsService(deps: AccountDeps) {
  void deps;
  return {};
}

export type ResetsService = ReturnType<typeof createResetsService>;
