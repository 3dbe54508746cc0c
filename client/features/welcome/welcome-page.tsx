// The first screen: what Kluis is, and whether the server and the in-browser encryption engine work.
import { useTranslation } from 'react-i18next';
import { EngineStatus } from './engine-status';
import { ServerStatus } from './server-status';

export function WelcomePage() {
  const { t } = useTranslation();
  return (
    <div className="page">
      <title>{t('welcome.documentTitle')}</title>
      <div className="hero">
        <h1 className="hero-title">{t('welcome.title')}</h1>
        <p className="hero-tagline">{t('app.tagline')}</p>
        <p className="hero-lead">{t('welcome.lead')}</p>
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
