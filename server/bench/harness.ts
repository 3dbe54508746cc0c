// Bench harness: a group is a module that records metrics; they print as tables and merge into nested JSON.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type MetricValue = number | boolean | string;

export interface Metric {
  /** Key inside the group: `file_encrypt_mib_s` is written as `{ "crypto": { "file_encrypt_mib_s": … } }`. */
  readonly key: string;
  readonly label: string;
  readonly value: MetricValue;
  readonly unit: string;
  /** Repeated in the final summary. */
  readonly summary: boolean;
  /**
   * Top-level JSON key the metric is written under: the group's own name unless the issue asks for
   * another (the browser bench writes `crypto.raw_aesgcm_mib_s` and `list.decrypt_10k_ms`).
   */
  readonly section: string;
}

const KEY = /^[a-z][a-z0-9_]*$/;

/** The metrics and notes of one group, in the order they were measured. */
export class GroupReport {
  readonly metrics: Metric[] = [];
  readonly notes: string[] = [];
  /** Only some parts of the group ran (`--only group:part`): its JSON is merged into, not replaced. */
  partial = false;

  constructor(readonly group: string) {}

  add(
    key: string,
    label: string,
    value: MetricValue,
    unit = '',
    options: { summary?: boolean; section?: string } = {},
  ): void {
    const section = options.section ?? this.group;
    if (!KEY.test(key)) throw new Error(`bench metric key ${key} is not snake_case`);
    if (!KEY.test(section)) throw new Error(`bench section ${section} is not snake_case`);
    if (this.metrics.some((m) => m.key === key && m.section === section))
      throw new Error(`bench metric ${section}.${key} recorded twice`);
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new Error(`bench metric ${section}.${key} is ${value}`);
    this.metrics.push({ key, label, value, unit, summary: options.summary ?? false, section });
  }

  /** A finding or an explanation printed under the table. */
  note(text: string): void {
    this.notes.push(text);
  }

  /** The metrics of one top-level JSON section (the group's own by default). */
  json(section = this.group): Record<string, MetricValue> {
    return Object.fromEntries(
      this.metrics
        .filter((m) => m.section === section)
        .map((m) => [m.key, typeof m.value === 'number' ? roundForJson(m.value) : m.value]),
    );
  }

  /** Sections other than the group's own that this report writes into. */
  otherSections(): string[] {
    return [...new Set(this.metrics.map((m) => m.section))].filter((s) => s !== this.group);
  }
}

/** A failed check that makes the numbers meaningless (e.g. a login that did not succeed). */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}

/** Something the bench created (a temp directory, a child process) that must go away even on failure. */
export interface Resource {
  readonly name: string;
  close(): Promise<void>;
  /** Last resort from a process 'exit' handler: synchronous, best effort. */
  closeSync(): void;
}

/** Closes resources newest first; `closeAllSync` covers an exit that skipped the async path. */
export class Cleanup {
  #open: Resource[] = [];

  add(resource: Resource): void {
    this.#open.push(resource);
  }

  async closeAll(): Promise<void> {
    const problems: string[] = [];
    while (this.#open.length > 0) {
      const resource = this.#open.pop()!;
      try {
        await resource.close();
      } catch (error) {
        problems.push(`${resource.name}: ${describeError(error)}`);
      }
    }
    if (problems.length > 0) throw new Error(`cleanup failed: ${problems.join('; ')}`);
  }

  closeAllSync(): void {
    while (this.#open.length > 0) {
      try {
        this.#open.pop()!.closeSync();
      } catch {
        // best effort on the way out
      }
    }
  }
}

/** A fresh directory under the OS temp directory, removed by `cleanup` (removing it earlier is fine). */
export async function makeTempDir(cleanup: Cleanup, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.add({
    name: `temp directory ${dir}`,
    close: () => rm(dir, { recursive: true, force: true }),
    closeSync: () => rmSync(dir, { recursive: true, force: true }),
  });
  return dir;
}

export interface BenchContext {
  readonly report: GroupReport;
  readonly cleanup: Cleanup;
  /** A progress line on stderr (tables and summary go to stdout). */
  readonly progress: (line: string) => void;
  /** The repository root (where package.json is). */
  readonly repoRoot: string;
  /** `--cpu-prof DIR`: where processes the bench starts write V8 CPU profiles (for finding bottlenecks). */
  readonly cpuProfileDir: string | undefined;
  /** `--only <group>:<part>`: whether to run this part of the group (every part when none was named). */
  readonly runs: (part: string) => boolean;
}

export interface BenchGroup {
  /** `--only <name>` and the top-level JSON key. */
  readonly name: string;
  readonly title: string;
  /** Parts `--only <name>:<part>` can pick, with what each measures (a group without parts runs whole). */
  readonly parts?: Readonly<Record<string, string>>;
  run(context: BenchContext): Promise<void>;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** JSON keeps four significant digits: the machines here vary by ±25 % from run to run anyway. */
function roundForJson(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toPrecision(4));
}

export function formatValue(value: MetricValue): string {
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

export function renderTable(report: GroupReport, title: string): string {
  const rows = report.metrics.map((m) => [
    m.label,
    formatValue(m.value),
    m.unit,
    `${m.section}.${m.key}`,
  ]);
  const header = ['measurement', 'value', 'unit', 'key'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((cell, i) => (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [
    `\n${title}`,
    line(header),
    '  ' + widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
  ];
  for (const note of report.notes) out.push(`  * ${note}`);
  return out.join('\n') + '\n';
}

export function renderSummary(reports: readonly GroupReport[]): string {
  const rows = reports.flatMap((r) =>
    r.metrics
      .filter((m) => m.summary)
      .map((m) => [`${m.section}.${m.key}`, formatValue(m.value), m.unit]),
  );
  if (rows.length === 0) return '';
  const keyWidth = Math.max(...rows.map((r) => r[0]!.length));
  const valueWidth = Math.max(...rows.map((r) => r[1]!.length));
  return (
    [
      '\nSummary',
      ...rows.map(([key, value, unit]) =>
        `  ${key!.padEnd(keyWidth)}  ${value!.padStart(valueWidth)} ${unit}`.trimEnd(),
      ),
    ].join('\n') + '\n'
  );
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges the groups that ran into `path` (created if missing): each group's object is replaced
 * whole (merged into when only some of its parts ran), other top-level keys (groups of other benches, e.g. the browser's `files` and `list`) stay.
 */
export async function mergeJson(
  path: string,
  reports: readonly GroupReport[],
  meta: JsonObject,
): Promise<void> {
  let existing: JsonObject = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (!isObject(parsed)) throw new Error(`${path} does not hold a JSON object`);
    existing = parsed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const merged: JsonObject = { ...existing };
  const metaByGroup: JsonObject = isObject(existing.meta) ? { ...existing.meta } : {};
  for (const report of reports) {
    const current = merged[report.group];
    merged[report.group] =
      report.partial && isObject(current) ? { ...current, ...report.json() } : report.json();
    metaByGroup[report.group] = meta;
  }
  // Then metrics written into another group's section, so a group replaced whole above keeps them.
  for (const report of reports) {
    for (const section of report.otherSections()) {
      const current = merged[section];
      merged[section] = { ...(isObject(current) ? current : {}), ...report.json(section) };
    }
  }
  merged.meta = metaByGroup;
  // Written aside and renamed: a reader never sees half a file.
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(merged, null, 2) + '\n');
  await rename(temp, path);
}
