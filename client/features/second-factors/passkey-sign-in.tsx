// "Sign in with a passkey": a passkey that unlocks (PRF) opens the account and its keys with no password typed.
import { transfer } from 'comlink';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { startPasskeyLogin } from '../../../shared/api';
import { PASSKEY_UNLOCK_PRF_SALT } from '../../../shared/flows/passkey-prf-salt';
import { useAccount } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import type { SignedIn } from '../../worker';
import { ForeignRelyingPartyError, assertPasskey } from './webauthn';

type Problem = 'ceremony' | 'noPrf' | 'foreignSite';

export function PasskeySignIn({ onSignedIn }: { readonly onSignedIn: (signedIn: SignedIn) => void }) {
  const { t } = useTranslation();
  const account = useAccount();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [error, setError] = useState<unknown>(null);

  const signIn = async () => {
    setBusy(true);
    setProblem(null);
    setError(null);
    try {
      const { ceremonyId, options } = await callApi(startPasskeyLogin, { body: {} });
      let assertion;
      try {
        assertion = await assertPasskey(options, PASSKEY_UNLOCK_PRF_SALT);
      } catch (failure) {
        // Options naming another site are the server's doing; anything else is cancelled, timed out,
        // or no passkey for this site on this device (the browser says no more).
        setProblem(failure instanceof ForeignRelyingPartyError ? 'foreignSite' : 'ceremony');
        return;
      }
      const { response, prfOutput } = assertion;
      // WARNING: without a PRF output nothing could open the key safe: never finish the sign-in then.
      if (!prfOutput) {
        setProblem('noPrf');
        return;
      }
      // The PRF output moves to the crypto worker (transferred: this page keeps no copy).
      const signedIn = await account.unlockWith((api) => api.signInWithPasskey(ceremonyId, response, transfer(prfOutput, [prfOutput])));
      onSignedIn(signedIn);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="passkey-sign-in-title">
      <h2 id="passkey-sign-in-title">{t('passkeys.signIn.title')}</h2>
      <p className="card-help">{t('passkeys.signIn.help')}</p>
      {problem && (
        <Alert tone={problem === 'foreignSite' ? 'security' : 'error'}>
          <p>{t(`passkeys.errors.${problem}`)}</p>
        </Alert>
      )}
      {error !== null && (
        <ErrorAlert
          error={error}
          // WARNING: integrity_failed here means the server's answer did not open with this passkey's
          // PRF output (another passkey's or account's wrapping, or a key it chose): say so, not "try again".
          overrides={{ passkey_unlock_unavailable: t('passkeys.signIn.unavailable'), integrity_failed: t('passkeys.signIn.tampered') }}
        />
      )}
      {busy && <Busy label={t('passkeys.signIn.checking')} />}
      <div className="form-actions">
        <button type="button" className="button button-secondary" disabled={busy} onClick={() => void signIn()}>
          {t('passkeys.signIn.button')}
        </button>
      </div>
    </section>
  );
}
