// Playwright global setup: builds the web client once when dist/client is missing or stale (the server's own check).
import { spawnSync } from 'node:child_process';
import { repoRoot } from './server';

export default function globalSetup(): void {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/ensure-client-build.ts'], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    throw new Error(
      `server/ensure-client-build.ts failed (exit ${String(result.status ?? result.signal)}): the web client could not be built`,
    );
  }
}
