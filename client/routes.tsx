// The route table of the portal; paths are named here so links and redirects never spell them twice.
import { Redirect, Route, Switch } from 'wouter';
import { AppArea } from './features/app/app-area';
import { LoginPage } from './features/login/login-page';
import { NotFoundPage } from './features/not-found/not-found-page';
import { RecoverPage } from './features/recover/recover-page';
import { ResetPage } from './features/reset/reset-page';
import { SetupPage } from './features/setup/setup-page';
import { InvitePage } from './features/signup/invite-page';
import { WelcomePage } from './features/welcome/welcome-page';

/** Every top-level path of the portal; the signed-in area nests its own under `app`. */
export const paths = {
  home: '/',
  setup: '/setup',
  login: '/login',
  invite: '/invite',
  recover: '/recover',
  /** The escrow reset link e-mailed to a person (shared/flows/escrow-reset.ts `resetLink`). */
  reset: '/reset',
  app: '/app',
  /** The address e-mails link to (server/services/space-notifications.ts); it opens inside /app. */
  space: '/spaces/:spaceId',
} as const;

export function AppRoutes() {
  return (
    <Switch>
      <Route path={paths.home} component={WelcomePage} />
      <Route path={paths.setup} component={SetupPage} />
      <Route path={paths.login} component={LoginPage} />
      <Route path={paths.invite} component={InvitePage} />
      <Route path={paths.recover} component={RecoverPage} />
      <Route path={paths.reset} component={ResetPage} />
      <Route path={paths.space}>
        {(params) => (
          <Redirect to={`${paths.app}/spaces/${encodeURIComponent(params.spaceId)}`} replace />
        )}
      </Route>
      <Route path={paths.app} nest>
        <AppArea />
      </Route>
      <Route component={NotFoundPage} />
    </Switch>
  );
}
