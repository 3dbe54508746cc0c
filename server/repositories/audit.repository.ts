// All SQL of the audit log: read the chain head, append a row and its Merkle nodes, page through rows in order.
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

/** The role of the user acting now, or undefined when there is no such user. */
export async function findActorRole(trx: Trx, userId: string): Promise<string | undefined> {
  return (await trx.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst())?.role;
}

/** The stored perfect subtree (level, idx), or undefined. */
export async function findMerkleNodeHash(db: Db | Trx, level: number, idx: number): Promise<string | undefined> {
  return (await db.selectFrom('audit_merkle_nodes').select('hash').where('level', '=', level).where('idx', '=', idx).executeTakeFirst())?.hash;
}

/** Appends one perfect subtree (plain INSERT: a node stored twice is a bug and fails). */
export async function appendMerkleNode(trx: Trx, level: number, idx: number, hash: string): Promise<void> {
  await trx.insertInto('audit_merkle_nodes').values({ level, idx, hash }).execute();
}
