// Server configuration from environment variables, validated once at startup (fail fast, name the variable).
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /**
   * KLUIS_SECRETS_DIR: where the OPAQUE server secret file lives, apart from the data (backed up separately).
   * Default: next to the data directory, `secrets` when that is called `data` (`./data` -> `./secrets`), else
   * `<name>-secrets` (`/var/lib/kluis` -> `/var/lib/kluis-secrets`).
   */
  readonly secretsDir: string;
  /** KLUIS_ALLOW_SECRET_IN_DATA_DIR: start even when secretsDir is inside dataDir (warned at every start). */
  readonly allowSecretInDataDir: boolean;
  /** `<dataDir>/kluis.db` */
  readonly databasePath: string;
  /** `<dataDir>/blobs` */
  readonly blobDir: string;
  /** KLUIS_BLOB_CAPACITY_BYTES: most bytes the blob store may hold (blobs, parts, temp files); null = the disk's size. */
  readonly blobCapacityBytes: number | null;
  readonly uploads: {
    /** KLUIS_MAX_FILE_BYTES: largest file (ciphertext bytes) one upload may declare. */
    readonly maxFileBytes: number;
    /** KLUIS_UPLOAD_QUOTA_BYTES: most bytes one user may have declared in uploads not yet completed. */
    readonly inflightBytesPerUser: number;
    /** KLUIS_UPLOAD_TTL_HOURS: an upload not completed this long after it started is deleted with its parts. */
    readonly ttlHours: number;
  };
  readonly spaces: {
    /** KLUIS_SPACE_QUOTA_BYTES: most ciphertext bytes one space may hold (every version, plus uploads for it not yet turned into versions). */
    readonly quotaBytes: number;
    /** KLUIS_REQUEST_REMINDER_DAYS: the client is reminded once of an open document request due within this many days. */
    readonly reminderDays: number;
  };
  /** Scheme, host and port users reach Kluis at (no path). Links and the CSRF origin check use it. */
  readonly publicOrigin: string;
  readonly logLevel: LogLevel;
  /** When set, the server speaks HTTPS itself. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** Largest accepted JSON request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Whether X-Forwarded-For from a reverse proxy in front of Kluis is believed. */
  readonly trustProxy: boolean;
  /** KLUIS_OPAQUE_SERVER_SETUP: the OPAQUE server secret from the environment (else the file in secretsDir). */
  readonly opaqueServerSetup: string | null;
  /** KLUIS_RECOVERY_MODE: start with a new OPAQUE secret and print a recovery link (SECURITY.md 5.4). */
  readonly recoveryMode: boolean;
  /** KLUIS_LOGIN_LIMIT_PER_IP: login starts per client IP per 5 minutes, across accounts. */
  readonly loginLimitPerIp: number;
  /**
   * KLUIS_IGNORE_IP_ALLOWLIST: the operator's way back after a team IP allowlist locked every staff
   * member out: staff may sign in and work from any address for as long as the server runs with it
   * (warned at start and at every login it lets in). Meant for one start, to correct the list.
   */
  readonly ignoreIpAllowlist: boolean;
  readonly audit: {
    /** KLUIS_AUDIT_HEAD_EVERY_EVENTS: a tree head is signed once this many audit events are not covered by the newest one. */
    readonly headEveryEvents: number;
    /** KLUIS_AUDIT_HEAD_MAX_MINUTES: unsigned audit events wait at most this long for a signed tree head. */
    readonly headMaxMinutes: number;
  };
  readonly mail: {
    /** `smtp://` or `smtps://` URL of the relay (may hold credentials: never log it); null writes every message to `outboxDir`. */
    readonly smtpUrl: string | null;
    /** The From header: `address` or `Display Name <address>`. */
    readonly from: string;
    /** `<dataDir>/outbox`: where messages go as .eml files when no SMTP relay is configured. */
    readonly outboxDir: string;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function wholeNumber(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const GiB = 1024 ** 3;

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

const variables = z.object({
  PORT: wholeNumber(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  KLUIS_DATA_DIR: z.string().min(1).default('./data'),
  KLUIS_SECRETS_DIR: z.string().min(1).optional(),
  KLUIS_ALLOW_SECRET_IN_DATA_DIR: z.stringbool().default(false),
  PUBLIC_ORIGIN: z
    .string()
    .refine(isOrigin, 'must be an http(s) origin such as https://kluis.example.com (no path, query or credentials)')
    .refine(
      (value) => !isOrigin(value) || new URL(value).protocol === 'https:' || loopbackHosts.has(new URL(value).hostname),
      'must use https unless the host is localhost (SECURITY.md 1)',
    )
    .optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  MAX_BODY_BYTES: wholeNumber(1024, 64 * 1024 * 1024).default(1024 * 1024),
  TRUST_PROXY: z.stringbool().default(false),
  KLUIS_OPAQUE_SERVER_SETUP: z.string().regex(/^\s*[A-Za-z0-9_-]{100,400}\s*$/, 'must be an OPAQUE ServerSetup (base64url)').optional(),
  KLUIS_RECOVERY_MODE: z.stringbool().default(false),
  KLUIS_LOGIN_LIMIT_PER_IP: wholeNumber(1, 1_000_000).default(100),
  KLUIS_IGNORE_IP_ALLOWLIST: z.stringbool().default(false),
  KLUIS_BLOB_CAPACITY_BYTES: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
  KLUIS_MAX_FILE_BYTES: wholeNumber(1, Number.MAX_SAFE_INTEGER).default(10 * GiB),
  KLUIS_UPLOAD_QUOTA_BYTES: wholeNumber(1, Number.MAX_SAFE_INTEGER).default(20 * GiB),
  KLUIS_UPLOAD_TTL_HOURS: wholeNumber(1, 24 * 30).default(24),
  KLUIS_SPACE_QUOTA_BYTES: wholeNumber(1, Number.MAX_SAFE_INTEGER).default(100 * GiB),
  KLUIS_REQUEST_REMINDER_DAYS: wholeNumber(0, 365).default(3),
  KLUIS_AUDIT_HEAD_EVERY_EVENTS: wholeNumber(1, 1_000_000).default(1000),
  KLUIS_AUDIT_HEAD_MAX_MINUTES: wholeNumber(1, 24 * 60).default(5),
  SMTP_URL: z
    .string()
    .refine(isSmtpUrl, 'must be an smtp:// or smtps:// URL such as smtps://user:password@mail.example.com:465')
    .optional(),
  MAIL_FROM: z
    .string()
    .trim()
    .refine(isMailbox, 'must be an e-mail address, optionally with a display name: Kluis <noreply@kluis.example.com>')
    .optional(),
});

type Variable = keyof typeof variables.shape;
const variableNames = Object.keys(variables.shape) as Variable[];

function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    !value.endsWith('?') &&
    !value.endsWith('#')
  );
}

function isSmtpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '' && (url.pathname === '' || url.pathname === '/') && url.hash === '';
}

