// Bench group "server" (issue 12): raw OPAQUE server work, the auth service in process, and full logins over HTTP against the real server.
import { measureSecondFactors } from './factors-measure';
import { measureRotation } from './rotation-measure';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import BetterSqlite3 from 'better-sqlite3';
import {
  OPAQUE_BENCH_KEY_STRETCHING,
  finishOpaqueLogin,
  finishOpaqueRegistration,
  startOpaqueLogin,
  startOpaqueRegistration,
} from '../../shared/crypto';
import { createTestOrganisation } from '../test/org-fixture';
import { createBenchOrganisation } from './bench-organisation';
import { bareLogin, registerBareAccounts } from './bare-login';
import {
  BenchFailure,
  type BenchContext,
  type BenchGroup,
  type Cleanup,
  type GroupReport,
  makeTempDir,
} from './harness';
import { type LoginLoadResult, combineWindows, kluisLogin, runLoginWindow } from './login-load';
import { measureLoginTiming } from './login-timing';
import { percentile } from './measure';
import { startBareLoginProcess, startKluisProcess } from './server-process';

const RAW_LOGINS = 1000;
const SERVICE_LOGINS = 500;
const SQLITE_COMMITS = 100;
const BENCH_ACCOUNTS = 12;
const LOGIN_CONCURRENCY = 8;
const LOGIN_WARMUP_MS = 1_000;
/** Each variant gets two measured windows (12 s in all), interleaved with the other variant's. */
const LOGIN_WINDOW_MS = 6_000;
/** The target: logins over HTTP at 0.7x or more of the bare OPAQUE server loop. */
const TARGET_RATIO = 0.7;
/**
 * KLUIS_LOGIN_LIMIT_PER_IP for the bench server (the documented setting; default 100 per 5 minutes):
 * every bench login comes from 127.0.0.1. The setting's maximum.
 */
const BENCH_LOGIN_LIMIT_PER_IP = 1_000_000;
const PASSWORD = 'bench-wachtwoord-lang-genoeg';

