// The e-mail + password form of the login page and the unlock screen, then the second step when the account has one; OPAQUE runs in the crypto worker.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useAccount } from '../../account';
import { isApiError } from '../../api';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { PasswordInput } from '../../components/password-input';
import type { SignedIn } from '../../worker';
import { SecondFactorStep } from './second-factor-step';
import { useSecondFactorPrompt } from './use-second-factor-prompt';

export interface SignInFormProps {
  readonly idPrefix: string;
  readonly initialEmail?: string;
  /** The unlock screen fixes the e-mail address: it belongs to the session being unlocked. */
  readonly emailReadOnly?: boolean;
  readonly submitLabel: string;
  readonly onSignedIn: (signedIn: SignedIn) => void;
  readonly footer?: ReactNode;
}

export function SignInForm({
  idPrefix,
  initialEmail = '',
  emailReadOnly,
  submitLabel,
  onSignedIn,
  footer,
}: SignInFormProps) {
  const { t } = useTranslation();
  const account = useAccount();
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const secondStep = useSecondFactorPrompt();
  const wasInSecondStep = useRef(false);
  const [focusPassword, setFocusPassword] = useState(0);

  // Back from the second step (cancelled, expired, locked): the password field, empty, has the focus.
  useEffect(() => {
    if (focusPassword > 0) document.getElementById(`${idPrefix}-password`)?.focus();
  }, [focusPassword, idPrefix]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    // The password has done its part once the second step shows (OPAQUE is finished): forget it.
    const prompt = secondStep.begin(() => {
      wasInSecondStep.current = true;
      setPassword('');
    });
    try {
      const signedIn = await account.unlockWith((api) => api.login(email.trim(), password, prompt));
      setPassword('');
      secondStep.end();
      onSignedIn(signedIn);
    } catch (failure) {
      secondStep.end();
      // Going back from the second step is no error; anything else (a lock, an expired step) is shown here.
      setError(isApiError(failure) && failure.code === 'second_factor_needed' ? null : failure);
      setBusy(false);
      if (wasInSecondStep.current) setFocusPassword((count) => count + 1);
    } finally {
      wasInSecondStep.current = false;
    }
  };

  if (isApiError(error) && error.code === 'pin_mismatch') {
    // WARNING: the server is not the one this account trusts: stop, do not offer the form again.
    return <ErrorAlert error={error} id={`${idPrefix}-error`} />;
  }
  if (secondStep.pending) {
    return (
      <SecondFactorStep
        idPrefix={idPrefix}
        pending={secondStep.pending}
        control={secondStep}
        email={email.trim()}
      />
    );
  }
  return (
    <form className="form" onSubmit={(event) => void submit(event)}>
      {error !== null && (
        <ErrorAlert
          error={error}
          id={`${idPrefix}-error`}
          // WARNING: integrity_failed at sign-in means the keys the server handed out do not open with
          // this password (altered, or another account's): a warning about the server, not a typo.
          overrides={{ second_factor_expired: t('secondFactors.step.expired'), integrity_failed: t('login.tampered') }}
        />
      )}
      <Field id={`${idPrefix}-email`} label={t('form.email')}>
        {(describedBy) => (
          <input
            id={`${idPrefix}-email`}
            className="input"
            type="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            readOnly={emailReadOnly}
            required
            autoComplete="username"
            aria-describedby={describedBy}
            autoFocus={!emailReadOnly && !initialEmail}
          />
        )}
      </Field>
      <Field id={`${idPrefix}-password`} label={t('form.password')}>
        {(describedBy) => (
          <PasswordInput
            id={`${idPrefix}-password`}
            value={password}
            onChange={setPassword}
            autoComplete="current-password"
            describedBy={describedBy}
            autoFocus={Boolean(emailReadOnly || initialEmail)}
          />
        )}
      </Field>
      {busy && <Busy label={t('login.checking')} />}
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {submitLabel}
        </button>
        {footer}
      </div>
    </form>
  );
}
