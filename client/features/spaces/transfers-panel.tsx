// The transfers queue: every upload and download with progress, speed, time left, errors and cancel.
import type { TFunction } from 'i18next';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { codeText } from '../../components/error-alert';
import { useRefreshSpace } from './space-api';
import type { TransferRow } from './transfer-bridge';
import { useTransferActions } from './transfer-bridge';
import {
  formatBytes,
  formatRate,
  percentDone,
  secondsLeft,
  splitDuration,
} from './transfer-format';

/** Every finished upload makes its space's lists stale (documents, counts, requests), once. */
function useRefreshOnUpload(rows: readonly TransferRow[]): void {
  const refresh = useRefreshSpace();
  const seen = useRef(new Set<string>());
  useEffect(() => {
    const spaces = new Set<string>();
    for (const row of rows) {
      if (row.direction !== 'upload' || row.state !== 'done' || seen.current.has(row.id)) continue;
      seen.current.add(row.id);
      if (row.target) spaces.add(row.target.spaceId);
    }
    for (const spaceId of spaces) void refresh(spaceId);
  }, [rows, refresh]);
}

export function TransfersPanel() {
  const { t } = useTranslation();
  const transfers = useTransferActions();
  const [collapsed, setCollapsed] = useState(false);
  const rows = transfers.rows;
  useRefreshOnUpload(rows);
  if (rows.length === 0) return null;
  const active = rows.filter((row) => row.state === 'queued' || row.state === 'running');
  const failed = rows.filter((row) => row.state === 'failed').length;

  return (
    <section className="transfers" aria-labelledby="transfers-title">
      <div className="transfers-heading">
        <h2 id="transfers-title" className="transfers-title">
          {t('transfers.title')}
        </h2>
        <p className="transfers-summary" role="status">
          {active.length > 0
            ? t('transfers.active', { count: active.length })
            : failed > 0
              ? t('transfers.failedCount', { count: failed })
              : t('transfers.allDone')}
        </p>
        <button
          type="button"
          className="link-button"
          aria-expanded={!collapsed}
          aria-controls="transfers-list"
          onClick={() => setCollapsed((value) => !value)}
        >
          {collapsed ? t('transfers.show') : t('transfers.hide')}
        </button>
      </div>
      <div id="transfers-list" hidden={collapsed}>
        <ul className="transfer-list">
          {rows.map((row) => (
            <TransferItem key={row.id} row={row} onCancel={() => transfers.cancel(row.id)} />
          ))}
        </ul>
        <div className="form-actions">
          {active.length > 1 && (
            <button
              type="button"
              className="button button-small button-secondary"
              onClick={() => transfers.cancelAll()}
            >
              {t('transfers.cancelAll')}
            </button>
          )}
          {active.length < rows.length && (
            <button
              type="button"
              className="button button-small button-secondary"
              onClick={() => transfers.clearFinished()}
            >
              {t('transfers.clear')}
            </button>
          )}
        </div>
      </div>
    </section>
  );
}

function TransferItem({ row, onCancel }: { row: TransferRow; onCancel: () => void }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const percent = percentDone(row.doneBytes, row.totalBytes);
  const nameId = `transfer-${row.id}-name`;
  const running = row.state === 'running';
  const left =
    running && row.bytesPerSecond !== null
      ? secondsLeft(row.doneBytes, row.totalBytes, row.bytesPerSecond)
      : null;

  let status: string;
  switch (row.state) {
    case 'queued':
      status = t('transfers.queued');
      break;
    case 'running':
      status = [
        `${percent} %`,
        row.bytesPerSecond !== null ? formatRate(row.bytesPerSecond, language) : null,
        left !== null ? timeLeft(t, left) : null,
      ]
        .filter(Boolean)
        .join(' · ');
      break;
    case 'done':
      status = row.direction === 'upload' ? t('transfers.uploaded') : t('transfers.downloaded');
      break;
    case 'cancelled':
      status = t('errors.cancelled');
      break;
    case 'failed':
      status = codeText(t, row.errorCode ?? 'unexpected');
      break;
  }

  return (
    <li className={`transfer transfer-${row.state}`}>
      <div className="transfer-line">
        <span className="transfer-name" id={nameId}>
          <span className="visually-hidden">
            {row.direction === 'upload' ? t('transfers.upload') : t('transfers.download')}:{' '}
          </span>
          {row.name}
        </span>
        <span className="transfer-size">{formatBytes(row.totalBytes, language)}</span>
        {(row.state === 'queued' || running) && (
          <button
            type="button"
            className="button button-small button-secondary"
            aria-label={t('transfers.cancelNamed', { name: row.name })}
            onClick={onCancel}
          >
            {t('common.cancel')}
          </button>
        )}
      </div>
      {(row.state === 'queued' || running) && (
        <div
          className="transfer-bar"
          role="progressbar"
          aria-labelledby={nameId}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          aria-valuetext={`${percent} %`}
        >
          <div className="transfer-bar-fill" style={{ width: `${percent}%` }} />
        </div>
      )}
      <p className={row.state === 'failed' ? 'transfer-status field-error' : 'transfer-status'}>
        {status}
      </p>
    </li>
  );
}

function timeLeft(t: TFunction, seconds: number): string {
  const { hours, minutes, seconds: rest } = splitDuration(seconds);
  if (hours > 0) return t('transfers.leftHours', { hours, minutes });
  if (minutes > 0) return t('transfers.leftMinutes', { minutes, seconds: rest });
  return t('transfers.leftSeconds', { seconds: rest });
}
