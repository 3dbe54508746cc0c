// Attachments of a message: documents of the space chosen by checkbox (filterable), or files uploaded on the spot.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { FilePicker } from '../../components/file-picker';
import type { DocumentView, SpaceView } from '../../worker/space-types';
import { useDocuments } from './space-queries';
import { useTransferActions } from './transfer-bridge';

/** At most this many unchosen documents are offered at once; the filter finds the others. */
const SHOWN = 30;

export function AttachmentPicker({
  space,
  idPrefix,
  chosen,
  onChange,
}: {
  space: SpaceView;
  idPrefix: string;
  chosen: readonly string[];
  onChange: (ids: readonly string[]) => void;
}) {
  const { t } = useTranslation();
  const listing = useDocuments(space.id);
  const transfers = useTransferActions();
  const [filter, setFilter] = useState('');
  const [uploading, setUploading] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const live = (listing.data?.documents ?? []).filter(
    (document): document is DocumentView & { current: { name: string } } =>
      document.deletedAt === null && document.current.name !== null,
  );
  const needle = filter.trim().toLocaleLowerCase();
  const matches = live.filter(
    (document) =>
      chosen.includes(document.id) ||
      needle === '' ||
      document.current.name.toLocaleLowerCase().includes(needle),
  );
  const shown = [
    ...matches.filter((document) => chosen.includes(document.id)),
    ...matches.filter((document) => !chosen.includes(document.id)).slice(0, SHOWN),
  ];
  const toggle = (id: string, on: boolean) =>
    onChange(on ? [...chosen, id] : chosen.filter((candidate) => candidate !== id));

  const uploadNow = async (files: File[]) => {
    setError(null);
    setUploading((count) => count + files.length);
    try {
      const documents = await transfers.uploadAndWait(files, {
        kind: 'new-document',
        spaceId: space.id,
        folderId: null,
        requestItemId: null,
      });
      onChange([...chosen, ...documents.map((document) => document.id)]);
    } catch {
      // The transfers panel says what went wrong with each file.
      setError(t('messages.attachUploadFailed'));
    } finally {
      setUploading((count) => count - files.length);
    }
  };

  return (
    <fieldset className="fieldset attachment-picker">
      <legend className="field-label">{t('messages.attachments')}</legend>
      {live.length > SHOWN && (
        <div className="field">
          <label className="field-label" htmlFor={`${idPrefix}-filter`}>
            {t('messages.findDocument')}
          </label>
          <input
            id={`${idPrefix}-filter`}
            className="input"
            type="search"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
          />
        </div>
      )}
      {live.length === 0 ? (
        <p className="card-help">{t('messages.noDocuments')}</p>
      ) : (
        <div className="checkbox-list">
          {shown.map((document) => (
            <div className="checkbox-field" key={document.id}>
              <input
                id={`${idPrefix}-${document.id}`}
                type="checkbox"
                checked={chosen.includes(document.id)}
                onChange={(event) => toggle(document.id, event.target.checked)}
              />
              <label htmlFor={`${idPrefix}-${document.id}`}>{document.current.name}</label>
            </div>
          ))}
          {matches.length > shown.length && (
            <p className="card-help">
              {t('messages.moreDocuments', { count: matches.length - shown.length })}
            </p>
          )}
        </div>
      )}
      <FilePicker
        multiple
        className="button button-small button-secondary"
        onFiles={(files) => void uploadNow(files)}
      >
        {t('messages.uploadAndAttach')}
      </FilePicker>
      {uploading > 0 && (
        <p className="card-help" role="status">
          {t('messages.attachUploading', { count: uploading })}
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
