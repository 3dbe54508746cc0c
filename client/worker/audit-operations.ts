// The crypto worker's side of the auditor's workspace (issue 22, SECURITY.md 5.12): verifies the audit log, an
// event's inclusion proof and an export against the signed head and the head this browser pinned; countersigns a
// verified head with the Auditor's certified signing key; verifies every witness signature against the directory.
import {
  AUDIT_CHAIN_PAGE_MAX,
  type AuditExport,
  type AuditEventView,
  type AuditFilter,
  addAuditWitness,
  auditExportSchema,
  createAuditExport,
  getAuditChain,
  getAuditEvent,
  getAuditHead,
  getAuditTreeSplit,
  getConsistencyProof,
  listAuditWitnesses,
} from '../../shared/api';
import { ApiError, type CallApi } from '../../shared/api/client';
import { merkleLeafHash, verifyConsistency, verifyInclusion } from '../../shared/audit/merkle';
import {
  AUDIT_WITNESS_CONTEXT,
  type LogKey,
  type SignedTreeHead,
  auditWitnessPayloadSchema,
  importLogKey,
  verifyTreeHead,
} from '../../shared/audit/tree-head';
import {
  type AuditFailureKind,
  type AuditLogSource,
  type AuditPin,
  type AuditVerification,
  recomputeEventHash,
  verifyAuditExport,
  verifyAuditLog,
} from '../../shared/audit/verify';
import { fromBase64Url, signStatement, toBase64Url, utf8, verifyStatement } from '../../shared/crypto';
import { parseSigned } from '../../shared/flows/certificates';
import { NoSigningKeyError } from '../../shared/flows/spaces';
import type { AccountSlot, HeldAccount } from './account-operations';
import { NotSignedInError } from './outcome';
import type { DirectoryTrust } from './trust';

/**
 * WARNING: "verified" here means checked in this worker against the log key and the head pinned in
 * this person's key safe; nothing the server says about a head, a proof or a witness is taken on
 * its word. The pin moves only after a successful verification, and never backwards.
 */

/** A signed head as the page shows it. */
export interface HeadView {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly signedAt: string;
  readonly keyId: string;
}

export type AuditVerificationView =
  | {
      readonly ok: true;
      /** Events verified up to the head (after the retention checkpoint, if any). */
      readonly verified: number;
      /** Newer events whose chain verified but that no signed head covers yet. */
      readonly unsignedTail: number;
      readonly head: HeadView;
      /** Events removed under the retention setting (through this seq), covered by the signed checkpoint. */
      readonly prunedThrough: number | null;
      /** The head this browser had verified before (null the first time). */
      readonly previous: HeadView | null;
    }
  | {
      readonly ok: false;
      readonly kind: AuditFailureKind;
      readonly seq: number | null;
      readonly reason: string | null;
      /** The English sentence of shared/audit/verify.ts (the page words its own from kind and reason). */
      readonly message: string;
      /** The head the server offered (null when it offered none). */
      readonly offered: HeadView | null;
      readonly previous: HeadView | null;
    };

export interface VerifyAuditProgress {
  readonly verified: number;
  readonly total: number;
}

export type InclusionStatus =
  /** The event re-hashes, its head carries the log key's signature and the proof leads to the head's root. */
  | 'verified'
  /** No signed head contains it yet (it is newer than the newest head). */
  | 'unsigned'
  /** The event's fields do not give its stored hash. */
  | 'hash_mismatch'
  /** The head the proof is in does not carry the log key's signature (or names another log). */
  | 'head_signature'
  /** The log key differs from the one pinned in this browser. */
  | 'log_key_changed'
  /** The head is not consistent with the head this browser pinned. */
  | 'head_inconsistent'
  /** The inclusion path does not lead to the signed root. */
  | 'inclusion_proof';

export interface AuditEventDetail {
  readonly event: AuditEventView;
  readonly inclusion: InclusionStatus;
  readonly head: HeadView | null;
  readonly pathLength: number;
}

