// /login: sign in with e-mail and password (OPAQUE: the password never leaves the browser).
import { useTranslation } from 'react-i18next';
import { useLocation, useSearchParams } from 'wouter';
import { useAccount } from '../../account';
import { Alert } from '../../components/alert';
import { PasskeySignIn } from '../second-factors/passkey-sign-in';
import { returnPath } from './return-path';
import { SignInForm } from './sign-in-form';

export function LoginPage() {
  const { t } = useTranslation();
  const [, navigate] = useLocation();
  const [params] = useSearchParams();
  const { state } = useAccount();
  const notice = state.kind === 'signed-out' ? state.notice : null;
  const email = state.kind === 'locked' ? state.email : '';
  return (
    <div className="page page-narrow">
      <title>{t('login.documentTitle')}</title>
      <h1>{t('login.title')}</h1>
      <p className="lead">{t('login.lead')}</p>
      {notice && (
        <Alert tone={notice === 'session-ended' ? 'warning' : 'success'}>
          <p>{t(`login.notice.${notice}`)}</p>
        </Alert>
      )}
      <div className="card">
        <SignInForm
          idPrefix="login"
          initialEmail={email}
          submitLabel={t('login.submit')}
          onSignedIn={() => navigate(returnPath(params.get('next')), { replace: true })}
        />
      </div>
      <PasskeySignIn onSignedIn={() => navigate(returnPath(params.get('next')), { replace: true })} />
      <p className="card-help">{t('login.lockedHint')}</p>
    </div>
  );
}
