// The account life-cycle (issue 21): role changes, deactivation, deletion, restore and the scheduled purge (crypto-shredding).
import type { BlobStore } from '../blobs/blob-store';
import type { AccountDeps } from './account-deps';

export function createLifecycleService(deps: AccountDeps & { readonly blobs: BlobStore }) {
  void deps;
  return {};
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