export type WitnessStatus = 'verified' | 'not_certified' | 'not_auditor' | 'bad_signature' | 'malformed' | 'head_mismatch';

export interface WitnessView {
  readonly id: string;
  readonly witnessId: string;
  /** The e-mail of the witness's certificate when verified; otherwise what the server lists (unverified). */
  readonly email: string | null;
  readonly status: WitnessStatus;
  readonly treeSize: number;
  /** The root the statement names (null when the statement does not parse). */
  readonly rootHash: string | null;
  /** When the Auditor's browser signed it (from the signed statement), else the server's time. */
  readonly witnessedAt: string;
}

export type AuditExportView =
  | { readonly ok: true; readonly data: AuditExport; readonly verified: number; readonly head: HeadView }
  | { readonly ok: false; readonly kind: AuditFailureKind; readonly seq: number | null; readonly reason: string | null; readonly message: string };

const headView = (head: { treeSize: number; rootHash: string; signedAt: string; keyId: string }): HeadView => ({
  treeSize: head.treeSize,
  rootHash: head.rootHash,
  signedAt: head.signedAt,
  keyId: head.keyId,
});

/** The audit endpoints as the shared verifier reads them; remembers the head the server offered. */
function apiSource(api: CallApi): { source: AuditLogSource; offered: () => SignedTreeHead | null } {
  let offered: SignedTreeHead | null = null;
  const source: AuditLogSource = {
    async head() {
      const head = await api(getAuditHead, {});
      offered = head.treeHead;
      return { logId: head.logId, logKey: head.logKey, treeHead: head.treeHead, checkpoint: head.checkpoint };
    },
    async chain(after) {
      const page = await api(getAuditChain, { query: { after, limit: AUDIT_CHAIN_PAGE_MAX } });
      return { events: page.events, frontier: page.frontier };
    },
    async consistency(first, second) {
      return (await api(getConsistencyProof, { query: { first, second } })).proof;
    },
    async split(start, end) {
      const split = await api(getAuditTreeSplit, { query: { start, end } });
      return { left: split.left, right: split.right };
    },
  };
  return { source, offered: () => offered };
}

const notVerified = () =>
  new ApiError({ status: 0, code: 'audit_verification_failed', message: 'Verify the audit log in this browser before countersigning its head.' });

