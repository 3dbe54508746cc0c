// Test oracle: RFC 9162 section 2.1 written straight from the RFC text over an array of leaf
// inputs, recursion and all, with node:crypto. Deliberately independent of shared/audit/merkle.ts
// (no imports from it), so the server's roots and proofs are checked against a second reading.
import { createHash } from 'node:crypto';

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** "k be the largest power of two smaller than n (i.e., k < n <= 2k)". */
function splitPoint(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

/** 2.1.1: MTH({}) = SHA-256(); MTH({d(0)}) = SHA-256(0x00 || d(0)); MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
export function mth(leaves: readonly Buffer[]): Buffer {
  const n = leaves.length;
  if (n === 0) return sha256();
  if (n === 1) return sha256(Buffer.from([0]), leaves[0]!);
  const k = splitPoint(n);
  return sha256(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/**
 * 2.1.3.1: PATH(m, {d(0)}) = {}; for n > 1, m < k: PATH(m, D[0:k]) : MTH(D[k:n]);
 * m >= k: PATH(m - k, D[k:n]) : MTH(D[0:k]).
 */
export function path(m: number, leaves: readonly Buffer[]): Buffer[] {
  const n = leaves.length;
  if (n <= 1) return [];
  const k = splitPoint(n);
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

/**
 * 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true); SUBPROOF(m, D[m], true) = {};
 * SUBPROOF(m, D[m], false) = {MTH(D[m])}; for m < n: m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]);
 * m > k: SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]).
 */
export function proof(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (m === 0 || m === leaves.length) return [];
  const subproof = (mm: number, d: readonly Buffer[], b: boolean): Buffer[] => {
    const n = d.length;
    if (mm === n) return b ? [] : [mth(d)];
    const k = splitPoint(n);
    return mm <= k ? [...subproof(mm, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(mm - k, d.slice(k), false), mth(d.slice(0, k))];
  };
  return subproof(m, leaves, true);
}

/** Leaf inputs of the audit log: the 32 raw bytes of each event's chain hash. */
export function leafInputs(hashesHex: readonly string[]): Buffer[] {
  return hashesHex.map((hex) => Buffer.from(hex, 'hex'));
}

export const hex = (buffers: readonly Buffer[]): string[] => buffers.map((buffer) => buffer.toString('hex'));
