// createApp: the whole HTTP application (pipeline, API routes, web client) over injected dependencies.
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Db } from './db/database';
import type { Config } from './env';
import type { AppEnv } from './http/app-env';
import { clientAssets } from './http/client-assets';
import { createPipeline } from './http/pipeline';
import { KLUIS_VERSION } from './lib/version';
import { systemRoutes } from './routes/system.routes';
import { createSystemService } from './services/system.service';

export interface AppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly logger: Logger;
  /** The Vite build of client/; defaults to dist/client in this repository. */
  readonly clientDir?: string;
}

const defaultClientDir = fileURLToPath(new URL('../dist/client', import.meta.url));

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = createPipeline(deps);
  const system = createSystemService({ db: deps.db, version: KLUIS_VERSION });
  app.route('/', systemRoutes(system));
  // Last: everything that is not an API route is the web client.
  app.use(clientAssets(deps.clientDir ?? defaultClientDir));
  return app;
}

export type App = ReturnType<typeof createApp>;
