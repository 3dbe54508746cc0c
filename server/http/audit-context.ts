// What every audit event learns from the request it happens in, without each of the hundred call
// sites passing it: the client's IP address and user agent, and a count of events the request
// recorded (the coverage test reads it). AsyncLocalStorage follows the request through awaits.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env';
import { clientIp } from './client-ip';

export interface AuditRequestContext {
  readonly ip: string | null;
  /** The User-Agent header, cut to 256 characters (it is shown to Auditors, never trusted). */
  readonly userAgent: string | null;
  /** Events recorded while this request ran (committed or not). */
  eventsRecorded: number;
}

const storage = new AsyncLocalStorage<AuditRequestContext>();

export const USER_AGENT_MAX = 256;

/** The context of the request running now, or undefined outside a request (timers, start-up). */
export function currentAuditContext(): AuditRequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` inside an audit context (used by the middleware, and by tests and jobs that act for a request). */
export function runWithAuditContext<T>(context: AuditRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function auditContextMiddleware(trustProxy: boolean, onFinished?: (c: Parameters<MiddlewareHandler<AppEnv>>[0], context: AuditRequestContext) => void): MiddlewareHandler<AppEnv> {
  return async function auditContext(c, next) {
    const agent = c.req.header('user-agent');
    const context: AuditRequestContext = {
      ip: clientIp(c, trustProxy),
      userAgent: agent ? agent.slice(0, USER_AGENT_MAX) : null,
      eventsRecorded: 0,
    };
    await storage.run(context, () => next());
    onFinished?.(c, context);
  };
}
