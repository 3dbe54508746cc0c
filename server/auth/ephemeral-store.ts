// Short-lived protocol state (pending OPAQUE logins and registrations, rate-limit windows), kept in memory.
import { fail } from '../errors';

/**
 * Why memory and not the database: this state lives for minutes, nobody is told it is saved, and
 * the OPAQUE server login state holds ephemeral secrets that should never reach a disk or a backup.
 * A restart simply makes people start their sign-in again. Scale-out (several stateless servers)
 * needs a shared implementation of this interface (a PostgreSQL UNLOGGED table or similar); the
 * interface is async for that reason.
 */
export interface PendingLogin {
  /** Null for unknown, locked or reset-pending accounts (their answer was a fake). */
  readonly userId: string | null;
  /**
   * The users row the attempt's bookkeeping reads: the account's id, or for an unknown or
   * reset-pending address its OPAQUE pseudonym (no such row), so fakes do the same work (SECURITY.md 5.1).
   */
  readonly subject: string;
  /** OPAQUE ServerLoginState: secret. */
  readonly state: string;
  readonly expiresAt: number;
  /**
   * The locked_until this attempt's own count wrote, when that count locked the account: a right
   * password followed by a second step takes the count back, and may lift only this lock (auth.service).
   */
  readonly ownLock?: string | null;
}

export interface PendingRegistration {
  readonly purpose: 'setup' | 'signup' | 'password' | 'recovery' | 'reset';
  readonly userId: string;
  /** What it is for: e-mail (setup), invitation id (signup), session id (password), user id (recovery), reset id (reset). */
  readonly subject: string;
  readonly expiresAt: number;
}

/**
 * Other short-lived values, by kind and id (second factors, issue 20): a sign-in's pending second
 * step, a TOTP or e-mail set-up awaiting its first code, an e-mail code, a WebAuthn ceremony's
 * challenge. Each kind's owner defines its value's type.
 */
export type EphemeralKind = 'login-challenge' | 'totp-setup' | 'email-setup' | 'email-code' | 'webauthn-ceremony';

export interface EphemeralStore {
  /** Stores `value` under (`kind`, `id`) until `expiresAt` (ms since the epoch), replacing what was there. */
  putEntry<T>(kind: EphemeralKind, id: string, value: T, expiresAt: number): Promise<void>;
  /** The value, or undefined when unknown or expired at `now`. */
  getEntry<T>(kind: EphemeralKind, id: string, now: number): Promise<T | undefined>;
  /** Removes and returns the value (it works once), or undefined when unknown or expired at `now`. */
  takeEntry<T>(kind: EphemeralKind, id: string, now: number): Promise<T | undefined>;
  deleteEntry(kind: EphemeralKind, id: string): Promise<void>;
  /**
   * Removes and returns the values of `kind` that expired by `now` and were never taken or
   * deleted: what their owner still acts on (a sign-in's second step left unanswered). Expired
   * entries stay until this or `sweep` removes them; reading one answers undefined.
   */
  takeExpiredEntries<T>(kind: EphemeralKind, now: number): Promise<T[]>;
  putLogin(id: string, login: PendingLogin): Promise<void>;
  /** Removes and returns a pending login (a login id works once); undefined if unknown. */
  takeLogin(id: string): Promise<PendingLogin | undefined>;
  /** Whether `userId` has a login that is neither finished nor expired. */
  hasOpenLogin(userId: string, now: number): Promise<boolean>;
  putRegistration(id: string, registration: PendingRegistration): Promise<void>;
  takeRegistration(id: string): Promise<PendingRegistration | undefined>;
  /** Adds one hit to a fixed window (windows are aligned to multiples of `windowMs` since the epoch) and returns the hits in it. */
  hit(key: string, windowMs: number, now: number): Promise<number>;
  /** Drops expired entries; returns the user ids of logins that expired unfinished (abandoned). */
  sweep(now: number): Promise<string[]>;
}

/** More pending entries than this is an attack or a bug: refuse new ones instead of growing. */
export const MAX_PENDING = 100_000;

export function createMemoryStore(): EphemeralStore {
  const logins = new Map<string, PendingLogin>();
  const registrations = new Map<string, PendingRegistration>();
  const windows = new Map<string, { start: number; count: number }>();
  const entries = new Map<string, { value: unknown; expiresAt: number }>();
  const entryKey = (kind: EphemeralKind, id: string) => `${kind}:${id}`;
  // An expired entry stays for takeExpiredEntries: reading it late must not hide it from its owner.
  const liveEntry = (kind: EphemeralKind, id: string, now: number) => {
    const entry = entries.get(entryKey(kind, id));
    return entry && entry.expiresAt > now ? entry : undefined;
  };

  const guard = (size: number) => {
    if (size >= MAX_PENDING) throw fail('service_unavailable', 'Too many sign-ins are in progress. Try again in a few minutes.');
  };

  return {
    putEntry(kind, id, value, expiresAt) {
      if (!entries.has(entryKey(kind, id))) guard(entries.size);
      entries.set(entryKey(kind, id), { value, expiresAt });
      return Promise.resolve();
    },
    getEntry<T>(kind: EphemeralKind, id: string, now: number) {
      return Promise.resolve(liveEntry(kind, id, now)?.value as T | undefined);
    },
    takeEntry<T>(kind: EphemeralKind, id: string, now: number) {
      const entry = liveEntry(kind, id, now);
      if (entry) entries.delete(entryKey(kind, id));
      return Promise.resolve(entry?.value as T | undefined);
    },
    takeExpiredEntries<T>(kind: EphemeralKind, now: number) {
      const expired: T[] = [];
      for (const [key, entry] of entries) {
        if (!key.startsWith(`${kind}:`) || entry.expiresAt > now) continue;
        entries.delete(key);
        expired.push(entry.value as T);
      }
      return Promise.resolve(expired);
    },
    deleteEntry(kind, id) {
      entries.delete(entryKey(kind, id));
      return Promise.resolve();
    },
    putLogin(id, login) {
      guard(logins.size);
      logins.set(id, login);
      return Promise.resolve();
    },
    takeLogin(id) {
      const login = logins.get(id);
      logins.delete(id);
      return Promise.resolve(login);
    },
    hasOpenLogin(userId, now) {
      for (const login of logins.values()) if (login.userId === userId && login.expiresAt > now) return Promise.resolve(true);
      return Promise.resolve(false);
    },
    putRegistration(id, registration) {
      guard(registrations.size);
      registrations.set(id, registration);
      return Promise.resolve();
    },
    takeRegistration(id) {
      const registration = registrations.get(id);
      registrations.delete(id);
      return Promise.resolve(registration);
    },
    hit(key, windowMs, now) {
      const start = Math.floor(now / windowMs) * windowMs;
      const current = windows.get(key);
      const next = current && current.start === start ? { start, count: current.count + 1 } : { start, count: 1 };
      if (!current) guard(windows.size);
      windows.set(key, next);
      return Promise.resolve(next.count);
    },
    sweep(now) {
      const abandoned: string[] = [];
      for (const [id, login] of logins) {
        if (login.expiresAt > now) continue;
        logins.delete(id);
        if (login.userId) abandoned.push(login.userId);
      }
      for (const [id, registration] of registrations) if (registration.expiresAt <= now) registrations.delete(id);
      for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
      // Windows are at most 5 minutes long; an hour-old one is certainly over.
      for (const [key, window] of windows) if (window.start < now - 3_600_000) windows.delete(key);
      return Promise.resolve(abandoned);
    },
  };
}