export function createAuditOperations(deps: { readonly api: CallApi; readonly account: AccountSlot; readonly trust: Pick<DirectoryTrust, 'directory'> }) {
  const { api, account, trust } = deps;
  /** The head this worker verified last, per unlocked vault: the only head it will countersign. */
  let lastVerified: { vault: HeldAccount['vault']; head: SignedTreeHead } | null = null;

  function held(): HeldAccount {
    if (!account.current) throw new NotSignedInError();
    return account.current;
  }

  const pinOf = (held: HeldAccount): AuditPin | null => held.keySafe.current().audit ?? null;

  /** True when `head` is the pinned head or an RFC 9162 consistency proof leads from one to the other. */
  async function consistentWithPin(pin: AuditPin, head: SignedTreeHead): Promise<boolean> {
    if (head.treeSize === pin.treeSize) return head.rootHash === pin.rootHash;
    const [older, newer] = head.treeSize < pin.treeSize ? [head, pin] : [pin, head];
    try {
      const { proof } = await api(getConsistencyProof, { query: { first: older.treeSize, second: newer.treeSize } });
      return await verifyConsistency(older.treeSize, newer.treeSize, older.rootHash, newer.rootHash, proof);
    } catch {
      return false;
    }
  }

  /** Records `pin` in the key safe when it is newer than the stored one, and writes it now. */
  async function rememberPin(current: HeldAccount, pin: AuditPin): Promise<void> {
    const stored = pinOf(current);
    if (stored && stored.treeSize >= pin.treeSize) return;
    current.keySafe.update((safe) => (safe.audit && safe.audit.treeSize >= pin.treeSize ? safe : { ...safe, audit: { ...pin } }));
    await current.keySafe.flush();
  }

  /** The log key, checked against its key id and against the pinned one. */
  async function logKeyFor(pin: AuditPin | null): Promise<{ logId: string; logKey: LogKey; key: CryptoKey } | null> {
    const head = await api(getAuditHead, {});
    if (pin && (pin.keyId !== head.logKey.keyId || pin.logId !== head.logId)) return null;
    try {
      return { logId: head.logId, logKey: head.logKey, key: await importLogKey(head.logKey) };
    } catch {
      return null;
    }
  }

  return {
    /**
     * Verifies the whole log (chain, Merkle root, signed head, consistency with the pinned head) and,
     * only when it verifies, moves the pin in the key safe to the head just verified.
     */
    async verifyAuditLog(onProgress?: (progress: VerifyAuditProgress) => void): Promise<AuditVerificationView> {
      const current = held();
      const pin = pinOf(current);
      const previous = pin ? headView(pin) : null;
      const { source, offered } = apiSource(api);
      const result: AuditVerification = await verifyAuditLog(source, pin, (progress) => onProgress?.({ verified: progress.verified, total: progress.total }));
      if (!result.ok) {
        const head = offered();
        return {
          ok: false,
          kind: result.failure.kind,
          seq: result.failure.seq ?? null,
          reason: result.failure.reason ?? null,
          message: result.failure.message,
          offered: head ? headView(head) : null,
          previous,
        };
      }
      await rememberPin(current, result.pin);
      lastVerified = { vault: current.vault, head: result.treeHead };
      return {
        ok: true,
        verified: result.verified,
        unsignedTail: result.unsignedTail,
        head: headView(result.treeHead),
        prunedThrough: result.checkpoint?.throughSeq ?? null,
        previous,
      };
    },

    /** One event with its inclusion proof checked against a signed head (and that head against the pin). */
    async auditEventDetail(seq: number): Promise<AuditEventDetail> {
      const current = held();
      const { event, inclusion } = await api(getAuditEvent, { params: { seq } });
      if ((await recomputeEventHash(event)) !== event.hash) return { event, inclusion: 'hash_mismatch', head: inclusion ? headView(inclusion.treeHead) : null, pathLength: 0 };
      if (!inclusion) return { event, inclusion: 'unsigned', head: null, pathLength: 0 };
      const head = inclusion.treeHead;
      const detail = (status: InclusionStatus): AuditEventDetail => ({ event, inclusion: status, head: headView(head), pathLength: inclusion.path.length });
      const pin = pinOf(current);
      const log = await logKeyFor(pin);
      if (!log) return detail('log_key_changed');
      if (!(await verifyTreeHead(log.key, log.logKey.keyId, log.logId, head))) return detail('head_signature');
      if (pin && !(await consistentWithPin(pin, head))) return detail('head_inconsistent');
      const included = await verifyInclusion(seq - 1, head.treeSize, await merkleLeafHash(event.hash), inclusion.path, head.rootHash);
      return detail(included ? 'verified' : 'inclusion_proof');
    },

    /**
     * Exports the filtered range and verifies it here (head signature, hashes, links, inclusion
     * proofs, consistency with the pinned head) before the page may save it.
     */
    async exportAuditLog(filter: AuditFilter, format: 'json' | 'csv'): Promise<AuditExportView> {
      const current = held();
      const data = auditExportSchema.parse(await api(createAuditExport, { body: { filter, format } }));
      const pin = pinOf(current);
      const result = await verifyAuditExport(data, pin);
      if (!result.ok) {
        return { ok: false, kind: result.failure.kind, seq: result.failure.seq ?? null, reason: result.failure.reason ?? null, message: result.failure.message };
      }
      if (pin && !(await consistentWithPin(pin, data.treeHead))) {
        return { ok: false, kind: 'head_inconsistent', seq: null, reason: null, message: 'The export’s head is not consistent with the head this browser verified before.' };
      }
      return { ok: true, data, verified: result.verified, head: headView(data.treeHead) };
    },

    /**
     * An Auditor countersigns the head this worker verified last (never a head the page names):
     * the audit-witness statement, signed with their certified signing key.
     */
    async countersignAuditHead(): Promise<WitnessView> {
      const { vault } = held();
      if (!lastVerified || lastVerified.vault !== vault) throw notVerified();
      if (!vault.signingKey) throw new NoSigningKeyError();
      const head = lastVerified.head;
      const payload = auditWitnessPayloadSchema.parse({
        kind: 'audit-witness',
        logId: head.logId,
        keyId: head.keyId,
        treeSize: head.treeSize,
        rootHash: head.rootHash,
        headSignedAt: head.signedAt,
        witnessedAt: new Date().toISOString(),
      });
      const bytes = utf8(JSON.stringify(payload));
      const signature = await signStatement(vault.signingKey, AUDIT_WITNESS_CONTEXT, bytes);
      const { witness } = await api(addAuditWitness, { body: { statement: { payload: toBase64Url(bytes), signature: toBase64Url(signature) } } });
      return { id: witness.id, witnessId: vault.userId, email: vault.email, status: 'verified', treeSize: payload.treeSize, rootHash: payload.rootHash, witnessedAt: payload.witnessedAt };
    },

    /**
     * Every countersignature, each verified here: a parsable audit-witness statement, signed by the
     * CERTIFIED signing key of a certified Auditor, naming a head the log key signed. Anything else is
     * listed as unverifiable, never as verified.
     */
    async auditWitnesses(): Promise<readonly WitnessView[]> {
      const [{ witnesses, heads }, head, directory] = await Promise.all([api(listAuditWitnesses, { query: {} }), api(getAuditHead, {}), trust.directory()]);
      let key: CryptoKey | null = null;
      try {
        key = await importLogKey(head.logKey);
      } catch {
        key = null;
      }
      const views: WitnessView[] = [];
      for (const witness of witnesses) {
        const identity = directory.identities.get(witness.witnessId);
        const parsed = parseSigned(witness.statement, auditWitnessPayloadSchema);
        const base = {
          id: witness.id,
          witnessId: witness.witnessId,
          email: identity?.email ?? witness.witnessEmail,
          treeSize: witness.treeSize,
          rootHash: parsed?.value.rootHash ?? null,
          witnessedAt: parsed?.value.witnessedAt ?? witness.createdAt,
        };
        const status = await (async (): Promise<WitnessStatus> => {
          if (!parsed) return 'malformed';
          if (!identity) return 'not_certified';
          if (identity.role !== 'auditor') return 'not_auditor';
          let signature: Uint8Array;
          try {
            signature = fromBase64Url(witness.statement.signature);
          } catch {
            return 'bad_signature';
          }
          if (!(await verifyStatement(identity.signingKey, AUDIT_WITNESS_CONTEXT, parsed.bytes, signature))) return 'bad_signature';
          const statement = parsed.value;
          const signed = heads.find((h) => h.treeSize === statement.treeSize) ?? (head.treeHead?.treeSize === statement.treeSize ? head.treeHead : null);
          const headOk =
            key !== null &&
            signed !== null &&
            statement.treeSize === witness.treeSize &&
            statement.logId === head.logId &&
            statement.keyId === head.logKey.keyId &&
            signed.rootHash === statement.rootHash &&
            signed.signedAt === statement.headSignedAt &&
            (await verifyTreeHead(key, head.logKey.keyId, head.logId, signed));
          return headOk ? 'verified' : 'head_mismatch';
        })();
        views.push({ ...base, email: status === 'verified' ? (identity?.email ?? null) : base.email, status });
      }
      return views;
    },

    /** The head pinned in this person's key safe (what the next verification checks against). */
    auditPin(): HeadView | null {
      const pin = pinOf(held());
      return pin ? headView(pin) : null;
    },
  };
}

export type AuditOperations = ReturnType<typeof createAuditOperations>;
