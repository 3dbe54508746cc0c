// Account → escrow transparency (issue 21): who can open this key safe through the office's escrow key, and every time
// someone did (a reset, a staff member's first access, a rotation), each signature verified in the browser.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAccount, useSignedIn } from '../../account';
import { Alert } from '../../components/alert';
import { Busy } from '../../components/busy';
import { ErrorAlert } from '../../components/error-alert';
import { Fingerprint } from '../../components/fingerprint';
import { formatDateTime } from '../../i18n/format';

export function EscrowSection() {
  const { t, i18n } = useTranslation();
  const { session } = useSignedIn();
  const account = useAccount();
  const language = i18n.resolvedLanguage ?? 'en';
  const escrow = useQuery({
    queryKey: ['my-escrow', session.user.id],
    queryFn: () => account.run((api) => api.myEscrow()),
  });

  let body;
  if (escrow.isPending) {
    body = <Busy label={t('common.loading')} />;
  } else if (escrow.isError) {
    body = <ErrorAlert error={escrow.error} />;
  } else {
    const { escrowFingerprint, holders, uses, fourEyes } = escrow.data;
    const unverifiedUses = uses.filter((use) => use.state === 'unverified');
    body = (
      <>
        <p>{t('escrowInfo.lead', { organisation: session.organisation.name })}</p>
        <p className="card-help">{t('escrowInfo.why')}</p>
        <p className="field-label">{t('escrowInfo.fingerprint')}</p>
        <p>
          <Fingerprint hex={escrowFingerprint} />
        </p>
        <p className="card-help">{t('escrowInfo.fingerprintHelp')}</p>
        <p className="card-help">{fourEyes ? t('escrowInfo.fourEyesOn') : t('escrowInfo.fourEyesOff')}</p>

        <h3 id="escrow-holders-title">{t('escrowInfo.holdersTitle')}</h3>
        {holders.length === 0 ? (
          <p>{t('escrowInfo.noHolders')}</p>
        ) : (
          <ul className="item-list" aria-labelledby="escrow-holders-title">
            {holders.map((holder) => (
              <li key={`${holder.holderId}.${holder.grantedAt}`} className="item">
                <div>
                  <p className="item-title">
                    {holder.email ?? t('escrowInfo.unknownPerson')}
                    {holder.verified ? (
                      <span className="badge badge-ok">{t('escrowInfo.verified')}</span>
                    ) : (
                      <span className="badge badge-security">{t('escrowInfo.unverified')}</span>
                    )}
                  </p>
                  <p className="item-meta">
                    {t('escrowInfo.holderSince', { time: formatDateTime(holder.grantedAt, language) })}
                  </p>
                </div>
              </li>
            ))}
          </ul>
        )}
        {holders.some((holder) => !holder.verified) && (
          <p className="card-help">{t('escrowInfo.unverifiedHolderHelp')}</p>
        )}

        <h3 id="escrow-uses-title">{t('escrowInfo.usesTitle')}</h3>
        {unverifiedUses.length > 0 && (
          <Alert tone="security" title={t('escrowInfo.unverifiedUseTitle')}>
            <p>{t('escrowInfo.unverifiedUse')}</p>
          </Alert>
        )}
        {uses.length === 0 ? (
          <p>{t('escrowInfo.noUses')}</p>
        ) : (
          <ul className="item-list" aria-labelledby="escrow-uses-title">
            {uses.map((use) => (
              <li key={use.id} className="item">
                <div>
                  <p className="item-title">
                    {t(`escrowInfo.kind.${use.kind}`, { who: use.actorEmail })}
                    {use.state === 'verified' && (
                      <span className="badge badge-ok">{t('escrowInfo.signed')}</span>
                    )}
                    {use.state === 'unverified' && (
                      <span className="badge badge-security">{t('escrowInfo.notSigned')}</span>
                    )}
                  </p>
                  <p className="item-meta">
                    {formatDateTime(use.occurredAt, language)}
                    {use.state === 'recorded' && ` · ${t('escrowInfo.recorded')}`}
                  </p>
                </div>
              </li>
            ))}
          </ul>
        )}
        <p className="card-help">{t('escrowInfo.emailed')}</p>
      </>
    );
  }

  return (
    <section className="card" aria-labelledby="escrow-info-title">
      <h2 id="escrow-info-title">{t('escrowInfo.title')}</h2>
      {body}
    </section>
  );
}
