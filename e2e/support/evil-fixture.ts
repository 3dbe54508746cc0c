// Playwright fixture of the malicious-server suite: per test a real Kluis server behind the tampering proxy, with its own mailbox.
import { startTestSmtpServer, type TestSmtpServer } from '../../server/test/smtp-server';
import { test as base } from '../fixtures';
import { startEvilProxy, type EvilProxy } from './evil-proxy';
import { startKluisServer, type KluisServer } from '../../server/test/kluis-server';
import { budget } from '../../server/test/budget';

export interface EvilStack {
  readonly proxy: EvilProxy;
  /** The real server; its `origin` is the proxy's (what the browser uses and the server believes it is reached at). */
  readonly server: KluisServer;
  readonly smtp: TestSmtpServer;
}

/** The worker's `kluisServer` stands for the current test's server (for the server log on failure). */
interface Slot {
  current: KluisServer | undefined;
}

export const evilTest = base.extend<
  { evil: EvilStack; evilProxy: EvilProxy; smtp: TestSmtpServer },
  { serverSlot: Slot }
>({
  serverSlot: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern even with no dependencies.
    async ({}, use) => {
      await use({ current: undefined });
    },
    { scope: 'worker' },
  ],
  kluisServer: [
    async ({ serverSlot }, use) => {
      const current = (): KluisServer => {
        if (!serverSlot.current) throw new Error('no evil stack in this test yet');
        return serverSlot.current;
      };
      await use({
        get origin() {
          return current().origin;
        },
        get port() {
          return current().port;
        },
        get dataDir() {
          return current().dataDir;
        },
        get secretsDir() {
          return current().secretsDir;
        },
        get pid() {
          return current().pid;
        },
        output: () => serverSlot.current?.output() ?? '',
        waitForOutput: (pattern, timeoutMs) => current().waitForOutput(pattern, timeoutMs),
        stop: (options) => current().stop(options),
      });
    },
    { scope: 'worker' },
  ],
  evil: [
    async ({ serverSlot }, use) => {
      const smtp = await startTestSmtpServer();
      const proxy = await startEvilProxy();
      let real: KluisServer | undefined;
      try {
        real = await startKluisServer({ env: { SMTP_URL: smtp.url, PUBLIC_ORIGIN: proxy.origin } });
        proxy.target(`http://127.0.0.1:${real.port}`);
        const server: KluisServer = { ...real, origin: proxy.origin };
        serverSlot.current = server;
        await use({ proxy, server, smtp });
      } finally {
        serverSlot.current = undefined;
        await real?.stop();
        await proxy.stop();
        await smtp.close();
      }
    },
    { timeout: budget(90_000) },
  ],
  evilProxy: async ({ evil }, use) => {
    await use(evil.proxy);
  },
  smtp: async ({ evil }, use) => {
    await use(evil.smtp);
  },
  baseURL: async ({ evil }, use) => {
    await use(evil.proxy.origin);
  },
});
