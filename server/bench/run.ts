// `npm run bench [-- --only <group>[:<part>]] [-- --json FILE]`: runs the bench groups, prints tables and a summary, merges JSON.
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { auditGroup } from './audit-group';
import { cryptoGroup } from './crypto-group';
import {
  BenchFailure,
  Cleanup,
  GroupReport,
  type BenchGroup,
  describeError,
  mergeJson,
  renderSummary,
  renderTable,
} from './harness';
import { filesGroup } from './files-group';
import { serverGroup } from './server-group';

/** Every group, in running order. A new group is a module exporting a BenchGroup, listed here. */
const GROUPS: readonly BenchGroup[] = [cryptoGroup, serverGroup, filesGroup, auditGroup];

const PARTS = GROUPS.flatMap((g) =>
  Object.entries(g.parts ?? {}).map(
    ([part, what]) => `    ${`${g.name}:${part}`.padEnd(16)} ${what}`,
  ),
);
const USAGE = `Usage: npm run bench -- [--only <${GROUPS.map((g) => g.name).join('|')}>[:<part>]] [--json FILE] [--cpu-prof DIR]
  --only <group>   run one group (repeatable)
  --only <group>:<part>  run one part of a group (repeatable); the parts:
${PARTS.join('\n')}
  --json FILE      merge the results into FILE as { "<group>": { "<key>": value } } (other keys are kept)
  --cpu-prof DIR   the server process the bench starts writes a V8 CPU profile into DIR when it stops`;

function parseOptions(): {
  groups: readonly BenchGroup[];
  /** Group name -> the parts picked (absent: the whole group). */
  parts: ReadonlyMap<string, ReadonlySet<string>>;
  json: string | undefined;
  cpuProfileDir: string | undefined;
} {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const only = values.only ?? [];
  const parts = new Map<string, Set<string>>();
  const whole = new Set<string>();
  for (const choice of only) {
    const [name = '', part, ...extra] = choice.split(':');
    const group = GROUPS.find((g) => g.name === name);
    if (!group) throw new Error(`unknown bench group ${name}\n${USAGE}`);
    if (part === undefined) whole.add(name);
    else if (extra.length > 0 || !Object.hasOwn(group.parts ?? {}, part))
      throw new Error(`unknown part ${choice}\n${USAGE}`);
    else parts.set(name, (parts.get(name) ?? new Set()).add(part));
  }
  for (const name of whole) parts.delete(name);
  const cpuProfileDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  const picked = new Set(only.map((choice) => choice.split(':')[0]));
  return {
    groups: only.length > 0 ? GROUPS.filter((g) => picked.has(g.name)) : GROUPS,
    parts,
    json: values.json,
    cpuProfileDir,
  };
}

async function main(): Promise<number> {
  const { groups, parts, json, cpuProfileDir } = parseOptions();
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  const cleanup = new Cleanup();
  // Temp directories and the server child go away however the bench ends.
  process.on('exit', () => cleanup.closeAllSync());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up\n`);
      void cleanup.closeAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }

  const began = performance.now();
  const progress = (line: string) =>
    process.stderr.write(
      `[${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`,
    );
  process.stdout.write(
    `Kluis bench: Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}). Compare ratios measured in one run, not absolute numbers across runs.\n`,
  );

  const completed: GroupReport[] = [];
  let failed = false;
  for (const group of groups) {
    const report = new GroupReport(group.name);
    report.partial = parts.has(group.name);
    progress(`${group.name}: ${group.title}`);
    try {
      await group.run({
        report,
        cleanup,
        progress: (line) => progress(`${group.name}: ${line}`),
        repoRoot,
        cpuProfileDir,
        runs: (part) => parts.get(group.name)?.has(part) ?? true,
      });
      completed.push(report);
    } catch (error) {
      failed = true;
      report.note(
        `FAILED: ${error instanceof BenchFailure ? error.message : describeError(error)}`,
      );
      if (!(error instanceof BenchFailure) && error instanceof Error && error.stack)
        process.stderr.write(`${error.stack}\n`);
    } finally {
      try {
        await cleanup.closeAll();
      } catch (error) {
        failed = true;
        report.note(describeError(error));
      }
    }
    process.stdout.write(
      renderTable(report, `${group.title}${completed.includes(report) ? '' : ' -- FAILED'}`),
    );
  }

  process.stdout.write(renderSummary(completed));
  if (json && completed.length > 0) {
    await mergeJson(json, completed, {
      measuredAt: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
    });
    process.stdout.write(`\nWrote ${completed.map((r) => r.group).join(', ')} to ${json}\n`);
  }
  progress(`finished${failed ? ' with failures' : ''}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
