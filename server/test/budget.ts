// Budgets, not waits: how long a condition may take before a test gives up on it (Vitest, Playwright and the test servers alike).
// Every wait in the tests is on a condition, and a budget only bounds it, so a generous one costs nothing when the product works.
//
// A loaded machine (npm test beside another CPU-heavy job on 2 cores: a load average of 25 was seen) makes
// everything several times slower at once, so every budget is multiplied by one factor:
// KLUIS_TEST_TIME_SCALE when set, else 3, or more while the machine is loaded (read when the budget is taken,
// so a long journey that budgets each step gets more time once the machine gets busier halfway through).
import { availableParallelism, loadavg } from 'node:os';

/** The factor for a budget taken now. */
export function timeScale(): number {
  const fromEnv = Number(process.env.KLUIS_TEST_TIME_SCALE);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv;
  const loadPerCore = (loadavg()[0] ?? 0) / Math.max(1, availableParallelism());
  return Math.min(10, Math.max(3, Math.ceil(loadPerCore * 2)));
}

/** `ms` as measured on a quiet machine, scaled for this moment's load. */
export function budget(ms: number): number {
  return Math.round(ms * timeScale());
}
