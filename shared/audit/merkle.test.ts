// shared/audit/merkle.ts against a straightforward RFC 9162 section 2.1 implementation written here
// from the RFC text (recursive MTH, PATH, PROOF and the two verification algorithms, over node:crypto):
// expected values never come from the code under test.
// eslint-disable-next-line no-restricted-imports -- node:crypto is the outside reference the code under test is checked against
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_TREE_ROOT,
  MemoryMerkleTree,
  consistencyProof,
  frontierAddresses,
  inclusionPath,
  merkleLeafHash,
  merkleNodeHash,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

// ---- RFC 9162 2.1, written from the text ----------------------------------------------------

const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
/** 2.1.1: the leaf input is the 32-byte row hash; MTH({d0}) = HASH(0x00 || d0). */
const leafHash = (d: Buffer) => H(Buffer.from([0]), d);
const nodeHash = (l: Buffer, r: Buffer) => H(Buffer.from([1]), l, r);
/** k: the largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}
/** 2.1.1 MTH(D[n]). */
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return H();
  if (d.length === 1) return leafHash(d[0]!);
  const k = splitPoint(d.length);
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}
/** 2.1.3.1 PATH(m, D[n]). */
function path(m: number, d: Buffer[]): Buffer[] {
  const n = d.length;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(m, d.slice(0, k)), mth(d.slice(k))];
  return [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
/** 2.1.4.1 SUBPROOF(m, D[n], b). */
function subproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, d.slice(0, k), b), mth(d.slice(k))];
  return [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}
/** 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), 0 < m < n. */
const proof = (m: number, d: Buffer[]) => subproof(m, d, true);

/** 2.1.3.2, step by step. */
function rfcVerifyInclusion(
  leafIndex: number,
  treeSize: number,
  hash: Buffer,
  inclusionPath: Buffer[],
  root: Buffer,
): boolean {
  if (leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = hash;
  for (const p of inclusionPath) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1) === 0) {
        while (!((fn & 1) === 1 || fn === 0)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}
/** 2.1.4.2, step by step. */
function rfcVerifyConsistency(
  first: number,
  second: number,
  firstHash: Buffer,
  secondHash: Buffer,
  consistencyPath: Buffer[],
): boolean {
  if (consistencyPath.length === 0) return false;
  const p = (first & (first - 1)) === 0 ? [firstHash, ...consistencyPath] : [...consistencyPath];
  let fn = first - 1;
  let sn = second - 1;
  while ((fn & 1) === 1) {
    fn >>= 1;
    sn >>= 1;
  }
  let fr = p[0]!;
  let sr = p[0]!;
  for (const c of p.slice(1)) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1) === 0) {
        while (!((fn & 1) === 1 || fn === 0)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0;
}

// ---- fixtures ------------------------------------------------------------------------------

/** Leaf inputs: 32-byte "row hashes" derived from their index, nothing from the code under test. */
const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => createHash('sha256').update(`row ${i}`).digest());
const hex = (b: Buffer) => b.toString('hex');
const hexes = (list: Buffer[]) => list.map(hex);

/** A deterministic generator, so a failing size can be reproduced. */
function random(seed: number) {
  let state = seed >>> 0;
  return (below: number) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state % below;
  };
}

async function buildTree(d: Buffer[]): Promise<MemoryMerkleTree> {
  const tree = new MemoryMerkleTree();
  for (const row of d) await tree.append(await merkleLeafHash(hex(row)));
  return tree;
}

const SMALL = 64;
const all = rows(SMALL);

