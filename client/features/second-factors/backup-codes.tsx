// Backup codes: how many are left, making a new set (the old one stops working), showing it once, downloading it.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { createBackupCodes } from '../../../shared/api';
import { useSignedIn } from '../../account';
import { callApi, isApiError } from '../../api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { Dialog } from '../../components/dialog';
import { ErrorAlert } from '../../components/error-alert';
import { useReauthenticated } from '../../components/reauth-dialog';
import { formatDateTime } from '../../i18n/format';
import { backupCodesFile, backupCodesFileName, formatBackupCode } from './codes';

export interface BackupCodesProps {
  /** Backup codes stand in for a second factor: without one there is nothing to stand in for. */
  readonly hasFactor: boolean;
  readonly left: number;
  readonly createdAt: string | null;
  /** A new set was made (reload the counts). */
  readonly onCreated: () => void;
  /** Heading level: h2 on the security page, h3 inside the set-up page. */
  readonly level?: 2 | 3;
}

/**
 * WARNING: the codes are on screen once, kept only in this component's memory until "I saved them";
 * the download is made from a Blob in memory. The server keeps only their HMACs.
 */
export function BackupCodes({
  hasFactor,
  left,
  createdAt,
  onCreated,
  level = 2,
}: BackupCodesProps) {
  const { t, i18n } = useTranslation();
  const { session } = useSignedIn();
  const language = i18n.resolvedLanguage ?? 'en';
  const { guard, dialog } = useReauthenticated();
  const [confirming, setConfirming] = useState(false);
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [shown, setShown] = useState<{ codes: readonly string[]; createdAt: string } | null>(null);
  const shownHeading = useRef<HTMLHeadingElement>(null);
  const createButton = useRef<HTMLButtonElement>(null);
  const [focus, setFocus] = useState<{ target: 'shown' | 'create'; seq: number } | null>(null);
  const Heading = level === 2 ? 'h2' : 'h3';
  const SubHeading = level === 2 ? 'h3' : 'h4';

  useEffect(() => {
    if (!focus) return;
    ({ shown: shownHeading, create: createButton })[focus.target].current?.focus();
  }, [focus]);
  const moveFocus = (target: 'shown' | 'create') =>
    setFocus((previous) => ({ target, seq: (previous?.seq ?? 0) + 1 }));

  const create = async () => {
    setConfirming(false);
    setCreating(true);
    setError(null);
    try {
      const made = await guard(() => callApi(createBackupCodes, { body: {} }));
      setShown({ codes: made.codes, createdAt: made.createdAt });
      moveFocus('shown');
      onCreated();
    } catch (failure) {
      if (!(isApiError(failure) && failure.code === 'reauthentication_required')) setError(failure);
    } finally {
      setCreating(false);
    }
  };

  const download = () => {
    if (!shown) return;
    const text = backupCodesFile({
      codes: shown.codes,
      email: session.user.email,
      organisation: session.organisation.name,
      createdAt: formatDateTime(shown.createdAt, language),
      text: {
        title: t('secondFactors.backup.file.title'),
        account: t('secondFactors.backup.file.account'),
        created: t('secondFactors.backup.file.created'),
        keep: t('secondFactors.backup.file.keep'),
        use: t('secondFactors.backup.file.use'),
      },
    });
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = backupCodesFileName(session.organisation.name);
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  return (
    <section className="card" aria-labelledby="backup-codes-title">
      <Heading id="backup-codes-title">{t('secondFactors.backup.title')}</Heading>
      <p className="card-help">{t('secondFactors.backup.help')}</p>
      {error !== null && <ErrorAlert error={error} />}
      {shown ? (
        <div className="backup-codes-shown">
          <SubHeading ref={shownHeading} tabIndex={-1}>
            {t('secondFactors.backup.showTitle')}
          </SubHeading>
          <Alert tone="warning" live={false}>
            <p>{t('secondFactors.backup.once')}</p>
          </Alert>
          <ol className="backup-code-list" aria-label={t('secondFactors.backup.listLabel')}>
            {shown.codes.map((code) => (
              <li key={code}>
                <code>{formatBackupCode(code)}</code>
              </li>
            ))}
          </ol>
          <div className="form-actions">
            <button type="button" className="button button-secondary" onClick={download}>
              {t('secondFactors.backup.download')}
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                setShown(null);
                moveFocus('create');
              }}
            >
              {t('secondFactors.backup.saved')}
            </button>
          </div>
        </div>
      ) : !hasFactor ? (
        <p>{t('secondFactors.backup.needFactor')}</p>
      ) : (
        <>
          <p>
            {left > 0 && createdAt
              ? t('secondFactors.backup.left', {
                  count: left,
                  time: formatDateTime(createdAt, language),
                })
              : t('secondFactors.backup.none')}
          </p>
          <div className="form-actions">
            <button
              ref={createButton}
              type="button"
              className="button button-secondary"
              disabled={creating}
              onClick={() => (left > 0 ? setConfirming(true) : void create())}
            >
              {createdAt ? t('secondFactors.backup.createNew') : t('secondFactors.backup.create')}
            </button>
          </div>
          {creating && <Busy label={t('secondFactors.backup.creating')} />}
        </>
      )}
      <Dialog
        id="backup-replace"
        open={confirming}
        title={t('secondFactors.backup.replaceTitle')}
        onClose={() => setConfirming(false)}
      >
        <p>{t('secondFactors.backup.replaceBody', { count: left })}</p>
        <div className="form-actions">
          <button type="button" className="button button-danger" onClick={() => void create()}>
            {t('secondFactors.backup.replaceConfirm')}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => setConfirming(false)}
          >
            {t('common.cancel')}
          </button>
        </div>
      </Dialog>
      {dialog}
    </section>
  );
}
