// Account → Activity (issue 22): the audit events about one's own account and space, escrow uses
// highlighted, and the newest head an Auditor countersigned, each statement verified in the browser.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { getMyHistory } from '../../../shared/api';
import { useAccount, useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../i18n/format';
import { HistoryEvents } from '../spaces/history-events';

export function ActivitySection() {
  const { t } = useTranslation();
  const { session } = useSignedIn();
  return (
    <section className="card" aria-labelledby="activity-title">
      <h2 id="activity-title">{t('history.activityTitle')}</h2>
      <p className="card-help">{t('history.activityHelp')}</p>
      <HistoryEvents
        queryKey={['my-history', session.user.id]}
        labelledBy="activity-title"
        load={(before, signal) =>
          callApi(getMyHistory, { query: before === undefined ? {} : { before } }, { signal })
        }
      />
    </section>
  );
}

export function WitnessSection() {
  const { t, i18n } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const language = i18n.resolvedLanguage ?? 'en';
  const status = useQuery({
    queryKey: ['audit-witnesses', session.user.id],
    queryFn: () => account.run((api) => api.latestWitnessedHead()),
  });

  let body;
  if (status.isPending) {
    body = <Busy label={t('common.loading')} />;
  } else if (status.isError) {
    body = <ErrorAlert error={status.error} />;
  } else if (status.data.state === 'none') {
    body = <p>{t('history.witnessNone')}</p>;
  } else if (status.data.state === 'unverified') {
    body = (
      <Alert tone="security" title={t('history.witnessUnverified')}>
        <p>{t(`history.problem.${status.data.reason}`)}</p>
        <p>{t('history.problemHelp')}</p>
      </Alert>
    );
  } else {
    const { witnesses, treeSize, unverifiedCount } = status.data;
    body = (
      <>
        <ul className="item-list" aria-labelledby="witness-title">
          {witnesses.map((witness) => (
            <li key={witness.userId} className="item">
              <p>
                {t('history.witnessLast', {
                  who: witness.email,
                  time: formatDateTime(witness.witnessedAt, language),
                  count: treeSize,
                })}
                <span className="badge badge-ok">{t('history.witnessVerified')}</span>
              </p>
            </li>
          ))}
        </ul>
        {unverifiedCount > 0 && (
          <p className="card-help">{t('history.witnessOthers', { count: unverifiedCount })}</p>
        )}
      </>
    );
  }

  return (
    <section className="card" aria-labelledby="witness-title">
      <h2 id="witness-title">{t('history.witnessTitle')}</h2>
      <p className="card-help">{t('history.witnessHelp')}</p>
      {body}
    </section>
  );
}
