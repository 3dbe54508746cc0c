// The app shell: providers (i18n, queries, vault, account), skip link, header (account menu, language), routes, footer.
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import type { i18n as I18n } from 'i18next';
import { useEffect } from 'react';
import { I18nextProvider, useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { AccountProvider } from './account';
import { LanguageSwitch } from './components/language-switch';
import { HeaderAccount } from './components/user-menu';
import { KluisMark } from './components/kluis-mark';
import { AppRoutes, paths } from './routes';
import { TransfersProvider } from './transfers';
import { VaultProvider, type VaultSession } from './vault';

export interface AppProps {
  readonly i18n: I18n;
  readonly queryClient: QueryClient;
  readonly vault: VaultSession;
}

export function App({ i18n, queryClient, vault }: AppProps) {
  return (
    <I18nextProvider i18n={i18n}>
      <QueryClientProvider client={queryClient}>
        <VaultProvider session={vault}>
          <AccountProvider>
            <TransfersProvider>
              <Shell />
            </TransfersProvider>
          </AccountProvider>
        </VaultProvider>
      </QueryClientProvider>
    </I18nextProvider>
  );
}

function Shell() {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';

  // Screen readers pick pronunciation from <html lang>; keep it equal to the language on screen.
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="site-header">
        <div className="site-header-inner">
          <Link href={paths.home} className="brand">
            <KluisMark />
            <span className="brand-name">{t('app.name')}</span>
          </Link>
          <div className="site-header-end">
            <HeaderAccount />
            <LanguageSwitch />
          </div>
        </div>
      </header>
      <main id="main" className="site-main" tabIndex={-1}>
        <AppRoutes />
      </main>
      <footer className="site-footer">
        <p>{t('app.footer')}</p>
      </footer>
    </>
  );
}
