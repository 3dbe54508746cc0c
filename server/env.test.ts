// loadConfig: defaults, every setting, and errors that name the variable without echoing its value.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      dataDir: './data',
      secretsDir: 'secrets',
      allowSecretInDataDir: false,
      databasePath: 'data/kluis.db',
      blobDir: 'data/blobs',
      blobCapacityBytes: null,
      uploads: { maxFileBytes: 10 * 1024 ** 3, inflightBytesPerUser: 20 * 1024 ** 3, ttlHours: 24 },
      spaces: { quotaBytes: 100 * 1024 ** 3, reminderDays: 3 },
      publicOrigin: 'http://localhost:8080',
      logLevel: 'info',
      tls: null,
      maxBodyBytes: 1024 * 1024,
      trustProxy: false,
      opaqueServerSetup: null,
      recoveryMode: false,
      loginLimitPerIp: 100,
      ignoreIpAllowlist: false,
      audit: { headEveryEvents: 1000, headMaxMinutes: 5 },
      mail: { smtpUrl: null, from: 'Kluis <noreply@localhost>', outboxDir: 'data/outbox' },
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '9443',
        HOST: '0.0.0.0',
        KLUIS_DATA_DIR: '/var/lib/kluis',
        KLUIS_SECRETS_DIR: '/etc/kluis/secrets',
        KLUIS_ALLOW_SECRET_IN_DATA_DIR: 'true',
        PUBLIC_ORIGIN: 'https://kluis.example.com/',
        LOG_LEVEL: 'warn',
        TLS_CERT_FILE: '/etc/kluis/cert.pem',
        TLS_KEY_FILE: '/etc/kluis/key.pem',
        MAX_BODY_BYTES: '2048',
        TRUST_PROXY: 'true',
        SMTP_URL: 'smtps://kluis:pa55@mail.example.com:465',
        MAIL_FROM: 'Kluis Portal <portal@example.com>',
        KLUIS_OPAQUE_SERVER_SETUP: ` ${'s'.repeat(171)}\n`,
        KLUIS_RECOVERY_MODE: 'true',
        KLUIS_LOGIN_LIMIT_PER_IP: '5000',
        KLUIS_IGNORE_IP_ALLOWLIST: 'true',
        KLUIS_BLOB_CAPACITY_BYTES: '1000000000',
        KLUIS_MAX_FILE_BYTES: '500000000',
        KLUIS_UPLOAD_QUOTA_BYTES: '800000000',
        KLUIS_UPLOAD_TTL_HOURS: '6',
        KLUIS_SPACE_QUOTA_BYTES: '5000000000',
        KLUIS_REQUEST_REMINDER_DAYS: '7',
        KLUIS_AUDIT_HEAD_EVERY_EVENTS: '50',
        KLUIS_AUDIT_HEAD_MAX_MINUTES: '2',
      }),
    ).toEqual({
      port: 9443,
      host: '0.0.0.0',
      dataDir: '/var/lib/kluis',
      secretsDir: '/etc/kluis/secrets',
      allowSecretInDataDir: true,
      databasePath: '/var/lib/kluis/kluis.db',
      blobDir: '/var/lib/kluis/blobs',
      blobCapacityBytes: 1_000_000_000,
      uploads: { maxFileBytes: 500_000_000, inflightBytesPerUser: 800_000_000, ttlHours: 6 },
      spaces: { quotaBytes: 5_000_000_000, reminderDays: 7 },
      publicOrigin: 'https://kluis.example.com',
      logLevel: 'warn',
      tls: { certFile: '/etc/kluis/cert.pem', keyFile: '/etc/kluis/key.pem' },
      maxBodyBytes: 2048,
      trustProxy: true,
      opaqueServerSetup: 's'.repeat(171),
      recoveryMode: true,
      loginLimitPerIp: 5000,
      ignoreIpAllowlist: true,
      audit: { headEveryEvents: 50, headMaxMinutes: 2 },
      mail: { smtpUrl: 'smtps://kluis:pa55@mail.example.com:465', from: 'Kluis Portal <portal@example.com>', outboxDir: '/var/lib/kluis/outbox' },
    });
  });

  it('refuses an OPAQUE server secret that is not a ServerSetup, without echoing it', () => {
    expect(() => loadConfig({ KLUIS_OPAQUE_SERVER_SETUP: 'not-secret!!' })).toThrow(/KLUIS_OPAQUE_SERVER_SETUP: must be an OPAQUE ServerSetup/);
    expect(() => loadConfig({ KLUIS_OPAQUE_SERVER_SETUP: 'not-secret!!' })).not.toThrow(/not-secret/);
  });

  it('puts the secrets directory next to the data directory by default, never inside it', () => {
    expect(loadConfig({}).secretsDir).toBe('secrets');
    expect(loadConfig({ KLUIS_DATA_DIR: './data' }).secretsDir).toBe('secrets');
    expect(loadConfig({ KLUIS_DATA_DIR: '/srv/kluis/data/' }).secretsDir).toBe('/srv/kluis/secrets');
    expect(loadConfig({ KLUIS_DATA_DIR: '/var/lib/kluis' }).secretsDir).toBe('/var/lib/kluis-secrets');
    expect(loadConfig({ KLUIS_DATA_DIR: '../kluis-data' }).secretsDir).toBe('../kluis-data-secrets');
    expect(loadConfig({ KLUIS_DATA_DIR: '/var/lib/kluis', KLUIS_SECRETS_DIR: '/etc/kluis' }).secretsDir).toBe('/etc/kluis');
  });

  it('asks for KLUIS_SECRETS_DIR when the data directory has no sibling to default to', () => {
    for (const dataDir of ['.', './', '..', '/']) {
      expect(configError({ KLUIS_DATA_DIR: dataDir })).toContain('KLUIS_SECRETS_DIR: must be set');
      expect(loadConfig({ KLUIS_DATA_DIR: dataDir, KLUIS_SECRETS_DIR: '/etc/kluis' }).secretsDir).toBe('/etc/kluis');
    }
  });

  it('derives the default public origin from PORT and TLS', () => {
    expect(loadConfig({ PORT: '3000' }).publicOrigin).toBe('http://localhost:3000');
    expect(loadConfig({ PORT: '3443', TLS_CERT_FILE: 'c.pem', TLS_KEY_FILE: 'k.pem' }).publicOrigin).toBe('https://localhost:3443');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', LOG_LEVEL: '', TRUST_PROXY: '' })).toMatchObject({ port: 8080, logLevel: 'info', trustProxy: false });
  });

  it.each([
    ['PORT', 'eighty', 'must be a whole number'],
    ['PORT', '8080.5', 'must be a whole number'],
    ['PORT', '-1', 'must be a whole number'],
    ['PORT', '65536', 'must be at most 65535'],
    ['LOG_LEVEL', 'loud', 'expected one of'],
    ['MAX_BODY_BYTES', '10', 'must be at least 1024'],
    ['MAX_BODY_BYTES', '1e6', 'must be a whole number'],
    ['KLUIS_BLOB_CAPACITY_BYTES', '0', 'must be at least 1'],
    ['KLUIS_MAX_FILE_BYTES', '10GiB', 'must be a whole number'],
    ['KLUIS_UPLOAD_QUOTA_BYTES', '-5', 'must be a whole number'],
    ['KLUIS_UPLOAD_TTL_HOURS', '0', 'must be at least 1'],
    ['TRUST_PROXY', 'perhaps', 'expected one of'],
    ['KLUIS_ALLOW_SECRET_IN_DATA_DIR', 'perhaps', 'expected one of'],
    ['PUBLIC_ORIGIN', 'kluis.example.com', 'must be an http(s) origin'],
    ['PUBLIC_ORIGIN', 'https://kluis.example.com/portal', 'must be an http(s) origin'],
    ['PUBLIC_ORIGIN', 'https://user:pw@kluis.example.com', 'must be an http(s) origin'],
    ['PUBLIC_ORIGIN', 'https://kluis.example.com/?x=1', 'must be an http(s) origin'],
    ['PUBLIC_ORIGIN', 'ftp://kluis.example.com', 'must be an http(s) origin'],
    ['PUBLIC_ORIGIN', 'http://kluis.example.com', 'must use https unless the host is localhost'],
    ['SMTP_URL', 'mail.example.com:25', 'must be an smtp:// or smtps:// URL'],
    ['SMTP_URL', 'https://mail.example.com', 'must be an smtp:// or smtps:// URL'],
    ['SMTP_URL', 'smtp://', 'must be an smtp:// or smtps:// URL'],
    ['SMTP_URL', 'smtp://mail.example.com/inbox', 'must be an smtp:// or smtps:// URL'],
    ['MAIL_FROM', 'Kluis', 'must be an e-mail address'],
    ['MAIL_FROM', 'a@example.com, b@example.com', 'must be an e-mail address'],
    ['MAIL_FROM', 'Kluis <noreply@example.com>\r\nBcc: x@evil.example', 'must be an e-mail address'],
    ['MAIL_FROM', 'Kluis <noreply@example.com', 'must be an e-mail address'],
  ])('rejects %s=%j naming the variable', (variable, value, expected) => {
    const message = configError({ [variable]: value });
    expect(message).toContain(`${variable}: `);
    expect(message).toContain(expected);
  });

  it('never echoes the rejected value (it might be a secret pasted into the wrong variable)', () => {
    const message = configError({ PORT: 's3cr3t-canary', PUBLIC_ORIGIN: 'https://s3cr3t-canary@x.example', SMTP_URL: 'smtp://u:s3cr3t-canary@x/y' });
    expect(message).not.toContain('s3cr3t-canary');
  });

  it('reports every bad variable at once', () => {
    const message = configError({ PORT: 'x', LOG_LEVEL: 'y', TRUST_PROXY: 'z' });
    expect(message).toMatch(/PORT: [\s\S]*LOG_LEVEL: [\s\S]*TRUST_PROXY: /);
  });

  it('requires TLS_CERT_FILE and TLS_KEY_FILE together', () => {
    expect(configError({ TLS_CERT_FILE: 'cert.pem' })).toContain('TLS_CERT_FILE, TLS_KEY_FILE: set both');
    expect(configError({ TLS_KEY_FILE: 'key.pem' })).toContain('TLS_CERT_FILE, TLS_KEY_FILE: set both');
  });

  it('allows plain http for loopback origins only', () => {
    expect(loadConfig({ PUBLIC_ORIGIN: 'http://127.0.0.1:8080' }).publicOrigin).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ PUBLIC_ORIGIN: 'http://[::1]:8080' }).publicOrigin).toBe('http://[::1]:8080');
  });

  it('accepts the usual spellings of booleans for TRUST_PROXY', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
  });

  it('writes mail to <dataDir>/outbox unless SMTP_URL is set', () => {
    expect(loadConfig({ KLUIS_DATA_DIR: '/srv/kluis' }).mail).toEqual({ smtpUrl: null, from: 'Kluis <noreply@localhost>', outboxDir: '/srv/kluis/outbox' });
    expect(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525' }).mail.smtpUrl).toBe('smtp://127.0.0.1:2525');
    expect(loadConfig({ SMTP_URL: 'smtp://relay.internal:25?requireTLS=false' }).mail.smtpUrl).toBe('smtp://relay.internal:25?requireTLS=false');
  });

  it('derives the default sender from the public origin (localhost for an IP address)', () => {
    expect(loadConfig({ PUBLIC_ORIGIN: 'https://kluis.example.com' }).mail.from).toBe('Kluis <noreply@kluis.example.com>');
    expect(loadConfig({ PUBLIC_ORIGIN: 'http://127.0.0.1:8080' }).mail.from).toBe('Kluis <noreply@localhost>');
    expect(loadConfig({ PUBLIC_ORIGIN: 'http://[::1]:8080' }).mail.from).toBe('Kluis <noreply@localhost>');
  });

  it('accepts MAIL_FROM as a bare address or with a display name', () => {
    expect(loadConfig({ MAIL_FROM: 'noreply@kantoor.nl' }).mail.from).toBe('noreply@kantoor.nl');
    expect(loadConfig({ MAIL_FROM: '  Kantoor Jansen <kluis@kantoor.nl> ' }).mail.from).toBe('Kantoor Jansen <kluis@kantoor.nl>');
  });
});
