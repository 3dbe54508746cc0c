// Runs axe-core on the current page and fails on serious or critical violations (WCAG 2.2 A/AA rules).
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

const FAILING_IMPACTS = new Set(['serious', 'critical']);

export interface AxeScanOptions {
  /** CSS selectors to leave out (third-party widgets only; never our own screens). */
  readonly exclude?: readonly string[];
}

/** Scans `page`; `label` names the screen in the failure message. */
export async function expectNoSeriousA11yViolations(
  page: Page,
  label: string,
  options: AxeScanOptions = {},
): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags([
    'wcag2a',
    'wcag2aa',
    'wcag21a',
    'wcag21aa',
    'wcag22aa',
    'best-practice',
  ]);
  for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
  const results = await builder.analyze();
  const failing = results.violations.filter((violation) =>
    FAILING_IMPACTS.has(violation.impact ?? ''),
  );
  const report = failing.map(
    (violation) =>
      `${violation.impact}: ${violation.id} (${violation.help})\n` +
      violation.nodes
        .map((node) => `    ${node.target.join(' ')}: ${node.failureSummary ?? ''}`)
        .join('\n'),
  );
  expect(report, `axe found serious or critical violations on ${label}`).toEqual([]);
}
