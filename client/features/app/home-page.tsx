// The signed-in start page: a welcome with the user's own (decrypted) name and what to do next.
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { useSignedIn } from '../../account';

export function HomePage() {
  const { t } = useTranslation();
  const { session, name } = useSignedIn();
  const role = session.user.role;
  return (
    <div className="page">
      <title>{t('home.documentTitle')}</title>
      <h1>{name ? t('home.welcomeName', { name }) : t('home.welcome')}</h1>
      <p className="lead">
        {t('home.lead', { organisation: session.organisation.name, role: t(`roles.${role}`) })}
      </p>
      {name === null && <p className="card-help">{t('home.nameUnreadable')}</p>}
      <div className="card-grid">
        {(role === 'admin' || role === 'team') && (
          <section className="card" aria-labelledby="home-invite-title">
            <h2 id="home-invite-title">{t('home.inviteTitle')}</h2>
            <p>{role === 'admin' ? t('home.inviteAdmin') : t('home.inviteTeam')}</p>
            <Link href="/invite" className="button">
              {t('home.inviteAction')}
            </Link>
          </section>
        )}
        {role === 'admin' && (
          <section className="card" aria-labelledby="home-escrow-title">
            <h2 id="home-escrow-title">{t('home.escrowTitle')}</h2>
            <p>{t('home.escrow')}</p>
            <Link href="/people" className="button button-secondary">
              {t('home.peopleAction')}
            </Link>
          </section>
        )}
        <section className="card" aria-labelledby="home-security-title">
          <h2 id="home-security-title">{t('home.securityTitle')}</h2>
          <p>{t('home.security', { minutes: session.autoLockMinutes })}</p>
          <Link href="/account" className="button button-secondary">
            {t('home.accountAction')}
          </Link>
        </section>
      </div>
    </div>
  );
}
