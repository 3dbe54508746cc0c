// Routes of server/services/rotation.service.ts (issue 21): the escrow chain and the rotation.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { Services } from '../app';
import type { AppEnv } from '../http/app-env';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export function rotationRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { rotation } = services;
  defineRoute(app, endpoints.getEscrowChain, () => rotation.getEscrowChain());
  defineRoute(app, endpoints.getRotation, (_input, c) => rotation.getRotation(actorOf(c)));
  defineRoute(app, endpoints.startRotation, ({ body }, c) => rotation.startRotation(actorOf(c), body));
  defineRoute(app, endpoints.listRotationItems, ({ query }) => rotation.listRotationItems(query));
  defineRoute(app, endpoints.resealRotationItems, ({ body }, c) => rotation.resealRotationItems(actorOf(c), body));
  defineRoute(app, endpoints.finishRotation, ({ body }, c) => rotation.finishRotation(actorOf(c), body));
  return app;
}
