// Second-factor routes of signing in (issue 20): the second step, sign-in e-mail codes, trusted devices.
import { Hono, type Context } from 'hono';
import { endpoints } from '../../shared/api';
import type { Config } from '../env';
import type { AppEnv } from '../http/app-env';
import { readTrustedDeviceCookie, setSessionCookie, setTrustedDeviceCookie } from '../http/session';
import type { AuthService } from '../services/auth.service';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

const ipOf = (c: Context<AppEnv>) => c.get('clientIp') ?? null;

export function secondFactorLoginRoutes(config: Config, { auth }: { readonly auth: AuthService }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  defineRoute(app, endpoints.verifySecondFactor, async ({ body }, c) => {
    const opened = await auth.verifySecondFactor(body, ipOf(c), c.req.header('User-Agent') ?? null);
    // As finishLogin: the new session replaces whatever session this browser had.
    const previous = c.get('session');
    if (previous) await auth.revokeQuietly(previous.id);
    if (opened.trusted) setTrustedDeviceCookie(c, config, opened.trusted.token, opened.trusted.expiresAt);
    setSessionCookie(c, config, opened.token, opened.expiresAt);
    return opened.bundle;
  });
  defineRoute(app, endpoints.sendLoginEmailCode, async ({ body }) => {
    await auth.sendLoginEmailCode(body.challengeId);
    return null;
  });

  defineRoute(app, endpoints.listTrustedDevices, (_input, c) => auth.trustedDevices.list(actorOf(c), readTrustedDeviceCookie(c, config)));
  defineRoute(app, endpoints.revokeTrustedDevice, async ({ params }, c) => {
    await auth.trustedDevices.revoke(actorOf(c), params.id);
    return null;
  });
  defineRoute(app, endpoints.revokeUserTrustedDevices, async ({ params }, c) => {
    await auth.trustedDevices.revokeForUser(actorOf(c), params.id);
    return null;
  });

  return app;
}
