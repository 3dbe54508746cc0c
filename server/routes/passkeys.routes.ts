// Passkey routes: registration, "unlock with passkey" on and off, and signing in with a passkey alone.
import { Hono, type Context } from 'hono';
import { endpoints } from '../../shared/api';
import type { Config } from '../env';
import type { AppEnv } from '../http/app-env';
import { setSessionCookie } from '../http/session';
import type { AuthService } from '../services/auth.service';
import type { PasskeysService } from '../services/second-factors/passkeys';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export interface PasskeyServices {
  readonly auth: AuthService;
  readonly passkeys: PasskeysService;
}

const ipOf = (c: Context<AppEnv>) => c.get('clientIp') ?? null;

export function passkeyRoutes(config: Config, { auth, passkeys }: PasskeyServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  defineRoute(app, endpoints.startPasskeyRegistration, (_input, c) => passkeys.startRegistration(actorOf(c)));
  defineRoute(app, endpoints.finishPasskeyRegistration, ({ body }, c) => passkeys.finishRegistration(actorOf(c), body));
  defineRoute(app, endpoints.setPasskeyUnlock, async ({ params, body }, c) => {
    await passkeys.setUnlock(actorOf(c), params.id, body.wrappedUserKey);
    return null;
  });
  defineRoute(app, endpoints.removePasskeyUnlock, async ({ params }, c) => {
    await passkeys.removeUnlock(actorOf(c), params.id);
    return null;
  });

  defineRoute(app, endpoints.startPasskeyLogin, (_input, c) => passkeys.startLogin(ipOf(c)));
  defineRoute(app, endpoints.finishPasskeyLogin, async ({ body }, c) => {
    const { token, bundle, expiresAt } = await passkeys.finishLogin(body.ceremonyId, body.response, ipOf(c));
    // A new sign-in replaces whatever session this browser had.
    const previous = c.get('session');
    if (previous) await auth.revokeQuietly(previous.id);
    setSessionCookie(c, config, token, expiresAt);
    return bundle;
  });

  return app;
}