/** `local@domain` or `Display Name <local@domain>`; no line breaks or control characters (header injection). */
const mailboxPattern = /^(?:[^<>\p{Cc}]*<[^<>@\s]+@[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+)$/u;

function isMailbox(value: string): boolean {
  return mailboxPattern.test(value);
}

/** `Kluis <noreply@host of PUBLIC_ORIGIN>`, with `localhost` standing in for an IP address. */
function defaultMailFrom(publicOrigin: string): string {
  const { hostname } = new URL(publicOrigin);
  const isIpAddress = hostname.startsWith('[') || /^[\d.]+$/.test(hostname);
  return `Kluis <noreply@${isIpAddress ? 'localhost' : hostname}>`;
}

/** The default KLUIS_SECRETS_DIR: a sibling of the data directory; null when it has none (`/`, `.`, `..`). */
function defaultSecretsDir(dataDir: string): string | null {
  const name = basename(dataDir);
  if (name === '' || name === '.' || name === '..') return null;
  return join(dirname(dataDir), name === 'data' ? 'secrets' : `${name}-secrets`);
}

/**
 * Reads the configuration from `env` (pure: no I/O, no defaults from the process). Empty values
 * count as unset. Throws ConfigError naming every bad variable; values are never echoed.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const input: Partial<Record<Variable, string>> = {};
  for (const name of variableNames) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = variables.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const vars = parsed.data;
  if ((vars.TLS_CERT_FILE === undefined) !== (vars.TLS_KEY_FILE === undefined)) {
    throw new ConfigError('Invalid configuration:\n  TLS_CERT_FILE, TLS_KEY_FILE: set both (to serve HTTPS) or neither');
  }
  const secretsDir = vars.KLUIS_SECRETS_DIR ?? defaultSecretsDir(vars.KLUIS_DATA_DIR);
  if (secretsDir === null) {
    throw new ConfigError('Invalid configuration:\n  KLUIS_SECRETS_DIR: must be set when KLUIS_DATA_DIR has no name to put a sibling next to (such as . or /)');
  }
  const tls = vars.TLS_CERT_FILE && vars.TLS_KEY_FILE ? { certFile: vars.TLS_CERT_FILE, keyFile: vars.TLS_KEY_FILE } : null;
  const publicOrigin = vars.PUBLIC_ORIGIN ?? `${tls ? 'https' : 'http'}://localhost:${vars.PORT}`;
  return {
    port: vars.PORT,
    host: vars.HOST,
    dataDir: vars.KLUIS_DATA_DIR,
    secretsDir,
    allowSecretInDataDir: vars.KLUIS_ALLOW_SECRET_IN_DATA_DIR,
    databasePath: join(vars.KLUIS_DATA_DIR, 'kluis.db'),
    blobDir: join(vars.KLUIS_DATA_DIR, 'blobs'),
    blobCapacityBytes: vars.KLUIS_BLOB_CAPACITY_BYTES ?? null,
    uploads: {
      maxFileBytes: vars.KLUIS_MAX_FILE_BYTES,
      inflightBytesPerUser: vars.KLUIS_UPLOAD_QUOTA_BYTES,
      ttlHours: vars.KLUIS_UPLOAD_TTL_HOURS,
    },
    spaces: {
      quotaBytes: vars.KLUIS_SPACE_QUOTA_BYTES,
      reminderDays: vars.KLUIS_REQUEST_REMINDER_DAYS,
    },
    publicOrigin: new URL(publicOrigin).origin,
    logLevel: vars.LOG_LEVEL,
    tls,
    maxBodyBytes: vars.MAX_BODY_BYTES,
    trustProxy: vars.TRUST_PROXY,
    opaqueServerSetup: vars.KLUIS_OPAQUE_SERVER_SETUP?.trim() ?? null,
    recoveryMode: vars.KLUIS_RECOVERY_MODE,
    loginLimitPerIp: vars.KLUIS_LOGIN_LIMIT_PER_IP,
    ignoreIpAllowlist: vars.KLUIS_IGNORE_IP_ALLOWLIST,
    audit: {
      headEveryEvents: vars.KLUIS_AUDIT_HEAD_EVERY_EVENTS,
      headMaxMinutes: vars.KLUIS_AUDIT_HEAD_MAX_MINUTES,
    },
    mail: {
      smtpUrl: vars.SMTP_URL ?? null,
      from: vars.MAIL_FROM ?? defaultMailFrom(publicOrigin),
      outboxDir: join(vars.KLUIS_DATA_DIR, 'outbox'),
    },
  };
}
