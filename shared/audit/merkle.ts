// The audit log's Merkle tree, RFC 9162 (Certificate Transparency 2.0) section 2.1, over the rows'
// chain hashes. Shared by the server (which builds proofs from its stored subtree hashes) and every
// verifier (the Auditor's browser, `npm run audit:verify`), so both speak exactly one algorithm.
//
//   leaf input      = the 32 raw bytes of the row's chain hash (shared/audit/canonical.ts)
//   leaf hash       = SHA-256(0x00 || leaf input)
//   interior node   = SHA-256(0x01 || left || right)
//   MTH(empty)      = SHA-256("")
//   MTH(D[n])       = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two smaller than n
//
// Node addresses: (level, index) names the perfect subtree over leaves [index * 2^level,
// (index + 1) * 2^level). Only perfect subtrees are ever stored; the hash of any other range is
// folded from them in O(log n) (rangeHash below), which is what keeps proofs O(log n) reads.
import { type Bytes, concatBytes, fromHex, toHex } from '../crypto/bytes';
import { sha256 } from '../crypto/hash';

export const HASH_BYTES = 32;

/** SHA-256 of nothing: the root of the empty tree. */
export const EMPTY_TREE_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export async function merkleLeafHash(rowHashHex: string): Promise<string> {
  return toHex(await sha256(concatBytes(Uint8Array.of(0), hexBytes(rowHashHex))));
}

export async function merkleNodeHash(leftHex: string, rightHex: string): Promise<string> {
  return toHex(await sha256(concatBytes(Uint8Array.of(1), hexBytes(leftHex), hexBytes(rightHex))));
}

function hexBytes(hex: string): Bytes {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError('Merkle hashes are 64 lower-case hex digits');
  return fromHex(hex);
}

/** The largest power of two strictly smaller than n (n >= 2). */
export function largestPowerOfTwoBelow(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError('n must be an integer >= 2');
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number) => Number.isSafeInteger(n) && n >= 1 && Number.isInteger(Math.log2(n));

/** Reads one stored perfect subtree: level 0 is a leaf hash. Throws when it is missing. */
export type SubtreeReader = (level: number, index: number) => Promise<string>;

/**
 * MTH(D[start:end]) for a range that the RFC's recursion can produce: `start` is a multiple of the
 * largest power of two not above end - start's split, so the left part is always a stored subtree.
 */
export async function rangeHash(read: SubtreeReader, start: number, end: number): Promise<string> {
  const size = end - start;
  if (size <= 0) throw new RangeError('empty range');
  if (isPowerOfTwo(size) && start % size === 0) return read(Math.log2(size), start / size);
  const k = largestPowerOfTwoBelow(size);
  return merkleNodeHash(await rangeHash(read, start, start + k), await rangeHash(read, start + k, end));
}

/** The root of the first `treeSize` leaves. */
export async function treeRoot(read: SubtreeReader, treeSize: number): Promise<string> {
  return treeSize === 0 ? EMPTY_TREE_ROOT : rangeHash(read, 0, treeSize);
}

/** RFC 9162 2.1.3.1 PATH(m, D[start:end]): the audit path of leaf m, bottom-up. */
export async function inclusionPath(read: SubtreeReader, leafIndex: number, treeSize: number): Promise<string[]> {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) throw new RangeError('leaf index outside the tree');
  const path: string[] = [];
  const walk = async (m: number, start: number, end: number): Promise<void> => {
    const n = end - start;
    if (n <= 1) return;
    const k = largestPowerOfTwoBelow(n);
    if (m < k) {
      await walk(m, start, start + k);
      path.push(await rangeHash(read, start + k, end));
    } else {
      await walk(m - k, start + k, end);
      path.push(await rangeHash(read, start, start + k));
    }
  };
  await walk(leafIndex, 0, treeSize);
  return path;
}

/** RFC 9162 2.1.4.1 PROOF(m, D[n]): the consistency proof from the tree of size m to size n. */
export async function consistencyProof(read: SubtreeReader, first: number, second: number): Promise<string[]> {
  if (!(first >= 0 && first <= second)) throw new RangeError('a consistency proof goes from a smaller tree to a larger one');
  if (first === 0 || first === second) return [];
  const proof: string[] = [];
  const subproof = async (m: number, start: number, end: number, complete: boolean): Promise<void> => {
    const n = end - start;
    if (m === n) {
      if (!complete) proof.push(await rangeHash(read, start, end));
      return;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      await subproof(m, start, start + k, complete);
      proof.push(await rangeHash(read, start + k, end));
    } else {
      await subproof(m - k, start + k, end, false);
      proof.push(await rangeHash(read, start, start + k));
    }
  };
  await subproof(first, 0, second, true);
  return proof;
}

