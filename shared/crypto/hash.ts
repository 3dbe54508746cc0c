// Hashes: one-shot SHA-256 through WebCrypto, incremental SHA-256 through hash-wasm for streams.
import { createSHA256 } from 'hash-wasm';
import type { Bytes } from './bytes';

/** SHA-256 of `data` (32 bytes). */
export async function sha256(data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Bytes));
}

export interface IncrementalHash {
  update(data: Uint8Array): void;
  /** Ends the hash; the object cannot be updated afterwards. */
  digest(): Bytes;
}

/** Incremental SHA-256 for data that never sits in memory whole (files, audit exports). */
export async function createSha256(): Promise<IncrementalHash> {
  const hasher = await createSHA256();
  hasher.init();
  return {
    update: (data) => {
      hasher.update(data);
    },
    digest: () => new Uint8Array(hasher.digest('binary')),
  };
}
