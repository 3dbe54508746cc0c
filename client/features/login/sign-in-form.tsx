// The e-mail + password form of the login page and the unlock screen; OPAQUE runs in the crypto worker.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useAccount } from '../../account';
import { isApiError } from '../../api';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Field } from '../../components/field';
import { PasswordInput } from '../../components/password-input';
import type { SignedIn } from '../../worker';

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

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const signedIn = await account.unlockWith((api) => api.login(email.trim(), password));
      setPassword('');
      onSignedIn(signedIn);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  if (isApiError(error) && error.code === 'pin_mismatch') {
    // WARNING: the server is not the one this account trusts: stop, do not offer the form again.
    return <ErrorAlert error={error} id={`${idPrefix}-error`} />;
  }
  return (
    <form className="form" onSubmit={(event) => void submit(event)}>
      {error !== null && <ErrorAlert error={error} id={`${idPrefix}-error`} />}
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
