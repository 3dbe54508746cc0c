// The page for any address the portal does not know.
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <div className="page page-narrow">
      <title>{t('notFound.documentTitle')}</title>
      <h1>{t('notFound.title')}</h1>
      <p>{t('notFound.body')}</p>
      <p>
        <Link href="/" className="button">
          {t('notFound.home')}
        </Link>
      </p>
    </div>
  );
}
