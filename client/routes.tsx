// The route table of the portal; paths are named here so links and redirects never spell them twice.
import { Route, Switch } from 'wouter';
import { NotFoundPage } from './features/not-found/not-found-page';
import { WelcomePage } from './features/welcome/welcome-page';

/**
 * Every path the portal has or reserves. `setup` (first administrator), `login` and the signed-in
 * area under `app` arrive with the accounts issue; until then they fall through to "not found".
 */
export const paths = {
  home: '/',
  setup: '/setup',
  login: '/login',
  app: '/app',
} as const;

export function AppRoutes() {
  return (
    <Switch>
      <Route path={paths.home} component={WelcomePage} />
      <Route component={NotFoundPage} />
    </Switch>
  );
}
