// The documents of one folder as a virtualised, sortable table (ARIA table roles): stays smooth at 10,000 rows.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../../i18n/format';
import type { DocumentView, FolderView } from '../../worker/space-types';
import {
  defaultSortOrder,
  sortDocuments,
  toggleSortOrder,
  type SortKey,
  type SortOrder,
} from './document-sort';
import { NotSignedMark } from './security-banner';
import { formatBytes } from './transfer-format';

/** Types the browser can show from a Blob under Kluis's CSP (img-src blob:; PDFs in a frame). */
export function isPreviewable(type: string | null): boolean {
  return (
    type === 'application/pdf' ||
    type === 'image/png' ||
    type === 'image/jpeg' ||
    type === 'image/gif' ||
    type === 'image/webp'
  );
}

export interface DocumentTableProps {
  readonly label: string;
  readonly folders: readonly FolderView[];
  readonly documents: readonly DocumentView[];
  /** Names a verified author; null (not in the signed history) is named as unknown. */
  readonly nameOf: (userId: string | null) => string;
  readonly onOpenFolder: (folder: FolderView) => void;
  readonly onDownload: (document: DocumentView) => void;
  readonly onPreview: (document: DocumentView) => void;
  readonly onHistory: (document: DocumentView) => void;
  /** Absent while the space has an open security warning (changes are refused). */
  readonly onDelete?: ((document: DocumentView) => void) | undefined;
  /** Offered when there is another place to move to (a folder, or the top level) and changes are allowed. */
  readonly onMove?: ((document: DocumentView) => void) | undefined;
}

type Row =
  | { readonly kind: 'folder'; readonly folder: FolderView }
  | { readonly kind: 'document'; readonly document: DocumentView };

const columns: readonly SortKey[] = ['name', 'size', 'date', 'uploadedBy'];

