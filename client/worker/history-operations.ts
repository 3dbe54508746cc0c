// History checks in the worker (issue 22): is each event of a person's history in the newest signed
// tree head, and which Auditors countersigned which head (verified against their certified keys).
import {
  type AuditEventView,
  getAuditHead,
  getConsistencyProof,
  getInclusionProof,
  type WitnessSignature,
} from '../../shared/api';
import { ApiError, type CallApi } from '../../shared/api/client';
import { canonicalAuditBytes } from '../../shared/audit/canonical';
import { merkleLeafHash, verifyConsistency, verifyInclusion } from '../../shared/audit/merkle';
import {
  AUDIT_WITNESS_CONTEXT,
  auditWitnessPayloadSchema,
  importLogKey,
  type SignedTreeHead,
  verifyTreeHead,
} from '../../shared/audit/tree-head';
import { fromBase64Url, sha256, toHex, verifyStatement } from '../../shared/crypto';
import { parseSigned } from '../../shared/flows/certificates';
import type { AccountSlot } from './account-operations';
import { NotSignedInError } from './outcome';
import type { Trust } from './trust';

/**
 * Why the newest head could not be trusted: its log key is not the one this account pinned, its
 * signature fails, it is smaller than or inconsistent with the pinned head, or the server answered
 * no proof. Each is a security warning, never "recorded".
 */
export type HeadProblem =
  | 'log-key-changed'
  | 'head-signature'
  | 'head-rollback'
  | 'head-inconsistent'
  | 'proof-unavailable';

/** One event: in the signed head (proof verified), newer than that head, or not provably recorded. */
export type EventCheckState =
  'recorded' | 'not-yet-signed' | 'hash-mismatch' | 'not-included' | 'unavailable';

export interface HistoryChecks {
  /** The verified head the events were checked against (null: none signed yet, or a problem). */
  readonly head: { readonly treeSize: number; readonly signedAt: string } | null;
  readonly problem: HeadProblem | null;
  readonly events: readonly { readonly seq: number; readonly state: EventCheckState }[];
}

export interface VerifiedWitness {
  readonly userId: string;
  /** From the Auditor's certificate, not the server's e-mail field. */
  readonly email: string;
  readonly witnessedAt: string;
}

export type WitnessedHeadStatus =
  | { readonly state: 'none' }
  | {
      readonly state: 'verified';
      readonly treeSize: number;
      readonly headSignedAt: string;
      readonly witnesses: readonly VerifiedWitness[];
      readonly unverifiedCount: number;
    }
  | { readonly state: 'unverified'; readonly reason: HeadProblem | 'witness-invalid' };

interface TrustedHead {
  readonly logId: string;
  readonly keyId: string;
  readonly key: CryptoKey;
  readonly head: SignedTreeHead | null;
}

class HeadUntrusted extends Error {
  constructor(readonly problem: HeadProblem) {
    super(`the audit head cannot be trusted: ${problem}`);
  }
}

async function consistent(
  api: CallApi,
  first: { treeSize: number; rootHash: string },
  second: SignedTreeHead,
): Promise<boolean> {
  if (first.treeSize > second.treeSize) return false;
  if (first.treeSize === second.treeSize) return first.rootHash === second.rootHash;
  if (first.treeSize === 0) return true;
  const answer = await api(getConsistencyProof, {
    query: { first: first.treeSize, second: second.treeSize },
  });
  return verifyConsistency(
    first.treeSize,
    second.treeSize,
    first.rootHash,
    second.rootHash,
    answer.proof,
  );
}

/**
 * WARNING: runs only inside the crypto worker. Nothing here is taken on the server's word: the log
 * key must match the key safe's `audit` pin (SECURITY.md 6.3), heads must carry its signature and be
 * consistent with the pinned head (RFC 9162 2.1.4), each event is re-hashed here and its inclusion
 * path checked against the signed root (RFC 9162 2.1.3), and a witness statement counts only under
 * the signing key the Auditor's certificate chain (to the pinned root) vouches for.
 */
