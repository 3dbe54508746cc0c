// The Account page's card for sign-in security: how many second factors, and the way to the security page.
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { useOwnFactors } from './own-factors';

export function SecurityCard() {
  const { t } = useTranslation();
  const factors = useOwnFactors();
  const count = factors.data?.factors.length;
  return (
    <section className="card" aria-labelledby="security-card-title">
      <h2 id="security-card-title">{t('secondFactors.security.cardTitle')}</h2>
      <p className="card-help">{t('secondFactors.security.cardHelp')}</p>
      {count !== undefined && (
        <p>
          {count === 0
            ? t('secondFactors.security.cardNone')
            : t('secondFactors.security.cardCount', { count })}
        </p>
      )}
      <p>
        <Link href="/account/security">{t('secondFactors.security.cardLink')}</Link>
      </p>
    </section>
  );
}
