// The signed-in actor of a request, as services take it.
import type { Context } from 'hono';
import { fail } from '../errors';
import type { AppEnv } from '../http/app-env';
import type { Actor } from '../services/account-deps';

/** The signed-in actor; define-route already refused requests without a session. */
export function actorOf(c: Context<AppEnv>): Actor {
  const session = c.get('session');
  if (!session) throw fail('unauthenticated', 'Sign in first.');
  return { userId: session.userId, role: session.role, sessionId: session.id, authenticatedAt: session.authenticatedAt, ip: c.get('clientIp') };
}
