// Verifying the audit log without trusting the server: the Auditor's browser (verifyAuditLog over
// the API) and `npm run audit:verify` (verifyAuditExport over an export file) run this code.
//
// What is checked, in order (SECURITY.md 6.4):
//   1. the log key matches its key id, and the one this verifier pinned before (if any);
//   2. the newest tree head carries the log key's Ed25519 signature, for this log;
//   3. it is not smaller than the pinned head, and an RFC 9162 consistency proof shows the pinned
//      tree is a prefix of it (a server that rewrote or dropped history cannot make one);
//   4. the retention checkpoint, if any, is signed too, and the chain continues from it;
//   5. every event re-hashes to its stored hash and links to the one before (seq + 1, prevHash);
//   6. the Merkle root over the events' hashes equals the signed root; if not, the verifier walks
//      down from the signed root (each step's child hashes must hash to the verified parent) to
//      the first event that differs from what the head signed.
import { type AuditChainFields, canonicalAuditBytes, GENESIS_PREV_HASH } from './canonical';
import { type AuditChainBreakReason, findAuditLinkBreak } from './chain';
import { EMPTY_TREE_ROOT, MemoryMerkleTree, type MerkleSubtree, largestPowerOfTwoBelow, merkleLeafHash, merkleNodeHash, rangeHash, verifyConsistency, verifyInclusion } from './merkle';
import { type LogKey, type SignedCheckpoint, type SignedTreeHead, importLogKey, verifyCheckpoint, verifyTreeHead } from './tree-head';
import { sha256 } from '../crypto/hash';
import { toHex } from '../crypto/bytes';

/** An event with every hashed field and its stored hash (the API's and the export's shape both fit). */
export interface VerifiableEvent {
  readonly seq: number;
  readonly id: string;
  readonly occurredAt: string;
  readonly action: string;
  readonly actorId: string | null;
  readonly actorRole: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly result: 'success' | 'failure' | 'denied' | null;
  readonly details: string;
  readonly prevHash: string;
  readonly hash: string;
  readonly encoding: 1 | 2;
}

/** What a verifier remembers of the last head it verified (kept per log, per browser). */
export interface AuditPin {
  readonly logId: string;
  readonly keyId: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly signedAt: string;
}

export type AuditFailureKind =
  /** The log key's id is not the SHA-256 of its public key. */
  | 'log_key_invalid'
  /** The log key (or log id) differs from the one this verifier pinned. */
  | 'log_key_changed'
  /** A tree head or checkpoint whose signature is not the log key's for this log. */
  | 'head_signature'
  /** The newest head is smaller than the pinned one: history was dropped, or an old head replayed. */
  | 'head_rollback'
  /** No valid consistency proof from the pinned head to the newest: history was rewritten. */
  | 'head_inconsistent'
  /** An event that does not re-hash, link or follow in seq order (changed, deleted, reordered rows). */
  | 'chain_break'
  /** An event whose hash is not the leaf the signed head committed to (e.g. a row inserted with recomputed hashes). */
  | 'event_not_signed'
  /** The signed root does not match the events and the server's tree does not lead to the difference. */
  | 'root_mismatch'
  /** An export that is not an export (wrong format or fields). */
  | 'malformed';

export interface AuditFailure {
  readonly kind: AuditFailureKind;
  /** The first bad event, when the failure is about one. */
  readonly seq?: number;
  readonly reason?: AuditChainBreakReason | 'inclusion_proof' | 'out_of_order';
  /** An English sentence for logs and the CLI; the UI words it from kind, seq and reason. */
  readonly message: string;
}

export type AuditVerification =
  | {
      readonly ok: true;
      /** Events checked up to and including treeHead.treeSize. */
      readonly verified: number;
      /** Newer events whose chain verified but that no signed head covers yet. */
      readonly unsignedTail: number;
      readonly treeHead: SignedTreeHead;
      /** What to remember: the head just verified. */
      readonly pin: AuditPin;
      readonly checkpoint: SignedCheckpoint | null;
      /**
       * Whether the pinned head was shown to be a prefix of treeHead ('checked'), or could not be
       * (an export that is filtered or pruned carries no consistency proof: 'unchecked'); null without a pin.
       */
      readonly pinConsistency?: 'checked' | 'unchecked' | null;
    }
  | { readonly ok: false; readonly failure: AuditFailure };

/** Where the browser's verifier reads the log: the API of shared/api/audit.ts, page by page. */
export interface AuditLogSource {
  head(): Promise<{ logId: string; logKey: LogKey; treeHead: SignedTreeHead | null; checkpoint: SignedCheckpoint | null }>;
  chain(after: number): Promise<{ events: readonly VerifiableEvent[]; frontier: readonly MerkleSubtree[] | null }>;
  consistency(first: number, second: number): Promise<readonly string[]>;
  /** The stored child hashes of MTH(D[start:end]) (split = start + largest power of two below end - start). */
  split(start: number, end: number): Promise<{ left: string; right: string }>;
}

