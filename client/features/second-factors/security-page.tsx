// Account > Sign-in security: one's second factors, adding an authenticator app or e-mail codes, backup codes, trusted browsers.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type { SecondFactor } from '../../../shared/api';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { BackupCodes } from './backup-codes';
import { EmailSetup } from './email-setup';
import { FactorList } from './factor-list';
import { useFactorsChanged, useOwnFactors } from './own-factors';
import { TotpSetup } from './totp-setup';
import { TrustedDevices } from './trusted-devices';

export function SecurityPage() {
  const { t } = useTranslation();
  const factors = useOwnFactors();
  const factorsChanged = useFactorsChanged();
  const [added, setAdded] = useState<SecondFactor | null>(null);

  const onAdded = (factor: SecondFactor) => {
    setAdded(factor);
    void factorsChanged();
  };

  return (
    <div className="page">
      <title>{t('secondFactors.security.documentTitle')}</title>
      <p className="breadcrumb">
        <Link href="/account">{t('secondFactors.security.back')}</Link>
      </p>
      <h1>{t('secondFactors.security.title')}</h1>
      <p className="lead">{t('secondFactors.security.lead')}</p>
      {factors.isPending ? (
        <Busy label={t('common.loading')} />
      ) : factors.isError ? (
        <ErrorAlert error={factors.error} />
      ) : (
        <div className="stack">
          <FactorList factors={factors.data.factors} />
          <section className="section" aria-labelledby="add-factor-title">
            <h2 id="add-factor-title">{t('secondFactors.add.title')}</h2>
            {added && (
              <Alert tone="success">
                <p>{t('secondFactors.add.added', { name: added.name })}</p>
              </Alert>
            )}
            <div className="card-grid">
              <TotpSetup onAdded={onAdded} />
              <EmailSetup
                active={factors.data.factors.some((factor) => factor.kind === 'email')}
                onAdded={onAdded}
              />
            </div>
          </section>
          <BackupCodes
            hasFactor={factors.data.factors.length > 0}
            left={factors.data.backupCodesLeft}
            createdAt={factors.data.backupCodesCreatedAt}
            onCreated={() => void factorsChanged()}
          />
          <TrustedDevices />
        </div>
      )}
    </div>
  );
}
