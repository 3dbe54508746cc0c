// Playwright global setup: builds the web client once when dist/client is missing or stale (the server's own check).
export { ensureWebClientBuild as default } from '../../server/test/kluis-server';