export interface VerifyProgress {
  readonly verified: number;
  readonly total: number;
}

const fail = (failure: AuditFailure): AuditVerification => ({ ok: false, failure });

export function toChainFields(event: VerifiableEvent): AuditChainFields {
  return {
    seq: event.seq,
    id: event.id,
    occurredAt: event.occurredAt,
    action: event.action,
    actorId: event.actorId,
    targetType: event.targetType,
    targetId: event.targetId,
    ip: event.ip,
    details: event.details,
    prevHash: event.prevHash,
    encoding: event.encoding,
    actorRole: event.actorRole,
    userAgent: event.userAgent,
    result: event.result,
  };
}

/** The hash this event's fields give, or null when a field is out of format (a malformed row). */
export async function recomputeEventHash(event: VerifiableEvent): Promise<string | null> {
  try {
    return toHex(await sha256(canonicalAuditBytes(toChainFields(event))));
  } catch {
    return null;
  }
}

const breakMessage: Record<AuditChainBreakReason, string> = {
  seq_gap: 'is not the next event in sequence: an event before it is missing or out of order',
  prev_hash_mismatch: 'does not link to the event before it: events were removed, inserted or reordered',
  hash_mismatch: 'does not match its own hash: a field was changed',
  malformed_row: 'has a field that is out of format',
};

/** Checks one event against the one before it; null when it links. */
export async function checkChainLink(previous: { seq: number; hash: string } | null, event: VerifiableEvent): Promise<AuditFailure | null> {
  const recomputed = await recomputeEventHash(event);
  const reason = recomputed === null ? 'malformed_row' : findAuditLinkBreak(previous, { ...toChainFields(event), hash: event.hash }, recomputed);
  if (!reason) return null;
  const expectedSeq = previous ? previous.seq + 1 : 1;
  // A deleted event: the first bad event is the missing one, not the one after the gap.
  if (reason === 'seq_gap' && Number.isSafeInteger(event.seq) && event.seq > expectedSeq) {
    return { kind: 'chain_break', seq: expectedSeq, reason, message: `Event #${expectedSeq} is missing: the next event is #${event.seq}.` };
  }
  return { kind: 'chain_break', seq: event.seq, reason, message: `Event #${event.seq} ${breakMessage[reason]}.` };
}

async function checkHeadAgainstPin(
  source: Pick<AuditLogSource, 'consistency'>,
  pin: AuditPin,
  head: SignedTreeHead,
): Promise<AuditFailure | null> {
  if (head.treeSize < pin.treeSize) {
    return {
      kind: 'head_rollback',
      message: `The newest signed head has ${head.treeSize} events, fewer than the ${pin.treeSize} this browser verified on ${pin.signedAt}: history was dropped or an old head was replayed.`,
    };
  }
  if (head.treeSize === pin.treeSize) {
    if (head.rootHash === pin.rootHash) return null;
    return { kind: 'head_inconsistent', message: `The head of ${head.treeSize} events has a different root than the one verified on ${pin.signedAt}: history was rewritten.` };
  }
  let proof: readonly string[];
  try {
    proof = await source.consistency(pin.treeSize, head.treeSize);
  } catch {
    proof = [];
  }
  if (!(await verifyConsistency(pin.treeSize, head.treeSize, pin.rootHash, head.rootHash, proof))) {
    return {
      kind: 'head_inconsistent',
      message: `The head of ${head.treeSize} events is not consistent with the head of ${pin.treeSize} events verified on ${pin.signedAt}: history was rewritten.`,
    };
  }
  return null;
}

/**
 * Walks down from a verified root over [start, end) to the first leaf where the verifier's own
 * tree differs from what the root committed to. Returns its leaf index, or null when the server's
 * stored tree does not hash to the verified parent (then only the range is known).
 */
async function locateDifference(source: AuditLogSource, own: MemoryMerkleTree, expected: string, start: number, end: number): Promise<number | null> {
  let low = start;
  let high = end;
  let parent = expected;
  while (high - low > 1) {
    let children: { left: string; right: string };
    try {
      children = await source.split(low, high);
    } catch {
      return null;
    }
    if ((await merkleNodeHash(children.left, children.right)) !== parent) return null;
    const middle = low + largestPowerOfTwoBelow(high - low);
    const ownLeft = await rangeHash(own.read, low, middle);
    if (ownLeft !== children.left) {
      high = middle;
      parent = children.left;
    } else {
      low = middle;
      parent = children.right;
    }
  }
  return low;
}

/**
 * Verifies the whole log as `source` serves it. `pin` is what this verifier verified last (null the
 * first time). Never throws for anything the server sends: every problem is a failure.
 */
