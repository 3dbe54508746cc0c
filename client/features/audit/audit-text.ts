// Wording of the workspace's verification results: a failure's sentence from its kind, event and reason (never the
// server's or the verifier's English text), and short labels of heads and ids.
import type { TFunction } from 'i18next';
import type { HeadView } from '../../worker';

/** What the page needs of a failed verification (the log's or an export's). */
export interface FailureLike {
  readonly kind: string;
  readonly seq: number | null;
  readonly reason: string | null;
  readonly offered?: HeadView | null;
  readonly previous?: HeadView | null;
}

const BREAK_REASONS = ['seq_gap', 'prev_hash_mismatch', 'hash_mismatch', 'malformed_row', 'out_of_order'] as const;
const KINDS = ['log_key_invalid', 'log_key_changed', 'head_signature', 'head_rollback', 'head_inconsistent', 'root_mismatch', 'malformed'] as const;

/** The sentence saying exactly what failed and where (event #seq), in the language on screen. */
export function failureText(t: TFunction, failure: FailureLike): string {
  const seq = failure.seq ?? 0;
  if (failure.kind === 'chain_break') {
    const reason = BREAK_REASONS.find((r) => r === failure.reason) ?? 'hash_mismatch';
    return t(`audit.failure.chain.${reason}`, { seq });
  }
  if (failure.kind === 'event_not_signed') return t('audit.failure.event_not_signed', { seq });
  if (failure.kind === 'head_rollback' || failure.kind === 'head_inconsistent') {
    return t(`audit.failure.${failure.kind}`, { size: failure.offered?.treeSize ?? 0, pinned: failure.previous?.treeSize ?? 0 });
  }
  const kind = KINDS.find((k) => k === failure.kind) ?? 'malformed';
  return t(`audit.failure.${kind}`);
}

/** "1234 events, root 0123456789abcdef" */
export function headLabel(head: Pick<HeadView, 'treeSize' | 'rootHash'>): string {
  return `${head.treeSize} · ${head.rootHash.slice(0, 16)}`;
}

/** The first 8 characters of an id, for narrow cells (the full id is in the link's name and the detail). */
export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}
