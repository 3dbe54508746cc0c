// Second-factor routes: one's own factors (TOTP and e-mail set-up, names, removal, backup codes) and managers' view and removal.
import { Hono } from 'hono';
import { endpoints } from '../../shared/api';
import type { AppEnv } from '../http/app-env';
import type { SecondFactorsService } from '../services/second-factors/factors.service';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export function secondFactorRoutes(factors: SecondFactorsService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  defineRoute(app, endpoints.listSecondFactors, (_input, c) => factors.listOwn(actorOf(c)));
  defineRoute(app, endpoints.startTotpSetup, (_input, c) => factors.startTotpSetup(actorOf(c)));
  defineRoute(app, endpoints.confirmTotpSetup, ({ body }, c) => factors.confirmTotpSetup(actorOf(c), body));
  defineRoute(app, endpoints.startEmailFactorSetup, (_input, c) => factors.startEmailSetup(actorOf(c)));
  defineRoute(app, endpoints.confirmEmailFactorSetup, ({ body }, c) => factors.confirmEmailSetup(actorOf(c), body));
  defineRoute(app, endpoints.renameSecondFactor, ({ params, body }, c) => factors.rename(actorOf(c), params.id, body.name));
  defineRoute(app, endpoints.removeSecondFactor, async ({ params }, c) => {
    await factors.remove(actorOf(c), params.id);
    return null;
  });
  defineRoute(app, endpoints.createBackupCodes, (_input, c) => factors.createBackupCodes(actorOf(c)));

  defineRoute(app, endpoints.getUserSecurity, ({ params }, c) => factors.getUserSecurity(actorOf(c), params.id));
  defineRoute(app, endpoints.removeUserSecondFactor, async ({ params }, c) => {
    await factors.removeUserFactor(actorOf(c), params.id, params.factorId);
    return null;
  });

  return app;
}
