// The e2e test object: a real Kluis server per worker, request capture, and a guard that fails on console errors.
import { test as base, expect, type ConsoleMessage, type WebError } from '@playwright/test';
import { captureRequests, type RequestLog } from './support/requests';
import { startKluisServer, type KluisServer } from './support/server';

export interface ConsoleGuard {
  /** Console errors and uncaught exceptions seen so far, allowed ones included. */
  messages(): readonly string[];
  /** Lets errors matching `pattern` pass for the rest of this test (for tests that provoke them). */
  allow(pattern: RegExp): void;
}

interface TestFixtures {
  /** Patterns of console errors a whole file expects (`test.use({ allowedConsoleErrors: [...] })`). */
  allowedConsoleErrors: RegExp[];
  /** Every request of this test's browser context, pages and workers alike. */
  requests: RequestLog;
  consoleErrors: ConsoleGuard;
  serverLogOnFailure: void;
}

interface WorkerFixtures {
  kluisServer: KluisServer;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  kluisServer: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern even with no dependencies.
    async ({}, use) => {
      const server = await startKluisServer();
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  baseURL: async ({ kluisServer }, use) => {
    await use(kluisServer.origin);
  },

  allowedConsoleErrors: [[], { option: true }],

  requests: [
    async ({ context }, use) => {
      const log = captureRequests(context);
      await use(log);
      log.stop();
    },
    { auto: true },
  ],

  consoleErrors: [
    async ({ context, allowedConsoleErrors }, use) => {
      const seen: string[] = [];
      const allowed = [...allowedConsoleErrors];
      const onConsole = (message: ConsoleMessage): void => {
        if (message.type() !== 'error') return;
        const origin = message.worker()
          ? `worker ${message.worker()?.url() ?? ''}`
          : message.location().url;
        seen.push(`console.error (${origin}): ${message.text()}`);
      };
      const onWebError = (error: WebError): void => {
        seen.push(
          `uncaught (${error.page()?.url() ?? 'no page'}): ${error.error().stack ?? error.error().message}`,
        );
      };
      context.on('console', onConsole);
      context.on('weberror', onWebError);
      await use({ messages: () => [...seen], allow: (pattern) => allowed.push(pattern) });
      context.off('console', onConsole);
      context.off('weberror', onWebError);
      const unexpected = seen.filter((text) => !allowed.some((pattern) => pattern.test(text)));
      expect(unexpected, 'unexpected console errors').toEqual([]);
    },
    { auto: true },
  ],

  serverLogOnFailure: [
    async ({ kluisServer }, use, testInfo) => {
      const before = kluisServer.output().length;
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('server-output', {
          body: kluisServer.output().slice(before),
          contentType: 'text/plain',
        });
      }
    },
    { auto: true },
  ],
});

export { expect };
