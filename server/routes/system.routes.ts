// System routes: health and the OpenAPI document.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { AppEnv } from '../http/app-env';
import type { SystemService } from '../services/system.service';
import { defineRoute } from './define-route';

export function systemRoutes(system: SystemService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  defineRoute(app, endpoints.health, () => system.getHealth());
  defineRoute(app, endpoints.openApiDocument, () => system.getOpenApiDocument());
  return app;
}
