// Starts the real Kluis server (node --import tsx server/index.ts) on a free port with fresh data and secrets directories.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { budget } from './budget';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface KluisServer {
  /** What the browser uses and the server believes it is reached at (PUBLIC_ORIGIN), e.g. http://localhost:41234. */
  readonly origin: string;
  readonly port: number;
  /** KLUIS_DATA_DIR */
  readonly dataDir: string;
  /** KLUIS_SECRETS_DIR: where the OPAQUE server secret lives, a sibling of dataDir. */
  readonly secretsDir: string;
  /** The server's process id (for a last-resort kill when the caller exits abruptly). */
  readonly pid: number | undefined;
  /** Everything the server printed so far (stdout and stderr interleaved). */
  output(): string;
  /** The first match of `pattern` in the output, waiting for it up to `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /**
   * Stops the server; deletes its data and secrets directories unless they were given in the options
   * or `keepDataDir` is set (to start another server on the same data, e.g. in recovery mode).
   */
  stop(options?: { readonly keepDataDir?: boolean }): Promise<void>;
}

export interface StartServerOptions {
  /** Extra environment for the server (on top of PORT, HOST, KLUIS_DATA_DIR, KLUIS_SECRETS_DIR, PUBLIC_ORIGIN, LOG_LEVEL). */
  readonly env?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
  /** Use these directories (kept on stop), e.g. another server's, instead of fresh temporary ones: restarts, recovery mode. */
  readonly directories?: { readonly dataDir: string; readonly secretsDir: string };
}

/** A port the kernel just handed out and released; the server binds it a moment later. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function startKluisServer(options: StartServerOptions = {}): Promise<KluisServer> {
  // A fresh temp directory holds data/ and secrets/ side by side, as ./data and ./secrets are by default.
  const tempDir = options.directories ? null : await mkdtemp(join(tmpdir(), 'kluis-e2e-'));
  const { dataDir, secretsDir } = options.directories ?? { dataDir: join(tempDir!, 'data'), secretsDir: join(tempDir!, 'secrets') };
  const port = await findFreePort();
  // localhost, not 127.0.0.1: WebAuthn needs a domain as RP ID, and the CSRF check compares with PUBLIC_ORIGIN.
  const origin = `http://localhost:${port}`;
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      KLUIS_DATA_DIR: dataDir,
      KLUIS_SECRETS_DIR: secretsDir,
      PUBLIC_ORIGIN: origin,
      LOG_LEVEL: process.env.KLUIS_E2E_LOG_LEVEL ?? 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const stop = async ({ keepDataDir = false } = {}): Promise<void> => {
    await stopProcess(child, exited);
    if (tempDir !== null && !keepDataDir) await rm(tempDir, { recursive: true, force: true });
  };

  try {
    await waitForHealth(
      `http://127.0.0.1:${port}/api/health`,
      exited,
      options.startTimeoutMs ?? budget(30_000),
    );
  } catch (error) {
    await stop();
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- server output ---\n${output}`,
      { cause: error },
    );
  }
  const waitForOutput = async (pattern: RegExp, timeoutMs = budget(10_000)): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(output);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`the server never printed ${String(pattern)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { origin, port, dataDir, secretsDir, pid: child.pid, output: () => output, waitForOutput, stop };
}

async function waitForHealth(
  url: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stoppedWith: number | null | undefined;
  void exited.then((code) => (stoppedWith = code));
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (stoppedWith !== undefined)
      throw new Error(`the Kluis server exited with code ${stoppedWith} before it was healthy`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(budget(2_000)) });
      if (response.ok) {
        const body = (await response.json()) as { status?: unknown };
        if (body.status === 'ok') return;
      }
      lastProblem = `GET /api/health answered ${response.status}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the Kluis server was not healthy within ${timeoutMs} ms (${lastProblem})`);
}

/** SIGTERM (the server shuts down gracefully), SIGKILL after 10 s. */
async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Builds the web client when dist/client is missing or stale (the server's own check): Playwright's global setup and the bench. */
export function ensureWebClientBuild(): void {
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
