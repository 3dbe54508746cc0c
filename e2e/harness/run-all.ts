// `npm test`: typecheck, lint, unit tests (Vitest) and e2e tests (Playwright) in sequence; ends with "N passed, N failed".
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_CHROMIUM = '/usr/bin/chromium';
const INSTALL_COMMAND = 'apt-get update && apt-get install -y chromium';

interface StepResult {
  readonly name: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** One line for the summary. */
  readonly note: string;
}

/** Runs a command with inherited output (CI logs show everything) and resolves with its exit code. */
function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', (error) => {
      process.stderr.write(`could not start ${command}: ${error.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function banner(title: string): void {
  process.stdout.write(`\n━━ ${title} ${'━'.repeat(Math.max(0, 70 - title.length))}\n`);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function numberAt(value: unknown, key: string): number {
  if (typeof value !== 'object' || value === null) return 0;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'number' ? field : 0;
}

function arrayAt(value: unknown, key: string): unknown[] {
  if (typeof value !== 'object' || value === null) return [];
  const field = (value as Record<string, unknown>)[key];
  return Array.isArray(field) ? (field as unknown[]) : [];
}

/** A gate that is one test: passes when the command exits 0. */
async function gate(name: string, script: string): Promise<StepResult> {
  banner(name);
  const code = await run('npm', ['run', '--silent', script]);
  return {
    name,
    passed: code === 0 ? 1 : 0,
    failed: code === 0 ? 0 : 1,
    skipped: 0,
    note: code === 0 ? 'passed' : `failed (exit ${code})`,
  };
}

async function vitest(reportDir: string): Promise<StepResult> {
  const name = 'unit (vitest)';
  banner(name);
  const report = join(reportDir, 'vitest.json');
  const code = await run(process.execPath, [
    join(repoRoot, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ]);
  const json = readJson(report);
  if (json === undefined) {
    return { name, passed: 0, failed: 1, skipped: 0, note: `no report (vitest exited ${code})` };
  }
  const passed = numberAt(json, 'numPassedTests');
  // A file that fails to import has no failed assertion of its own: count it as one failure.
  const brokenFiles = arrayAt(json, 'testResults').filter(
    (file) =>
      typeof file === 'object' &&
      file !== null &&
      (file as { status?: unknown }).status === 'failed' &&
      !arrayAt(file, 'assertionResults').some(
        (test) => (test as { status?: unknown }).status === 'failed',
      ),
  ).length;
  let failed = numberAt(json, 'numFailedTests') + brokenFiles;
  if (code !== 0 && failed === 0) failed = 1; // e.g. an unhandled error after the tests
  const skipped = numberAt(json, 'numPendingTests') + numberAt(json, 'numTodoTests');
  return {
    name,
    passed,
    failed,
    skipped,
    note: `${passed} passed, ${failed} failed, ${skipped} skipped`,
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Makes sure Debian's Chromium is there; installs it when running as root. Returns a failure note or null. */
async function ensureChromium(): Promise<string | null> {
  banner('chromium');
  const configured = process.env.CHROMIUM_PATH;
  const path = configured || DEFAULT_CHROMIUM;
  if (isExecutable(path)) {
    process.stdout.write(`using ${path}\n`);
    return null;
  }
  if (configured) return `CHROMIUM_PATH=${configured} is not an executable file`;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    process.stderr.write(
      `\nChromium is missing (${DEFAULT_CHROMIUM}); the e2e tests drive Debian's Chromium and never download a browser.\n` +
        `Install it, then run npm test again:\n\n    sudo sh -c '${INSTALL_COMMAND}'\n\n` +
        `(or point CHROMIUM_PATH at an existing Chromium).\n`,
    );
    return `Chromium missing; run: sudo sh -c '${INSTALL_COMMAND}'`;
  }
  process.stdout.write(
    `Chromium is missing; running as root, so installing it: ${INSTALL_COMMAND}\n`,
  );
  const code = await run('sh', ['-c', INSTALL_COMMAND], {
    ...process.env,
    DEBIAN_FRONTEND: 'noninteractive',
  });
  if (code !== 0 || !isExecutable(DEFAULT_CHROMIUM))
    return `installing Chromium failed (exit ${code})`;
  return null;
}

async function playwright(reportDir: string): Promise<StepResult> {
  const name = 'e2e (playwright)';
  banner(name);
  const report = join(reportDir, 'playwright.json');
  const code = await run(
    process.execPath,
    [join(repoRoot, 'node_modules/@playwright/test/cli.js'), 'test'],
    {
      ...process.env,
      PLAYWRIGHT_JSON_OUTPUT_FILE: report,
    },
  );
  const json = readJson(report);
  if (json === undefined) {
    return {
      name,
      passed: 0,
      failed: 1,
      skipped: 0,
      note: `no report (playwright exited ${code})`,
    };
  }
  const stats = (json as { stats?: unknown }).stats;
  const flaky = numberAt(stats, 'flaky');
  const passed = numberAt(stats, 'expected') + flaky;
  // Errors outside any test (global setup, a broken spec file) count as one failure each.
  let failed = numberAt(stats, 'unexpected') + arrayAt(json, 'errors').length;
  if (code !== 0 && failed === 0) failed = 1;
  const skipped = numberAt(stats, 'skipped');
  const flakyNote = flaky > 0 ? ` (${flaky} flaky)` : '';
  return {
    name,
    passed,
    failed,
    skipped,
    note: `${passed} passed${flakyNote}, ${failed} failed, ${skipped} skipped`,
  };
}

async function main(): Promise<number> {
  const reportDir = await mkdtemp(join(tmpdir(), 'kluis-test-reports-'));
  const results: StepResult[] = [];
  try {
    results.push(await gate('typecheck', 'typecheck'));
    results.push(await gate('lint', 'lint'));
    results.push(await vitest(reportDir));
    const chromiumProblem = await ensureChromium();
    if (chromiumProblem) {
      results.push({
        name: 'e2e (playwright)',
        passed: 0,
        failed: 1,
        skipped: 0,
        note: `not run: ${chromiumProblem}`,
      });
    } else {
      results.push(await playwright(reportDir));
    }
  } finally {
    await rm(reportDir, { recursive: true, force: true });
  }

  banner('summary');
  for (const result of results) process.stdout.write(`${result.name.padEnd(20)} ${result.note}\n`);
  const passed = results.reduce((sum, result) => sum + result.passed, 0);
  const failed = results.reduce((sum, result) => sum + result.failed, 0);
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