export async function verifyAuditLog(source: AuditLogSource, pin: AuditPin | null, onProgress?: (progress: VerifyProgress) => void): Promise<AuditVerification> {
  const { logId, logKey, treeHead, checkpoint } = await source.head();
  let key: CryptoKey;
  try {
    key = await importLogKey(logKey);
  } catch {
    return fail({ kind: 'log_key_invalid', message: 'The log key does not match its key id.' });
  }
  if (pin && (pin.keyId !== logKey.keyId || pin.logId !== logId)) {
    return fail({ kind: 'log_key_changed', message: `The log now signs with key ${logKey.keyId.slice(0, 16)}…, not the key ${pin.keyId.slice(0, 16)}… this browser verified before.` });
  }
  if (!treeHead) {
    return fail({ kind: 'head_signature', message: 'The server has no signed tree head to verify against.' });
  }
  if (!(await verifyTreeHead(key, logKey.keyId, logId, treeHead))) {
    return fail({ kind: 'head_signature', message: `The head of ${treeHead.treeSize} events does not carry the log key's signature.` });
  }
  if (pin) {
    const problem = await checkHeadAgainstPin(source, pin, treeHead);
    if (problem) return fail(problem);
  }
  const tree = new MemoryMerkleTree();
  let previous: { seq: number; hash: string } | null = null;
  if (checkpoint) {
    if (!(await verifyCheckpoint(key, logKey.keyId, logId, checkpoint))) {
      return fail({ kind: 'head_signature', message: `The retention checkpoint through event #${checkpoint.throughSeq} does not carry the log key's signature.` });
    }
    previous = { seq: checkpoint.throughSeq, hash: checkpoint.throughHash };
  }
  const total = treeHead.treeSize;
  let unsignedTail = 0;
  let first = true;
  for (;;) {
    const after = previous?.seq ?? 0;
    const page = await source.chain(after);
    if (first && after > 0) {
      try {
        tree.seed(after, page.frontier ?? []);
      } catch {
        return fail({ kind: 'root_mismatch', message: `The server did not give the tree of the ${after} pruned events.` });
      }
    }
    first = false;
    if (page.events.length === 0) break;
    for (const event of page.events) {
      const problem = await checkChainLink(previous, event);
      if (problem) return fail(problem);
      if (event.seq <= total) await tree.append(await merkleLeafHash(event.hash));
      else unsignedTail += 1;
      previous = { seq: event.seq, hash: event.hash };
    }
    onProgress?.({ verified: Math.min(previous?.seq ?? 0, total), total });
  }
  if (tree.size < total) {
    const missing = tree.size + 1;
    return fail({ kind: 'chain_break', seq: missing, reason: 'seq_gap', message: `Event #${missing} is missing: the signed head covers ${total} events.` });
  }
  const root = total === 0 ? EMPTY_TREE_ROOT : await tree.root(total);
  if (root !== treeHead.rootHash) {
    const leaf = await locateDifference(source, tree, treeHead.rootHash, 0, total);
    if (leaf === null) {
      return fail({ kind: 'root_mismatch', message: `The events do not match the head of ${total} events signed at ${treeHead.signedAt}.` });
    }
    return fail({
      kind: 'event_not_signed',
      seq: leaf + 1,
      message: `Event #${leaf + 1} is not the event the head of ${total} events signed at ${treeHead.signedAt} contains: it was inserted or rewritten.`,
    });
  }
  return {
    ok: true,
    verified: total - (checkpoint?.throughSeq ?? 0),
    unsignedTail,
    treeHead,
    checkpoint,
    pin: { logId, keyId: logKey.keyId, treeSize: treeHead.treeSize, rootHash: treeHead.rootHash, signedAt: treeHead.signedAt },
  };
}

/** An export's parts verifyAuditExport needs (shared/api/audit.ts auditExportSchema, validated by the caller). */
export interface VerifiableExport {
  readonly logId: string;
  readonly logKey: LogKey;
  readonly treeHead: SignedTreeHead;
  readonly checkpoint: SignedCheckpoint | null;
  readonly complete: boolean;
  readonly events: readonly (VerifiableEvent & { readonly inclusionPath: readonly string[] })[];
}

/**
 * Verifies an export offline: the head's signature, then each event's hash, its link to the event
 * before it when that is in the export too, and its inclusion proof in the signed head. A complete
 * export must also hold every event from the checkpoint (or #1) to the head, in order.
 */
