// Account: profile (encrypted), change password (current + new, with the meter), sessions, log out everywhere, key fingerprints.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { proxy } from 'comlink';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { PasswordCheck } from '../../../shared/accounts/password-rules';
import { endSession, listSessions, logoutEverywhere } from '../../../shared/api';
import { useAccount, useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { Fingerprint } from '../../components/fingerprint';
import { PasswordInput } from '../../components/password-input';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import { NewPasswordField } from '../new-password-field';
import { PasskeysSection } from '../second-factors/passkeys-section';
import { SecurityCard } from '../second-factors/security-card';
import { ActivitySection, WitnessSection } from './activity-section';
import { EscrowSection } from './escrow-section';
import { ProfileForm } from './profile-form';

export function AccountPage() {
  const { t } = useTranslation();
  const { session, name } = useSignedIn();
  return (
    <div className="page">
      <title>{t('account.documentTitle')}</title>
      <h1>{t('account.title')}</h1>
      <dl className="facts card">
        <dt>{t('people.name')}</dt>
        <dd>{name ?? t('people.cannotDecrypt')}</dd>
        <dt>{t('form.email')}</dt>
        <dd>{session.user.email}</dd>
        <dt>{t('people.role')}</dt>
        <dd>{t(`roles.${session.user.role}`)}</dd>
        <dt>{t('account.organisation')}</dt>
        <dd>{session.organisation.name}</dd>
      </dl>
      <div className="two-columns">
        <div className="stack">
          <ProfileForm />
          <ChangePassword />
        </div>
        <div className="stack">
          <SecurityCard />
          <PasskeysSection />
          <Sessions />
          <Keys />
          <EscrowSection />
        </div>
      </div>
      <WitnessSection />
      <ActivitySection />
    </div>
  );
}

function ChangePassword() {
  const { t } = useTranslation();
  const { session, name } = useSignedIn();
  const account = useAccount();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [check, setCheck] = useState<PasswordCheck | null>(null);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [working, setWorking] = useState<'signin' | 'password' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    // Still being checked (typed just now): the flow checks the same rules itself (password_rejected).
    if (check && !check.ok) {
      setPasswordError(t('form.passwordBreaksRules'));
      document.getElementById('new-password')?.focus();
      return;
    }
    if (next === current) {
      setPasswordError(t('account.samePassword'));
      document.getElementById('new-password')?.focus();
      return;
    }
    setPasswordError(null);
    setError(null);
    setWorking('signin');
    try {
      const signedIn = await account.run((api) =>
        api.changePassword(
          current,
          next,
          proxy((step: string) => setWorking(step === 'signin' ? 'signin' : 'password')),
        ),
      );
      account.refresh(signedIn);
      setCurrent('');
      setNext('');
      setDone(true);
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(null);
    }
  };

  return (
    <form
      className="form card"
      onSubmit={(event) => void submit(event)}
      aria-labelledby="change-password-title"
    >
      <h2 id="change-password-title">{t('account.changePassword')}</h2>
      <p className="card-help">{t('account.changePasswordHelp')}</p>
      {done && (
        <Alert tone="success">
          <p>{t('account.passwordChanged')}</p>
        </Alert>
      )}
      {error !== null && (
        <ErrorAlert error={error} overrides={{ login_rejected: t('account.currentWrong') }} />
      )}
      <input type="email" hidden readOnly value={session.user.email} autoComplete="username" />
      <Field id="current-password" label={t('account.currentPassword')}>
        {(describedBy) => (
          <PasswordInput
            id="current-password"
            value={current}
            onChange={setCurrent}
            autoComplete="current-password"
            describedBy={describedBy}
          />
        )}
      </Field>
      <NewPasswordField
        id="new-password"
        value={next}
        onChange={setNext}
        rules={session.passwordRules}
        context={{
          email: session.user.email,
          name: name ?? undefined,
          organisationName: session.organisation.name,
        }}
        onCheck={setCheck}
        error={passwordError}
      />
      {working && (
        <Busy
          label={working === 'signin' ? t('account.checkingCurrent') : t('account.savingPassword')}
        />
      )}
      <div className="form-actions">
        <button type="submit" className="button" disabled={working !== null}>
          {t('account.changePasswordSubmit')}
        </button>
      </div>
    </form>
  );
}

