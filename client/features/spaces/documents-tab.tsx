// The Documents tab: folder breadcrumb and folder actions, drop zone and "Upload files", the list and its dialogs.
import { useMutation } from '@tanstack/react-query';
import { useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'wouter';
import { ErrorAlert } from '../../components/error-alert';
import { FilePicker } from '../../components/file-picker';
import { QueryStatus } from '../../components/query-status';
import type { DocumentView, FolderView, SpaceView } from '../../worker/space-types';
import {
  ConfirmDialog,
  FolderNameDialog,
  HistoryDialog,
  MoveDialog,
  PreviewDialog,
} from './document-dialogs';
import { DocumentTable } from './document-table';
import { folderPath } from './folder-path';
import { useRefreshSpace, useSpaceRun } from './space-api';
import { SecurityBanner } from './security-banner';
import { useDocuments, useNameOf } from './space-queries';
import { useTransferActions } from './transfer-bridge';

type Open =
  | { readonly kind: 'history'; readonly document: DocumentView }
  | { readonly kind: 'preview'; readonly document: DocumentView }
  | { readonly kind: 'delete'; readonly document: DocumentView }
  | { readonly kind: 'move'; readonly document: DocumentView }
  | { readonly kind: 'new-folder' }
  | { readonly kind: 'rename-folder'; readonly folder: FolderView }
  | { readonly kind: 'delete-folder'; readonly folder: FolderView };

export function DocumentsTab({ space }: { space: SpaceView }) {
  const { t } = useTranslation();
  const listing = useDocuments(space.id);
  const nameOf = useNameOf();
  const transfers = useTransferActions();
  const run = useSpaceRun();
  const refresh = useRefreshSpace();
  const [params, setParams] = useSearchParams();
  const [open, setOpen] = useState<Open | null>(null);
  const [dragging, setDragging] = useState(false);

  const remove = useMutation({
    mutationFn: (document: DocumentView) => run((api) => api.deleteDocument(document.id)),
    onSuccess: () => refresh(space.id),
  });

  // WARNING: while the space has an open security warning nothing is offered that would change it
  // (the worker refuses such changes too, with `space_untrusted`).
  const writable = listing.data?.security.writable ?? false;

  const requestedFolder = params.get('folder');
  const path = listing.data ? folderPath(listing.data.folders, requestedFolder) : [];
  const folder = path && path.length > 0 ? (path[path.length - 1] ?? null) : null;
  const folderId = folder?.id ?? null;
  const openFolder = (id: string | null) => setParams(id === null ? {} : { folder: id });

  const upload = (files: readonly File[]) => {
    if (files.length === 0 || !writable) return;
    transfers.enqueueUploads(files, {
      kind: 'new-document',
      spaceId: space.id,
      folderId,
      requestItemId: null,
    });
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    upload([...event.dataTransfer.files]);
  };

  let list;
  if (!listing.isSuccess) {
    list = <QueryStatus query={listing} loading={t('documents.loading')} />;
  } else {
    const folders = listing.data.folders.filter(
      (candidate) => candidate.parentId === folderId && candidate.deletedAt === null,
    );
    const documents = listing.data.documents.filter((document) => document.folderId === folderId);
    // Somewhere else to go: the top level from inside a folder, or any live folder.
    const canMove =
      writable &&
      (folderId !== null || listing.data.folders.some((candidate) => candidate.deletedAt === null));
    list =
      folders.length === 0 && documents.length === 0 ? (
        <p className="empty-state">{folder ? t('documents.emptyFolder') : t('documents.empty')}</p>
      ) : (
        <DocumentTable
          label={folder?.name ?? t('documents.allDocuments')}
          folders={folders}
          documents={documents}
          nameOf={nameOf}
          onOpenFolder={(target) => openFolder(target.id)}
          onDownload={(document) => transfers.startDownload(document.current)}
          onPreview={(document) => setOpen({ kind: 'preview', document })}
          onHistory={(document) => setOpen({ kind: 'history', document })}
          onDelete={
            writable
              ? (document) => {
                  remove.reset();
                  setOpen({ kind: 'delete', document });
                }
              : undefined
          }
          onMove={canMove ? (document) => setOpen({ kind: 'move', document }) : undefined}
        />
      );
  }

  const close = () => setOpen(null);

  return (
    <div>
      <h2 className="visually-hidden">{t('spaces.tabs.documents')}</h2>
      {listing.data && <SecurityBanner security={listing.data.security} />}
      <div className="folder-bar">
        <nav aria-label={t('documents.breadcrumb')}>
          <ol className="breadcrumb">
            <li>
              {folder ? (
                <button type="button" className="link-button" onClick={() => openFolder(null)}>
                  {t('documents.allDocuments')}
                </button>
              ) : (
                <span aria-current="location">{t('documents.allDocuments')}</span>
              )}
            </li>
            {(path ?? []).map((step) => (
              <li key={step.id}>
                {step.id === folderId ? (
                  <span aria-current="location">{step.name ?? t('documents.cannotDecrypt')}</span>
                ) : (
                  <button type="button" className="link-button" onClick={() => openFolder(step.id)}>
                    {step.name ?? t('documents.cannotDecrypt')}
                  </button>
                )}
              </li>
            ))}
          </ol>
        </nav>
        {writable && (
          <div className="folder-actions">
            <button
              type="button"
              className="button button-small button-secondary"
              onClick={() => setOpen({ kind: 'new-folder' })}
            >
              {t('documents.newFolder')}
            </button>
            {folder && (
              <>
                <button
                  type="button"
                  className="button button-small button-secondary"
                  onClick={() => setOpen({ kind: 'rename-folder', folder })}
                >
                  {t('documents.renameFolder')}
                </button>
                <button
                  type="button"
                  className="button button-small button-secondary"
                  onClick={() => setOpen({ kind: 'delete-folder', folder })}
                >
                  {t('documents.deleteFolder')}
                </button>
              </>
            )}
          </div>
        )}
      </div>
      {remove.isError && open === null && <ErrorAlert error={remove.error} />}
      {writable && (
        <div
          className={`drop-zone${dragging ? ' drop-zone-active' : ''}`}
          onDragEnter={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragOver={(event) => {
            event.preventDefault();
            event.dataTransfer.dropEffect = 'copy';
          }}
          onDragLeave={(event) => {
            if (!event.currentTarget.contains(event.relatedTarget as Node | null))
              setDragging(false);
          }}
          onDrop={onDrop}
        >
          <p className="drop-zone-text">
            {folder
              ? t('documents.dropHereFolder', { folder: folder.name ?? '' })
              : t('documents.dropHere')}
          </p>
          <FilePicker multiple onFiles={upload}>
            {t('documents.uploadFiles')}
          </FilePicker>
          <p className="card-help">{t('documents.encryptedNote')}</p>
        </div>
      )}
      {list}
      {open?.kind === 'history' && (
        <HistoryDialog
          space={space}
          document={open.document}
          nameOf={nameOf}
          transfers={transfers}
          onClose={close}
        />
      )}
      {open?.kind === 'preview' && (
        <PreviewDialog document={open.document} transfers={transfers} onClose={close} />
      )}
      {open?.kind === 'delete' && (
        <ConfirmDialog
          id="delete-document"
          title={t('documents.deleteTitle', {
            name: open.document.current.name ?? t('documents.cannotDecrypt'),
          })}
          body={t('documents.deleteBody')}
          confirmLabel={t('documents.delete')}
          onConfirm={() => remove.mutateAsync(open.document)}
          onClose={close}
        />
      )}
      {open?.kind === 'move' && listing.data && (
        <MoveDialog
          document={open.document}
          folders={listing.data.folders}
          onMove={(target) =>
            run((api) => api.moveDocument(open.document.id, target)).then(() => refresh(space.id))
          }
          onClose={close}
        />
      )}
      {open?.kind === 'new-folder' && (
        <FolderNameDialog
          title={t('documents.newFolder')}
          initial=""
          submitLabel={t('documents.createFolder')}
          onSubmit={(name) =>
            run((api) => api.createFolder(space.id, folderId, name)).then(() => refresh(space.id))
          }
          onClose={close}
        />
      )}
      {open?.kind === 'rename-folder' && (
        <FolderNameDialog
          title={t('documents.renameFolder')}
          initial={open.folder.name ?? ''}
          submitLabel={t('documents.rename')}
          onSubmit={(name) =>
            run((api) => api.renameFolder(space.id, open.folder.id, name)).then(() =>
              refresh(space.id),
            )
          }
          onClose={close}
        />
      )}
      {open?.kind === 'delete-folder' && (
        <ConfirmDialog
          id="delete-folder"
          title={t('documents.deleteFolderTitle', { name: open.folder.name ?? '' })}
          body={t('documents.deleteFolderBody')}
          confirmLabel={t('documents.deleteFolder')}
          onConfirm={() =>
            run((api) => api.deleteFolder(space.id, open.folder.id)).then(() => {
              openFolder(open.folder.parentId);
              return refresh(space.id);
            })
          }
          onClose={close}
        />
      )}
    </div>
  );
}
