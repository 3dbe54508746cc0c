// The only page of a session whose role must use a second factor and has none: set one up (or sign out); then the portal opens.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { getSession, type SecondFactor } from '../../../shared/api';
import { useAccount, useSignedIn } from '../../account';
import { callApi } from '../../api';
import { Alert } from '../../components/alert';
import { ErrorAlert } from '../../components/error-alert';
import { BackupCodes } from './backup-codes';
import { EmailSetup } from './email-setup';
import { ownFactorsKey, useOwnFactors } from './own-factors';
import { TotpSetup } from './totp-setup';

/**
 * The server refuses every other endpoint to this session (second_factor_required) until a factor
 * exists; this page only offers what it allows (allowMissingSecondFactor in shared/api).
 */
export function EnrolmentPage() {
  const { t } = useTranslation();
  const { session, name } = useSignedIn();
  const account = useAccount();
  const queryClient = useQueryClient();
  const factors = useOwnFactors();
  const [added, setAdded] = useState<SecondFactor | null>(null);
  const [continuing, setContinuing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const doneHeading = useRef<HTMLParagraphElement>(null);
  const existing = factors.data?.factors ?? [];
  const ready = added !== null || existing.length > 0;

  useEffect(() => {
    if (added) doneHeading.current?.focus();
  }, [added]);

  const onAdded = (factor: SecondFactor) => {
    setAdded(factor);
    void queryClient.invalidateQueries({ queryKey: ownFactorsKey(session.user.id) });
  };

  const enter = async () => {
    setContinuing(true);
    setError(null);
    try {
      const fresh = await callApi(getSession, {});
      // With a factor in place the server no longer says it is missing: the portal opens.
      account.refresh({ session: fresh, name });
    } catch (failure) {
      setError(failure);
      setContinuing(false);
    }
  };

  return (
    <div className="page page-narrow">
      <title>{t('secondFactors.enrol.documentTitle')}</title>
      <h1>{t('secondFactors.enrol.title')}</h1>
      <p className="lead">
        {t('secondFactors.enrol.lead', { role: t(`roles.${session.user.role}`) })}
      </p>
      {error !== null && <ErrorAlert error={error} />}
      {factors.isError && <ErrorAlert error={factors.error} />}
      {ready ? (
        <div className="stack">
          <Alert tone="success" live={false}>
            <p className="alert-title" ref={doneHeading} tabIndex={-1}>
              {t('secondFactors.enrol.doneTitle')}
            </p>
            <p>{t('secondFactors.enrol.doneBody')}</p>
          </Alert>
          <BackupCodes
            hasFactor
            left={factors.data?.backupCodesLeft ?? 0}
            createdAt={factors.data?.backupCodesCreatedAt ?? null}
            onCreated={() =>
              void queryClient.invalidateQueries({ queryKey: ownFactorsKey(session.user.id) })
            }
          />
          <div className="form-actions">
            <button
              type="button"
              className="button"
              disabled={continuing}
              onClick={() => void enter()}
            >
              {t('secondFactors.enrol.continue')}
            </button>
          </div>
        </div>
      ) : (
        <section className="section" aria-labelledby="enrol-choose-title">
          <h2 id="enrol-choose-title">{t('secondFactors.add.title')}</h2>
          <p>{t('secondFactors.enrol.choose')}</p>
          <div className="stack">
            <TotpSetup onAdded={onAdded} />
            <EmailSetup active={false} onAdded={onAdded} />
          </div>
        </section>
      )}
      <div className="form-actions">
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void account.signOut()}
        >
          {t('secondFactors.enrol.signOut')}
        </button>
      </div>
    </div>
  );
}
