// First middleware of every request: a random request id, a logger bound to it, one log line per request.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from './app-env';
import { clientIp } from './client-ip';

/**
 * The id is always generated here, never taken from the request, so log lines cannot be forged
 * into another request's trail. The log line has method, path (no query string: it can carry
 * tokens), status, duration and IP; never headers, cookies or bodies.
 */
export function requestContext(logger: Logger, trustProxy: boolean): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const requestId = randomUUID();
    const requestLogger = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', requestLogger);
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    requestLogger.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round(performance.now() - started),
        ip: clientIp(c, trustProxy),
      },
      'request',
    );
  };
}
