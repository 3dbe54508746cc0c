// Servers under test as child processes: the real Kluis (`server/index.ts`) and the bare OPAQUE baseline, each on a free port.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Cleanup, makeTempDir } from './harness';

export interface ServerProcess {
  readonly pid: number;
  /** Where the bench connects (and, for Kluis, PUBLIC_ORIGIN, the Origin it sends): http://127.0.0.1:<port>. */
  readonly baseUrl: string;
  /** The process's temp data directory (KLUIS_DATA_DIR); its secrets directory (KLUIS_SECRETS_DIR) is a sibling. */
  readonly dataDir: string;
  /** What the process printed on stdout to say it is ready (for Kluis: the one-time setup link). */
  readonly readyLine: string;
}

export interface StartOptions {
  readonly repoRoot: string;
  readonly cleanup: Cleanup;
  /** Added to the child's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The child writes a V8 CPU profile here when it stops (node --cpu-prof). */
  readonly cpuProfileDir?: string | undefined;
}

/** Variables that configure Kluis: none of the caller's may leak into a bench server. */
const KLUIS_VARIABLES =
  /^(KLUIS_|PORT$|HOST$|PUBLIC_ORIGIN$|LOG_LEVEL$|TLS_|MAX_BODY_BYTES$|TRUST_PROXY$|SMTP_URL$|MAIL_FROM$)/;
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const SETUP_LINK = /https?:\/\/\S+\/setup#token=[A-Za-z0-9_-]{43}/;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Runs `node --import tsx <script>` from the repository root with fresh data and secrets directories, and waits
 * until its stdout matches `ready`. The process (SIGTERM, then SIGKILL) and the directories are
 * registered with `cleanup`, so they go away whatever happens next.
 */
async function startServerProcess(
  script: string,
  ready: RegExp,
  options: StartOptions,
): Promise<ServerProcess> {
  const { cleanup } = options;
  const tempDir = await makeTempDir(cleanup, 'kluis-bench-server-');
  const dataDir = join(tempDir, 'data');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !KLUIS_VARIABLES.test(name)),
  );
  const profile = options.cpuProfileDir
    ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir]
    : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script], {
    cwd: options.repoRoot,
    env: {
      ...inherited,
      KLUIS_DATA_DIR: dataDir,
      KLUIS_SECRETS_DIR: join(tempDir, 'secrets'),
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_ORIGIN: baseUrl,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.add({
    name: `${script} (pid ${child.pid ?? 'none'})`,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const stopped = await Promise.race([
        exited.then(() => true),
        delay(STOP_TIMEOUT_MS).then(() => false),
      ]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM; killed`);
      }
    },
    closeSync: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  });

  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const readyLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${script} was not ready within ${STARTUP_TIMEOUT_MS / 1000} s; stderr: ${stderr}`,
          ),
        ),
      STARTUP_TIMEOUT_MS,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-4000);
      const match = ready.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${script} exited during start-up (${signal ?? `code ${code}`}); stderr: ${stderr}`,
        ),
      );
    });
  });
  if (child.pid === undefined) throw new Error(`${script} has no pid`);
  return { pid: child.pid, baseUrl, dataDir, readyLine };
}

/**
 * The real server, as `npm start` runs it minus the client build: a fresh data directory, no
 * SMTP_URL (e-mails land in `<dataDir>/outbox`), LOG_LEVEL=warn. Ready once it printed its setup link.
 */
export function startKluisProcess(options: StartOptions): Promise<ServerProcess> {
  return startServerProcess('server/index.ts', SETUP_LINK, options);
}

/** The bare OPAQUE-over-Hono baseline (bare-login-server.ts). */
export function startBareLoginProcess(options: StartOptions): Promise<ServerProcess> {
  return startServerProcess(
    'server/bench/bare-login-server.ts',
    /bare login server listening on \d+/,
    options,
  );
}
