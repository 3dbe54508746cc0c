// An audit export as CSV, built in the browser from the verified JSON export: one row per event, every hashed field.

/** The exported event fields, in column order (shared/api/audit.ts exportedEventSchema). */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'id',
  'occurredAt',
  'action',
  'actorId',
  'actorRole',
  'targetType',
  'targetId',
  'ip',
  'userAgent',
  'result',
  'details',
  'encoding',
  'prevHash',
  'hash',
  'inclusionPath',
] as const;

export type AuditCsvEvent = {
  readonly [K in Exclude<(typeof AUDIT_CSV_COLUMNS)[number], 'inclusionPath'>]: string | number | null;
} & { readonly inclusionPath: readonly string[] };

/**
 * WARNING: spreadsheet programs run a cell that starts with = + - @ (or a tab or carriage return) as a
 * formula (OWASP "CSV injection"); the log holds text the server received from anyone (user agents,
 * details), so such a cell gets a leading apostrophe and is shown as text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell per RFC 4180: quoted when it holds a quote, comma or line break; formula-safe. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV text (header row, CRLF line ends as RFC 4180 has them); the inclusion path's hashes are space-separated. */
export function auditCsv(events: readonly AuditCsvEvent[]): string {
  const rows = [AUDIT_CSV_COLUMNS.join(',')];
  for (const event of events) {
    rows.push(AUDIT_CSV_COLUMNS.map((column) => csvCell(column === 'inclusionPath' ? event.inclusionPath.join(' ') : event[column])).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