describe('the reference implementation itself', () => {
  it('has the RFC 6962/9162 empty-tree root and hand-checkable small trees', () => {
    expect(hex(mth([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const [a, b, c] = rows(3) as [Buffer, Buffer, Buffer];
    expect(mth([a, b, c]).equals(nodeHash(nodeHash(leafHash(a), leafHash(b)), leafHash(c)))).toBe(
      true,
    );
    expect(path(2, [a, b, c]).map(hex)).toEqual([hex(nodeHash(leafHash(a), leafHash(b)))]);
    // RFC 9162 2.1.5's example: PROOF(3, D[7]) = [c, d, g, l] (c = leaf 2, d = leaf 3, g = MTH(D[0:2]), l = MTH(D[4:7])).
    const d7 = rows(7);
    expect(hexes(proof(3, d7))).toEqual(
      hexes([leafHash(d7[2]!), leafHash(d7[3]!), mth(d7.slice(0, 2)), mth(d7.slice(4, 7))]),
    );
    expect(hexes(proof(4, d7))).toEqual(hexes([mth(d7.slice(4, 7))]));
    expect(hexes(proof(6, d7))).toEqual(
      hexes([mth(d7.slice(4, 6)), leafHash(d7[6]!), mth(d7.slice(0, 4))]),
    ); // [i, j, k]
    // 2.1.5's audit paths: PATH(0) = [b, h, l], PATH(3) = [c, g, l], PATH(4) = [f, j, k], PATH(6) = [i, k].
    expect(hexes(path(0, d7))).toEqual(
      hexes([leafHash(d7[1]!), mth(d7.slice(2, 4)), mth(d7.slice(4, 7))]),
    );
    expect(hexes(path(3, d7))).toEqual(
      hexes([leafHash(d7[2]!), mth(d7.slice(0, 2)), mth(d7.slice(4, 7))]),
    );
    expect(hexes(path(4, d7))).toEqual(
      hexes([leafHash(d7[5]!), leafHash(d7[6]!), mth(d7.slice(0, 4))]),
    );
    expect(hexes(path(6, d7))).toEqual(hexes([mth(d7.slice(4, 6)), mth(d7.slice(0, 4))]));
  });
});

describe('hashes and roots', () => {
  it('hash leaves and nodes with the 0x00 / 0x01 prefixes', async () => {
    const [a, b] = rows(2) as [Buffer, Buffer];
    expect(await merkleLeafHash(hex(a))).toBe(hex(leafHash(a)));
    expect(await merkleNodeHash(hex(a), hex(b))).toBe(hex(nodeHash(a, b)));
    expect(EMPTY_TREE_ROOT).toBe(hex(H()));
  });

  it('gives MTH(D[n]) for every n up to 64', async () => {
    const tree = await buildTree(all);
    for (let n = 0; n <= SMALL; n += 1) {
      expect(await treeRoot(tree.read, n), `n = ${n}`).toBe(hex(mth(all.slice(0, n))));
      expect(await tree.root(n)).toBe(hex(mth(all.slice(0, n))));
    }
  });

  it('refuses hashes that are not 64 lower-case hex digits', async () => {
    await expect(merkleLeafHash('AB'.repeat(32))).rejects.toThrow(TypeError);
    await expect(merkleNodeHash('ab'.repeat(31), 'ab'.repeat(32))).rejects.toThrow(TypeError);
  });
});

describe('inclusion (RFC 9162 2.1.3)', () => {
  it('builds PATH(m, D[n]) for every leaf of every size up to 64, and both verifiers accept it', async () => {
    const tree = await buildTree(all);
    for (let n = 1; n <= SMALL; n += 1) {
      const d = all.slice(0, n);
      const root = mth(d);
      for (let m = 0; m < n; m += 1) {
        const expected = path(m, d);
        const got = await inclusionPath(tree.read, m, n);
        expect(got, `m = ${m}, n = ${n}`).toEqual(hexes(expected));
        expect(rfcVerifyInclusion(m, n, leafHash(d[m]!), expected, root)).toBe(true);
        expect(
          await verifyInclusion(m, n, hex(leafHash(d[m]!)), got, hex(root)),
          `m = ${m}, n = ${n}`,
        ).toBe(true);
      }
    }
  });

  it('agrees with the reference on random larger trees', async () => {
    const next = random(9162);
    const big = rows(1500);
    const tree = await buildTree(big);
    for (let trial = 0; trial < 40; trial += 1) {
      const n = 65 + next(big.length - 64);
      const m = next(n);
      const d = big.slice(0, n);
      const got = await inclusionPath(tree.read, m, n);
      expect(got, `m = ${m}, n = ${n}`).toEqual(hexes(path(m, d)));
      expect(await verifyInclusion(m, n, hex(leafHash(d[m]!)), got, hex(mth(d)))).toBe(true);
    }
  });

  it('refuses a wrong index, a wrong size, a tampered, shortened or lengthened path, and another leaf', async () => {
    const tree = await buildTree(all);
    let checked = 0;
    for (const n of [2, 3, 5, 7, 8, 13, 16, 31, 33, 64]) {
      const d = all.slice(0, n);
      const root = hex(mth(d));
      for (let m = 0; m < n; m += 1) {
        const leaf = hex(leafHash(d[m]!));
        const good = await inclusionPath(tree.read, m, n);
        const cases: [string, number, number, string, string[]][] = [
          ['index + 1', m + 1, n, leaf, good],
          ['index - 1', m - 1, n, leaf, good],
          ['size + 1', m, n + 1, leaf, good],
          ['size - 1', m, n - 1, leaf, good],
          ['other leaf', m, n, hex(leafHash(d[(m + 1) % n]!)), good],
          ['shortened', m, n, leaf, good.slice(0, -1)],
          ['lengthened', m, n, leaf, [...good, good[0]!]],
          ...good.map((_, i): [string, number, number, string, string[]] => [
            `element ${i} flipped`,
            m,
            n,
            leaf,
            good.map((h, j) => (j === i ? flip(h) : h)),
          ]),
        ];
        for (const [what, index, size, leafHex, p] of cases) {
          // The reference decides; a case it accepts (e.g. index - 1 sharing a path shape) is not a negative.
          const reference =
            index >= 0 &&
            size > 0 &&
            rfcVerifyInclusion(
              index,
              size,
              Buffer.from(leafHex, 'hex'),
              p.map((h) => Buffer.from(h, 'hex')),
              Buffer.from(root, 'hex'),
            );
          expect(
            await verifyInclusion(index, size, leafHex, p, root),
            `${what}: m = ${m}, n = ${n}`,
          ).toBe(reference);
          if (!reference) checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('refuses out-of-range arguments and malformed hashes without throwing', async () => {
    const d = all.slice(0, 5);
    const root = hex(mth(d));
    const leaf = hex(leafHash(d[0]!));
    const good = hexes(path(0, d));
    expect(await verifyInclusion(0, 0, leaf, [], hex(H()))).toBe(false);
    expect(await verifyInclusion(5, 5, leaf, good, root)).toBe(false);
    expect(await verifyInclusion(-1, 5, leaf, good, root)).toBe(false);
    expect(await verifyInclusion(0.5, 5, leaf, good, root)).toBe(false);
    expect(await verifyInclusion(0, 5, leaf, ['zz', ...good.slice(1)], root)).toBe(false);
    await expect(inclusionPath((await buildTree(d)).read, 5, 5)).rejects.toThrow(RangeError);
  });
});

describe('consistency (RFC 9162 2.1.4)', () => {
  it('builds PROOF(m, D[n]) for every 0 < m < n <= 64, and both verifiers accept it', async () => {
    const tree = await buildTree(all);
    for (let n = 1; n <= SMALL; n += 1) {
      const d = all.slice(0, n);
      const second = mth(d);
      for (let m = 1; m < n; m += 1) {
        const first = mth(d.slice(0, m));
        const expected = proof(m, d);
        const got = await consistencyProof(tree.read, m, n);
        expect(got, `m = ${m}, n = ${n}`).toEqual(hexes(expected));
        expect(rfcVerifyConsistency(m, n, first, second, expected)).toBe(true);
        expect(
          await verifyConsistency(m, n, hex(first), hex(second), got),
          `m = ${m}, n = ${n}`,
        ).toBe(true);
      }
    }
  });

  it('agrees with the reference on random larger trees', async () => {
    const next = random(6962);
    const big = rows(1500);
    const tree = await buildTree(big);
    for (let trial = 0; trial < 40; trial += 1) {
      const n = 65 + next(big.length - 64);
      const m = 1 + next(n - 1);
      const d = big.slice(0, n);
      const got = await consistencyProof(tree.read, m, n);
      expect(got, `m = ${m}, n = ${n}`).toEqual(hexes(proof(m, d)));
      expect(await verifyConsistency(m, n, hex(mth(d.slice(0, m))), hex(mth(d)), got)).toBe(true);
    }
  });

  it('refuses a proof for other sizes, a tampered element, a rewritten old tree and a swapped root', async () => {
    const tree = await buildTree(all);
    const rewritten = [...all];
    rewritten[2] = createHash('sha256').update('rewritten').digest();
    let checked = 0;
    for (const [m, n] of [
      [1, 2],
      [3, 7],
      [4, 7],
      [6, 8],
      [8, 13],
      [5, 33],
      [16, 64],
      [31, 64],
    ] as const) {
      const d = all.slice(0, n);
      const first = hex(mth(d.slice(0, m)));
      const second = hex(mth(d));
      const good = await consistencyProof(tree.read, m, n);
      const cases: [string, number, number, string, string, string[]][] = [
        ['first + 1', m + 1, n, first, second, good],
        ['second + 1', m, n + 1, first, second, good],
        ['second - 1', m, n - 1, first, second, good],
        [
          'proof of another pair',
          m,
          n,
          first,
          second,
          await consistencyProof(tree.read, m === 1 ? 2 : m - 1, n),
        ],
        ['roots swapped', m, n, second, first, good],
        ['rewritten old tree', m, n, hex(mth(rewritten.slice(0, m))), second, good],
        ['empty proof', m, n, first, second, []],
        ['shortened', m, n, first, second, good.slice(0, -1)],
        ['lengthened', m, n, first, second, [...good, good[0]!]],
        ...good.map((_, i): [string, number, number, string, string, string[]] => [
          `element ${i} flipped`,
          m,
          n,
          first,
          second,
          good.map((h, j) => (j === i ? flip(h) : h)),
        ]),
      ];
      for (const [what, a, b, ra, rb, p] of cases) {
        const reference =
          a > 0 &&
          a < b &&
          rfcVerifyConsistency(
            a,
            b,
            Buffer.from(ra, 'hex'),
            Buffer.from(rb, 'hex'),
            p.map((h) => Buffer.from(h, 'hex')),
          );
        expect(await verifyConsistency(a, b, ra, rb, p), `${what}: ${m} -> ${n}`).toBe(reference);
        if (!reference) checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('handles the edge sizes: the empty tree, equal sizes, a larger first tree', async () => {
    const d = all.slice(0, 9);
    const root = hex(mth(d));
    const tree = await buildTree(d);
    expect(await consistencyProof(tree.read, 0, 9)).toEqual([]);
    expect(await consistencyProof(tree.read, 9, 9)).toEqual([]);
    expect(await verifyConsistency(0, 9, hex(H()), root, [])).toBe(true);
    expect(await verifyConsistency(0, 9, root, root, [])).toBe(false);
    expect(await verifyConsistency(0, 0, hex(H()), hex(H()), [])).toBe(true);
    expect(await verifyConsistency(9, 9, root, root, [])).toBe(true);
    expect(await verifyConsistency(9, 9, root, hex(mth(d.slice(0, 8))), [])).toBe(false);
    expect(await verifyConsistency(9, 9, root, root, [root])).toBe(false);
    expect(await verifyConsistency(9, 8, root, hex(mth(d.slice(0, 8))), [])).toBe(false);
    await expect(consistencyProof(tree.read, 9, 8)).rejects.toThrow(RangeError);
    expect(await verifyConsistency(3, 9, hex(mth(d.slice(0, 3))), root, ['not hex'])).toBe(false);
  });
});

describe('frontier and seeding', () => {
  it('covers [0, size) with one perfect subtree per set bit, largest first', () => {
    expect(frontierAddresses(0)).toEqual([]);
    expect(frontierAddresses(1)).toEqual([{ level: 0, index: 0 }]);
    expect(frontierAddresses(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(frontierAddresses(64)).toEqual([{ level: 6, index: 0 }]);
  });

  it('lets a tree seeded with a frontier go on to the same roots as the whole tree', async () => {
    for (const size of [1, 5, 13, 32, 47]) {
      const seeded = new MemoryMerkleTree();
      seeded.seed(
        size,
        frontierAddresses(size).map(({ level, index }) => ({
          level,
          index,
          hash: hex(mth(all.slice(index * 2 ** level, (index + 1) * 2 ** level))),
        })),
      );
      for (const row of all.slice(size)) await seeded.append(await merkleLeafHash(hex(row)));
      for (const n of [size, size + 1, SMALL])
        expect(await seeded.root(n), `seed ${size}, n = ${n}`).toBe(hex(mth(all.slice(0, n))));
    }
    expect(() => new MemoryMerkleTree().seed(13, [{ level: 3, index: 0, hash: hex(H()) }])).toThrow(
      TypeError,
    );
  });
});

function flip(hash: string): string {
  return (hash[0] === '0' ? '1' : '0') + hash.slice(1);
}