/** Cost of one small write transaction with synchronous=FULL and =NORMAL (WAL), on the temp file system. */
async function sqliteCommitCost(cleanup: Cleanup): Promise<{ fullMs: number; normalMs: number }> {
  const dir = await makeTempDir(cleanup, 'kluis-bench-sqlite-');
  const db = new BetterSqlite3(join(dir, 'commits.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.exec('create table t (id integer primary key, v text not null)');
    const insert = db.prepare('insert into t (v) values (?)');
    const totals = { FULL: 0, NORMAL: 0 };
    for (const mode of ['FULL', 'NORMAL', 'FULL', 'NORMAL'] as const) {
      db.pragma(`synchronous = ${mode}`);
      const start = performance.now();
      for (let i = 0; i < SQLITE_COMMITS / 2; i++) {
        db.exec('begin immediate');
        insert.run('x'.repeat(200));
        db.exec('commit');
      }
      totals[mode] += performance.now() - start;
    }
    return { fullMs: totals.FULL / SQLITE_COMMITS, normalMs: totals.NORMAL / SQLITE_COMMITS };
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The library's server startLogin + finishLogin in a bare loop against one registration record. The
 * client's messages are real but computed outside the timed sections (KE1s beforehand, KE3s between).
 */
async function rawOpaque(count: number): Promise<{ startMs: number; finishMs: number }> {
  await opaque.ready;
  const serverSetup = opaque.server.createSetup();
  const userIdentifier = 'bench-user';
  const registration = await startOpaqueRegistration(PASSWORD);
  const { registrationResponse } = opaque.server.createRegistrationResponse({
    serverSetup,
    userIdentifier,
    registrationRequest: registration.request,
  });
  const { record } = await finishOpaqueRegistration(
    registration.state,
    registrationResponse,
    PASSWORD,
    OPAQUE_BENCH_KEY_STRETCHING,
  );
  const attempts = await Promise.all(
    Array.from({ length: count }, () => startOpaqueLogin(PASSWORD)),
  );
  let startMs = 0;
  let finishMs = 0;
  for (const attempt of attempts) {
    let t = performance.now();
    const { serverLoginState, loginResponse } = opaque.server.startLogin({
      serverSetup,
      userIdentifier,
      registrationRecord: record,
      startLoginRequest: attempt.request,
    });
    startMs += performance.now() - t;
    const { finishRequest } = await finishOpaqueLogin(
      attempt.state,
      loginResponse,
      PASSWORD,
      OPAQUE_BENCH_KEY_STRETCHING,
    );
    t = performance.now();
    const { sessionKey } = opaque.server.finishLogin({
      serverLoginState,
      finishLoginRequest: finishRequest,
    });
    finishMs += performance.now() - t;
    if (!sessionKey) throw new BenchFailure('a raw OPAQUE login did not verify');
  }
  return { startMs: startMs / count, finishMs: finishMs / count };
}

/**
 * The auth service's startLogin + finishLogin called directly (OPAQUE, SQLite, audit event, session,
 * key-safe bundle; no HTTP), client work outside the timed sections, as in the raw loop.
 */
async function serviceLogins(cleanup: Cleanup, count: number): Promise<number> {
  const org = await createTestOrganisation(['client'], {
    env: { LOG_LEVEL: 'warn', KLUIS_LOGIN_LIMIT_PER_IP: String(BENCH_LOGIN_LIMIT_PER_IP) },
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= org.close());
  cleanup.add({
    name: 'in-process test organisation',
    close,
    closeSync: () => rmSync(org.testApp.tempDir, { recursive: true, force: true }),
  });
  try {
    const member = org.members.client!;
    const auth = org.testApp.services.auth;
    let serverMs = 0;
    for (let i = 0; i < count; i++) {
      const attempt = await startOpaqueLogin(member.password);
      let t = performance.now();
      const started = await auth.startLogin(member.email, attempt.request, '127.0.0.1');
      serverMs += performance.now() - t;
      const { finishRequest } = await finishOpaqueLogin(
        attempt.state,
        started.loginResponse,
        member.password,
        OPAQUE_BENCH_KEY_STRETCHING,
      );
      t = performance.now();
      const outcome = await auth.finishLogin(started.loginId, finishRequest, { ip: '127.0.0.1', session: null, trustedDeviceToken: null });
      serverMs += performance.now() - t;
      if (!('session' in outcome)) throw new BenchFailure('a service-level login asked for a second factor');
      if (outcome.session.bundle.session.user.email !== member.email)
        throw new BenchFailure('a service-level login opened the wrong account');
    }
    return serverMs / count;
  } finally {
    await close();
  }
}

interface LoadFigures {
  readonly rps: number;
  /** Server main-thread CPU per login, ms (null without /proc). */
  readonly serverMainMs: number | null;
  readonly clientMs: number;
}

/** Adds one load variant's metrics under `prefix` (e.g. `login`, `bare_login`). */
function reportLoad(
  report: GroupReport,
  prefix: string,
  what: string,
  load: LoginLoadResult,
  rawOps: number,
  summary: boolean,
): LoadFigures {
  if (load.failures.length > 0) {
    throw new BenchFailure(
      `${what}: ${load.failures.length} of ${load.attempted} logins failed (all must succeed): ${load.failures.slice(0, 3).join(' | ')}`,
    );
  }
  if (load.logins === 0)
    throw new BenchFailure(`${what}: no login completed inside the measured windows`);
  const rps = load.logins / load.seconds;
  const clientMs = load.clientCpuMs / load.logins;
  report.add(`${prefix}_rps`, `${what}, ${LOGIN_CONCURRENCY} in flight`, rps, 'logins/s', {
    summary,
  });
  report.add(`${prefix}_ratio_to_raw`, `${prefix}_rps / opaque_raw_ops_s`, rps / rawOps, 'x', {
    summary,
  });
  report.add(`${prefix}_count`, `${what}: logins in the windows (all succeeded)`, load.logins, '');
  report.add(
    `${prefix}_attempted`,
    `${what}: logins in all, warm-ups included (all succeeded)`,
    load.attempted,
    '',
  );
  report.add(`${prefix}_seconds`, `${what}: measured time`, load.seconds, 's');
  report.add(
    `${prefix}_latency_p50_ms`,
    `${what}: latency, median`,
    percentile(load.latenciesMs, 50),
    'ms',
  );
  report.add(
    `${prefix}_latency_p95_ms`,
    `${what}: latency, 95th percentile`,
    percentile(load.latenciesMs, 95),
    'ms',
  );
  report.add(`${prefix}_client_cpu_ms`, `${what}: load generator CPU per login`, clientMs, 'ms');
  report.add(
    `${prefix}_client_busy`,
    `${what}: load generator event loop busy`,
    load.clientBusyMs / 1000 / load.seconds,
    'fraction',
  );
  if (!load.serverCpu) return { rps, serverMainMs: null, clientMs };
  const mainMs = load.serverCpu.mainThreadMs / load.logins;
  report.add(
    `${prefix}_server_cpu_ms`,
    `${what}: server CPU per login (all threads)`,
    load.serverCpu.allThreadsMs / load.logins,
    'ms',
  );
  report.add(
    `${prefix}_server_main_thread_ms`,
    `${what}: server main-thread CPU per login`,
    mainMs,
    'ms',
    { summary },
  );
  report.add(
    `${prefix}_server_main_thread_busy`,
    `${what}: server main thread busy`,
    load.serverCpu.mainThreadMs / 1000 / load.seconds,
    'fraction',
  );
  report.add(
    `${prefix}_server_core_capacity_rps`,
    `${what}: one server core's capacity (1000 / main-thread ms)`,
    1000 / mainMs,
    'logins/s',
    { summary },
  );
  report.add(
    `${prefix}_server_core_capacity_ratio_to_raw`,
    `${what}: that capacity / opaque_raw_ops_s`,
    1000 / mainMs / rawOps,
    'x',
    { summary },
  );
  return { rps, serverMainMs: mainMs, clientMs };
}

async function run(context: BenchContext): Promise<void> {
  if (context.runs('throughput')) await measureThroughput(context);
  if (context.runs('timing')) await measureLoginTiming(context);
  if (context.runs('factors')) await measureSecondFactors(context);
  if (context.runs('rotation')) await measureRotation(context);
}

async function measureThroughput({
  report,
  cleanup,
  progress,
  repoRoot,
  cpuProfileDir,
}: BenchContext): Promise<void> {
  progress(
    `SQLite commit cost, synchronous=FULL against NORMAL (WAL), ${SQLITE_COMMITS} commits each, interleaved`,
  );
  const commits = await sqliteCommitCost(cleanup);
  report.add(
    'sqlite_full_commit_ms',
    'SQLite write transaction, synchronous=FULL (WAL)',
    commits.fullMs,
    'ms',
  );
  report.add(
    'sqlite_normal_commit_ms',
    'SQLite write transaction, synchronous=NORMAL (WAL)',
    commits.normalMs,
    'ms',
  );

  progress(
    `raw OPAQUE server: ${RAW_LOGINS} logins, server startLogin + finishLogin timed, client work not`,
  );
  const raw = await rawOpaque(RAW_LOGINS);
  const rawMs = raw.startMs + raw.finishMs;
  const rawOps = 1000 / rawMs;
  report.add(
    'opaque_raw_ops_s',
    'OPAQUE server startLogin + finishLogin, bare loop',
    rawOps,
    'logins/s',
    { summary: true },
  );
  report.add('opaque_raw_start_ms', 'OPAQUE server startLogin', raw.startMs, 'ms');
  report.add('opaque_raw_finish_ms', 'OPAQUE server finishLogin', raw.finishMs, 'ms');

  progress(`auth service in process: ${SERVICE_LOGINS} logins (sets up a test organisation first)`);
  const serviceMs = await serviceLogins(cleanup, SERVICE_LOGINS);
  report.add(
    'login_service_ops_s',
    'auth service startLogin + finishLogin, no HTTP',
    1000 / serviceMs,
    'logins/s',
  );
  report.add(
    'login_service_ms',
    'auth service time per login (OPAQUE, SQLite, audit, session, bundle)',
    serviceMs,
    'ms',
  );

  progress('starting the bare OPAQUE-over-Hono baseline server and registering its accounts');
  const bare = await startBareLoginProcess({ repoRoot, cleanup });
  const bareAccounts = await registerBareAccounts(bare.baseUrl, BENCH_ACCOUNTS);
  progress(
    'starting the real server (node --import tsx server/index.ts, LOG_LEVEL=warn) on a temp data directory',
  );
  const kluis = await startKluisProcess({
    repoRoot,
    cleanup,
    env: { KLUIS_LOGIN_LIMIT_PER_IP: String(BENCH_LOGIN_LIMIT_PER_IP) },
    cpuProfileDir,
  });
  progress(
    `setting up its organisation and signing up ${BENCH_ACCOUNTS} bench accounts through the browser flows (RSA-4096 each)`,
  );
  const setupStart = performance.now();
  const organisation = await createBenchOrganisation(kluis, BENCH_ACCOUNTS);
  progress(`  done in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

  const variants = {
    kluis: {
      accounts: organisation.accounts,
      login: kluisLogin(kluis.baseUrl, organisation.opaqueServerPublicKey),
      serverPid: kluis.pid,
    },
    bare: {
      accounts: bareAccounts.accounts,
      login: bareLogin(bare.baseUrl, bareAccounts.serverPublicKey),
      serverPid: bare.pid,
    },
  };
  const windows: Record<keyof typeof variants, LoginLoadResult[]> = { kluis: [], bare: [] };
  const order = ['bare', 'kluis', 'kluis', 'bare'] as const;
  progress(
    `login load, ${LOGIN_CONCURRENCY} in flight, windows ${order.join(', ')}: ${LOGIN_WARMUP_MS / 1000} s warm-up + ${LOGIN_WINDOW_MS / 1000} s measured each`,
  );
  for (const name of order) {
    const result = await runLoginWindow({
      ...variants[name],
      concurrency: LOGIN_CONCURRENCY,
      warmupMs: LOGIN_WARMUP_MS,
      durationMs: LOGIN_WINDOW_MS,
    });
    windows[name].push(result);
    if (result.failures.length > 0) break;
  }

  const kluisFigures = reportLoad(
    report,
    'login',
    'Kluis login over HTTP',
    combineWindows(windows.kluis),
    rawOps,
    true,
  );
  report.add('login_target_ratio', 'target for login_ratio_to_raw', TARGET_RATIO, 'x');
  report.add(
    'login_meets_target',
    `login_rps >= ${TARGET_RATIO} x opaque_raw_ops_s`,
    kluisFigures.rps / rawOps >= TARGET_RATIO,
    '',
    { summary: true },
  );
  report.add('login_concurrency', 'logins in flight', LOGIN_CONCURRENCY, '');
  report.add(
    'login_accounts',
    'bench accounts (rotating, one login each at a time)',
    organisation.accounts.length,
    '',
  );
  report.add(
    'login_ip_limit_setting',
    'KLUIS_LOGIN_LIMIT_PER_IP of the bench server',
    BENCH_LOGIN_LIMIT_PER_IP,
    'per 5 min',
  );
  const bareFigures = reportLoad(
    report,
    'bare_login',
    'bare OPAQUE over Hono',
    combineWindows(windows.bare),
    rawOps,
    false,
  );

  if (kluisFigures.serverMainMs !== null && bareFigures.serverMainMs !== null) {
    report.note(
      `Server main-thread CPU per login: Kluis ${kluisFigures.serverMainMs.toFixed(2)} ms = OPAQUE ${rawMs.toFixed(2)} ms (bare loop) ` +
        `+ HTTP with Hono ${(bareFigures.serverMainMs - rawMs).toFixed(2)} ms (bare server ${bareFigures.serverMainMs.toFixed(2)} ms) ` +
        `+ Kluis's middleware, validation, SQLite, audit, session and bundle ${(kluisFigures.serverMainMs - bareFigures.serverMainMs).toFixed(2)} ms. ` +
        `In process, without HTTP, the auth service took ${serviceMs.toFixed(2)} ms per login (wall time).`,
    );
  }
  report.note(
    `Client and server share this machine's ${availableParallelism()} cores: the load generator used ${kluisFigures.clientMs.toFixed(2)} ms CPU per Kluis login ` +
      `(OPAQUE client with the bench key stretching, fetch, response validation), so login_rps is bounded by the machine as well as by the server; ` +
      `login_server_core_capacity_rps is what one server core sustains by its own CPU time.`,
  );
  report.note(
    `Durability: a login commits two write transactions (start: the failure counter; finish: user reset, session, audit event), both with synchronous=NORMAL, ` +
      `so no fsync on the login path; WAL checkpoints fsync now and then. A synchronous=FULL commit costs ${commits.fullMs.toFixed(2)} ms here.`,
  );
  report.note(
    `The Kluis server runs with KLUIS_LOGIN_LIMIT_PER_IP=${BENCH_LOGIN_LIMIT_PER_IP} (the documented setting): every bench login comes from 127.0.0.1, ` +
      `and the default of 100 per 5 minutes would refuse all but the first 100.`,
  );
}

export const serverGroup: BenchGroup = {
  name: 'server',
  title: 'server (issues 12, 19, 20, 21): OPAQUE login throughput, raw and through the real server over HTTP; login timing; second factors; escrow rotation',
  parts: {
    throughput: 'OPAQUE logins: bare loop, auth service, real server over HTTP (issue 12)',
    timing: 'login probes of real, locked and unknown addresses: median time gaps (issue 19)',
    factors: 'sign-in requests with a TOTP code, a passkey or a backup code as second factor, and passkey-only, against a password alone (issue 20)',
    rotation: 'a whole escrow rotation of 200 clients and 200 client spaces: items re-sealed per second, start, check (issue 21)',
  },
  run,
};
