// Session cookie and CSRF defence for every API request (SECURITY.md 5.5).
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../env';
import { fail } from '../errors';
import type { AuthService } from '../services/auth.service';
import type { AppEnv } from './app-env';
import { clientIp } from './client-ip';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `__Host-` binds the cookie to this exact origin (Secure, Path=/, no Domain): only possible under HTTPS. */
export function sessionCookieName(config: Config): string {
  return config.publicOrigin.startsWith('https:') ? '__Host-kluis_session' : 'kluis_session';
}

export function setSessionCookie(c: Context<AppEnv>, config: Config, token: string, expiresAt: string): void {
  setCookie(c, sessionCookieName(config), token, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: config.publicOrigin.startsWith('https:'),
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(c: Context<AppEnv>, config: Config): void {
  deleteCookie(c, sessionCookieName(config), { path: '/', secure: config.publicOrigin.startsWith('https:') });
}

/**
 * WARNING: CSRF defence on every state-changing request, public ones included (login CSRF):
 * a browser's Origin must be ours, and Sec-Fetch-Site, when sent, must say same-origin. Requests
 * with neither header do not come from a current browser (SameSite=Strict covers old ones).
 * Then the session cookie, if any, is resolved once for the route's access check.
 */
export function sessionMiddleware(config: Config, auth: AuthService): MiddlewareHandler<AppEnv> {
  return async function session(c, next) {
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header('Origin');
      const site = c.req.header('Sec-Fetch-Site');
      if ((origin !== undefined && origin !== config.publicOrigin) || (site !== undefined && site !== 'same-origin')) {
        throw fail('csrf_rejected', 'This request did not come from the Kluis web app.');
      }
    }
    const ip = clientIp(c, config.trustProxy);
    c.set('clientIp', ip);
    const token = getCookie(c, sessionCookieName(config));
    c.set('session', token && /^[A-Za-z0-9_-]{43}$/.test(token) ? await auth.resolveSession(token, ip) : null);
    await next();
  };
}

/** The trusted-device cookie ("trust this browser for 30 days"); `__Host-` under HTTPS, as the session cookie. */
export function trustedDeviceCookieName(config: Config): string {
  return config.publicOrigin.startsWith('https:') ? '__Host-kluis_trusted' : 'kluis_trusted';
}

/**
 * WARNING: HttpOnly (no script reads it, so cross-site scripting cannot carry it off), SameSite=Strict,
 * Path=/ and, under HTTPS, Secure with the `__Host-` prefix (no Domain: no sibling host can set or read it).
 */
export function setTrustedDeviceCookie(c: Context<AppEnv>, config: Config, token: string, expiresAt: string): void {
  setCookie(c, trustedDeviceCookieName(config), token, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: config.publicOrigin.startsWith('https:'),
    expires: new Date(expiresAt),
  });
}

/** The trusted-device token this browser sent, if any (its format is checked where it is used). */
export function readTrustedDeviceCookie(c: Context<AppEnv>, config: Config): string | null {
  return getCookie(c, trustedDeviceCookieName(config)) ?? null;
}
