// A query's loading and error states in one place: the Busy line, or the error with a "Try again" button.
import { useTranslation } from 'react-i18next';
import { Busy } from './busy';
import { ErrorAlert } from './error-alert';

export interface QueryStatusProps {
  readonly query: {
    readonly isPending: boolean;
    readonly isError: boolean;
    readonly error: unknown;
    readonly refetch: () => Promise<unknown>;
  };
  readonly loading: string;
}

/** Renders while `query` is pending or failed; null once it has data. */
export function QueryStatus({ query, loading }: QueryStatusProps) {
  const { t } = useTranslation();
  if (query.isPending) return <Busy label={loading} />;
  if (!query.isError) return null;
  return (
    <>
      <ErrorAlert error={query.error} />
      <button
        type="button"
        className="button button-secondary"
        onClick={() => void query.refetch()}
      >
        {t('common.retry')}
      </button>
    </>
  );
}
