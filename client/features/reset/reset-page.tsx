// /reset: the person opens the e-mailed reset link (#r=…&s=…), types the recovery code their office gave them by phone or
// in person, and chooses a new password; their own key is opened in this browser, never on the server (SECURITY.md 5.8).
import { proxy } from 'comlink';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import type { PasswordCheck } from '../../../shared/accounts/password-rules';
import { useAccount } from '../../account';
import { isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { ProgressSteps } from '../../components/progress-steps';
import { formatDateTime } from '../../i18n/format';
import type { CheckedReset, ResetStep } from '../../worker';
import { SecondFactorStep } from '../login/second-factor-step';
import { useSecondFactorPrompt } from '../login/use-second-factor-prompt';
import { NewPasswordField } from '../new-password-field';
import { clearFragment, resetFragment, type ResetFragment } from './reset-link';

/** Errors of the code step that are about this link, not about what was typed: the form gives way to an explanation. */
const DEAD_LINK = new Set(['reset_invalid', 'reset_expired', 'reset_used', 'reset_failed']);

/**
 * Reads the link once, then takes it out of the address bar; a different link opened later in the
 * same tab (a new #fragment) starts afresh.
 */
export function ResetPage() {
  const [link, setLink] = useState(() => readLink(window.location.hash));
  useEffect(() => {
    clearFragment();
    // A second link opened in this tab changes only the fragment (no page load): read it, then clear it too.
    const onHashChange = () => {
      if (window.location.hash === '') return;
      setLink(readLink(window.location.hash));
      clearFragment();
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  const key = link.fragment ? `${link.fragment.resetId}.${link.fragment.linkSecret}` : 'none';
  return <ResetForLink key={key} link={link.fragment} hadFragment={link.seen} />;
}

function readLink(hash: string): { fragment: ResetFragment | null; seen: boolean } {
  return { fragment: resetFragment(hash), seen: hash !== '' };
}

function ResetForLink({ link, hadFragment }: { link: ResetFragment | null; hadFragment: boolean }) {
  const { t, i18n } = useTranslation();
  const [, navigate] = useLocation();
  const account = useAccount();
  const language = i18n.resolvedLanguage ?? 'en';
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [checked, setChecked] = useState<CheckedReset | null>(null);
  const [password, setPassword] = useState('');
  const [check, setCheck] = useState<PasswordCheck | null>(null);
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [working, setWorking] = useState<'code' | 'password' | null>(null);
  const [step, setStep] = useState<ResetStep | null>(null);
  const [error, setError] = useState<unknown>(null);
  const secondStep = useSecondFactorPrompt();
  const passwordHeading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (checked) passwordHeading.current?.focus();
  }, [checked]);

  const steps: { id: ResetStep; label: string }[] = [
    { id: 'link', label: t('reset.step.link') },
    { id: 'password', label: t('reset.step.password') },
    { id: 'store', label: t('reset.step.store') },
    { id: 'signin', label: t('reset.step.signin') },
  ];

  const submitCode = async (event: FormEvent) => {
    event.preventDefault();
    if (!link) return;
    setError(null);
    setCodeError(null);
    setWorking('code');
    try {
      setChecked(await account.run((api) => api.checkReset({ ...link, code })));
    } catch (failure) {
      if (isApiError(failure) && failure.code === 'reset_code_format') {
        setCodeError(t('errors.reset_code_format'));
        document.getElementById('reset-code-input')?.focus();
      } else if (isApiError(failure) && failure.code === 'reset_code_invalid') {
        setCodeError(t('errors.reset_code_invalid'));
        document.getElementById('reset-code-input')?.focus();
      } else {
        setError(failure);
      }
    } finally {
      setWorking(null);
    }
  };

  const submitPassword = async (event: FormEvent) => {
    event.preventDefault();
    if (!link || !checked) return;
    // Still being checked (typed just now): the flow checks the same rules itself (password_rejected).
    if (check && !check.ok) {
      setPasswordError(t('form.passwordBreaksRules'));
      document.getElementById('reset-password')?.focus();
      return;
    }
    setPasswordError(null);
    setError(null);
    setWorking('password');
    setStep(null);
    const prompt = secondStep.begin();
    try {
      await account.unlockWith((api) =>
        api.completeReset(
          { ...link, code },
          password,
          proxy((next: ResetStep) => setStep(next)),
          prompt,
        ),
      );
      secondStep.end();
      navigate('/app', { replace: true });
    } catch (failure) {
      secondStep.end();
      // The new password is saved; only the sign-in after it was not finished: sign in on the login page.
      if (isApiError(failure) && failure.code === 'second_factor_needed') {
        navigate('/login', { replace: true });
        return;
      }
      setError(failure);
      setWorking(null);
    }
  };

  const errorOverrides = {
    reset_wrap_rejected: t('reset.wrapRejected'),
    password_rejected: t('form.passwordBreaksRules'),
  };
  const wrapRejected = isApiError(error) && error.code === 'reset_wrap_rejected';
  const deadLink = isApiError(error) && DEAD_LINK.has(error.code);

  let body;
  if (!link) {
    body = (
      <Alert tone="warning" title={t(hadFragment ? 'reset.badLinkTitle' : 'reset.noLinkTitle')}>
        <p>{t(hadFragment ? 'reset.badLink' : 'reset.noLink')}</p>
      </Alert>
    );
  } else if (wrapRejected) {
    // WARNING: the key offered for this reset did not open with link and code; nothing was registered.
    body = (
      <Alert tone="security" title={t('reset.wrapRejectedTitle')}>
        <p>{t('reset.wrapRejected')}</p>
        <p>{t('reset.wrapRejectedAction')}</p>
      </Alert>
    );
  } else if (deadLink) {
    body = (
      <>
        <ErrorAlert error={error} />
        <p>
          <Link href="/login">{t('reset.toLogin')}</Link>
        </p>
      </>
    );
  } else if (secondStep.pending && checked) {
    body = (
      <div className="card">
        <SecondFactorStep
          idPrefix="reset"
          pending={secondStep.pending}
          control={secondStep}
          email={checked.email}
        />
      </div>
    );
  } else if (working === 'password') {
    body = (
      <ProgressSteps
        title={t('reset.working')}
        steps={steps}
        current={step}
        note={t('reset.workingNote')}
      />
    );
  } else if (checked) {
    body = (
      <form
        className="form card"
        onSubmit={(event) => void submitPassword(event)}
        aria-labelledby="reset-password-title"
      >
        <h2 id="reset-password-title" ref={passwordHeading} tabIndex={-1}>
          {t('reset.passwordTitle')}
        </h2>
        <p>
          {t('reset.forAccount', {
            email: checked.email,
            organisation: checked.organisationName,
          })}
        </p>
        <p className="card-help">
          {t('reset.expires', { time: formatDateTime(checked.expiresAt, language) })}
        </p>
        {checked.removeSecondFactors && (
          <Alert tone="info" live={false}>
            <p>{t('reset.factorsRemoved')}</p>
          </Alert>
        )}
        {error !== null && <ErrorAlert error={error} overrides={errorOverrides} />}
        <input type="email" hidden readOnly value={checked.email} autoComplete="username" />
        <NewPasswordField
          id="reset-password"
          value={password}
          onChange={setPassword}
          rules={checked.passwordRules}
          context={{ email: checked.email, organisationName: checked.organisationName }}
          onCheck={setCheck}
          error={passwordError}
        />
        <p className="card-help">{t('reset.afterwards')}</p>
        <div className="form-actions">
          <button type="submit" className="button">
            {t('reset.submitPassword')}
          </button>
        </div>
      </form>
    );
  } else {
    body = (
      <form className="form card" onSubmit={(event) => void submitCode(event)}>
        {error !== null && <ErrorAlert error={error} overrides={errorOverrides} />}
        <Field
          id="reset-code-input"
          label={t('reset.code')}
          hint={t('reset.codeHint')}
          error={codeError ?? undefined}
        >
          {(describedBy) => (
            <input
              id="reset-code-input"
              className="input input-mono"
              value={code}
              onChange={(event) => setCode(event.target.value)}
              required
              autoComplete="one-time-code"
              autoCapitalize="characters"
              spellCheck={false}
              aria-describedby={describedBy}
              aria-invalid={codeError !== null}
            />
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" className="button" disabled={working === 'code'}>
            {working === 'code' ? t('reset.checking') : t('reset.submitCode')}
          </button>
        </div>
      </form>
    );
  }

  return (
    <div className="page page-narrow">
      <title>{t('reset.documentTitle')}</title>
      <h1>{t('reset.title')}</h1>
      <p className="lead">{t('reset.lead')}</p>
      {body}
    </div>
  );
}
