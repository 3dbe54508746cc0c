// English messages; the source of truth for the message keys every other language must provide.
export const en = {
  app: {
    name: 'Kluis',
    tagline: 'Your documents, locked in your own browser',
    skipToContent: 'Skip to content',
    footer: 'Kluis encrypts in your browser. The server only ever stores sealed data.',
  },
  language: {
    label: 'Language',
    en: 'English',
    nl: 'Nederlands',
  },
  welcome: {
    documentTitle: 'Kluis: secure client portal',
    title: 'Kluis',
    lead: 'A client portal where documents, messages and their names are encrypted on your device before they leave it.',
    explainTitle: 'How Kluis protects you',
    explainEncrypt:
      'Everything you share is encrypted in your browser with keys only you and the people you share with hold.',
    explainServer:
      'The server stores locked safes it cannot open: not your files, not their names, not your password.',
    explainSession:
      'Your keys exist only in memory while you are signed in, and are dropped the moment you lock or close the page.',
    statusTitle: 'System status',
  },
  server: {
    title: 'Server',
    checking: 'Checking the connection…',
    online: 'Online',
    version: 'Version {{version}}',
    offline: 'Not reachable',
    offlineHelp: 'Check your internet connection; Kluis will keep trying.',
    error: 'The server reported a problem ({{code}}).',
    retry: 'Try again',
  },
  engine: {
    title: 'Encryption engine',
    starting: 'Starting the encryption engine…',
    ready: 'Encryption engine ready',
    readyHelp: 'Self-test passed in {{ms}} ms: encrypt, decrypt and tamper detection.',
    failed: 'Encryption engine not available',
    failedHelp:
      'This browser could not start the encryption engine. Kluis cannot be used safely here; try an up-to-date browser.',
  },
  notFound: {
    documentTitle: 'Page not found: Kluis',
    title: 'Page not found',
    body: 'There is nothing at this address.',
    home: 'Go to the start page',
  },
};

/** The shape every language must have: the same keys, each a string. */
export type Messages = typeof en;
