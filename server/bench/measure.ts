// Measuring helpers for the bench: statistics, peak RSS sampling, and another process's CPU time (Linux /proc).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const MIB = 1024 * 1024;

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Samples process RSS on a timer and on demand; reports the peak above the level at start. */
export class RssSampler {
  readonly #baseline = process.memoryUsage.rss();
  #peak = this.#baseline;
  readonly #timer = setInterval(() => this.sample(), 20);

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.#peak) this.#peak = rss;
  }

  /** Stops sampling; growth of the peak over the start, in MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return (this.#peak - this.#baseline) / MIB;
  }
}

let clockTicksPerSecond: number | undefined;

function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond =
        Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

export interface ProcessCpu {
  /** User + system time of all the process's threads (JS, libuv pool, GC, compiler), in ms. */
  readonly allThreadsMs: number;
  /** Time the main thread (the one running JavaScript) spent on a CPU, in ms. */
  readonly mainThreadMs: number;
}

/** CPU time used so far by process `pid`; null where /proc is not available. */
export function readProcessCpu(pid: number): ProcessCpu | null {
  try {
    // Fields after the parenthesised command name: utime and stime are fields 14 and 15 of stat(5).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const schedstat = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8');
    const mainNs = Number(schedstat.split(' ')[0]);
    if (!Number.isFinite(ticks) || !Number.isFinite(mainNs)) return null;
    return { allThreadsMs: (ticks * 1000) / ticksPerSecond(), mainThreadMs: mainNs / 1e6 };
  } catch {
    return null;
  }
}

/** Runs `fn` `count` times in sequence; returns each duration in ms. */
export async function timeEach(count: number, fn: () => Promise<unknown>): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn();
    durations.push(performance.now() - start);
  }
  return durations;
}
