// The organisation recovery kit, shown once after setup: the secret in groups, print, download, confirm.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'wouter';
import { confirmRecoveryKit } from '../../../shared/api';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { ErrorAlert } from '../../components/error-alert';
import { Fingerprint, groupFingerprint } from '../../components/fingerprint';
import { formatDateTime } from '../../i18n/format';
import type { SetupOutcome } from '../../worker';

/**
 * WARNING: the recovery secret exists on this page only, in memory, until the Administrator
 * continues. It is never sent to the server (only the escrow key wrapped under its Argon2id
 * derivative is), never stored by the browser, and the text file is made from a Blob in memory.
 */
export interface RecoveryKitProps {
  /** After setup, or (issue 21) after an escrow rotation made a new kit: the secret and the escrow fingerprint it opens. */
  readonly outcome: Pick<SetupOutcome, 'recoverySecret' | 'escrowFingerprint'> & {
    readonly session: { readonly organisation: { readonly name: string } };
  };
  /** Where to go once the Administrator confirmed storing it (default: the portal). */
  readonly onConfirmed?: () => void;
}

export function RecoveryKit({ outcome, onConfirmed }: RecoveryKitProps) {
  const { t, i18n } = useTranslation();
  const [, navigate] = useLocation();
  const [stored, setStored] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [createdAt] = useState(() => new Date().toISOString());
  const organisationName = outcome.session.organisation.name;
  const groups = outcome.recoverySecret.split('-');
  const language = i18n.resolvedLanguage ?? 'en';

  const download = () => {
    const text = [
      t('kit.file.title'),
      '',
      `${t('kit.file.organisation')}: ${organisationName}`,
      `${t('kit.file.created')}: ${formatDateTime(createdAt, language)}`,
      '',
      `${t('kit.secretLabel')}:`,
      `    ${outcome.recoverySecret}`,
      '',
      `${t('kit.fingerprintLabel')}:`,
      `    ${groupFingerprint(outcome.escrowFingerprint)}`,
      '',
      t('kit.file.keep'),
      t('kit.file.use'),
      '',
    ].join('\n');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = `kluis-recovery-kit-${
      organisationName
        .toLowerCase()
        .replace(/[^\p{L}\p{Nd}]+/gu, '-')
        .replace(/^-|-$/g, '') || 'organisation'
    }.txt`;
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await callApi(confirmRecoveryKit, {});
      if (onConfirmed) onConfirmed();
      else navigate('/app', { replace: true });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <div className="recovery-kit">
      <Alert tone="warning" title={t('kit.onceTitle')} live={false}>
        <p>{t('kit.once')}</p>
      </Alert>
      <section className="card kit-card" aria-labelledby="kit-secret-title">
        <p className="print-only kit-print-heading">{t('kit.file.title')}</p>
        <p className="print-only">
          {t('kit.file.organisation')}: {organisationName} · {t('kit.file.created')}:{' '}
          {formatDateTime(createdAt, language)}
        </p>
        <h2 id="kit-secret-title">{t('kit.secretLabel')}</h2>
        <p className="recovery-secret" aria-describedby="kit-secret-help">
          {groups.map((group, index) => (
            <span key={index} className="recovery-group">
              {group}
              {index < groups.length - 1 && <span className="visually-hidden">-</span>}
            </span>
          ))}
        </p>
        <p className="card-help" id="kit-secret-help">
          {t('kit.secretHelp')}
        </p>
        <h2>{t('kit.fingerprintLabel')}</h2>
        <p>
          <Fingerprint hex={outcome.escrowFingerprint} />
        </p>
        <p className="card-help">{t('kit.fingerprintHelp')}</p>
        <p className="print-only">{t('kit.file.keep')}</p>
        <p className="print-only">{t('kit.file.use')}</p>
        <div className="form-actions no-print">
          <button type="button" className="button button-secondary" onClick={() => window.print()}>
            {t('kit.print')}
          </button>
          <button type="button" className="button button-secondary" onClick={download}>
            {t('kit.download')}
          </button>
        </div>
      </section>
      <section className="card no-print" aria-labelledby="kit-confirm-title">
        <h2 id="kit-confirm-title">{t('kit.confirmTitle')}</h2>
        {error !== null && <ErrorAlert error={error} />}
        <div className="checkbox-field">
          <input
            id="kit-stored"
            type="checkbox"
            checked={stored}
            onChange={(event) => setStored(event.target.checked)}
          />
          <label htmlFor="kit-stored">{t('kit.stored')}</label>
        </div>
        <div className="form-actions">
          <button
            type="button"
            className="button"
            disabled={!stored || busy}
            onClick={() => void confirm()}
          >
            {busy ? t('common.saving') : t('kit.continue')}
          </button>
        </div>
      </section>
    </div>
  );
}