export function createHistoryOperations(deps: {
  readonly api: CallApi;
  readonly account: AccountSlot;
  readonly trust: Trust;
}) {
  const held = () => {
    const account = deps.account.current;
    if (!account) throw new NotSignedInError();
    return account;
  };

  /** The newest head, verified and checked against the pin; a newer verified head moves the pin forward. */
  async function trustedHead(answer: Awaited<ReturnType<typeof fetchHead>>): Promise<TrustedHead> {
    const { keySafe } = held();
    const pin = keySafe.current().audit;
    if (pin && (pin.keyId !== answer.logKey.keyId || pin.logId !== answer.logId))
      throw new HeadUntrusted('log-key-changed');
    let key: CryptoKey;
    try {
      key = await importLogKey(answer.logKey);
    } catch {
      throw new HeadUntrusted('log-key-changed');
    }
    const head = answer.treeHead;
    if (!head) {
      if (pin && pin.treeSize > 0) throw new HeadUntrusted('head-rollback');
      return { logId: answer.logId, keyId: answer.logKey.keyId, key, head: null };
    }
    if (!(await verifyTreeHead(key, answer.logKey.keyId, answer.logId, head)))
      throw new HeadUntrusted('head-signature');
    if (pin) {
      if (pin.treeSize > head.treeSize) throw new HeadUntrusted('head-rollback');
      let ok: boolean;
      try {
        ok = await consistent(deps.api, pin, head);
      } catch (error) {
        if (error instanceof ApiError) throw new HeadUntrusted('proof-unavailable');
        throw error;
      }
      if (!ok) throw new HeadUntrusted('head-inconsistent');
    }
    if (!pin || head.treeSize > pin.treeSize) {
      keySafe.update((safe) => ({
        ...safe,
        audit: {
          logId: head.logId,
          keyId: head.keyId,
          treeSize: head.treeSize,
          rootHash: head.rootHash,
          signedAt: head.signedAt,
        },
      }));
    }
    return { logId: answer.logId, keyId: answer.logKey.keyId, key, head };
  }

  function fetchHead() {
    return deps.api(getAuditHead, {});
  }

  async function checkEvent(head: SignedTreeHead, event: AuditEventView): Promise<EventCheckState> {
    let hash: string;
    try {
      hash = toHex(await sha256(canonicalAuditBytes(event)));
    } catch {
      return 'hash-mismatch';
    }
    if (hash !== event.hash) return 'hash-mismatch';
    if (event.seq > head.treeSize) return 'not-yet-signed';
    let path: readonly string[];
    try {
      path = (
        await deps.api(getInclusionProof, { query: { seq: event.seq, treeSize: head.treeSize } })
      ).path;
    } catch (error) {
      if (error instanceof ApiError) return 'unavailable';
      throw error;
    }
    // The leaf hash is computed here from the re-hashed row, never taken from the answer.
    const leaf = await merkleLeafHash(hash);
    return (await verifyInclusion(event.seq - 1, head.treeSize, leaf, path, head.rootHash))
      ? 'recorded'
      : 'not-included';
  }

  return {
    /** Checks each event of a history page for inclusion in the newest signed head. */
    async checkHistoryEvents(events: readonly AuditEventView[]): Promise<HistoryChecks> {
      let trusted: TrustedHead;
      try {
        trusted = await trustedHead(await fetchHead());
      } catch (error) {
        if (error instanceof HeadUntrusted)
          return {
            head: null,
            problem: error.problem,
            events: events.map((e) => ({ seq: e.seq, state: 'unavailable' })),
          };
        throw error;
      }
      const head = trusted.head;
      if (!head)
        return {
          head: null,
          problem: null,
          events: events.map((e) => ({ seq: e.seq, state: 'not-yet-signed' })),
        };
      const checked = [];
      for (const event of events)
        checked.push({ seq: event.seq, state: await checkEvent(head, event) });
      return {
        head: { treeSize: head.treeSize, signedAt: head.signedAt },
        problem: null,
        events: checked,
      };
    },

    /** The newest head an Auditor countersigned, with the countersignatures that verify. */
    async latestWitnessedHead(): Promise<WitnessedHeadStatus> {
      const answer = await fetchHead();
      const witnessed = answer.latestWitnessed;
      if (!witnessed) return { state: 'none' };
      let trusted: TrustedHead;
      try {
        trusted = await trustedHead(answer);
        if (!trusted.head) throw new HeadUntrusted('head-rollback');
        if (!(await verifyTreeHead(trusted.key, trusted.keyId, trusted.logId, witnessed.treeHead)))
          throw new HeadUntrusted('head-signature');
        // A witnessed head of another history (a fork) has no consistency proof to the current one.
        if (!(await consistent(deps.api, witnessed.treeHead, trusted.head).catch(() => false)))
          throw new HeadUntrusted('head-inconsistent');
      } catch (error) {
        if (error instanceof HeadUntrusted) return { state: 'unverified', reason: error.problem };
        throw error;
      }
      const head = witnessed.treeHead;
      const verified: VerifiedWitness[] = [];
      for (const witness of witnessed.witnesses) {
        const checked = await verifyWitness(witness, head);
        if (checked && !verified.some((v) => v.userId === checked.userId)) verified.push(checked);
      }
      if (verified.length === 0) return { state: 'unverified', reason: 'witness-invalid' };
      return {
        state: 'verified',
        treeSize: head.treeSize,
        headSignedAt: head.signedAt,
        witnesses: verified,
        unverifiedCount: witnessed.witnesses.length - verified.length,
      };
    },
  };

  async function verifyWitness(
    witness: WitnessSignature,
    head: SignedTreeHead,
  ): Promise<VerifiedWitness | null> {
    const identity = await deps.trust.identity(witness.witnessId);
    if (identity?.role !== 'auditor') return null;
    const parsed = parseSigned(witness.statement, auditWitnessPayloadSchema);
    if (!parsed) return null;
    const statement = parsed.value;
    // The statement must name exactly this head.
    if (
      statement.logId !== head.logId ||
      statement.keyId !== head.keyId ||
      statement.treeSize !== head.treeSize ||
      statement.rootHash !== head.rootHash ||
      statement.headSignedAt !== head.signedAt
    )
      return null;
    let signature: Uint8Array;
    try {
      signature = fromBase64Url(witness.statement.signature);
    } catch {
      return null;
    }
    if (
      !(await verifyStatement(identity.signingKey, AUDIT_WITNESS_CONTEXT, parsed.bytes, signature))
    )
      return null;
    return { userId: identity.userId, email: identity.email, witnessedAt: statement.witnessedAt };
  }
}

export type HistoryOperations = ReturnType<typeof createHistoryOperations>;
