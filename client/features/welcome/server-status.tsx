// The server card of the welcome page: /api/health through callApi and TanStack Query.
import { queryOptions, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { health } from '../../../shared/api';
import { callApi } from '../../api';
import { StatusIndicator } from '../../components/status-indicator';

export const healthQuery = queryOptions({
  queryKey: ['health'],
  queryFn: ({ signal }) => callApi(health, {}, { signal }),
  refetchInterval: 30_000,
});

export function ServerStatus() {
  const { t } = useTranslation();
  const query = useQuery(healthQuery);

  let body;
  if (query.isPending) {
    body = <StatusIndicator tone="pending">{t('server.checking')}</StatusIndicator>;
  } else if (query.isError) {
    const unreachable = query.error.isTransient;
    body = (
      <>
        <StatusIndicator tone="error">
          {unreachable ? t('server.offline') : t('server.error', { code: query.error.code })}
        </StatusIndicator>
        {unreachable && <p className="card-help">{t('server.offlineHelp')}</p>}
        <button
          type="button"
          className="button button-secondary"
          disabled={query.isFetching}
          onClick={() => void query.refetch()}
        >
          {t('server.retry')}
        </button>
      </>
    );
  } else {
    body = (
      <>
        <StatusIndicator tone="ok">{t('server.online')}</StatusIndicator>
        <p className="card-help">{t('server.version', { version: query.data.version })}</p>
      </>
    );
  }

  return (
    <section className="card" aria-labelledby="server-status-title">
      <h3 id="server-status-title" className="card-title">
        {t('server.title')}
      </h3>
      <div role="status">{body}</div>
    </section>
  );
}
