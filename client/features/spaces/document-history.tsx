// The audit events of one document (issue 22): uploaded, versions, downloads, moves, deletion, for those
// who may see it. Opened on request, so the version list stays first and no proof is fetched unasked.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { getDocumentHistory } from '../../../shared/api';
import { callApi } from '../../api';
import { HistoryEvents } from './history-events';

export function DocumentEvents({ documentId }: { documentId: string }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <section aria-labelledby="document-events-title">
      <h3 id="document-events-title">{t('history.documentEventsTitle')}</h3>
      <p className="card-help">{t('history.documentEventsHelp')}</p>
      <button
        type="button"
        className="button button-secondary button-small"
        aria-expanded={open}
        aria-controls="document-events"
        onClick={() => setOpen((shown) => !shown)}
      >
        {open ? t('history.hideDocumentEvents') : t('history.showDocumentEvents')}
      </button>
      <div id="document-events">
        {open && (
          <HistoryEvents
            queryKey={['document-events', documentId]}
            labelledBy="document-events-title"
            load={(before, signal) =>
              callApi(
                getDocumentHistory,
                { params: { id: documentId }, query: before === undefined ? {} : { before } },
                { signal },
              )
            }
          />
        )}
      </div>
    </section>
  );
}
