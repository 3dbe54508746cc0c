// All SQL of the audit log: read the chain head, append a row, page through rows in order.
import type { AuditEventRow, Db, NewAuditEventRow, Trx } from '../db/database';

/** The newest row's seq and hash, or undefined for an empty log. */
export async function findAuditChainHead(trx: Trx): Promise<{ seq: number; hash: string } | undefined> {
  return trx.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

export async function insertAuditEvent(trx: Trx, row: NewAuditEventRow): Promise<void> {
  await trx.insertInto('audit_events').values(row).execute();
}

/** Up to `limit` rows with seq greater than `afterSeq`, in chain order. */
export async function listAuditEventsAfter(db: Db, afterSeq: number, limit: number): Promise<AuditEventRow[]> {
  return db.selectFrom('audit_events').selectAll().where('seq', '>', afterSeq).orderBy('seq', 'asc').limit(limit).execute();
}
