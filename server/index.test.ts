// server/index.ts as a process: refuses bad configuration without a stack trace; serves, then stops on SIGTERM; HTTPS offers AEAD suites only.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, getCiphers, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { budget } from './test/budget';

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
      const url = await waitFor(() => /Kluis listening on (http:\/\/[^"\s]+)/.exec(server.output().stdout)?.[1], budget(15_000));
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

/** A self-signed certificate for localhost with an RSA or an ECDSA (P-256) key, made by the openssl command. */
async function selfSignedCertificate(kind: 'rsa' | 'ecdsa'): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(tempDir, `${kind}-cert.pem`);
  const keyFile = join(tempDir, `${kind}-key.pem`);
  const key = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  await promisify(execFile)('openssl', ['req', '-x509', ...key, '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyFile, '-out', certFile]);
  return { certFile, keyFile };
}

type Handshake = { readonly version: string | null; readonly suite: string } | { readonly refused: string };

/** The server ended the handshake with an alert: handshake_failure (no suite in common) or protocol_version (OpenSSL's codes). */
const serverAlert = { handshakeFailure: { refused: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }, protocolVersion: { refused: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' } };

/** One TLS handshake with the server, offering only what `options` allow; what it negotiated, or why it failed. */
function handshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    let socket: TLSSocket;
    try {
      socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ...options });
    } catch (error) {
      // A suite this client's OpenSSL cannot offer at all.
      resolve({ refused: (error as NodeJS.ErrnoException).code ?? String(error) });
      return;
    }
    socket.once('secureConnect', () => {
      resolve({ version: socket.getProtocol(), suite: socket.getCipher().standardName });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ refused: error.code ?? error.message }));
  });
}

/** Every TLS 1.2 suite the server accepts, each offered alone (at security level 0, so the client can offer the weak ones). */
async function acceptedTls12Suites(port: number): Promise<string[]> {
  const accepted: string[] = [];
  for (const name of getCiphers().filter((cipher) => !cipher.startsWith('tls_'))) {
    const result = await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: `${name.toUpperCase()}:@SECLEVEL=0` });
    if ('suite' in result) accepted.push(result.suite);
  }
  return accepted.sort();
}

describe('server/index.ts over HTTPS (TLS_CERT_FILE, TLS_KEY_FILE)', () => {
  // The suites a scanner may see, by certificate type (IANA names): AEAD only, forward secret only.
  const tls12Expected = {
    rsa: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
    ecdsa: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  } as const;
  // Every other TLS 1.2 suite Node's default list accepted with a certificate of that kind (measured on
  // Node 20 / OpenSSL 3.0 before this was changed): CBC (LUCKY13), and static RSA key exchange (no forward secrecy).
  const refusedTls12 = {
    rsa: ['ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384', 'AES128-SHA', 'AES256-SHA', 'AES128-SHA256', 'AES256-SHA256', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384'],
    ecdsa: ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384'],
  } as const;

  for (const kind of ['rsa', 'ecdsa'] as const) {
    it(`with an ${kind.toUpperCase()} certificate: TLS 1.2 only with ECDHE and AES-GCM or ChaCha20-Poly1305, TLS 1.3 with its three suites, nothing older`, async () => {
      const { certFile, keyFile } = await selfSignedCertificate(kind);
      const server = startServer({ PORT: '0', LOG_LEVEL: 'info', TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
      try {
        const url = await waitFor(() => /Kluis listening on (https:\/\/[^"\s]+)/.exec(server.output().stdout)?.[1], budget(15_000));
        const port = Number(new URL(url).port);

        for (const suite of refusedTls12[kind]) {
          const result = await handshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: `${suite}:@SECLEVEL=0` });
          expect(result, suite).toEqual(serverAlert.handshakeFailure);
        }
        expect(await acceptedTls12Suites(port)).toEqual(tls12Expected[kind]);
        // The server's order wins: a client preferring ChaCha20 still gets AES-128-GCM.
        const [aes128, , chacha] = tls12Expected[kind];
        const offered = `ECDHE-${kind.toUpperCase()}-CHACHA20-POLY1305:ECDHE-${kind.toUpperCase()}-AES256-GCM-SHA384:ECDHE-${kind.toUpperCase()}-AES128-GCM-SHA256`;
        expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: offered })).toEqual({ version: 'TLSv1.2', suite: aes128 });
        expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: offered.split(':')[0] })).toEqual({ version: 'TLSv1.2', suite: chacha });

        for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
          expect(await handshake(port, { minVersion: 'TLSv1.3', ciphers: suite })).toEqual({ version: 'TLSv1.3', suite });
        }
        // TLS 1.3's CCM suites are AEAD too but not offered (CCM_8 has a short tag).
        expect(await handshake(port, { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256' })).toEqual(serverAlert.handshakeFailure);
        expect(await handshake(port, { minVersion: 'TLSv1.3' })).toEqual({ version: 'TLSv1.3', suite: 'TLS_AES_128_GCM_SHA256' });
        for (const version of ['TLSv1', 'TLSv1.1'] as const) {
          expect(await handshake(port, { minVersion: version, maxVersion: version, ciphers: 'ALL:@SECLEVEL=0' }), version).toEqual(serverAlert.protocolVersion);
        }

        // And it serves the app.
        const health = await new Promise<number | undefined>((resolve, reject) => {
          httpsGet(`${url}/api/health`, { rejectUnauthorized: false }, (response) => {
            response.resume();
            resolve(response.statusCode);
          }).on('error', reject);
        });
        expect(health).toBe(200);
      } finally {
        server.child.kill('SIGKILL');
      }
    });
  }
});
