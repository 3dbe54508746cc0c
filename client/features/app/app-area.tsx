// /app: the signed-in area. Guards it (session probe after a reload, unlock screen), auto-locks when idle.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { useAccount, useIdleLock, useSignedIn } from '../../account';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { AccountPage } from '../account/account-page';
import { AuditEventPage } from '../audit/audit-event-page';
import { AuditPage } from '../audit/audit-page';
import { InvitationsPage } from '../invitations/invitations-page';
import { loginPathFor } from '../login/return-path';
import { PeoplePage } from '../people/people-page';
import { RotationNotice, RotationPage } from '../rotation/rotation-page';
import { EnrolmentPage } from '../second-factors/enrolment-page';
import { SecurityPage } from '../second-factors/security-page';
import { SettingsPage } from '../settings/settings-page';
import { ClientsPage } from '../spaces/clients-page';
import { MySpacePage } from '../spaces/my-space-page';
import { SpacePage } from '../spaces/space-page';
import { TransfersPanel } from '../spaces/transfers-panel';
import { HomePage } from './home-page';
import { UnlockScreen } from './unlock-screen';

export function AppArea() {
  const { t } = useTranslation();
  const { state, probe } = useAccount();
  const [location] = useLocation();
  const [probeError, setProbeError] = useState<unknown>(null);

  useEffect(() => {
    if (state.kind !== 'unknown') return;
    probe().catch((error: unknown) => setProbeError(error));
  }, [state.kind, probe]);

  switch (state.kind) {
    case 'unknown':
      return (
        <div className="page page-narrow">
          {probeError !== null ? (
            <ErrorAlert error={probeError} />
          ) : (
            <Busy label={t('app.checkingSession')} />
          )}
        </div>
      );
    case 'signed-out':
      // An e-mail link (/spaces/:id) opens again after signing in.
      return <Redirect to={`~${loginPathFor(`/app${location}`)}`} replace />;
    case 'locked':
      return <UnlockScreen state={state} />;
    case 'signed-in':
      return <SignedInArea />;
  }
}

interface NavItem {
  readonly href: string;
  readonly label: string;
}

function SignedInArea() {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const { lock } = useAccount();
  const [location] = useLocation();
  useIdleLock(session.autoLockMinutes, () => lock('idle'));

  const role = session.user.role;
  const staff = role === 'admin' || role === 'team';
  // A client's portal is their own space; staff start at home and open spaces from "Clients".
  const items: NavItem[] = staff
    ? [
        { href: '/', label: t('nav.home') },
        { href: '/clients', label: t('nav.clients') },
      ]
    : role === 'auditor'
      ? []
      : [{ href: '/documents', label: t('nav.myDocuments') }];
  if (staff)
    items.push(
      { href: '/people', label: t('nav.people') },
      { href: '/invite', label: t('nav.invite') },
    );
  if (role === 'admin') items.push({ href: '/settings', label: t('nav.settings') });
  const auditor = role === 'admin' || role === 'auditor';
  if (auditor) items.push({ href: '/audit', label: t('audit.title') });
  items.push({ href: '/account', label: t('nav.account') });

  // A role that must use a second factor, without one: nothing else until one is set up (the server refuses the rest).
  if (session.secondFactorMissing) return <EnrolmentPage />;
  if (session.passwordExpired && location !== '/account') return <Redirect to="/account" replace />;

  return (
    <div className="app-area">
      <nav className="app-nav" aria-label={t('nav.label')}>
        <ul>
          {items.map((item) => {
            const current =
              item.href === '/'
                ? location === '/'
                : location.startsWith(item.href) ||
                  (location.startsWith('/spaces/') &&
                    (item.href === '/clients' || item.href === '/documents'));
            return (
              <li key={item.href}>
                <Link
                  href={item.href}
                  className="app-nav-link"
                  aria-current={current ? 'page' : undefined}
                >
                  {item.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      {session.passwordExpired && (
        <Alert tone="warning" title={t('account.expiredTitle')}>
          <p>{t('account.expired')}</p>
        </Alert>
      )}
      {role === 'admin' && location !== '/escrow-rotation' && <RotationNotice />}
      {/* In the flow above the page, not floating over it: it must never cover a row's buttons. */}
      <TransfersPanel />
      <Switch>
        <Route path="/">{staff ? <HomePage /> : <Redirect to={role === 'auditor' ? '/audit' : '/documents'} replace />}</Route>
        {staff && <Route path="/clients" component={ClientsPage} />}
        <Route path="/documents" component={MySpacePage} />
        <Route path="/spaces/:spaceId" nest>
          {(params) => <SpacePage spaceId={params.spaceId} />}
        </Route>
        {staff && <Route path="/people" component={PeoplePage} />}
        {staff && <Route path="/invite" component={InvitationsPage} />}
        {role === 'admin' && <Route path="/settings" component={SettingsPage} />}
        {role === 'admin' && <Route path="/escrow-rotation" component={RotationPage} />}
        {auditor && <Route path="/audit" component={AuditPage} />}
        {auditor && <Route path="/audit/events/:seq">{(params) => <AuditEventPage seq={params.seq} />}</Route>}
        <Route path="/account" component={AccountPage} />
        <Route path="/account/security" component={SecurityPage} />
        <Route>
          <Redirect to="/" replace />
        </Route>
      </Switch>
    </div>
  );
}
