// Routes of server/services/lifecycle.service.ts (issue 21).
import { Hono } from 'hono';
import type { Services } from '../app';
import type { AppEnv } from '../http/app-env';

export function lifecycleRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  void services;
  return app;
}
