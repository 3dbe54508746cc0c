// Stopping a server while a page's browser still fetches the download service worker's script makes Chromium log
// "An unknown error occurred when fetching the script." (seen once in a CI run, when the accounts journey stopped its
// recovery-mode server right after signing in). The page registers that worker once signed in; wait until it is
// installed and active in each page's context before a server goes away under it.
import { expect, type Page } from '@playwright/test';
import { DOWNLOAD_SCOPE } from '../../client/transfers/download-protocol';

/** Resolves once every given page (each signed in at least once on its origin) has an active download worker and no install under way. */
export async function downloadWorkersSettled(...pages: readonly Page[]): Promise<void> {
  for (const page of pages) {
    await expect
      .poll(() =>
        page.evaluate(async (scope) => {
          const registration = await navigator.serviceWorker.getRegistration(scope);
          return registration?.active?.state === 'activated' && !registration.installing && !registration.waiting;
        }, DOWNLOAD_SCOPE),
      )
      .toBe(true);
  }
}
