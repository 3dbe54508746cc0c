// "Enter your password again": re-authentication before a sensitive action (the server's 15-minute rule).
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useAccount, useSignedIn } from '../account';
import { isApiError } from '../api';
import { SecondFactorStep } from '../features/login/second-factor-step';
import { useSecondFactorPrompt } from '../features/login/use-second-factor-prompt';
import { Dialog } from './dialog';
import { ErrorAlert } from './error-alert';
import { Field } from './field';
import { PasswordInput } from './password-input';

export interface ReauthDialogProps {
  readonly open: boolean;
  /** Called after a successful sign-in with the password; the caller retries its action. */
  readonly onDone: () => void;
  readonly onCancel: () => void;
}

export function ReauthDialog({ open, onDone, onCancel }: ReauthDialogProps) {
  const { t } = useTranslation();
  const account = useAccount();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { session } = useSignedIn();
  // The server does not ask a signed-in browser for the second factor again; if it does, the same step as at login.
  const secondStep = useSecondFactorPrompt();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const prompt = secondStep.begin();
    try {
      const signedIn = await account.run((api) => api.reauthenticate(password, prompt));
      account.refresh(signedIn);
      setPassword('');
      onDone();
    } catch (failure) {
      setError(isApiError(failure) && failure.code === 'second_factor_needed' ? null : failure);
    } finally {
      secondStep.end();
      setBusy(false);
    }
  };

  return (
    <Dialog
      id="reauth"
      open={open}
      title={t('reauth.title')}
      onClose={() => {
        secondStep.end();
        setPassword('');
        setError(null);
        onCancel();
      }}
    >
      {secondStep.pending ? (
        <SecondFactorStep
          idPrefix="reauth"
          pending={secondStep.pending}
          control={secondStep}
          email={session.user.email}
        />
      ) : (
        <>
          <p>{t('reauth.body')}</p>
          <form onSubmit={(event) => void submit(event)} className="form">
            {error !== null && <ErrorAlert error={error} />}
            <Field id="reauth-password" label={t('reauth.password')}>
              {(describedBy) => (
                <PasswordInput
                  id="reauth-password"
                  value={password}
                  onChange={setPassword}
                  autoComplete="current-password"
                  describedBy={describedBy}
                  autoFocus
                />
              )}
            </Field>
            <div className="form-actions">
              <button type="submit" className="button" disabled={busy || password === ''}>
                {busy ? t('reauth.checking') : t('reauth.confirm')}
              </button>
              <button
                type="button"
                className="button button-secondary"
                onClick={() => {
                  setPassword('');
                  setError(null);
                  onCancel();
                }}
              >
                {t('common.cancel')}
              </button>
            </div>
          </form>
        </>
      )}
    </Dialog>
  );
}

/**
 * Runs a sensitive action; when the server answers `reauthentication_required`, asks for the
 * password in a dialog and runs it again. Returns the dialog to render and the wrapped runner.
 */
export function useReauthenticated() {
  const [pending, setPending] = useState<{ retry: () => void; cancel: () => void } | null>(null);
  const guard = <T,>(action: () => Promise<T>): Promise<T> =>
    action().catch((error: unknown) => {
      if (!isApiError(error) || error.code !== 'reauthentication_required') throw error;
      return new Promise<T>((resolve, reject) => {
        setPending({
          retry: () => {
            setPending(null);
            action().then(resolve, reject);
          },
          cancel: () => {
            setPending(null);
            reject(error);
          },
        });
      });
    });
  const dialog = (
    <ReauthDialog
      open={pending !== null}
      onDone={() => pending?.retry()}
      onCancel={() => pending?.cancel()}
    />
  );
  return { guard, dialog };
}
