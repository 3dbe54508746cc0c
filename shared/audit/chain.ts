// Rules that link one audit row to the next; shared so the server and an Auditor's browser agree.
import { GENESIS_PREV_HASH, type AuditChainFields } from './canonical';

/** `malformed_row`: a field is out of format, so the row cannot even be encoded for hashing. */
export type AuditChainBreakReason = 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'malformed_row';

/** The part of the previous row that the next row must link to. */
export interface AuditChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Checks one stored row against the row before it (`null` for the first row) and the hash the
 * caller recomputed over `canonicalAuditBytes(row)`. Returns why the link is broken, or null.
 */
export function findAuditLinkBreak(
  previous: AuditChainHead | null,
  row: AuditChainFields & { readonly hash: string },
  recomputedHash: string,
): AuditChainBreakReason | null {
  const expectedSeq = previous ? previous.seq + 1 : 1;
  if (row.seq !== expectedSeq) return 'seq_gap';
  if (row.prevHash !== (previous ? previous.hash : GENESIS_PREV_HASH)) return 'prev_hash_mismatch';
  if (row.hash !== recomputedHash) return 'hash_mismatch';
  return null;
}
