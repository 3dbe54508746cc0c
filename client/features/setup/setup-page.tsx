// /setup: the first Administrator creates the organisation (link printed on the server console), then the recovery kit.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { proxy } from 'comlink';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import {
  DEFAULT_PASSWORD_RULES,
  type PasswordCheck,
} from '../../../shared/accounts/password-rules';
import { getSetupStatus, type Role } from '../../../shared/api';
import { useAccount } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { ProgressSteps } from '../../components/progress-steps';
import { isLanguage, type Language } from '../../i18n';
import type { ProgressStep, SetupOutcome } from '../../worker';
import { fragmentToken, useLocationHash } from '../fragment';
import { LanguageSelect } from '../language-select';
import { NewPasswordField } from '../new-password-field';
import { RecoveryKit } from './recovery-kit';

/** Keyed on the #fragment: a different link starts afresh. */
export function SetupPage() {
  const hash = useLocationHash();
  return <SetupPageForLink key={hash} />;
}

const allRoles: readonly Role[] = ['admin', 'team', 'auditor', 'client'];
/** The product's default policy: everyone who works with client data, not the clients themselves. */
const defaultSecondFactorRoles: readonly Role[] = ['admin', 'team', 'auditor'];

function SetupPageForLink() {
  const { t, i18n } = useTranslation();
  const account = useAccount();
  const queryClient = useQueryClient();
  const [token] = useState(() => fragmentToken('token'));
  const status = useQuery({
    queryKey: ['setup-status'],
    queryFn: ({ signal }) => callApi(getSetupStatus, {}, { signal }),
    staleTime: Infinity,
  });

  const [organisationName, setOrganisationName] = useState('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [language, setLanguage] = useState<Language>(() => {
    const current = i18n.resolvedLanguage ?? 'en';
    return isLanguage(current) ? current : 'en';
  });
  const [secondFactorRoles, setSecondFactorRoles] =
    useState<readonly Role[]>(defaultSecondFactorRoles);
  const [check, setCheck] = useState<PasswordCheck | null>(null);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [step, setStep] = useState<ProgressStep | null>(null);
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [kit, setKit] = useState<SetupOutcome | null>(null);

  const steps: { id: ProgressStep; label: string }[] = [
    { id: 'link', label: t('setup.step.link') },
    { id: 'keys', label: t('setup.step.keys') },
    { id: 'store', label: t('setup.step.store') },
    { id: 'signin', label: t('setup.step.signin') },
  ];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!token) return;
    // Still being checked (typed just now): the flow checks the same rules itself (password_rejected).
    if (check && !check.ok) {
      setPasswordError(t('form.passwordBreaksRules'));
      document.getElementById('setup-password')?.focus();
      return;
    }
    setPasswordError(null);
    setError(null);
    setWorking(true);
    setStep(null);
    try {
      const outcome = await account.unlockWith((api) =>
        api.setup(
          {
            setupToken: token,
            organisationName: organisationName.trim(),
            email: email.trim(),
            name: name.trim(),
            password,
            language,
            secondFactorRoles,
          },
          proxy((next: ProgressStep) => setStep(next)),
        ),
      );
      setPassword('');
      queryClient.setQueryData(['setup-status'], { needsSetup: false });
      setKit(outcome);
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(false);
    }
  };

  let body;
  if (kit) {
    body = <RecoveryKit outcome={kit} />;
  } else if (!token) {
    body = (
      <Alert tone="warning" title={t('setup.noTokenTitle')}>
        <p>{t('setup.noToken')}</p>
      </Alert>
    );
  } else if (status.isPending) {
    body = <Busy label={t('common.loading')} />;
  } else if (status.isSuccess && !status.data.needsSetup) {
    body = (
      <Alert tone="info" title={t('setup.doneTitle')}>
        <p>{t('setup.done')}</p>
        <p>
          <Link href="/login">{t('login.link')}</Link>
        </p>
      </Alert>
    );
  } else if (working) {
    body = (
      <ProgressSteps
        title={t('setup.working')}
        steps={steps}
        current={step}
        note={t('setup.workingNote')}
      />
    );
  } else {
    body = (
      <form className="form card" onSubmit={(event) => void submit(event)} noValidate={false}>
        {status.isError && <ErrorAlert error={status.error} />}
        {error !== null && <ErrorAlert error={error} />}
        <Field
          id="setup-organisation"
          label={t('setup.organisation')}
          hint={t('setup.organisationHint')}
        >
          {(describedBy) => (
            <input
              id="setup-organisation"
              className="input"
              value={organisationName}
              onChange={(event) => setOrganisationName(event.target.value)}
              required
              maxLength={120}
              autoComplete="organization"
              aria-describedby={describedBy}
            />
          )}
        </Field>
        <Field id="setup-name" label={t('form.yourName')} hint={t('form.nameHint')}>
          {(describedBy) => (
            <input
              id="setup-name"
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
        <Field id="setup-email" label={t('form.email')}>
          {(describedBy) => (
            <input
              id="setup-email"
              className="input"
              type="email"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              required
              autoComplete="email"
              aria-describedby={describedBy}
            />
          )}
        </Field>
        <NewPasswordField
          id="setup-password"
          label={t('form.password')}
          value={password}
          onChange={setPassword}
          rules={DEFAULT_PASSWORD_RULES}
          context={{ email, name, organisationName }}
          onCheck={setCheck}
          error={passwordError}
        />
        <LanguageSelect id="setup-language" value={language} onChange={setLanguage} />
        <fieldset className="fieldset" aria-describedby="setup-second-factor-hint">
          <legend className="field-label">{t('setup.secondFactorRoles')}</legend>
          <p className="field-hint" id="setup-second-factor-hint">
            {t('setup.secondFactorHint')}
          </p>
          {allRoles.map((role) => (
            <div className="checkbox-field" key={role}>
              <input
                id={`setup-second-factor-${role}`}
                type="checkbox"
                checked={secondFactorRoles.includes(role)}
                onChange={(event) =>
                  setSecondFactorRoles((current) =>
                    event.target.checked
                      ? allRoles.filter((r) => r === role || current.includes(r))
                      : current.filter((r) => r !== role),
                  )
                }
              />
              <label htmlFor={`setup-second-factor-${role}`}>{t(`roles.${role}`)}</label>
            </div>
          ))}
          {secondFactorRoles.includes('admin') && (
            <p className="field-hint">{t('setup.secondFactorYou')}</p>
          )}
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="button">
            {t('setup.submit')}
          </button>
        </div>
      </form>
    );
  }

  return (
    <div className="page page-narrow">
      <title>{t('setup.documentTitle')}</title>
      <h1>{kit ? t('kit.title') : t('setup.title')}</h1>
      {!kit && <p className="lead">{t('setup.lead')}</p>}
      {body}
    </div>
  );
}
