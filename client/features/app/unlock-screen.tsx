// The unlock screen: the keys are gone (idle, reload, manual lock); the password opens them again.
import { useTranslation } from 'react-i18next';
import { useAccount, type AccountState } from '../../account';
import { SignInForm } from '../login/sign-in-form';

export function UnlockScreen({ state }: { state: Extract<AccountState, { kind: 'locked' }> }) {
  const { t } = useTranslation();
  const { signOut } = useAccount();
  return (
    <div className="page page-narrow">
      <title>{t('unlock.documentTitle')}</title>
      <h1>{t('unlock.title')}</h1>
      <p className="lead">{t(`unlock.reason.${state.reason}`)}</p>
      {state.organisationName && (
        <p className="card-help">{t('unlock.organisation', { name: state.organisationName })}</p>
      )}
      <div className="card">
        <SignInForm
          idPrefix="unlock"
          initialEmail={state.email}
          emailReadOnly
          submitLabel={t('unlock.submit')}
          onSignedIn={() => undefined}
          footer={
            <button
              type="button"
              className="button button-secondary"
              onClick={() => void signOut()}
            >
              {t('unlock.signOut')}
            </button>
          }
        />
      </div>
    </div>
  );
}
