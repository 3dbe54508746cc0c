// The e2e test object: a real Kluis server per worker, request capture, and a guard that fails on console errors.
import {
  test as base,
  expect,
  type BrowserContext,
  type ConsoleMessage,
  type Page,
  type WebError,
} from '@playwright/test';
import { startTestSmtpServer, type TestSmtpServer } from '../server/test/smtp-server';
import { captureRequests, type RequestLog } from './support/requests';
import { startKluisServer, type KluisServer } from '../server/test/kluis-server';
import { budget } from '../server/test/budget';

export interface ConsoleGuard {
  /** Console errors and uncaught exceptions seen so far, allowed ones included. */
  messages(): readonly string[];
  /** Lets errors matching `pattern` pass for the rest of this test (for tests that provoke them). */
  allow(pattern: RegExp): void;
  /** Guards another browser context too (a second user in the same test). */
  watch(context: BrowserContext): void;
}

/** Opens a page in a fresh browser context (another user: own cookies), recorded and guarded like `page`. */
export type NewPage = () => Promise<Page>;

interface TestFixtures {
  /** Patterns of console errors a whole file expects (`test.use({ allowedConsoleErrors: [...] })`). */
  allowedConsoleErrors: RegExp[];
  /** Every request of this test's browser context, pages and workers alike. */
  requests: RequestLog;
  consoleErrors: ConsoleGuard;
  newPage: NewPage;
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
    { scope: 'worker', timeout: budget(60_000) },
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
      const contexts = new Set<BrowserContext>();
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
      const watch = (next: BrowserContext): void => {
        if (contexts.has(next)) return;
        contexts.add(next);
        next.on('console', onConsole);
        next.on('weberror', onWebError);
      };
      watch(context);
      await use({
        messages: () => [...seen],
        allow: (pattern) => allowed.push(pattern),
        watch,
      });
      for (const watched of contexts) {
        watched.off('console', onConsole);
        watched.off('weberror', onWebError);
      }
      const unexpected = seen.filter((text) => !allowed.some((pattern) => pattern.test(text)));
      expect(unexpected, 'unexpected console errors').toEqual([]);
    },
    { auto: true },
  ],

  newPage: async ({ browser, baseURL, locale, requests, consoleErrors }, use) => {
    const opened: BrowserContext[] = [];
    await use(async () => {
      const context = await browser.newContext({ baseURL, locale, acceptDownloads: true });
      opened.push(context);
      requests.watch(context);
      consoleErrors.watch(context);
      return context.newPage();
    });
    for (const context of opened) await context.close();
  },

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

/**
 * `test` with a server of its own per worker that mails through a real in-process SMTP server
 * (`smtp`), so invitations and notices are read the way a person reads them: from the mailbox.
 * Each file names its server with `test.use({ mailServerFor: '<file>' })`: a different value is a
 * different worker, so no two journeys ever share an organisation.
 */
export const testWithMail = test.extend<object, { smtp: TestSmtpServer; mailServerFor: string }>({
  mailServerFor: ['', { scope: 'worker', option: true }],
  smtp: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern even with no dependencies.
    async ({}, use) => {
      const smtp = await startTestSmtpServer();
      await use(smtp);
      await smtp.close();
    },
    { scope: 'worker' },
  ],
  kluisServer: [
    async ({ smtp, mailServerFor }, use) => {
      if (!mailServerFor) throw new Error("name this file's server: test.use({ mailServerFor: '<file>' })");
      const server = await startKluisServer({ env: { SMTP_URL: smtp.url } });
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: budget(60_000) },
  ],
});

/**
 * `test.step` for long journeys: each step adds its own budget to the test's, scaled at the load of the
 * moment it starts, so a journey gets more time where the machine got busier halfway through (a whole-test
 * budget is fixed by the load when the test began).
 */
export async function budgetedStep<T>(name: string, quietMs: number, body: () => Promise<T>): Promise<T> {
  const info = test.info();
  info.setTimeout(info.timeout + budget(quietMs));
  return test.step(name, body);
}
