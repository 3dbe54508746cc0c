// The encryption-engine card of the welcome page: the crypto worker's self-test, as seen through useVault().
import { useTranslation } from 'react-i18next';
import { StatusIndicator } from '../../components/status-indicator';
import { useVault } from '../../vault';

export function EngineStatus() {
  const { t } = useTranslation();
  const { engine } = useVault();

  let body;
  switch (engine.kind) {
    case 'starting':
      body = <StatusIndicator tone="pending">{t('engine.starting')}</StatusIndicator>;
      break;
    case 'ready':
      body = (
        <>
          <StatusIndicator tone="ok">{t('engine.ready')}</StatusIndicator>
          <p className="card-help">{t('engine.readyHelp', { ms: engine.selfTestMs })}</p>
        </>
      );
      break;
    case 'failed':
      body = (
        <>
          <StatusIndicator tone="error">{t('engine.failed')}</StatusIndicator>
          <p className="card-help">{t('engine.failedHelp')}</p>
        </>
      );
      break;
  }

  return (
    <section className="card" aria-labelledby="engine-status-title">
      <h3 id="engine-status-title" className="card-title">
        {t('engine.title')}
      </h3>
      <div role="status">{body}</div>
    </section>
  );
}
