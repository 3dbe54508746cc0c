// Dialogs of the documents tab: version history (with "Upload new version"), delete, preview, folder name.
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Busy } from '../../components/busy';
import { Dialog } from '../../components/dialog';
import { ErrorAlert, errorText } from '../../components/error-alert';
import { Field } from '../../components/field';
import { FilePicker } from '../../components/file-picker';
import { formatDateTime } from '../../i18n/format';
import type { DocumentView, FolderView, SpaceView } from '../../worker/space-types';
import { DocumentEvents } from './document-history';
import { folderPath } from './folder-path';
import { NotSignedMark, SecurityBanner } from './security-banner';
import { useDocumentHistory } from './space-queries';
import type { TransferActions } from './transfer-bridge';
import { formatBytes } from './transfer-format';

export function HistoryDialog({
  space,
  document,
  nameOf,
  transfers,
  onClose,
}: {
  space: SpaceView;
  document: DocumentView;
  nameOf: (userId: string | null) => string;
  transfers: TransferActions;
  onClose: () => void;
}) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const history = useDocumentHistory(space.id, document.id);
  const name = document.current.name ?? t('documents.cannotDecrypt');
  const deleted = document.deletedAt !== null;
  return (
    <Dialog
      id="document-history"
      open
      title={t('documents.historyTitle', { name })}
      onClose={onClose}
    >
      <p className="card-help">{t('documents.historyHelp')}</p>
      {history.isPending ? (
        <Busy label={t('common.loading')} />
      ) : history.isError ? (
        <ErrorAlert error={history.error} />
      ) : (
        <>
          <SecurityBanner security={history.data.security} />
          <ol className="item-list version-list">
            {history.data.versions.map((version) => (
              <li key={version.id} className="item">
                <div>
                  <p className="item-title">
                    {t('documents.versionNumber', { number: version.number })}
                    {': '}
                    {version.name ?? (
                      <span className="cannot-decrypt">{t('documents.cannotDecrypt')}</span>
                    )}
                  </p>
                  <p className="item-meta">
                    {t('documents.versionMeta', {
                      time: formatDateTime(version.createdAt, language),
                      who: nameOf(version.uploadedBy),
                    })}
                    {version.size !== null && ` · ${formatBytes(version.size, language)}`}
                    {version.unverified && (
                      <>
                        {' '}
                        <NotSignedMark inHistory={version.uploadedBy !== null} />
                      </>
                    )}
                  </p>
                </div>
                {!deleted && version.name !== null && (
                  <button
                    type="button"
                    className="button button-small"
                    aria-label={t('documents.downloadVersion', { number: version.number })}
                    onClick={() => transfers.startDownload(version)}
                  >
                    {t('documents.download')}
                  </button>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
      <DocumentEvents documentId={document.id} />
      <div className="form-actions">
        {/* A new version only on top of a verified history without an open warning. */}
        {!deleted && history.data?.security.writable && !document.unverified && (
          <FilePicker
            onFiles={(files) =>
              transfers.enqueueUploads(files.slice(0, 1), {
                kind: 'new-version',
                spaceId: space.id,
                documentId: document.id,
              })
            }
          >
            {t('documents.uploadVersion')}
          </FilePicker>
        )}
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
    </Dialog>
  );
}

export function PreviewDialog({
  document,
  transfers,
  onClose,
}: {
  document: DocumentView;
  transfers: TransferActions;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const version = document.current;
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let objectUrl: string | null = null;
    let cancelled = false;
    transfers.previewBlob(version).then(
      (blob) => {
        if (cancelled) return;
        // The type comes from the decrypted metadata; the Blob URL is this page's alone.
        objectUrl = URL.createObjectURL(
          blob.type ? blob : new Blob([blob], { type: version.type ?? '' }),
        );
        setUrl(objectUrl);
      },
      (failure: unknown) => {
        if (!cancelled) setError(failure);
      },
    );
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
    // One preview per version; the transfer actions object is recreated on each render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [version.id]);

  const name = version.name ?? '';
  return (
    <Dialog
      id="document-preview"
      open
      wide
      title={t('documents.previewTitle', { name })}
      onClose={onClose}
    >
      {error !== null ? (
        <p className="alert alert-error" role="alert">
          {errorText(t, error)}
        </p>
      ) : url === null ? (
        <Busy label={t('documents.decrypting')} />
      ) : version.type === 'application/pdf' ? (
        <iframe className="preview-frame" src={url} title={name} />
      ) : (
        <img className="preview-image" src={url} alt={name} />
      )}
      <div className="form-actions">
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
    </Dialog>
  );
}

/** The action of a dialog: busy while it runs, closes the dialog when done, keeps the error to show otherwise. */
function useDialogAction(action: () => Promise<unknown>, onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onDone();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return { busy, error, run };
}

export function FolderNameDialog({
  title,
  initial,
  submitLabel,
  onSubmit,
  onClose,
}: {
  title: string;
  initial: string;
  submitLabel: string;
  onSubmit: (name: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState(initial);
  const { busy, error, run } = useDialogAction(() => onSubmit(name.trim()), onClose);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run();
  };
  return (
    <Dialog id="folder-name" open title={title} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {error !== null && <ErrorAlert error={error} />}
        <Field
          id="folder-name-input"
          label={t('documents.folderName')}
          hint={t('documents.folderNameHint')}
        >
          {(describedBy) => (
            <input
              id="folder-name-input"
              className="input"
              value={name}
              required
              maxLength={200}
              autoFocus
              aria-describedby={describedBy}
              onChange={(event) => setName(event.target.value)}
            />
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy || name.trim() === ''}>
            {submitLabel}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function ConfirmDialog({
  id,
  title,
  body,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  id: string;
  title: string;
  body: string;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { busy, error, run: confirm } = useDialogAction(onConfirm, onClose);
  return (
    <Dialog id={id} open title={title} onClose={onClose}>
      <p>{body}</p>
      {error !== null && <ErrorAlert error={error} />}
      <div className="form-actions">
        <button
          type="button"
          className="button button-danger"
          disabled={busy}
          onClick={() => void confirm()}
        >
          {confirmLabel}
        </button>
        <button type="button" className="button button-secondary" onClick={onClose}>
          {t('common.cancel')}
        </button>
      </div>
    </Dialog>
  );
}

/** Where a document can go: the top level or any reachable live folder, each shown with its path. */
function moveTargets(
  folders: readonly FolderView[],
  topLevel: string,
  unreadable: string,
): { id: string | null; label: string }[] {
  const targets = folders.flatMap((folder): { id: string | null; label: string }[] => {
    const path = folderPath(folders, folder.id);
    return path === null
      ? []
      : [{ id: folder.id, label: path.map((step) => step.name ?? unreadable).join(' / ') }];
  });
  targets.sort((a, b) => a.label.localeCompare(b.label));
  return [{ id: null, label: topLevel }, ...targets];
}

/** Moves a document to another folder or to the top level (its versions and history move with it). */
export function MoveDialog({
  document,
  folders,
  onMove,
  onClose,
}: {
  document: DocumentView;
  folders: readonly FolderView[];
  onMove: (folderId: string | null) => Promise<unknown>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const targets = moveTargets(
    folders,
    t('documents.moveTopLevel'),
    t('documents.cannotDecrypt'),
  ).filter((target) => target.id !== document.folderId);
  const [choice, setChoice] = useState<string>(targets[0]?.id ?? '');
  const { busy, error, run } = useDialogAction(
    () => onMove(choice === '' ? null : choice),
    onClose,
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run();
  };
  return (
    <Dialog
      id="move-document"
      open
      title={t('documents.moveTitle', {
        name: document.current.name ?? t('documents.cannotDecrypt'),
      })}
      onClose={onClose}
    >
      <form className="form" onSubmit={submit}>
        {error !== null && <ErrorAlert error={error} />}
        <Field id="move-target" label={t('documents.moveTo')}>
          {(describedBy) => (
            <select
              id="move-target"
              className="input"
              value={choice}
              autoFocus
              aria-describedby={describedBy}
              onChange={(event) => setChoice(event.target.value)}
            >
              {targets.map((target) => (
                <option key={target.id ?? ''} value={target.id ?? ''}>
                  {target.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy || targets.length === 0}>
            {t('documents.moveSubmit')}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