function Sessions() {
  const { t, i18n } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const queryClient = useQueryClient();
  const { guard, dialog } = useReauthenticated();
  const language = i18n.resolvedLanguage ?? 'en';
  const sessionsKey = ['sessions', session.user.id] as const;
  const sessions = useQuery({
    queryKey: sessionsKey,
    queryFn: ({ signal }) => callApi(listSessions, {}, { signal }),
  });
  const end = useMutation({
    mutationFn: (id: string) => guard(() => callApi(endSession, { params: { id } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sessionsKey }),
  });
  const everywhere = useMutation({
    mutationFn: () => guard(() => callApi(logoutEverywhere, {})),
    onSuccess: () => account.signOut('signed-out-everywhere', false),
  });

  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">{t('account.sessions')}</h2>
      {end.isError && <ErrorAlert error={end.error} />}
      {everywhere.isError && <ErrorAlert error={everywhere.error} />}
      {sessions.isPending ? (
        <Busy label={t('common.loading')} />
      ) : sessions.isError ? (
        <ErrorAlert error={sessions.error} />
      ) : (
        <ul className="item-list">
          {sessions.data.sessions.map((item) => (
            <li key={item.id} className="item">
              <div>
                <p className="item-title">
                  {t('account.sessionStarted', { time: formatDateTime(item.createdAt, language) })}
                  {item.current && (
                    <span className="badge badge-ok">{t('account.thisSession')}</span>
                  )}
                </p>
                <p className="item-meta">
                  {t('account.sessionSeen', { time: formatDateTime(item.lastSeenAt, language) })}
                  {item.ip ? ` · ${item.ip}` : ''}
                </p>
              </div>
              {!item.current && (
                <button
                  type="button"
                  className="button button-small button-secondary"
                  disabled={end.isPending}
                  onClick={() => end.mutate(item.id)}
                >
                  {t('account.endSession')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <p className="card-help">{t('account.everywhereHelp')}</p>
      <button
        type="button"
        className="button button-secondary"
        disabled={everywhere.isPending}
        onClick={() => everywhere.mutate()}
      >
        {t('account.everywhere')}
      </button>
      {dialog}
    </section>
  );
}

function Keys() {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const keys = useQuery({
    queryKey: ['own-keys', session.user.id],
    queryFn: () => account.run((api) => api.ownKeys()),
    staleTime: Infinity,
  });
  return (
    <section className="card" aria-labelledby="keys-title">
      <h2 id="keys-title">{t('account.keys')}</h2>
      {keys.isPending ? (
        <Busy label={t('common.loading')} />
      ) : keys.isError ? (
        <ErrorAlert error={keys.error} />
      ) : (
        <>
          <p className="field-label">{t('account.yourKey')}</p>
          <p>
            <Fingerprint hex={keys.data.keyFingerprint} />
          </p>
          <p className="card-help">{t('account.yourKeyHelp')}</p>
          <p className="field-label">{t('account.yourSigningKey')}</p>
          <p>
            {keys.data.signingKeyFingerprint ? (
              <Fingerprint hex={keys.data.signingKeyFingerprint} />
            ) : (
              t('account.noSigningKey')
            )}
          </p>
          <p className="card-help">{t('account.yourSigningKeyHelp')}</p>
          <p className="field-label">{t('account.escrowKey')}</p>
          <p>
            <Fingerprint hex={keys.data.escrowFingerprint} />
          </p>
          <p className="card-help">{t('account.escrowKeyHelp')}</p>
        </>
      )}
    </section>
  );
}
