// The middleware and error handling every request passes through, before any route.
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { Logger } from 'pino';
import type { Config } from '../env';
import { AppError, handleError, handleNotFound } from '../errors';
import type { AppEnv } from './app-env';
import { API_PREFIX } from './paths';
import { auditContextMiddleware, type AuditRequestContext } from './audit-context';
import { requestContext } from './request-context';
import { noStore, securityHeaders } from './security-headers';

/** A route that reads its raw request body as a stream and checks its length itself (shared/api/uploads.ts). */
export interface RawBodyRoute {
  readonly method: string;
  /** Hono-style path with `:param` segments. */
  readonly path: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function routeMatcher(routes: readonly RawBodyRoute[]): (method: string, path: string) => boolean {
  const compiled = routes.map((route) => {
    const segments = route.path.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : escapeRegExp(segment)));
    return { method: route.method.toUpperCase(), pattern: new RegExp(`^${segments.join('/')}$`) };
  });
  return (method, path) => compiled.some((route) => route.method === method && route.pattern.test(path));
}

/**
 * An app with the cross-cutting middleware installed. Order matters: the request context comes
 * first (every later step logs with its id), the security headers wrap everything after them, so
 * errors, 404s and static files get them too.
 */
export function createPipeline(deps: {
  readonly config: Config;
  readonly logger: Logger;
  /**
   * Exempt from the JSON body limit. WARNING: the limit reads the body's web stream, which would
   * start draining the Node request these routes read directly (c.env.incoming); they enforce
   * their own exact lengths instead.
   */
  readonly rawBodyRoutes?: readonly RawBodyRoute[];
  /** Called after each request with the events it recorded (the audit coverage test listens). */
  readonly onAuditedRequest?: (request: { method: string; path: string; status: number; eventsRecorded: number }) => void;
  /** Called with every expected failure before it is answered (server/http/refusal-audit.ts records refusals). */
  readonly onRefusal?: (error: AppError, c: Context<AppEnv>) => Promise<void>;
}): Hono<AppEnv> {
  const { config, logger } = deps;
  const isRawBodyRoute = routeMatcher(deps.rawBodyRoutes ?? []);
  const app = new Hono<AppEnv>();
  app.use(requestContext(logger, config.trustProxy));
  const onAudited = deps.onAuditedRequest;
  app.use(
    `${API_PREFIX}/*`,
    auditContextMiddleware(
      config.trustProxy,
      onAudited ? (c, context: AuditRequestContext) => onAudited({ method: c.req.method, path: c.req.path, status: c.res.status, eventsRecorded: context.eventsRecorded }) : undefined,
    ),
  );
  app.use(securityHeaders({ https: config.publicOrigin.startsWith('https:') }));
  app.use(`${API_PREFIX}/*`, noStore());
  app.use(
    `${API_PREFIX}/*`,
    methodNotAllowed<AppEnv>({
      app,
      onMethodNotAllowed: (c, allowed) => {
        throw new AppError(405, 'method_not_allowed', `Use ${allowed.join(', ')} on ${c.req.path}.`, { headers: { Allow: allowed.join(', ') } });
      },
    }),
  );
  const jsonBodyLimit = bodyLimit({
    maxSize: config.maxBodyBytes,
    // The rest of the body is never read: close the connection so the client does not send its
    // next request into a socket the server is discarding (it would fail with a reset).
    onError: () => {
      throw new AppError(413, 'payload_too_large', `The request body is larger than ${config.maxBodyBytes} bytes.`, {
        headers: { Connection: 'close' },
      });
    },
  });
  const limitJsonBodies: MiddlewareHandler<AppEnv> = (c, next) => (isRawBodyRoute(c.req.method, c.req.path) ? next() : jsonBodyLimit(c, next));
  app.use(`${API_PREFIX}/*`, limitJsonBodies);
  const onRefusal = deps.onRefusal;
  app.onError(
    onRefusal
      ? async (error, c) => {
          if (error instanceof AppError) await onRefusal(error, c);
          return handleError(error, c);
        }
      : handleError,
  );
  app.notFound(handleNotFound);
  return app;
}