export async function verifyAuditExport(data: VerifiableExport, pin: AuditPin | null = null): Promise<AuditVerification> {
  let key: CryptoKey;
  try {
    key = await importLogKey(data.logKey);
  } catch {
    return fail({ kind: 'log_key_invalid', message: 'The log key does not match its key id.' });
  }
  if (pin && (pin.keyId !== data.logKey.keyId || pin.logId !== data.logId)) {
    return fail({ kind: 'log_key_changed', message: 'The export is signed by another log key than the pinned one.' });
  }
  const head = data.treeHead;
  if (!(await verifyTreeHead(key, data.logKey.keyId, data.logId, head))) {
    return fail({ kind: 'head_signature', message: `The head of ${head.treeSize} events does not carry the log key's signature.` });
  }
  if (pin && head.treeSize < pin.treeSize) {
    return fail({ kind: 'head_rollback', message: `The export's head has ${head.treeSize} events, fewer than the pinned ${pin.treeSize}.` });
  }
  if (pin && head.treeSize === pin.treeSize && head.rootHash !== pin.rootHash) {
    return fail({ kind: 'head_inconsistent', message: `The export's head of ${head.treeSize} events has a different root than the pinned head: history was rewritten.` });
  }
  if (data.checkpoint && !(await verifyCheckpoint(key, data.logKey.keyId, data.logId, data.checkpoint))) {
    return fail({ kind: 'head_signature', message: `The retention checkpoint through event #${data.checkpoint.throughSeq} does not carry the log key's signature.` });
  }
  let previous: { seq: number; hash: string } | null = data.checkpoint ? { seq: data.checkpoint.throughSeq, hash: data.checkpoint.throughHash } : null;
  let lastSeq = previous?.seq ?? 0;
  for (const event of data.events) {
    if (event.seq <= lastSeq) {
      return fail({ kind: 'chain_break', seq: event.seq, reason: 'out_of_order', message: `Event #${event.seq} comes after event #${lastSeq}: events are out of order or repeated.` });
    }
    if (data.complete && event.seq !== lastSeq + 1) {
      return fail({ kind: 'chain_break', seq: lastSeq + 1, reason: 'seq_gap', message: `Event #${lastSeq + 1} is missing from a complete export.` });
    }
    const linked = previous && previous.seq === event.seq - 1 ? previous : null;
    if (linked || event.seq === 1) {
      const problem = await checkChainLink(linked, event);
      if (problem) return fail(problem);
    } else {
      const recomputed = await recomputeEventHash(event);
      if (recomputed !== event.hash) {
        const reason = recomputed === null ? 'malformed_row' : 'hash_mismatch';
        return fail({ kind: 'chain_break', seq: event.seq, reason, message: `Event #${event.seq} ${breakMessage[reason]}.` });
      }
      if (event.prevHash === GENESIS_PREV_HASH && event.seq !== 1) {
        return fail({ kind: 'chain_break', seq: event.seq, reason: 'prev_hash_mismatch', message: `Event #${event.seq} ${breakMessage.prev_hash_mismatch}.` });
      }
    }
    if (event.seq > head.treeSize || !(await verifyInclusion(event.seq - 1, head.treeSize, await merkleLeafHash(event.hash), event.inclusionPath, head.rootHash))) {
      return fail({
        kind: 'event_not_signed',
        seq: event.seq,
        reason: 'inclusion_proof',
        message: `Event #${event.seq} is not in the head of ${head.treeSize} events signed at ${head.signedAt}: it was inserted or rewritten.`,
      });
    }
    previous = { seq: event.seq, hash: event.hash };
    lastSeq = event.seq;
  }
  if (data.complete && lastSeq !== head.treeSize) {
    return fail({ kind: 'chain_break', seq: lastSeq + 1, reason: 'seq_gap', message: `Event #${lastSeq + 1} is missing: the signed head covers ${head.treeSize} events.` });
  }
  let pinConsistency: 'checked' | 'unchecked' | null = null;
  if (pin) {
    pinConsistency = 'unchecked';
    if (pin.treeSize === head.treeSize) pinConsistency = 'checked';
    else if (data.complete && !data.checkpoint) {
      // Every leaf from the first is here and verified against the signed head, so the pinned
      // root must be the root of their first pin.treeSize leaves (RFC 9162 2.1.4: a prefix).
      const tree = new MemoryMerkleTree();
      for (const event of data.events.slice(0, pin.treeSize)) await tree.append(await merkleLeafHash(event.hash));
      if ((await tree.root(pin.treeSize)) !== pin.rootHash) {
        return fail({
          kind: 'head_inconsistent',
          message: `The export's head of ${head.treeSize} events does not extend the pinned head of ${pin.treeSize} events signed at ${pin.signedAt}: history was rewritten.`,
        });
      }
      pinConsistency = 'checked';
    }
  }
  return {
    ok: true,
    verified: data.events.length,
    unsignedTail: 0,
    treeHead: head,
    checkpoint: data.checkpoint,
    pin: { logId: data.logId, keyId: data.logKey.keyId, treeSize: head.treeSize, rootHash: head.rootHash, signedAt: head.signedAt },
    pinConsistency,
  };
}
