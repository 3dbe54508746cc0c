// People (staff): who has an account, whether their keys are verified, lock status, lifting locks, and (Administrators) escrow grants.
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
import type { PeopleList, Person, TrustWarning } from '../../worker';
import { GrantEscrowDialog } from './grant-escrow-dialog';
import { mayResetPassword, ResetDialog } from './reset-dialog';
import { factorKinds, SecurityDialog } from './security-dialog';
import { VerifyKeysDialog } from './verify-keys-dialog';

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
  // `thenGrant`: opened from the grant dialog, which comes back once the keys are verified.
  const [verifying, setVerifying] = useState<{ person: Person; thenGrant: boolean } | null>(null);
  const [securityOf, setSecurityOf] = useState<Person | null>(null);
  // cli-reset's minimal entry point; cli-admin's row menu replaces this button.
  const [resetting, setResetting] = useState<Person | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { guard, dialog } = useReauthenticated();

  const unlock = useMutation({
    // Lifting a staff member's lock needs a recent login (the server asks; clients' locks do not).
    mutationFn: (person: Person) => guard(() => callApi(unlockUser, { params: { id: person.id } })),
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

  const verified = async ({ person, thenGrant }: { person: Person; thenGrant: boolean }) => {
    setVerifying(null);
    setNotice(t('people.keysVerified', { who: person.name ?? person.email }));
    await queryClient.invalidateQueries({ queryKey: peopleKey });
    // Back to the grant it was opened from, now with the verified keys.
    const fresh = queryClient
      .getQueryData<PeopleList>(peopleKey)
      ?.people.find((p) => p.id === person.id);
    if (thenGrant && fresh?.keys?.state === 'verified') setGranting(fresh);
  };

  const mayLift = (person: Person) =>
    viewerRole === 'admin' || (viewerRole === 'team' && person.role === 'client');
  // The role hierarchy of second factors and trusted browsers (the server checks it again):
  // Administrators for everyone else, Team Members for clients, nobody for themselves.
  const mayManageSecurity = (person: Person) =>
    person.id !== session.user.id &&
    (viewerRole === 'admin' || (viewerRole === 'team' && person.role === 'client'));
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
    const profileUnverified = people.data.people.some((person) => person.profileUnverified);
    const bindingFailed = new Set(
      people.data.warnings.filter((w) => w.kind === 'binding-failed').map((w) => w.userId),
    );
    body = (
      <>
        <KeyWarnings list={people.data} />
        {unreadable && (
          <Alert tone="info" live={false}>
            <p>{viewerRole === 'team' ? t('people.unreadableTeam') : t('people.unreadable')}</p>
            {profileUnverified && <p>{t('people.profileUnverifiedHelp')}</p>}
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
                <th scope="col">{t('peopleSecurity.column')}</th>
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
                      <span className="person-keys">
                        <KeyBadge person={person} bindingFailed={bindingFailed.has(person.id)} />
                      </span>
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
                    <td>
                      <SecondFactorBadges person={person} />
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
                        {person.mayVerifyKeys && (
                          <button
                            type="button"
                            className="button button-small"
                            aria-label={t('people.verifyKeysFor', {
                              who: person.name ?? person.email,
                            })}
                            onClick={() => setVerifying({ person, thenGrant: false })}
                          >
                            {t('people.verifyKeys')}
                          </button>
                        )}
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
                        {mayManageSecurity(person) && (
                          <button
                            type="button"
                            className="button button-small button-secondary"
                            aria-label={t('peopleSecurity.openFor', {
                              who: person.name ?? person.email,
                            })}
                            onClick={() => setSecurityOf(person)}
                          >
                            {t('peopleSecurity.open')}
                          </button>
                        )}
                        {mayResetPassword(session.user, person) && (
                          <button
                            type="button"
                            className="button button-small button-secondary"
                            aria-label={t('reset.dialog.title', {
                              who: person.name ?? person.email,
                            })}
                            onClick={() => setResetting(person)}
                          >
                            {t('reset.dialog.open')}
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
          bindingFailed={
            people.data?.warnings.some(
              (w) => w.kind === 'binding-failed' && w.userId === granting.id,
            ) ?? false
          }
          guard={guard}
          onClose={() => setGranting(null)}
          onGranted={() => {
            setNotice(t('people.granted', { who: granting.name ?? granting.email }));
            setGranting(null);
            void queryClient.invalidateQueries({ queryKey: peopleKey });
          }}
          onVerify={() => {
            setVerifying({ person: granting, thenGrant: true });
            setGranting(null);
          }}
        />
      )}
      {verifying && (
        <VerifyKeysDialog
          person={verifying.person}
          guard={guard}
          onClose={() => setVerifying(null)}
          onVerified={() => void verified(verifying)}
        />
      )}
      {securityOf && (
        <SecurityDialog
          person={securityOf}
          guard={guard}
          onClose={() => setSecurityOf(null)}
          onChanged={() => void queryClient.invalidateQueries({ queryKey: peopleKey })}
        />
      )}
      {resetting && (
        <ResetDialog
          person={resetting}
          guard={guard}
          onClose={() => setResetting(null)}
          onStarted={() => void queryClient.invalidateQueries({ queryKey: peopleKey })}
        />
      )}
      {dialog}
    </div>
  );
}

/** Which kinds of second factor a person has set up (from the server's list; names are in the security view). */
function SecondFactorBadges({ person }: { person: Person }) {
  const { t } = useTranslation();
  const kinds = factorKinds.filter((kind) => person.secondFactors.includes(kind));
  if (kinds.length === 0) return <span className="muted">{t('peopleSecurity.none')}</span>;
  return (
    <ul className="badge-list">
      {kinds.map((kind) => (
        <li key={kind} className="badge badge-ok">
          {t(`secondFactors.kind.${kind}`)}
        </li>
      ))}
    </ul>
  );
}

/** How this person's keys are vouched for: verified (and how), not yet, or a security warning. */
function KeyBadge({ person, bindingFailed }: { person: Person; bindingFailed: boolean }) {
  const { t } = useTranslation();
  const keys = person.keys;
  let badge;
  if (keys?.state === 'verified') {
    badge = (
      <>
        <span className="badge badge-ok">{t('people.keyStatus.verified')}</span>{' '}
        <span className="key-basis">{t(`people.keyBasis.${keys.basis}`)}</span>
      </>
    );
  } else if (keys?.state === 'changed' || bindingFailed) {
    badge = (
      <span className="badge badge-error">
        {keys?.state === 'changed'
          ? t('people.keyStatus.changed')
          : t('people.keyStatus.bindingFailed')}
      </span>
    );
  } else {
    badge = <span className="badge">{t('people.keyStatus.unverified')}</span>;
  }
  return (
    <>
      {badge}
      {person.profileUnverified && ' '}
      {person.profileUnverified && (
        <span className="badge badge-error">{t('people.profileUnverified')}</span>
      )}
    </>
  );
}

/** The security warning about keys: whose keys changed, whose invitation check failed, a missing root. */
function KeyWarnings({ list }: { list: PeopleList }) {
  const { t } = useTranslation();
  const whoOf = (userId: string | null, email: string | null) => {
    const person = list.people.find((p) => p.id === userId);
    return person?.name ?? person?.email ?? email ?? t('people.someone');
  };
  const lines: { key: string; text: string }[] = [];
  const said = new Set<string>();
  const say = (warning: TrustWarning) => {
    const key = `${warning.kind}:${warning.userId ?? ''}`;
    if (said.has(key)) return;
    said.add(key);
    const who = whoOf(warning.userId, warning.email);
    const text = {
      'keys-changed': () => t('people.warningKeysChanged', { who }),
      'binding-failed': () => t('people.warningBindingFailed', { who }),
      'certificate-mismatch': () => t('people.warningCertificateMismatch', { who }),
      'root-missing': () => t('people.warningRootMissing'),
      'escrow-copy-failed': () => t('people.warningEscrowCopyFailed', { who }),
    }[warning.kind]();
    lines.push({ key, text });
  };
  for (const warning of list.warnings) say(warning);
  // A changed key is a warning even when the worker met it only while listing (not while verifying an author).
  for (const person of list.people) {
    if (person.keys?.state === 'changed' && !said.has(`certificate-mismatch:${person.id}`)) {
      say({ kind: 'keys-changed', userId: person.id, email: person.email });
    }
  }
  if (lines.length === 0) return null;
  return (
    <Alert tone="security" title={t('people.warningsTitle')}>
      <ul>
        {lines.map((line) => (
          <li key={line.key}>{line.text}</li>
        ))}
      </ul>
      <p>{t('people.warningsAction')}</p>
    </Alert>
  );
}
