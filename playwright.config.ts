// Playwright: e2e specs in e2e/ against the real server, in Debian's Chromium (never a downloaded browser).
import { defineConfig, devices } from '@playwright/test';
import { budget } from './server/test/budget';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  // Two shared cores: one worker, one server, one browser.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: budget(60_000),
  expect: { timeout: budget(15_000) },
  globalSetup: './e2e/support/global-setup.ts',
  outputDir: 'test-results/e2e',
  // PLAYWRIGHT_JSON_OUTPUT_FILE (set by e2e/harness/run-all.ts) overrides the file below.
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    {
      name: 'chromium',
      use: { ...devices['Desktop Chrome'], channel: undefined, locale: 'en-GB' },
    },
  ],
});
