// /recover: recovery mode (#token= printed on the console): an Administrator uses the recovery kit and sets a new password.
import { proxy } from 'comlink';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'wouter';
import {
  DEFAULT_PASSWORD_RULES,
  type PasswordCheck,
} from '../../../shared/accounts/password-rules';
import { useAccount } from '../../account';
import { isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { ProgressSteps } from '../../components/progress-steps';
import type { ProgressStep } from '../../worker';
import { fragmentToken, useLocationHash } from '../fragment';
import { SecondFactorStep } from '../login/second-factor-step';
import { useSecondFactorPrompt } from '../login/use-second-factor-prompt';
import { NewPasswordField } from '../new-password-field';

/** Keyed on the #fragment: a different link starts afresh. */
export function RecoverPage() {
  const hash = useLocationHash();
  return <RecoverPageForLink key={hash} />;
}

function RecoverPageForLink() {
  const { t } = useTranslation();
  const [, navigate] = useLocation();
  const account = useAccount();
  const [token] = useState(() => fragmentToken('token'));
  const [email, setEmail] = useState('');
  const [secret, setSecret] = useState('');
  const [password, setPassword] = useState('');
  const [check, setCheck] = useState<PasswordCheck | null>(null);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const [step, setStep] = useState<ProgressStep | null>(null);
  const secondStep = useSecondFactorPrompt();
  const [error, setError] = useState<unknown>(null);

  const steps: { id: ProgressStep; label: string }[] = [
    { id: 'link', label: t('recover.step.link') },
    { id: 'recovery', label: t('recover.step.recovery') },
    { id: 'store', label: t('recover.step.store') },
    { id: 'signin', label: t('recover.step.signin') },
  ];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!token) return;
    // Still being checked (typed just now): the flow checks the same rules itself (password_rejected).
    if (check && !check.ok) {
      setPasswordError(t('form.passwordBreaksRules'));
      document.getElementById('recover-password')?.focus();
      return;
    }
    setPasswordError(null);
    setError(null);
    setWorking(true);
    setStep(null);
    const prompt = secondStep.begin();
    try {
      await account.unlockWith((api) =>
        api.recover(
          {
            recoveryToken: token,
            email: email.trim(),
            recoverySecret: secret,
            newPassword: password,
          },
          proxy((next: ProgressStep) => setStep(next)),
          prompt,
        ),
      );
      secondStep.end();
      navigate('/app', { replace: true });
    } catch (failure) {
      secondStep.end();
      // The recovery is done; only the sign-in after it was not finished: sign in on the login page.
      if (isApiError(failure) && failure.code === 'second_factor_needed') {
        navigate('/login', { replace: true });
        return;
      }
      setError(failure);
      setWorking(false);
    }
  };

  let body;
  if (!token) {
    body = (
      <Alert tone="warning" title={t('recover.noTokenTitle')}>
        <p>{t('recover.noToken')}</p>
      </Alert>
    );
  } else if (secondStep.pending) {
    body = (
      <div className="card">
        <SecondFactorStep
          idPrefix="recover"
          pending={secondStep.pending}
          control={secondStep}
          email={email.trim()}
        />
      </div>
    );
  } else if (working) {
    body = (
      <ProgressSteps
        title={t('recover.working')}
        steps={steps}
        current={step}
        note={t('recover.workingNote')}
      />
    );
  } else {
    body = (
      <form className="form card" onSubmit={(event) => void submit(event)}>
        {error !== null && (
          <ErrorAlert error={error} overrides={{ decryption_failed: t('recover.wrongSecret') }} />
        )}
        <Field id="recover-email" label={t('form.email')} hint={t('recover.emailHint')}>
          {(describedBy) => (
            <input
              id="recover-email"
              className="input"
              type="email"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              required
              autoComplete="username"
              aria-describedby={describedBy}
            />
          )}
        </Field>
        <Field id="recover-secret" label={t('recover.secret')} hint={t('recover.secretHint')}>
          {(describedBy) => (
            <input
              id="recover-secret"
              className="input input-mono"
              value={secret}
              onChange={(event) => setSecret(event.target.value)}
              required
              autoComplete="off"
              autoCapitalize="characters"
              spellCheck={false}
              aria-describedby={describedBy}
            />
          )}
        </Field>
        <NewPasswordField
          id="recover-password"
          value={password}
          onChange={setPassword}
          rules={DEFAULT_PASSWORD_RULES}
          context={{ email }}
          onCheck={setCheck}
          error={passwordError}
        />
        <div className="form-actions">
          <button type="submit" className="button">
            {t('recover.submit')}
          </button>
        </div>
      </form>
    );
  }

  return (
    <div className="page page-narrow">
      <title>{t('recover.documentTitle')}</title>
      <h1>{t('recover.title')}</h1>
      <p className="lead">{t('recover.lead')}</p>
      {body}
    </div>
  );
}
