// Runs the real `npm run audit:verify` CLI (server/cli/audit-verify.ts) as a child process, for tests.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { budget } from './budget';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runAuditVerify(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'server/cli/audit-verify.ts', ...args],
      { cwd: repoRoot, timeout: budget(30_000), maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number')
          return reject(new Error(`audit:verify did not run: ${error.message}`));
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
