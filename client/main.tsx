// Browser entry: picks the language, starts the crypto worker and the query client, renders the app.
import './styles/main.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { createI18n, pickLanguage } from './i18n';
import { createQueryClient } from './query-client';
import { VaultSession } from './vault';
import { startCryptoEngine } from './worker';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

const language = pickLanguage(navigator.languages);
document.documentElement.lang = language;

// One session per page load, created outside React so StrictMode's double render cannot start two workers.
const vault = new VaultSession(startCryptoEngine);

createRoot(container).render(
  <StrictMode>
    <App i18n={createI18n(language)} queryClient={createQueryClient()} vault={vault} />
  </StrictMode>,
);
