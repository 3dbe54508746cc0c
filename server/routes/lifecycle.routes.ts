// Routes of server/services/lifecycle.service.ts (issue 21): role change, deactivate, reactivate, delete, restore.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { Services } from '../app';
import type { AppEnv } from '../http/app-env';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export function lifecycleRoutes(services: Pick<Services, 'lifecycle'>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { lifecycle } = services;
  defineRoute(app, endpoints.changeRole, async ({ params, body }, c) => {
    await lifecycle.changeRole(actorOf(c), params.id, body);
    return null;
  });
  defineRoute(app, endpoints.deactivateUser, async ({ params }, c) => {
    await lifecycle.deactivateUser(actorOf(c), params.id);
    return null;
  });
  defineRoute(app, endpoints.reactivateUser, async ({ params }, c) => {
    await lifecycle.reactivateUser(actorOf(c), params.id);
    return null;
  });
  defineRoute(app, endpoints.deleteUser, ({ params }, c) => lifecycle.deleteUser(actorOf(c), params.id));
  defineRoute(app, endpoints.restoreUser, async ({ params }, c) => {
    await lifecycle.restoreUser(actorOf(c), params.id);
    return null;
  });
  return app;
}
