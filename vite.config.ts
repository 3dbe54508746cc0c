// Vite builds the browser app from client/ into dist/client; Vitest runs unit and integration tests.
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { budget } from './server/test/budget';

/**
 * The download service worker lives at the site root as /download-sw.js (its scope /download/ must
 * be at or below its own path). `vite build` makes it a second entry with that fixed name; the dev
 * server answers the same URL with the transformed client/download-sw.ts.
 */
const DOWNLOAD_WORKER = 'download-sw';

function downloadWorkerInDev(): Plugin {
  return {
    name: 'kluis-download-sw-dev',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        if (req.url === `/${DOWNLOAD_WORKER}.js`) req.url = `/${DOWNLOAD_WORKER}.ts`;
        next();
      });
    },
  };
}

export default defineConfig({
  root: 'client',
  publicDir: false,
  plugins: [react(), downloadWorkerInDev()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    target: 'es2023',
    sourcemap: false,
    // Keep WASM (OPAQUE, hash-wasm) out of inline data: URLs so CSP can stay 'self' + 'wasm-unsafe-eval'.
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: {
        index: fileURLToPath(new URL('./client/index.html', import.meta.url)),
        [DOWNLOAD_WORKER]: fileURLToPath(new URL(`./client/${DOWNLOAD_WORKER}.ts`, import.meta.url)),
      },
      output: {
        // Content-hashed names under /assets, except the service worker's fixed URL (served no-cache).
        entryFileNames: (chunk) => (chunk.name === DOWNLOAD_WORKER ? `${DOWNLOAD_WORKER}.js` : 'assets/[name]-[hash].js'),
      },
    },
  },
  worker: { format: 'es' },
  server: {
    port: 5173,
    proxy: { '/api': 'http://localhost:8080' },
  },
  test: {
    root: '.',
    include: ['shared/**/*.test.ts', 'server/**/*.test.ts', 'client/**/*.test.ts', 'migrations/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: budget(30_000),
    hookTimeout: budget(30_000),
  },
});
