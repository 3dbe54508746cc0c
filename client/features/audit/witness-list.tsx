// Auditors' countersignatures of signed heads, each verified in the worker against the witness's certified key.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAccount } from '../../account';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../i18n/format';

export const auditWitnessesKey = ['audit-witnesses'] as const;

export function WitnessList() {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const account = useAccount();
  const witnesses = useQuery({ queryKey: auditWitnessesKey, queryFn: () => account.run((api) => api.auditWitnesses()) });
  return (
    <section className="card" aria-labelledby="audit-witness-title">
      <h2 id="audit-witness-title">{t('audit.witness.title')}</h2>
      <p className="card-help">{t('audit.witness.help')}</p>
      {witnesses.isPending ? (
        <Busy label={t('audit.witness.loading')} />
      ) : witnesses.isError ? (
        <ErrorAlert error={witnesses.error} />
      ) : witnesses.data.length === 0 ? (
        <p className="empty-state">{t('audit.witness.empty')}</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={t('audit.witness.title')}>
          <table className="data-table">
            <caption className="visually-hidden">{t('audit.witness.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.witness.who')}</th>
                <th scope="col">{t('audit.witness.when')}</th>
                <th scope="col">{t('audit.witness.head')}</th>
                <th scope="col">{t('audit.witness.status')}</th>
              </tr>
            </thead>
            <tbody>
              {witnesses.data.map((witness) => (
                <tr key={witness.id}>
                  <th scope="row">{witness.email ?? witness.witnessId}</th>
                  <td>
                    <time dateTime={witness.witnessedAt}>{formatDateTime(witness.witnessedAt, language)}</time>
                  </td>
                  <td>{t('audit.witness.headLabel', { size: witness.treeSize, root: witness.rootHash?.slice(0, 16) ?? '—' })}</td>
                  <td>{witness.status === 'verified' ? t('audit.witness.verified') : t(`audit.witness.unverifiable.${witness.status}`)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
