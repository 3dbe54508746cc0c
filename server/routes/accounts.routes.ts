// Account routes: setup, login and sessions, invitations and sign-up, people, settings, escrow, recovery.
import { Hono, type Context } from 'hono';
import { endpoints } from '../../shared/api';
import type { Config } from '../env';
import { fail } from '../errors';
import type { AppEnv } from '../http/app-env';
import { clearSessionCookie, readTrustedDeviceCookie, setSessionCookie } from '../http/session';
import type { AuthService } from '../services/auth.service';
import type { PeopleService } from '../services/people.service';
import type { SetupService } from '../services/setup.service';
import { actorOf } from './actor';
import { defineRoute } from './define-route';

export interface AccountServices {
  readonly auth: AuthService;
  readonly setup: SetupService;
  readonly people: PeopleService;
}

const ipOf = (c: Context<AppEnv>) => c.get('clientIp') ?? null;

function sessionOf(c: Context<AppEnv>) {
  const session = c.get('session');
  if (!session) throw fail('unauthenticated', 'Sign in first.');
  return session;
}

export function accountRoutes(config: Config, { auth, setup, people }: AccountServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  defineRoute(app, endpoints.getSetupStatus, async () => ({ needsSetup: await setup.needsSetup() }));
  defineRoute(app, endpoints.startSetup, ({ body }) => setup.startSetup(body.setupToken, body.email, body.registrationRequest));
  defineRoute(app, endpoints.finishSetup, ({ body }, c) => setup.finishSetup(body, ipOf(c)));
  defineRoute(app, endpoints.confirmRecoveryKit, async (_input, c) => {
    await setup.confirmRecoveryKit(actorOf(c));
    return null;
  });

  defineRoute(app, endpoints.startLogin, ({ body }, c) => auth.startLogin(body.email, body.startLoginRequest, ipOf(c)));
  defineRoute(app, endpoints.finishLogin, async ({ body }, c) => {
    const previous = c.get('session') ?? null;
    const outcome = await auth.finishLogin(body.loginId, body.finishLoginRequest, {
      ip: ipOf(c),
      session: previous,
      trustedDeviceToken: readTrustedDeviceCookie(c, config),
    });
    // WARNING: the second step sets no cookie and leaves this browser's session alone: a right
    // password alone opens nothing (second-factor-login.routes.ts finishes the sign-in).
    if ('secondFactor' in outcome) return { secondFactor: outcome.secondFactor };
    // A new login replaces whatever session this browser had.
    if (previous) await auth.revokeQuietly(previous.id);
    setSessionCookie(c, config, outcome.session.token, outcome.session.expiresAt);
    return outcome.session.bundle;
  });
  defineRoute(app, endpoints.abortLogin, async ({ body }, c) => {
    await auth.abortLogin(body.loginId, ipOf(c));
    return null;
  });
  defineRoute(app, endpoints.getSession, (_input, c) => {
    const session = c.get('session');
    if (!session) throw fail('unauthenticated', 'Sign in first.');
    return auth.getSessionInfo(session);
  });
  defineRoute(app, endpoints.logout, async (_input, c) => {
    const session = c.get('session');
    if (session) await auth.logout(session, ipOf(c));
    clearSessionCookie(c, config);
    return null;
  });
  defineRoute(app, endpoints.logoutEverywhere, async (_input, c) => {
    const session = c.get('session');
    if (session) await auth.logoutEverywhere(session, ipOf(c));
    clearSessionCookie(c, config);
    return null;
  });

  defineRoute(app, endpoints.listSessions, (_input, c) => auth.listSessions(sessionOf(c)));
  defineRoute(app, endpoints.endSession, async ({ params }, c) => {
    await auth.endSession(sessionOf(c), params.id, ipOf(c));
    return null;
  });
  defineRoute(app, endpoints.endUserSessions, async ({ params }, c) => {
    await people.endUserSessions(actorOf(c), params.id);
    return null;
  });

  defineRoute(app, endpoints.createInvitation, ({ body }, c) => people.createInvitation(actorOf(c), body));
  defineRoute(app, endpoints.listInvitations, (_input, c) => people.listInvitations(actorOf(c)));
  defineRoute(app, endpoints.revokeInvitation, async ({ params }, c) => {
    await people.revokeInvitation(actorOf(c), params.id);
    return null;
  });
  defineRoute(app, endpoints.lookupInvitation, ({ body }, c) => people.lookupInvitation(body.token, ipOf(c)));
  defineRoute(app, endpoints.startSignup, ({ body }, c) => people.startSignup(body.token, body.registrationRequest, ipOf(c)));
  defineRoute(app, endpoints.finishSignup, ({ body }, c) => people.finishSignup(body, ipOf(c)));

  defineRoute(app, endpoints.startPasswordChange, ({ body }, c) => people.startPasswordChange(actorOf(c), body.registrationRequest));
  defineRoute(app, endpoints.finishPasswordChange, async ({ body }, c) => {
    await people.finishPasswordChange(actorOf(c), body);
    return null;
  });

  defineRoute(app, endpoints.listUsers, (_input, c) => people.listUsers(actorOf(c)));
  defineRoute(app, endpoints.unlockUser, async ({ params }, c) => {
    await people.unlockUser(actorOf(c), params.id);
    return null;
  });
  defineRoute(app, endpoints.updateProfile, async ({ body }, c) => {
    await people.updateProfile(actorOf(c), body.profile);
    return null;
  });
  defineRoute(app, endpoints.getSettings, () => people.getSettings());
  defineRoute(app, endpoints.updateSettings, ({ body }, c) => people.updateSettings(actorOf(c), body));

  defineRoute(app, endpoints.listEscrowHolders, () => people.listEscrowHolders());
  defineRoute(app, endpoints.grantEscrow, async ({ body }, c) => {
    await people.grantEscrow(actorOf(c), body);
    return null;
  });
  defineRoute(app, endpoints.acceptEscrowGrant, async ({ body }, c) => {
    await people.acceptEscrowGrant(actorOf(c), body.wrappedEscrowKey);
    return null;
  });

  defineRoute(app, endpoints.startRecovery, ({ body }) => setup.startRecovery(body.recoveryToken, body.email, body.registrationRequest));
  defineRoute(app, endpoints.finishRecovery, async ({ body }, c) => {
    await setup.finishRecovery(body, ipOf(c));
    return null;
  });

  return app;
}