export function DocumentTable(props: DocumentTableProps) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const { nameOf } = props;
  const [order, setOrder] = useState<SortOrder>(defaultSortOrder);
  const collator = useMemo(
    () => new Intl.Collator(language, { numeric: true, sensitivity: 'base' }),
    [language],
  );
  const rows = useMemo<Row[]>(() => {
    const folders = [...props.folders].sort((a, b) =>
      collator.compare(a.name ?? '\uffff', b.name ?? '\uffff'),
    );
    return [
      ...folders.map((folder): Row => ({ kind: 'folder', folder })),
      ...sortDocuments(props.documents, order, collator, nameOf).map((document): Row => ({
        kind: 'document',
        document,
      })),
    ];
  }, [props.folders, props.documents, order, collator, nameOf]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 64,
    overscan: 12,
    getItemKey: (index) => {
      const row = rows[index];
      if (!row) return index;
      return row.kind === 'folder' ? `f-${row.folder.id}` : `d-${row.document.id}`;
    },
  });

  const heading: Record<SortKey, string> = {
    name: t('documents.columns.name'),
    size: t('documents.columns.size'),
    date: t('documents.columns.date'),
    uploadedBy: t('documents.columns.uploadedBy'),
  };

  return (
    <div
      className="doc-table"
      role="table"
      aria-label={props.label}
      aria-rowcount={rows.length + 1}
    >
      <div role="rowgroup">
        <div role="row" aria-rowindex={1} className="doc-row doc-head">
          {columns.map((key) => (
            <div
              key={key}
              role="columnheader"
              className={`doc-cell doc-cell-${key}`}
              aria-sort={order.key === key ? order.direction : undefined}
            >
              <button
                type="button"
                className="sort-button"
                onClick={() => setOrder((current) => toggleSortOrder(current, key))}
              >
                {heading[key]}
                <span className="sort-marker" aria-hidden="true">
                  {order.key === key ? (order.direction === 'ascending' ? '▲' : '▼') : ''}
                </span>
              </button>
            </div>
          ))}
          <div role="columnheader" className="doc-cell doc-cell-actions">
            {t('documents.columns.actions')}
          </div>
        </div>
      </div>
      <div role="rowgroup" className="doc-scroll" ref={scrollRef}>
        <div className="doc-sizer" style={{ height: `${virtualizer.getTotalSize()}px` }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            return (
              <div
                key={item.key}
                role="row"
                aria-rowindex={item.index + 2}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className={`doc-row${row.kind === 'document' && row.document.deletedAt ? ' doc-row-deleted' : ''}`}
                style={{ transform: `translateY(${item.start}px)` }}
              >
                {row.kind === 'folder' ? (
                  <FolderCells folder={row.folder} onOpen={props.onOpenFolder} />
                ) : (
                  <DocumentCells {...props} document={row.document} language={language} />
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function FolderCells({
  folder,
  onOpen,
}: {
  folder: FolderView;
  onOpen: (folder: FolderView) => void;
}) {
  const { t } = useTranslation();
  return (
    <>
      <div role="cell" className="doc-cell doc-cell-name">
        <span className="doc-icon doc-icon-folder" aria-hidden="true" />
        {folder.name === null ? (
          <span className="cannot-decrypt">{t('documents.cannotDecrypt')}</span>
        ) : (
          <button type="button" className="link-button" onClick={() => onOpen(folder)}>
            <span className="visually-hidden">{t('documents.folder')}: </span>
            {folder.name}
          </button>
        )}
      </div>
      <div role="cell" className="doc-cell doc-cell-size" />
      <div role="cell" className="doc-cell doc-cell-date" />
      <div role="cell" className="doc-cell doc-cell-uploadedBy" />
      <div role="cell" className="doc-cell doc-cell-actions" />
    </>
  );
}

function DocumentCells({
  document,
  language,
  nameOf,
  onDownload,
  onPreview,
  onHistory,
  onDelete,
  onMove,
}: DocumentTableProps & { document: DocumentView; language: string }) {
  const { t } = useTranslation();
  const version = document.current;
  const name = version.name;
  const deleted = document.deletedAt !== null;
  return (
    <>
      <div role="cell" className="doc-cell doc-cell-name">
        <span className="doc-icon" aria-hidden="true" />
        <span className="doc-name">
          {name === null ? (
            <span className="cannot-decrypt">{t('documents.cannotDecrypt')}</span>
          ) : (
            <span className={deleted ? 'doc-name-deleted' : undefined}>{name}</span>
          )}
          {document.versionCount > 1 && !deleted && (
            <span className="badge">
              {t('documents.versions', { count: document.versionCount })}
            </span>
          )}
          {document.unverified && <NotSignedMark inHistory={document.createdBy !== null} />}
          {deleted && (
            <span className="doc-tombstone">
              {t('documents.deletedBy', {
                who: nameOf(document.deletedBy),
                time: formatDateTime(document.deletedAt ?? '', language),
              })}
            </span>
          )}
        </span>
      </div>
      <div role="cell" className="doc-cell doc-cell-size">
        {version.size === null ? '' : formatBytes(version.size, language)}
      </div>
      <div role="cell" className="doc-cell doc-cell-date">
        <time dateTime={version.createdAt}>{formatDateTime(version.createdAt, language)}</time>
      </div>
      <div role="cell" className="doc-cell doc-cell-uploadedBy">
        {nameOf(version.uploadedBy)}
      </div>
      <div role="cell" className="doc-cell doc-cell-actions">
        {!deleted && (
          <div className="doc-actions">
            {name !== null && (
              <button
                type="button"
                className="button button-small"
                aria-label={t('documents.downloadNamed', { name })}
                onClick={() => onDownload(document)}
              >
                {t('documents.download')}
              </button>
            )}
            {name !== null && isPreviewable(version.type) && (
              <button
                type="button"
                className="button button-small button-secondary"
                aria-label={t('documents.previewNamed', { name })}
                onClick={() => onPreview(document)}
              >
                {t('documents.preview')}
              </button>
            )}
            <button
              type="button"
              className="button button-small button-secondary"
              aria-label={t('documents.historyNamed', {
                name: name ?? t('documents.cannotDecrypt'),
              })}
              onClick={() => onHistory(document)}
            >
              {t('documents.history')}
            </button>
            {onMove && (
              <button
                type="button"
                className="button button-small button-secondary"
                aria-label={t('documents.moveNamed', {
                  name: name ?? t('documents.cannotDecrypt'),
                })}
                onClick={() => onMove(document)}
              >
                {t('documents.move')}
              </button>
            )}
            {onDelete && (
              <button
                type="button"
                className="button button-small button-secondary"
                aria-label={t('documents.deleteNamed', {
                  name: name ?? t('documents.cannotDecrypt'),
                })}
                onClick={() => onDelete(document)}
              >
                {t('documents.delete')}
              </button>
            )}
          </div>
        )}
      </div>
    </>
  );
}
