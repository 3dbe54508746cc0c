// Bundled by the audit bench group and run in Chromium: the browser's audit verifier
// (shared/audit/verify.ts verifyAuditLog) against the real server API, timed in the page.
import {
  AUDIT_CHAIN_PAGE_MAX,
  getAuditChain,
  getAuditHead,
  getAuditTreeSplit,
  getConsistencyProof,
} from '../../shared/api/audit';
import { createApiClient } from '../../shared/api/client';
import { type AuditLogSource, verifyAuditLog } from '../../shared/audit/verify';

export interface AuditBenchVerification {
  readonly ok: boolean;
  readonly verified: number;
  readonly treeSize: number;
  readonly ms: number;
  readonly message: string;
}

declare global {
  var kluisBenchVerifyAudit: () => Promise<AuditBenchVerification>;
}

globalThis.kluisBenchVerifyAudit = async () => {
  const api = createApiClient({ baseUrl: location.origin });
  const source: AuditLogSource = {
    head: () => api(getAuditHead, {}),
    chain: (after) => api(getAuditChain, { query: { after, limit: AUDIT_CHAIN_PAGE_MAX } }),
    consistency: async (first, second) =>
      (await api(getConsistencyProof, { query: { first, second } })).proof,
    split: (start, end) => api(getAuditTreeSplit, { query: { start, end } }),
  };
  const began = performance.now();
  const result = await verifyAuditLog(source, null);
  const ms = performance.now() - began;
  return result.ok
    ? { ok: true, verified: result.verified, treeSize: result.treeHead.treeSize, ms, message: '' }
    : { ok: false, verified: 0, treeSize: 0, ms, message: result.failure.message };
};
