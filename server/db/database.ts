// The database schema as Kysely sees it: one interface per table, named after the table.
//
// PostgreSQL (scale-out issue): keep these types dialect-neutral. Spots that will need care:
// `seq` would be BIGINT there and node-postgres returns BIGINT as a string unless a type parser
// maps it; `occurred_at` must stay TEXT (not timestamptz) because the hash covers its exact text.
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';

/** Append-only, hash-chained log of security-relevant actions (SECURITY.md 5). */
export interface AuditEventsTable {
  /** 1, 2, 3, ... in insertion order, without gaps. */
  seq: number;
  id: string;
  /** ISO-8601 UTC with milliseconds, server time. */
  occurred_at: string;
  action: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  /** Canonical JSON text; ids and counts only, never plaintext names or contents. */
  details: string;
  /** `hash` of the row with seq - 1, or 64 zeros for the first row. */
  prev_hash: string;
  /** Hex SHA-256 of shared/audit/canonical.ts's encoding of this row. */
  hash: string;
}

export interface Database {
  audit_events: AuditEventsTable;
}

export type Db = Kysely<Database>;
/** Functions that must run inside the caller's transaction take this instead of Db. */
export type Trx = Transaction<Database>;

export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;
