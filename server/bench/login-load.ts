// Load generator: full OPAQUE logins over HTTP (start, client finish, finish), several in flight, each in a fresh cookie jar.
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { finishLogin, startLogin } from '../../shared/api';
import {
  OPAQUE_BENCH_KEY_STRETCHING,
  finishOpaqueLogin,
  opaqueReady,
  startOpaqueLogin,
} from '../../shared/crypto';
import { browserLikeClient } from '../lib/node-api-client';
import type { BenchAccount } from './bench-organisation';
import { describeError } from './harness';
import { type ProcessCpu, readProcessCpu } from './measure';

/** One complete login of `account`; rejects unless the server and the client both verified. */
export type LoginOnce = (account: BenchAccount) => Promise<void>;

export interface LoginWindow {
  readonly accounts: readonly BenchAccount[];
  readonly login: LoginOnce;
  /** Logins in flight at once. */
  readonly concurrency: number;
  /** Logins run before the window opens (connections, JIT), not counted. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The server process, for its CPU time over the window. */
  readonly serverPid: number;
}

export interface LoginLoadResult {
  /** Logins that completed inside the measured window(s). */
  readonly logins: number;
  /** Every login started, warm-up included. */
  readonly attempted: number;
  readonly failures: readonly string[];
  readonly seconds: number;
  readonly latenciesMs: readonly number[];
  /** Server CPU time used during the window(s) (null without /proc). */
  readonly serverCpu: ProcessCpu | null;
  /** This process's CPU time during the window(s) (all threads), in ms. */
  readonly clientCpuMs: number;
  /** Time this process's event loop was busy during the window(s), in ms (busy / seconds near 1: the load generator is the limit). */
  readonly clientBusyMs: number;
}

/** Kluis's login as the browser does it, minus opening the vault: start, client finish (verifies the server), finish. */
export function kluisLogin(baseUrl: string, pinnedServerKey: string): LoginOnce {
  return async (account) => {
    const client = browserLikeClient(baseUrl, baseUrl);
    const attempt = await startOpaqueLogin(account.password);
    const started = await client.api(startLogin, {
      body: { email: account.email, startLoginRequest: attempt.request },
    });
    const finished = await finishOpaqueLogin(
      attempt.state,
      started.loginResponse,
      account.password,
      OPAQUE_BENCH_KEY_STRETCHING,
    );
    if (finished.serverStaticPublicKey !== pinnedServerKey)
      throw new Error('the login saw another OPAQUE server key than the one pinned at sign-up');
    const bundle = await client.api(finishLogin, {
      body: { loginId: started.loginId, finishLoginRequest: finished.finishRequest },
    });
    if ('secondFactor' in bundle) throw new Error('the bench account asked for a second factor');
    if (bundle.session.user.email !== account.email)
      throw new Error(`logged in as ${bundle.session.user.email}`);
    if (client.cookies.size === 0) throw new Error('the login set no session cookie');
  };
}

interface Snapshot {
  readonly at: number;
  readonly server: ProcessCpu | null;
  readonly client: NodeJS.CpuUsage;
  readonly loop: EventLoopUtilization;
}

function snapshot(serverPid: number): Snapshot {
  return {
    at: performance.now(),
    server: readProcessCpu(serverPid),
    client: process.cpuUsage(),
    loop: performance.eventLoopUtilization(),
  };
}

/**
 * Runs logins for warm-up + duration. Accounts rotate through a queue of idle ones, so no account
 * ever has two logins open (the lockout counts unfinished starts); stops at the first failure.
 */
export async function runLoginWindow(options: LoginWindow): Promise<LoginLoadResult> {
  if (options.accounts.length < options.concurrency)
    throw new Error('fewer bench accounts than logins in flight');
  await opaqueReady();
  const idle = [...options.accounts];
  const failures: string[] = [];
  const latenciesMs: number[] = [];
  let attempted = 0;
  let first: Snapshot | undefined;
  let last: Snapshot | undefined;
  const windowEnd = performance.now() + options.warmupMs + options.durationMs;
  const startTimer = setTimeout(() => (first = snapshot(options.serverPid)), options.warmupMs);
  const endTimer = setTimeout(
    () => (last = snapshot(options.serverPid)),
    options.warmupMs + options.durationMs,
  );

  const worker = async () => {
    while (failures.length === 0 && performance.now() < windowEnd) {
      const account = idle.shift()!;
      attempted++;
      const started = performance.now();
      try {
        await options.login(account);
        // Counted when it ended inside the window; the window's edges are the snapshots themselves.
        if (first && !last) latenciesMs.push(performance.now() - started);
      } catch (error) {
        failures.push(`${account.email}: ${describeError(error)}`);
      } finally {
        idle.push(account);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearTimeout(startTimer);
    clearTimeout(endTimer);
  }
  if (!first || !last)
    return {
      logins: 0,
      attempted,
      failures,
      seconds: 0,
      latenciesMs,
      serverCpu: null,
      clientCpuMs: 0,
      clientBusyMs: 0,
    };
  const loop = performance.eventLoopUtilization(last.loop, first.loop);
  return {
    logins: latenciesMs.length,
    attempted,
    failures,
    seconds: (last.at - first.at) / 1000,
    latenciesMs,
    serverCpu:
      first.server && last.server
        ? {
            allThreadsMs: last.server.allThreadsMs - first.server.allThreadsMs,
            mainThreadMs: last.server.mainThreadMs - first.server.mainThreadMs,
          }
        : null,
    clientCpuMs:
      (last.client.user - first.client.user + last.client.system - first.client.system) / 1000,
    clientBusyMs: loop.active,
  };
}

/** Several windows of the same variant as one result. */
export function combineWindows(results: readonly LoginLoadResult[]): LoginLoadResult {
  const servers = results.map((r) => r.serverCpu).filter((cpu): cpu is ProcessCpu => cpu !== null);
  return {
    logins: results.reduce((sum, r) => sum + r.logins, 0),
    attempted: results.reduce((sum, r) => sum + r.attempted, 0),
    failures: results.flatMap((r) => r.failures),
    seconds: results.reduce((sum, r) => sum + r.seconds, 0),
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    serverCpu:
      servers.length === results.length
        ? {
            allThreadsMs: servers.reduce((sum, cpu) => sum + cpu.allThreadsMs, 0),
            mainThreadMs: servers.reduce((sum, cpu) => sum + cpu.mainThreadMs, 0),
          }
        : null,
    clientCpuMs: results.reduce((sum, r) => sum + r.clientCpuMs, 0),
    clientBusyMs: results.reduce((sum, r) => sum + r.clientBusyMs, 0),
  };
}
