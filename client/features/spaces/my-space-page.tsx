// "My documents": a client's own space; the page finds it in the directory and opens it.
import { useTranslation } from 'react-i18next';
import { Redirect } from 'wouter';
import { Alert } from '../../components/alert';
import { QueryStatus } from '../../components/query-status';
import { useIsStaff, useSpaceDirectory } from './space-queries';

export function MySpacePage() {
  const { t } = useTranslation();
  const staff = useIsStaff();
  const directory = useSpaceDirectory();
  if (staff) return <Redirect to="/clients" replace />;
  if (!directory.isSuccess)
    return (
      <div className="page">
        <QueryStatus query={directory} loading={t('spaces.loading')} />
      </div>
    );
  const own = directory.data.spaces.find((space) => space.kind === 'client');
  if (!own)
    return (
      <div className="page">
        <title>{t('spaces.myDocumentTitle')}</title>
        <h1>{t('spaces.mySpace')}</h1>
        <Alert tone="info" live={false}>
          <p>{t('spaces.noOwnSpace')}</p>
        </Alert>
      </div>
    );
  return <Redirect to={`/spaces/${own.id}`} replace />;
}
