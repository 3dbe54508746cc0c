// Canonical byte encoding of an audit event: what the server hashes and an Auditor's browser re-hashes.
//
// Encoding, version 1 (the input of SHA-256; the hash is stored as 64 lowercase hex digits):
//
//   "kluis/v1/audit-event" || 0x00 || field(seq) || field(id) || field(occurred_at) || field(action)
//     || field(actor_id) || field(target_type) || field(target_id) || field(ip) || field(details)
//     || field(prev_hash)
//
//   field(null)   = 0x00
//   field(text)   = 0x01 || uint32 big-endian byte length || UTF-8 bytes
//   seq           = decimal digits of the integer, no sign, no leading zeros (seq >= 1)
//   occurred_at   = exactly YYYY-MM-DDTHH:mm:ss.sssZ (UTC, milliseconds)
//   details       = the stored JSON text byte for byte (not re-parsed), see canonicalJson below
//   prev_hash     = hash of the row with seq - 1, or 64 zeros for seq 1
//
// Encoding, version 2 (every row written since issue 22): label "kluis/v2/audit-event" and three
// more fields, so who acted in which role, from which browser, and with what outcome is hashed too:
//
//   "kluis/v2/audit-event" || 0x00 || field(seq) || field(id) || field(occurred_at) || field(action)
//     || field(actor_id) || field(actor_role) || field(target_type) || field(target_id) || field(ip)
//     || field(user_agent) || field(result) || field(details) || field(prev_hash)
//
//   result = "success" | "failure" | "denied"; the row's `encoding` column says which version it is.
//
// WARNING: the field list, its order and this framing are fixed. Every field is tagged and length
// prefixed (the lp() of SECURITY.md 4.2), so no two different rows share an encoding. Text must be
// well-formed Unicode: a lone surrogate would become U+FFFD in UTF-8 and collide with it, so it is
// refused. Changing anything here breaks every existing chain: add a new version instead.

/** Hash of the (virtual) row before the first one. */
export const GENESIS_PREV_HASH = '0'.repeat(64);

export const AUDIT_ENCODING_LABEL = 'kluis/v1/audit-event';
export const AUDIT_ENCODING_LABEL_V2 = 'kluis/v2/audit-event';

export const AUDIT_RESULTS = ['success', 'failure', 'denied'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/** The hashed content of an audit row, exactly as stored. */
export interface AuditChainFields {
  readonly seq: number;
  readonly id: string;
  readonly occurredAt: string;
  readonly action: string;
  readonly actorId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly ip: string | null;
  readonly details: string;
  readonly prevHash: string;
  /** 1 for rows written before issue 22 (no role, user agent or result), 2 since. Absent means 1. */
  readonly encoding?: 1 | 2;
  readonly actorRole?: string | null;
  readonly userAgent?: string | null;
  readonly result?: AuditResult | null;
}

const encoder = new TextEncoder();
const occurredAtPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const hashPattern = /^[0-9a-f]{64}$/;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function encodeText(text: string): Uint8Array {
  if (loneSurrogate.test(text)) throw new TypeError('audit fields must be well-formed Unicode');
  return encoder.encode(text);
}

function encodeField(value: string | null): Uint8Array {
  if (value === null) return Uint8Array.of(0);
  const bytes = encodeText(value);
  const out = new Uint8Array(5 + bytes.length);
  out[0] = 1;
  new DataView(out.buffer).setUint32(1, bytes.length, false);
  out.set(bytes, 5);
  return out;
}

/** The exact bytes whose SHA-256 is the row's `hash`. Throws TypeError on out-of-format fields. */
export function canonicalAuditBytes(row: AuditChainFields): Uint8Array {
  if (!Number.isSafeInteger(row.seq) || row.seq < 1) throw new TypeError('seq must be a positive integer');
  if (!occurredAtPattern.test(row.occurredAt)) throw new TypeError('occurredAt must be YYYY-MM-DDTHH:mm:ss.sssZ');
  if (!hashPattern.test(row.prevHash)) throw new TypeError('prevHash must be 64 lowercase hex digits');
  const encoding = row.encoding ?? 1;
  let fields: (string | null)[];
  if (encoding === 1) {
    fields = [String(row.seq), row.id, row.occurredAt, row.action, row.actorId, row.targetType, row.targetId, row.ip, row.details, row.prevHash];
  } else if (encoding === 2) {
    if (row.result == null || !(AUDIT_RESULTS as readonly string[]).includes(row.result)) throw new TypeError('result must be success, failure or denied');
    fields = [
      String(row.seq),
      row.id,
      row.occurredAt,
      row.action,
      row.actorId,
      row.actorRole ?? null,
      row.targetType,
      row.targetId,
      row.ip,
      row.userAgent ?? null,
      row.result,
      row.details,
      row.prevHash,
    ];
  } else {
    throw new TypeError('unknown audit encoding');
  }
  const parts = [encodeText(encoding === 1 ? AUDIT_ENCODING_LABEL : AUDIT_ENCODING_LABEL_V2), Uint8Array.of(0), ...fields.map(encodeField)];
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * JSON text with object keys sorted by UTF-16 code unit and no whitespace, so equal values always
 * give equal text. Rejects non-finite numbers (JSON cannot carry them).
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('JSON numbers must be finite');
    return JSON.stringify(value);
  }
  if (isJsonArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = Object.entries(value)
    .filter((entry): entry is [string, JsonValue] => entry[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${members.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}

function isJsonArray(value: JsonValue): value is readonly JsonValue[] {
  return Array.isArray(value);
}
