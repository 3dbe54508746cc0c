// /invite: accept an invitation from its e-mailed link (#t=token&e=&o=&a= pins), choose a password, sign in.
import { useQuery } from '@tanstack/react-query';
import { proxy } from 'comlink';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import type { PasswordCheck } from '../../../shared/accounts/password-rules';
import { lookupInvitation } from '../../../shared/api';
import { useAccount } from '../../account';
import { callApi, isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { Fingerprint } from '../../components/fingerprint';
import { ProgressSteps } from '../../components/progress-steps';
import { formatDateTime } from '../../i18n/format';
import type { Language } from '../../i18n';
import type { ProgressStep } from '../../worker';
import { invitationFragment, useLocationHash } from '../fragment';
import { LanguageSelect } from '../language-select';
import { NewPasswordField } from '../new-password-field';

/** Keyed on the #fragment: a different link starts afresh. */
export function InvitePage() {
  const hash = useLocationHash();
  return <InvitePageForLink key={hash} />;
}

function InvitePageForLink() {
  const { t, i18n } = useTranslation();
  const [, navigate] = useLocation();
  const account = useAccount();
  const [link] = useState(invitationFragment);
  const invitation = useQuery({
    queryKey: ['invitation', link?.token ?? 'none'],
    queryFn: ({ signal }) =>
      callApi(lookupInvitation, { body: { token: link?.token ?? '' } }, { signal }),
    enabled: link !== null,
    staleTime: Infinity,
    retry: false,
  });

  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [language, setLanguage] = useState<Language | null>(null);
  const [check, setCheck] = useState<PasswordCheck | null>(null);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const [step, setStep] = useState<ProgressStep | null>(null);
  const [error, setError] = useState<unknown>(null);

  const steps: { id: ProgressStep; label: string }[] = [
    { id: 'link', label: t('signup.step.link') },
    { id: 'keys', label: t('signup.step.keys') },
    { id: 'store', label: t('signup.step.store') },
    { id: 'signin', label: t('signup.step.signin') },
  ];

  let body;
  if (!link) {
    body = (
      <Alert tone="warning" title={t('signup.badLinkTitle')}>
        <p>{t('signup.badLink')}</p>
      </Alert>
    );
  } else if (invitation.isPending) {
    body = <Busy label={t('signup.checking')} />;
  } else if (invitation.isError) {
    body = (
      <>
        <ErrorAlert error={invitation.error} />
        <p>
          <Link href="/login">{t('login.link')}</Link>
        </p>
      </>
    );
  } else if (isApiError(error) && error.code === 'pin_mismatch') {
    // WARNING: a key pin did not match: stop here. No form, nothing more to type.
    body = <ErrorAlert error={error} />;
  } else if (working) {
    body = (
      <ProgressSteps
        title={t('signup.working')}
        steps={steps}
        current={step}
        note={t('signup.workingNote')}
      />
    );
  } else {
    const data = invitation.data;
    const chosenLanguage = language ?? data.language;
    const submit = async (event: FormEvent) => {
      event.preventDefault();
      // Still being checked (typed just now): the flow checks the same rules itself (password_rejected).
      if (check && !check.ok) {
        setPasswordError(t('form.passwordBreaksRules'));
        document.getElementById('signup-password')?.focus();
        return;
      }
      setPasswordError(null);
      setError(null);
      setWorking(true);
      setStep(null);
      try {
        await account.unlockWith((api) =>
          api.signup(
            {
              token: link.token,
              fragment: link.fragment,
              name: name.trim(),
              password,
              language: chosenLanguage,
            },
            proxy((next: ProgressStep) => setStep(next)),
          ),
        );
        void i18n.changeLanguage(chosenLanguage);
        navigate('/app', { replace: true });
      } catch (failure) {
        setError(failure);
        setWorking(false);
      }
    };
    body = (
      <>
        <section className="card" aria-labelledby="invitation-title">
          <h2 id="invitation-title">{t('signup.invitationTitle')}</h2>
          <dl className="facts">
            <dt>{t('signup.organisation')}</dt>
            <dd>{data.organisationName}</dd>
            <dt>{t('form.email')}</dt>
            <dd>{data.email}</dd>
            <dt>{t('signup.role')}</dt>
            <dd>{t(`roles.${data.role}`)}</dd>
            <dt>{t('signup.expires')}</dt>
            <dd>{formatDateTime(data.expiresAt, i18n.resolvedLanguage ?? 'en')}</dd>
            <dt>{t('signup.fingerprint')}</dt>
            <dd>
              <Fingerprint hex={link.escrowFingerprint} />
            </dd>
          </dl>
          <p className="card-help">{t('signup.fingerprintHelp')}</p>
        </section>
        <form className="form card" onSubmit={(event) => void submit(event)}>
          {error !== null && <ErrorAlert error={error} />}
          <Field id="signup-name" label={t('form.yourName')} hint={t('form.nameHint')}>
            {(describedBy) => (
              <input
                id="signup-name"
                className="input"
                value={name}
                onChange={(event) => setName(event.target.value)}
                required
                maxLength={200}
                autoComplete="name"
                aria-describedby={describedBy}
              />
            )}
          </Field>
          <NewPasswordField
            id="signup-password"
            label={t('form.choosePassword')}
            value={password}
            onChange={setPassword}
            rules={data.passwordRules}
            context={{ email: data.email, name, organisationName: data.organisationName }}
            onCheck={setCheck}
            error={passwordError}
          />
          <LanguageSelect id="signup-language" value={chosenLanguage} onChange={setLanguage} />
          <div className="form-actions">
            <button type="submit" className="button">
              {t('signup.submit')}
            </button>
          </div>
        </form>
      </>
    );
  }

  return (
    <div className="page page-narrow">
      <title>{t('signup.documentTitle')}</title>
      <h1>{t('signup.title')}</h1>
      <p className="lead">{t('signup.lead')}</p>
      {body}
    </div>
  );
}
