// Clients (staff): every client space with its counts and last activity, searchable, and the team space.
import { useDeferredValue, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { Alert } from '../../components/alert';
import { QueryStatus } from '../../components/query-status';
import { formatDateTime } from '../../i18n/format';
import type { SpaceView } from '../../worker/space-types';
import { useSpaceDirectory } from './space-queries';

/** Case- and accent-insensitive match of the query against the client's name and e-mail address. */
export function matchesClient(space: SpaceView, query: string): boolean {
  const fold = (text: string) =>
    text
      .normalize('NFD')
      .replace(/\p{Diacritic}/gu, '')
      .toLowerCase();
  const needle = fold(query.trim());
  if (needle === '') return true;
  return [space.clientName, space.clientEmail].some(
    (text) => text !== null && fold(text).includes(needle),
  );
}

export function ClientsPage() {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const directory = useSpaceDirectory();
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);

  let body;
  if (!directory.isSuccess) {
    body = <QueryStatus query={directory} loading={t('spaces.loading')} />;
  } else if (directory.data.needsEscrowAccess) {
    body = (
      <Alert tone="info" title={t('clients.escrowTitle')} live={false}>
        <p>{t('clients.escrowBody')}</p>
        <p>{t('clients.escrowAction')}</p>
      </Alert>
    );
  } else {
    const team = directory.data.spaces.find((space) => space.kind === 'team');
    const clients = directory.data.spaces
      .filter((space) => space.kind === 'client')
      .sort(
        (a, b) =>
          (a.clientName === null ? 1 : 0) - (b.clientName === null ? 1 : 0) ||
          (a.clientName ?? a.clientEmail ?? '').localeCompare(
            b.clientName ?? b.clientEmail ?? '',
            language,
          ),
      );
    const shown = clients.filter((space) => matchesClient(space, deferredQuery));
    body = (
      <>
        {team && (
          <section className="card team-space-card" aria-labelledby="team-space-title">
            <h2 id="team-space-title">{t('spaces.teamSpace')}</h2>
            <p className="card-help">{t('clients.teamSpaceHelp')}</p>
            <p className="item-meta">
              {t('clients.counts', {
                documents: team.documentCount,
                unread: team.unreadMessages,
              })}
            </p>
            <Link href={`/spaces/${team.id}`} className="button button-secondary">
              {t('clients.openTeamSpace')}
            </Link>
          </section>
        )}
        <div className="search-field field">
          <label className="field-label" htmlFor="client-search">
            {t('clients.search')}
          </label>
          <input
            id="client-search"
            className="input"
            type="search"
            value={query}
            autoComplete="off"
            onChange={(event) => setQuery(event.target.value)}
          />
        </div>
        <p className="visually-hidden" role="status">
          {query.trim() === '' ? '' : t('clients.found', { count: shown.length })}
        </p>
        {clients.length === 0 ? (
          <div className="empty-state">
            <p>{t('clients.empty')}</p>
            <Link href="/invite" className="button">
              {t('people.inviteAction')}
            </Link>
          </div>
        ) : shown.length === 0 ? (
          <p className="empty-state">{t('clients.noMatch')}</p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label={t('clients.caption')}>
            <table className="data-table">
              <caption className="visually-hidden">{t('clients.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('clients.client')}</th>
                  <th scope="col">{t('clients.documents')}</th>
                  <th scope="col">{t('clients.unread')}</th>
                  <th scope="col">{t('clients.openItems')}</th>
                  <th scope="col">{t('clients.lastActivity')}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((space) => (
                  <tr key={space.id}>
                    <th scope="row">
                      <Link href={`/spaces/${space.id}`} className="person-name">
                        {space.clientName ?? (
                          <span className="cannot-decrypt">{t('spaces.cannotDecrypt')}</span>
                        )}
                      </Link>
                      <span className="person-email">{space.clientEmail}</span>
                      {!space.security.writable && (
                        <span className="badge badge-security">{t('clients.securityWarning')}</span>
                      )}
                    </th>
                    <td>{space.documentCount}</td>
                    <td>
                      {space.unreadMessages > 0 ? (
                        <span className="badge badge-attention">{space.unreadMessages}</span>
                      ) : (
                        0
                      )}
                    </td>
                    <td>{space.openRequestItems}</td>
                    <td>{formatDateTime(space.lastActivityAt, language)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </>
    );
  }

  return (
    <div className="page">
      <title>{t('clients.documentTitle')}</title>
      <div className="page-heading">
        <h1>{t('clients.title')}</h1>
        <Link href="/invite" className="button button-secondary">
          {t('people.inviteAction')}
        </Link>
      </div>
      <p className="lead">{t('clients.lead')}</p>
      {body}
    </div>
  );
}
