// The first screen: what Kluis is, the way in (sign in, or set up first), and whether the server and the in-browser encryption engine work.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { getSetupStatus } from '../../../shared/api';
import { useAccount } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { EngineStatus } from './engine-status';
import { ServerStatus } from './server-status';

export function WelcomePage() {
  const { t } = useTranslation();
  const { state } = useAccount();
  const setup = useQuery({
    queryKey: ['setup-status'],
    queryFn: ({ signal }) => callApi(getSetupStatus, {}, { signal }),
    staleTime: 60_000,
  });
  return (
    <div className="page">
      <title>{t('welcome.documentTitle')}</title>
      <div className="hero">
        <h1 className="hero-title">{t('welcome.title')}</h1>
        <p className="hero-tagline">{t('app.tagline')}</p>
        <p className="hero-lead">{t('welcome.lead')}</p>
        {setup.data?.needsSetup ? (
          <Alert tone="info" title={t('welcome.needsSetupTitle')} live={false}>
            <p>{t('welcome.needsSetup')}</p>
          </Alert>
        ) : (
          <p className="hero-actions">
            {state.kind === 'signed-in' ? (
              <Link href="/app" className="button">
                {t('welcome.toPortal')}
              </Link>
            ) : (
              <Link href="/login" className="button">
                {t('welcome.signIn')}
              </Link>
            )}
          </p>
        )}
      </div>

      <section className="section" aria-labelledby="status-title">
        <h2 id="status-title">{t('welcome.statusTitle')}</h2>
        <div className="card-grid">
          <ServerStatus />
          <EngineStatus />
        </div>
      </section>

      <section className="section" aria-labelledby="explain-title">
        <h2 id="explain-title">{t('welcome.explainTitle')}</h2>
        <ul className="feature-list">
          <li>{t('welcome.explainEncrypt')}</li>
          <li>{t('welcome.explainServer')}</li>
          <li>{t('welcome.explainSession')}</li>
        </ul>
      </section>
    </div>
  );
}
