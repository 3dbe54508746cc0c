// Where to go after signing in: a page of the signed-in area the user was sent away from (an e-mail link).

const SIGNED_IN_PATH = /^\/app(?:\/[A-Za-z0-9_-]+)*\/?$/;

/**
 * The `next` parameter if it names a path inside /app, else /app. WARNING: anything else (another
 * origin, `//host`, backslashes, schemes, queries) is refused: no open redirect (OWASP ASVS 5.0 V3.7).
 */
export function returnPath(next: string | null): string {
  return next !== null && SIGNED_IN_PATH.test(next) ? next : '/app';
}

/** The login address that comes back to `path` (a path below /app) after signing in. */
export function loginPathFor(path: string): string {
  return path === '/app' || path === '/app/' ? '/login' : `/login?next=${encodeURIComponent(path)}`;
}
