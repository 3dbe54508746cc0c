// Serves the built web client: static files, the SPA fallback to index.html, cache rules, a 503 when unbuilt.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors';
import type { AppEnv } from './app-env';
import { isApiPath } from './paths';

/** Vite puts content-hashed files under /assets: a changed file gets a new name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else (index.html above all) is revalidated so a deploy takes effect at once. */
const REVALIDATE = 'no-cache';

/**
 * GET and HEAD outside /api: the file if it exists; a missing file under /assets is a 404 (an
 * HTML page there would be cached as a script); any other path gets index.html for client-side
 * routing. Without a build, a 503 that says how to make one.
 */
export function clientAssets(clientDir: string): MiddlewareHandler<AppEnv> {
  const root = resolve(clientDir);
  const indexHtml = join(root, 'index.html');
  let handlers: { files: MiddlewareHandler<AppEnv>; index: MiddlewareHandler<AppEnv> } | undefined;

  return async function clientAssetsMiddleware(c, next) {
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || isApiPath(c.req.path)) return next();
    if (!existsSync(indexHtml)) {
      throw new AppError(503, 'service_unavailable', 'The web client has not been built. Run `npm run build`, then restart the server.');
    }
    // Created once the build exists: serveStatic complains on the console about a missing root.
    handlers ??= { files: serveStatic<AppEnv>({ root }), index: serveStatic<AppEnv>({ root, path: 'index.html' }) };
    const isAsset = c.req.path.startsWith('/assets/');
    const file = await handlers.files(c, () => Promise.resolve());
    if (file) {
      file.headers.set('Cache-Control', isAsset ? IMMUTABLE : REVALIDATE);
      return file;
    }
    if (isAsset) return next();
    const index = await handlers.index(c, next);
    index?.headers.set('Cache-Control', REVALIDATE);
    return index;
  };
}
