// What the account services share: database, configuration, OPAQUE server, notifier, clock.
import type { Logger } from 'pino';
import type { OrganisationSettings } from '../../shared/api';
import type { EphemeralStore, PendingRegistration } from '../auth/ephemeral-store';
import type { OpaqueServer } from '../auth/opaque-server';
import type { Db, Trx } from '../db/database';
import type { Config } from '../env';
import { fail } from '../errors';
import { findOrganisation } from '../repositories/accounts.repository';
import type { Notifier } from './notifications';
import { parseSettings } from './settings';

export interface AccountDeps {
  readonly db: Db;
  readonly config: Config;
  readonly logger: Logger;
  readonly opaque: OpaqueServer;
  readonly notifier: Notifier;
  /** Pending logins and registrations, rate-limit windows (memory: never on disk). */
  readonly store: EphemeralStore;
  /** Injected so tests can move time (lock expiry, session timeouts). */
  readonly now: () => Date;
}

/** Who is acting, for authorisation and the audit log. */
export interface Actor {
  readonly userId: string;
  readonly role: 'admin' | 'team' | 'client' | 'auditor';
  readonly sessionId: string;
  readonly authenticatedAt: string;
  readonly ip: string | null;
}

export const REGISTRATION_TTL_MS = 5 * 60_000;
/** "A finish after its state expired (a few minutes)". */
export const LOGIN_TTL_MS = 3 * 60_000;
export const INVITATION_TTL_MS = 7 * 24 * 3_600_000;
/** A deleted account is kept this long (restorable), then its keys are destroyed (issue 21). */
export const PURGE_AFTER_MS = 30 * 24 * 3_600_000;
export const RECENT_AUTH_MS = 15 * 60_000;

export async function requireOrganisation(db: Db | Trx) {
  const organisation = await findOrganisation(db);
  if (!organisation) throw fail('service_unavailable', 'This Kluis has not been set up yet.');
  return { organisation, settings: parseSettings(organisation.settings) };
}

export async function currentSettings(db: Db | Trx): Promise<OrganisationSettings> {
  return (await requireOrganisation(db)).settings;
}

/**
 * Adds one hit to `key`'s fixed window; refuses with rate_limited past `max`, saying in Retry-After
 * when the window ends. `message` replaces the default answer (about attempts from one IP address).
 */
export async function throttle(
  deps: AccountDeps,
  key: string,
  limit: { readonly max: number; readonly windowMs: number },
  message = 'Too many attempts from this address. Wait a few minutes and try again.',
): Promise<void> {
  const now = deps.now().getTime();
  if ((await deps.store.hit(key, limit.windowMs, now)) > limit.max) {
    const untilNextWindowMs = limit.windowMs - (now % limit.windowMs);
    throw fail('rate_limited', message, {
      headers: { 'Retry-After': String(Math.ceil(untilNextWindowMs / 1000)) },
    });
  }
}

/** Takes a pending registration for `purpose`, or fails with registration_expired. */
export async function takeRegistration(deps: AccountDeps, id: string, purpose: PendingRegistration['purpose'], what: string): Promise<PendingRegistration> {
  const registration = await deps.store.takeRegistration(id);
  if (!registration || registration.purpose !== purpose || registration.expiresAt <= deps.now().getTime()) {
    throw fail('registration_expired', `The ${what} took too long. Start again.`);
  }
  return registration;
}

export function plusMs(date: Date, ms: number): string {
  return new Date(date.getTime() + ms).toISOString();
}

/** Sensitive actions need a login within the last 15 minutes (the browser asks for the password again). */
export function assertRecentAuth(actor: Actor, now: Date): void {
  if (now.getTime() - new Date(actor.authenticatedAt).getTime() > RECENT_AUTH_MS) {
    throw fail('reauthentication_required', 'Enter your password again to do this.');
  }
}
