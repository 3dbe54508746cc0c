// Test support: an audit log held in memory that behaves like the server's (rows hashed with the
// real encoding, a stored Merkle tree, signed heads, proofs, exports), so verifier tests can tamper
// with rows exactly as someone with the database would. The caller signs (it holds the key).
import { canonicalAuditBytes, GENESIS_PREV_HASH } from './canonical';
import {
  MemoryMerkleTree,
  consistencyProof,
  inclusionPath,
  largestPowerOfTwoBelow,
  merkleLeafHash,
  rangeHash,
} from './merkle';
import { type LogKey, type SignedTreeHead, treeHeadBytes } from './tree-head';
import {
  type AuditLogSource,
  type VerifiableEvent,
  type VerifiableExport,
  toChainFields,
} from './verify';
import { sha256 } from '../crypto/hash';
import { toHex } from '../crypto/bytes';

export interface MemoryLogSigner {
  readonly logId: string;
  readonly logKey: LogKey;
  /** Ed25519 signature over `bytes`, base64url. */
  sign(bytes: Uint8Array): Promise<string>;
}

type MutableEvent = { -readonly [K in keyof VerifiableEvent]: VerifiableEvent[K] };

export async function hashEvent(event: VerifiableEvent): Promise<string> {
  return toHex(await sha256(canonicalAuditBytes(toChainFields(event))));
}

/** Renumbers events from `from` (0-based) on and recomputes their prevHash and hash, as a forger would. */
export async function rechain(events: MutableEvent[], from = 0): Promise<void> {
  for (let i = from; i < events.length; i += 1) {
    const event = events[i]!;
    event.seq = i + 1;
    event.prevHash = i === 0 ? GENESIS_PREV_HASH : events[i - 1]!.hash;
    event.hash = await hashEvent(event);
  }
}

export class MemoryAuditLog {
  /** The rows as stored; tests change them directly to tamper. */
  readonly events: MutableEvent[] = [];
  /** The stored Merkle tree, built as rows were appended (tampering rows leaves it alone). */
  readonly tree = new MemoryMerkleTree();
  readonly heads: SignedTreeHead[] = [];
  private clock = Date.UTC(2026, 0, 2, 3, 4, 5);

  constructor(readonly signer: MemoryLogSigner) {}

  async append(
    overrides: Partial<Omit<VerifiableEvent, 'seq' | 'prevHash' | 'hash' | 'encoding'>> = {},
  ): Promise<VerifiableEvent> {
    const seq = this.events.length + 1;
    this.clock += 1000;
    const event: MutableEvent = {
      seq,
      id: `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`,
      occurredAt: new Date(this.clock).toISOString(),
      action: seq % 3 === 0 ? 'document.downloaded' : 'account.login_succeeded',
      actorId: `u_${seq % 5}`,
      actorRole: 'staff',
      targetType: 'document',
      targetId: `d_${seq % 7}`,
      ip: '192.0.2.7',
      userAgent: 'Mozilla/5.0 (test)',
      result: 'success',
      details: `{"n":${seq}}`,
      ...overrides,
      prevHash: this.events.at(-1)?.hash ?? GENESIS_PREV_HASH,
      hash: '',
      encoding: 2,
    };
    event.hash = await hashEvent(event);
    this.events.push(event);
    await this.tree.append(await merkleLeafHash(event.hash));
    return event;
  }

  async appendMany(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await this.append();
  }

  /** Signs a head over the stored tree's first `size` leaves (all by default). */
  async signHead(
    size = this.tree.size,
    fields: Partial<Omit<SignedTreeHead, 'signature'>> = {},
  ): Promise<SignedTreeHead> {
    this.clock += 1000;
    const unsigned = {
      logId: this.signer.logId,
      keyId: this.signer.logKey.keyId,
      treeSize: size,
      rootHash: await this.tree.root(size),
      signedAt: new Date(this.clock).toISOString(),
      ...fields,
    };
    const head = { ...unsigned, signature: await this.signer.sign(treeHeadBytes(unsigned)) };
    this.heads.push(head);
    return head;
  }

  /** The API as the server serves it, in pages of `pageSize`, with the newest head (or `head`). */
  source(
    options: { head?: SignedTreeHead; pageSize?: number; logKey?: LogKey; logId?: string } = {},
  ): AuditLogSource {
    const pageSize = options.pageSize ?? 7;
    return {
      head: () =>
        Promise.resolve({
          logId: options.logId ?? this.signer.logId,
          logKey: options.logKey ?? this.signer.logKey,
          treeHead: options.head ?? this.heads.at(-1) ?? null,
          checkpoint: null,
        }),
      chain: (after) => {
        const index = this.events.findIndex((event) => event.seq > after);
        return Promise.resolve({
          events:
            index < 0 ? [] : this.events.slice(index, index + pageSize).map((e) => ({ ...e })),
          frontier: null,
        });
      },
      consistency: (first, second) => consistencyProof(this.tree.read, first, second),
      split: async (start, end) => {
        const middle = start + largestPowerOfTwoBelow(end - start);
        return {
          left: await rangeHash(this.tree.read, start, middle),
          right: await rangeHash(this.tree.read, middle, end),
        };
      },
    };
  }

  /** An export of every event the head covers, with inclusion paths from the stored tree. */
  async exportAll(head: SignedTreeHead = this.heads.at(-1)!): Promise<VerifiableExport> {
    const events = [];
    for (const event of this.events.filter((e) => e.seq <= head.treeSize)) {
      events.push({
        ...event,
        inclusionPath: await inclusionPath(this.tree.read, event.seq - 1, head.treeSize),
      });
    }
    return {
      logId: this.signer.logId,
      logKey: this.signer.logKey,
      treeHead: head,
      checkpoint: null,
      complete: true,
      events,
    };
  }
}