/** RFC 9162 2.1.3.2: does `path` prove leaf `leafIndex` (with this leaf hash) in the tree with `root`? */
export async function verifyInclusion(leafIndex: number, treeSize: number, leafHashHex: string, path: readonly string[], rootHex: string): Promise<boolean> {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHashHex;
  try {
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await merkleNodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await merkleNodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
  } catch {
    return false;
  }
  return sn === 0 && r === rootHex;
}

/** RFC 9162 2.1.4.2: does `proof` show that the tree (first, firstRoot) is a prefix of (second, secondRoot)? */
export async function verifyConsistency(first: number, second: number, firstRoot: string, secondRoot: string, proof: readonly string[]): Promise<boolean> {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot === secondRoot;
  if (first === 0) return proof.length === 0 && firstRoot === EMPTY_TREE_ROOT;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  try {
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = await merkleNodeHash(c, fr);
        sr = await merkleNodeHash(c, sr);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        sr = await merkleNodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
  } catch {
    return false;
  }
  return fr === firstRoot && sr === secondRoot && sn === 0;
}

/** A perfect subtree by address, as the server lists them (shared/audit/merkle.ts header). */
export interface MerkleSubtree {
  readonly level: number;
  readonly index: number;
  readonly hash: string;
}

/**
 * The perfect subtrees that exactly cover leaves [0, size), largest first (one per set bit of
 * size): all a tree needs to go on appending after `size` leaves without the leaves themselves.
 */
export function frontierAddresses(size: number): { level: number; index: number }[] {
  const out: { level: number; index: number }[] = [];
  let start = 0;
  for (let level = 52; level >= 0; level -= 1) {
    const width = 2 ** level;
    if (size - start >= width) {
      out.push({ level, index: start / width });
      start += width;
    }
  }
  return out;
}

/**
 * Builds a tree over leaf hashes in memory, keeping every perfect subtree: what a verifier that
 * downloaded the events uses to recompute roots and compare its own subtrees with the server's.
 * Appending is amortised O(1) hashes per leaf. A tree can start after pruned leaves from their
 * frontier (`seed`); its roots are then only as good as that frontier, which a signed root checks.
 */
export class MemoryMerkleTree {
  /** levels[l] maps index i to the perfect subtree (l, i). */
  private readonly levels: Map<number, string>[] = [new Map<number, string>()];
  private leaves = 0;

  get size(): number {
    return this.leaves;
  }

  /** Starts an empty tree at `size` leaves given their frontier (frontierAddresses(size) with hashes). */
  seed(size: number, frontier: readonly MerkleSubtree[]): void {
    if (this.leaves !== 0) throw new Error('only an empty tree can be seeded');
    const expected = frontierAddresses(size);
    if (frontier.length !== expected.length || expected.some((address, i) => frontier[i]!.level !== address.level || frontier[i]!.index !== address.index)) {
      throw new TypeError('the frontier does not cover exactly the pruned leaves');
    }
    for (const node of frontier) {
      hexBytes(node.hash);
      (this.levels[node.level] ??= new Map<number, string>()).set(node.index, node.hash);
    }
    this.leaves = size;
  }

  async append(leafHashHex: string): Promise<void> {
    let level = 0;
    let index = this.leaves;
    this.levels[0]!.set(index, leafHashHex);
    this.leaves += 1;
    let hash = leafHashHex;
    while (index % 2 === 1) {
      const left = this.levels[level]!.get(index - 1);
      if (left === undefined) throw new RangeError(`no subtree (${level}, ${index - 1})`);
      hash = await merkleNodeHash(left, hash);
      level += 1;
      index = (index - 1) / 2;
      (this.levels[level] ??= new Map<number, string>()).set(index, hash);
    }
  }

  readonly read: SubtreeReader = (level, index) => {
    const hash = this.levels[level]?.get(index);
    if (hash === undefined) return Promise.reject(new RangeError(`no subtree (${level}, ${index})`));
    return Promise.resolve(hash);
  };

  root(treeSize = this.size): Promise<string> {
    if (treeSize > this.size) throw new RangeError('the tree is smaller than that');
    return treeRoot(this.read, treeSize);
  }
}
