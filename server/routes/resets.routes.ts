// Routes of server/services/resets.service.ts (issue 21): escrow resets and escrow transparency.
import { Hono, type Context } from 'hono';
import { endpoints } from '../../shared/api';
import type { Services } from '../app';
import type { AppEnv } from '../http/app-env';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

const ipOf = (c: Context<AppEnv>) => c.get('clientIp') ?? null;

export function resetRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { resets } = services;

  defineRoute(app, endpoints.createReset, ({ params, body }, c) => resets.createReset(actorOf(c), params.id, body));
  defineRoute(app, endpoints.listResets, (_input, c) => resets.listResets(actorOf(c)));
  defineRoute(app, endpoints.approveReset, ({ params }, c) => resets.approveReset(actorOf(c), params.id));
  defineRoute(app, endpoints.cancelReset, ({ params }, c) => resets.cancelReset(actorOf(c), params.id));

  defineRoute(app, endpoints.openReset, ({ body }, c) => resets.openReset(body, ipOf(c)));
  defineRoute(app, endpoints.startResetPassword, ({ body }, c) => resets.startResetPassword(body, ipOf(c)));
  defineRoute(app, endpoints.finishResetPassword, async ({ body }, c) => {
    await resets.finishResetPassword(body, ipOf(c));
    return null;
  });

  defineRoute(app, endpoints.getMyEscrow, (_input, c) => resets.getMyEscrow(actorOf(c)));
  return app;
}
