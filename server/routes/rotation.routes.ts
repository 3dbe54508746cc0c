// Routes of server/services/rotation.service.ts (issue 21).
import { Hono } from 'hono';
import type { Services } from '../app';
import type { AppEnv } from '../http/app-env';

export function rotationRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  void services;
  return app;
}
