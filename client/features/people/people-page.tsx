// People (staff): who has an account, their lock status, lifting locks, and (Administrators) escrow grants.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { endUserSessions, unlockUser } from '../../../shared/api';
import { useAccount, useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import type { Person } from '../../worker';
import { GrantEscrowDialog } from './grant-escrow-dialog';

export function PeoplePage() {
  const { t, i18n } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const queryClient = useQueryClient();
  const language = i18n.resolvedLanguage ?? 'en';
  const viewerRole = session.user.role;
  const peopleKey = ['people', session.user.id] as const;
  const people = useQuery({
    queryKey: peopleKey,
    // Names are decrypted in the worker; the cache holding them is cleared on every lock.
    queryFn: () => account.run((api) => api.listPeople()),
  });
  const [granting, setGranting] = useState<Person | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { guard, dialog } = useReauthenticated();

  const unlock = useMutation({
    mutationFn: (person: Person) => callApi(unlockUser, { params: { id: person.id } }),
    onSuccess: (_result, person) => {
      setNotice(t('people.unlocked', { who: person.name ?? person.email }));
      return queryClient.invalidateQueries({ queryKey: peopleKey });
    },
  });
  const endSessions = useMutation({
    mutationFn: (person: Person) =>
      guard(() => callApi(endUserSessions, { params: { id: person.id } })),
    onSuccess: (_result, person) =>
      setNotice(t('people.sessionsEnded', { who: person.name ?? person.email })),
  });

  const mayLift = (person: Person) =>
    viewerRole === 'admin' || (viewerRole === 'team' && person.role === 'client');
  const showEscrow = viewerRole === 'admin';

  let body;
  if (people.isPending) {
    body = <Busy label={t('people.loading')} />;
  } else if (people.isError) {
    body = (
      <>
        <ErrorAlert error={people.error} />
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void people.refetch()}
        >
          {t('common.retry')}
        </button>
      </>
    );
  } else if (people.data.people.length === 0) {
    body = (
      <div className="empty-state">
        <p>{t('people.empty')}</p>
        <Link href="/invite" className="button">
          {t('people.inviteAction')}
        </Link>
      </div>
    );
  } else {
    const unreadable = people.data.people.some((person) => person.name === null);
    body = (
      <>
        {unreadable && (
          <Alert tone="info" live={false}>
            <p>{viewerRole === 'team' ? t('people.unreadableTeam') : t('people.unreadable')}</p>
          </Alert>
        )}
        {/* Focusable: on narrow screens the table scrolls sideways, and keyboards must reach it. */}
        <div className="table-wrap" tabIndex={0} role="region" aria-label={t('people.caption')}>
          <table className="data-table">
            <caption className="visually-hidden">{t('people.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('people.person')}</th>
                <th scope="col">{t('people.role')}</th>
                <th scope="col">{t('people.lastLogin')}</th>
                <th scope="col">{t('people.status')}</th>
                {showEscrow && <th scope="col">{t('people.escrow')}</th>}
                <th scope="col">{t('people.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {people.data.people.map((person) => {
                const self = person.id === session.user.id;
                return (
                  <tr key={person.id}>
                    <th scope="row">
                      <span className="person-name">
                        {person.name ?? (
                          <span className="cannot-decrypt">{t('people.cannotDecrypt')}</span>
                        )}
                        {self && <span className="badge">{t('people.you')}</span>}
                      </span>
                      <span className="person-email">{person.email}</span>
                    </th>
                    <td>{t(`roles.${person.role}`)}</td>
                    <td>
                      {person.lastLoginAt
                        ? formatDateTime(person.lastLoginAt, language)
                        : t('people.never')}
                    </td>
                    <td>
                      {person.lockedUntil ? (
                        <span className="badge badge-error">
                          {t('people.lockedUntil', {
                            time: formatDateTime(person.lockedUntil, language),
                          })}
                        </span>
                      ) : (
                        <span className="badge badge-ok">{t('people.active')}</span>
                      )}
                    </td>
                    {showEscrow && (
                      <td>
                        {person.escrow === null ? (
                          <span className="muted">{t('people.escrowNotApplicable')}</span>
                        ) : (
                          <span
                            className={`badge ${person.escrow === 'unverified' ? 'badge-error' : person.escrow === 'none' ? '' : 'badge-ok'}`}
                          >
                            {t(`people.escrowStatus.${person.escrow}`)}
                          </span>
                        )}
                      </td>
                    )}
                    <td>
                      <div className="row-actions">
                        {person.lockedUntil && mayLift(person) && (
                          <button
                            type="button"
                            className="button button-small"
                            disabled={unlock.isPending}
                            aria-label={t('people.liftLockFor', {
                              who: person.name ?? person.email,
                            })}
                            onClick={() => unlock.mutate(person)}
                          >
                            {t('people.liftLock')}
                          </button>
                        )}
                        {people.data.canGrantEscrow &&
                          person.escrow === 'none' &&
                          !self &&
                          person.keyFingerprint && (
                            <button
                              type="button"
                              className="button button-small"
                              aria-label={t('people.grantFor', {
                                who: person.name ?? person.email,
                              })}
                              onClick={() => setGranting(person)}
                            >
                              {t('people.grant')}
                            </button>
                          )}
                        {!self && person.lastLoginAt && (
                          <button
                            type="button"
                            className="button button-small button-secondary"
                            disabled={endSessions.isPending}
                            aria-label={t('people.endSessionsFor', {
                              who: person.name ?? person.email,
                            })}
                            onClick={() => endSessions.mutate(person)}
                          >
                            {t('people.endSessions')}
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </>
    );
  }

  return (
    <div className="page">
      <title>{t('people.documentTitle')}</title>
      <div className="page-heading">
        <h1>{t('people.title')}</h1>
        <Link href="/invite" className="button button-secondary">
          {t('people.inviteAction')}
        </Link>
      </div>
      <p className="lead">
        {viewerRole === 'admin' ? t('people.leadAdmin') : t('people.leadTeam')}
      </p>
      {notice && (
        <Alert tone="success">
          <p>{notice}</p>
        </Alert>
      )}
      {unlock.isError && <ErrorAlert error={unlock.error} />}
      {endSessions.isError && <ErrorAlert error={endSessions.error} />}
      {body}
      {granting && (
        <GrantEscrowDialog
          person={granting}
          guard={guard}
          onClose={() => setGranting(null)}
          onGranted={() => {
            setNotice(t('people.granted', { who: granting.name ?? granting.email }));
            setGranting(null);
            void queryClient.invalidateQueries({ queryKey: peopleKey });
          }}
        />
      )}
      {dialog}
    </div>
  );
}
