// One space (/spaces/:spaceId): its name and the Documents, Messages and Requests tabs (ARIA tabs, in the URL).
import { useRef, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Route, Switch, useLocation } from 'wouter';
import { useSignedIn } from '../../account';
import { Alert } from '../../components/alert';
import { QueryStatus } from '../../components/query-status';
import type { SpaceView } from '../../worker/space-types';
import { DocumentsTab } from './documents-tab';
import { MessagesTab } from './messages-tab';
import { RequestsTab } from './requests-tab';
import { useSpaceDirectory } from './space-queries';
import { spaceTitle } from './space-title';

const tabs = ['documents', 'messages', 'requests'] as const;
type Tab = (typeof tabs)[number];

const tabPath: Record<Tab, string> = {
  documents: '/',
  messages: '/messages',
  requests: '/requests',
};

function tabOf(location: string): Tab {
  if (location.startsWith('/messages')) return 'messages';
  if (location.startsWith('/requests')) return 'requests';
  return 'documents';
}

export function SpacePage({ spaceId }: { spaceId: string }) {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const directory = useSpaceDirectory();

  if (!directory.isSuccess)
    return (
      <div className="page">
        <QueryStatus query={directory} loading={t('spaces.loading')} />
      </div>
    );
  const space = directory.data.spaces.find((candidate) => candidate.id === spaceId);
  if (!space)
    return (
      <div className="page">
        <title>{t('spaces.notFoundTitle')}</title>
        <h1>{t('spaces.notFoundTitle')}</h1>
        <Alert tone="info" live={false}>
          <p>{directory.data.needsEscrowAccess ? t('clients.escrowBody') : t('spaces.notFound')}</p>
        </Alert>
      </div>
    );
  const own = space.kind === 'client' && space.clientId === session.user.id;
  return <SpaceTabs space={space} title={spaceTitle(t, space, own)} />;
}

function SpaceTabs({ space, title }: { space: SpaceView; title: string }) {
  const { t } = useTranslation();
  const [location, navigate] = useLocation();
  const selected = tabOf(location);
  const refs = useRef(new Map<Tab, HTMLButtonElement>());

  const select = (tab: Tab, focus: boolean) => {
    if (tab !== selected) navigate(tabPath[tab]);
    if (focus) refs.current.get(tab)?.focus();
  };

  // WAI-ARIA APG tabs with automatic activation: arrows move between tabs, Home/End to the ends.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.indexOf(selected);
    const next: Record<string, number> = {
      ArrowRight: (index + 1) % tabs.length,
      ArrowLeft: (index - 1 + tabs.length) % tabs.length,
      Home: 0,
      End: tabs.length - 1,
    };
    const target = next[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const tab = tabs[target];
    if (tab) select(tab, true);
  };

  const badge = (tab: Tab): number =>
    tab === 'messages' ? space.unreadMessages : tab === 'requests' ? space.openRequestItems : 0;

  return (
    <div className="page page-wide">
      <title>{t('spaces.documentTitle', { name: title })}</title>
      <div className="page-heading">
        <h1>{title}</h1>
      </div>
      {space.kind === 'team' && <p className="lead">{t('spaces.teamSpaceLead')}</p>}
      {space.kind === 'client' && space.clientEmail && space.clientName && (
        <p className="lead">{space.clientEmail}</p>
      )}
      <div className="tabs" role="tablist" aria-label={t('spaces.sections')} onKeyDown={onKeyDown}>
        {tabs.map((tab) => {
          const count = badge(tab);
          return (
            <button
              key={tab}
              ref={(element) => {
                if (element) refs.current.set(tab, element);
                else refs.current.delete(tab);
              }}
              type="button"
              role="tab"
              id={`space-tab-${tab}`}
              className="tab"
              aria-selected={tab === selected}
              aria-controls={`space-panel-${tab}`}
              tabIndex={tab === selected ? 0 : -1}
              onClick={() => select(tab, false)}
            >
              {t(`spaces.tabs.${tab}`)}
              {count > 0 && (
                <span className="badge badge-attention">
                  {count}
                  <span className="visually-hidden">
                    {' '}
                    {tab === 'messages' ? t('spaces.unreadSuffix') : t('spaces.openSuffix')}
                  </span>
                </span>
              )}
            </button>
          );
        })}
      </div>
      {/* No aria-labelledby on the panel: its tab's name ("Messages") would then also label the
          panel, and "Message" is the label of a field inside it. The h2 names the panel instead. */}
      <div className="tab-panel" role="tabpanel" id={`space-panel-${selected}`} tabIndex={-1}>
        <Switch>
          <Route path="/messages/:threadId?">
            {(params) => <MessagesTab space={space} threadId={params.threadId ?? null} />}
          </Route>
          <Route path="/requests">
            <RequestsTab space={space} />
          </Route>
          <Route>
            <DocumentsTab space={space} />
          </Route>
        </Switch>
      </div>
    </div>
  );
}
