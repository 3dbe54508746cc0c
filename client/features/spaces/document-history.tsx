// The audit events of one document (issue 22): uploaded, versions, downloads, moves, deletion, for those who may see it.
import { useTranslation } from 'react-i18next';
import { getDocumentHistory } from '../../../shared/api';
import { callApi } from '../../api';
import { HistoryEvents } from './history-events';

export function DocumentEvents({ documentId }: { documentId: string }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="document-events-title">
      <h3 id="document-events-title">{t('history.documentEventsTitle')}</h3>
      <p className="card-help">{t('history.documentEventsHelp')}</p>
      <HistoryEvents
        queryKey={['document-events', documentId]}
        labelledBy="document-events-title"
        load={(before, signal) =>
          callApi(getDocumentHistory, { params: { id: documentId }, query: before === undefined ? {} : { before } }, { signal })
        }
      />
    </section>
  );
}
