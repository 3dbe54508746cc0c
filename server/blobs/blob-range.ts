// Byte ranges of a stored blob: which part of it a `Range` request asks for, and opening that part.
import type { Readable } from 'node:stream';
import type { BlobStore } from './blob-store';

/** A `Range: bytes=…` request: `start-end`, `start-` (end null) or the last `suffix` bytes. */
export type RangeRequest = { readonly start: number; readonly end: number | null } | { readonly suffix: number };

/** What of a blob of `size` bytes to send (positions are inclusive byte offsets). */
export type ResolvedRange =
  | { readonly kind: 'whole'; readonly size: number }
  | { readonly kind: 'partial'; readonly size: number; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable'; readonly size: number };

export type BlobRead =
  | { readonly kind: 'whole'; readonly size: number; readonly stream: Readable }
  | { readonly kind: 'partial'; readonly size: number; readonly start: number; readonly end: number; readonly stream: Readable }
  | { readonly kind: 'unsatisfiable'; readonly size: number };

/** RFC 9110 14.1.2: a range past the end is unsatisfiable; an end past it is cut to the last byte. */
export function resolveRange(size: number, range: RangeRequest | null): ResolvedRange {
  if (!range) return { kind: 'whole', size };
  if ('suffix' in range) {
    if (range.suffix === 0 || size === 0) return { kind: 'unsatisfiable', size };
    return { kind: 'partial', size, start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) return { kind: 'unsatisfiable', size };
  return { kind: 'partial', size, start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/** Opens the resolved part of blob `blobId` (nothing is opened for an unsatisfiable range). */
export async function openBlobRange(blobs: BlobStore, blobId: string, resolved: ResolvedRange): Promise<BlobRead> {
  if (resolved.kind === 'unsatisfiable') return resolved;
  if (resolved.kind === 'whole') return { ...resolved, stream: await blobs.open(blobId) };
  return { ...resolved, stream: await blobs.open(blobId, { start: resolved.start, end: resolved.end }) };
}
