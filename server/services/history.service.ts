// History for people (issue 22 item 6): a document's audit events for those who may see the document,
// and the events about one's own account and space, including every use of escrow on them.
import { AUDIT_PAGE_MAX, type AuditEventView } from '../../shared/api';
import { toEventView } from './audit-log.service';
import type { Db } from '../db/database';
import { fail } from '../errors';
import { findDocument } from '../repositories/documents.repository';
import {
  type HistoryRow,
  listDocumentEvents,
  listPersonEvents,
} from '../repositories/history.repository';
import type { Actor } from './account-deps';
import { requireInUsableSpace } from './space-access';

/** Events per page when the caller names no limit. */
export const HISTORY_PAGE_DEFAULT = 50;

export interface HistoryPage {
  readonly events: AuditEventView[];
  /** Pass as `before` for the next (older) page; null after the oldest event. */
  readonly nextCursor: number | null;
}

export interface HistoryQuery {
  readonly before?: number | undefined;
  readonly limit?: number | undefined;
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return HISTORY_PAGE_DEFAULT;
  if (limit > AUDIT_PAGE_MAX)
    throw fail(
      'audit_page_too_large',
      `A page holds at most ${AUDIT_PAGE_MAX} events; ask for fewer and page with "before".`,
    );
  return limit;
}


/** One more row than asked tells whether an older page exists, without a count. */
async function page(
  read: (limit: number) => Promise<HistoryRow[]>,
  limit: number,
): Promise<HistoryPage> {
  const rows = await read(limit + 1);
  const events = rows.slice(0, limit).map(toEventView);
  return { events, nextCursor: rows.length > limit ? (events.at(-1)?.seq ?? null) : null };
}

export function createHistoryService(deps: { readonly db: Db }) {
  const { db } = deps;
  return {
    /**
     * WARNING: the same space rule as opening the document (space-access.ts); a document the actor
     * may not see answers exactly like an unknown id (no existence oracle), so Auditors, other
     * clients and removed people learn nothing here. Deleted documents keep their history.
     */
    async getDocumentHistory(
      actor: Actor,
      documentId: string,
      query: HistoryQuery,
    ): Promise<HistoryPage> {
      const limit = pageLimit(query.limit);
      await requireInUsableSpace(db, actor, await findDocument(db, documentId), () =>
        fail('document_not_found', 'There is no such document.'),
      );
      return page((n) => listDocumentEvents(db, documentId, query.before, n), limit);
    },

    /** The caller's own account and client space: never anyone else's, whatever the role. */
    async getMyHistory(actor: Actor, query: HistoryQuery): Promise<HistoryPage> {
      const limit = pageLimit(query.limit);
      return page((n) => listPersonEvents(db, actor.userId, query.before, n), limit);
    },
  };
}

export type HistoryService = ReturnType<typeof createHistoryService>;
