// server/index.ts as a process: refuses bad configuration without a stack trace; serves, then stops on SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
let tempDir: string;
/** `<tempDir>/data`; its secrets directory is `<tempDir>/secrets` by default, as ./data and ./secrets. */
let dataDir: string;

beforeEach(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'kluis-index-'));
  dataDir = join(tempDir, 'data');
});

afterEach(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? '', KLUIS_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

async function waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('server/index.ts', () => {
  it('exits 1 with a message naming the variable and no stack trace', async () => {
    const server = startServer({ PORT: 'eighty' });
    expect(await server.exited).toBe(1);
    const { stderr } = server.output();
    expect(stderr).toContain('PORT: must be a whole number');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 naming TLS_CERT_FILE when the certificate cannot be read', async () => {
    const server = startServer({ TLS_CERT_FILE: join(dataDir, 'missing.pem'), TLS_KEY_FILE: join(dataDir, 'missing-key.pem') });
    expect(await server.exited).toBe(1);
    expect(server.output().stderr).toContain('TLS_CERT_FILE: cannot read');
    expect(server.output().stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 when the secrets directory is inside the data directory, naming both and the fix', async () => {
    const server = startServer({ PORT: '0', KLUIS_SECRETS_DIR: join(dataDir, 'secrets') });
    try {
      expect(await server.exited).toBe(1);
      const { stderr } = server.output();
      const realDataDir = await realpath(dataDir);
      expect(stderr).toContain(`the secrets directory ${join(realDataDir, 'secrets')} is inside the data directory ${realDataDir}`);
      expect(stderr).toContain('KLUIS_SECRETS_DIR');
      expect(stderr).toContain('KLUIS_ALLOW_SECRET_IN_DATA_DIR=true');
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dataDir, 'secrets'))).toBe(false);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('migrates, clears temp files a killed write left, serves, logs its URL once, and shuts down cleanly on SIGTERM', async () => {
    await mkdir(join(dataDir, 'blobs', 'tmp'), { recursive: true });
    await writeFile(join(dataDir, 'blobs', 'tmp', 'killed-mid-write.tmp'), 'ciphertext');
    const server = startServer({ PORT: '0', LOG_LEVEL: 'info' });
    try {
      const url = await waitFor(() => /Kluis listening on (http:\/\/[^"\s]+)/.exec(server.output().stdout)?.[1], 15_000);
      expect(await readdir(join(dataDir, 'blobs', 'tmp'))).toEqual([]);
      const res = await fetch(`${url}/api/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.output().stdout.match(/Kluis listening on/g)).toHaveLength(1);
      // The secret it created lies beside the data directory, not in it.
      expect((await stat(join(tempDir, 'secrets', 'opaque-server-setup'))).mode & 0o777).toBe(0o600);
      expect(existsSync(join(dataDir, 'secrets'))).toBe(false);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
