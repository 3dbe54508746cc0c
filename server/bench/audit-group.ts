// Bench group `audit` (issue 22): appending 100,000 events through the real recordAuditEvent (one
// transaction each, a real SQLite file with synchronous=FULL), verifying them in headless Chromium
// with the browser's verifier against the real API, and a filtered page over 1,000,000 events.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { chromium } from '@playwright/test';
import { listAuditEvents } from '../../shared/api/audit';
import { recordAuditEvent } from '../services/audit.service';
import { createTestOrganisation } from '../test/org-fixture';
import { BenchFailure, makeTempDir, type BenchContext, type BenchGroup } from './harness';
import type { AuditBenchVerification } from './audit-verify-page';

/** The figures; KLUIS_BENCH_AUDIT_EVENTS / KLUIS_BENCH_AUDIT_QUERY_EVENTS give a quicker run. */
const APPEND_EVENTS = Number(process.env.KLUIS_BENCH_AUDIT_EVENTS) || 100_000;
const QUERY_EVENTS = Number(process.env.KLUIS_BENCH_AUDIT_QUERY_EVENTS) || 1_000_000;
const QUERY_RUNS = 7;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function bundleVerifierPage(repoRoot: string): Promise<string> {
  const result = await build({
    entryPoints: [join(repoRoot, 'server/bench/audit-verify-page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    minify: true,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

async function run(bench: BenchContext): Promise<void> {
  const { report, cleanup, progress } = bench;
  const dir = await makeTempDir(cleanup, 'kluis-bench-audit-');
  progress('an organisation with an Auditor (in-process app on a real SQLite file)…');
  // Heads are signed by the bench, not every N events, so the append figure is the service's alone.
  const org = await createTestOrganisation(['auditor'], {
    env: {
      LOG_LEVEL: 'warn',
      KLUIS_AUDIT_HEAD_EVERY_EVENTS: '1000000',
      KLUIS_AUDIT_HEAD_MAX_MINUTES: '1440',
    },
  });
  cleanup.add({ name: 'test organisation', close: () => org.close(), closeSync: () => undefined });
  const auditor = org.members.auditor!;
  const db = org.testApp.db;
  const databasePath = join(org.testApp.dataDir, 'kluis.db');

  const needEvents = bench.runs('append') || bench.runs('verify');
  if (needEvents) {
    progress(`appending ${APPEND_EVENTS.toLocaleString('en')} events, one transaction each…`);
    const began = performance.now();
    for (let i = 0; i < APPEND_EVENTS; i += 1) {
      await db.transaction().execute((trx) =>
        recordAuditEvent(trx, {
          action: 'document.downloaded',
          actorId: auditor.userId,
          targetType: 'document',
          targetId: `doc-${i % 500}`,
          ip: '192.0.2.10',
          userAgent: 'Mozilla/5.0 (bench)',
          details: { version: i % 7 },
        }),
      );
      if ((i + 1) % 20_000 === 0) progress(`  ${(i + 1).toLocaleString('en')} appended`);
    }
    const seconds = (performance.now() - began) / 1000;
    if (bench.runs('append')) {
      report.add(
        'append_events_s',
        `append ${APPEND_EVENTS.toLocaleString('en')} events through recordAuditEvent, one transaction each (chain hash + Merkle nodes; synchronous=FULL)`,
        APPEND_EVENTS / seconds,
        'events/s',
        { summary: true },
      );
    }
    await org.testApp.services.auditLog.signHeadIfDue({ force: true });
  }

  if (bench.runs('verify')) {
    progress('verifying the log in Chromium…');
    const bundle = await bundleVerifierPage(bench.repoRoot);
    const context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      baseURL: org.server.baseUrl,
      // The verifier is injected as a script into a page of the server's origin (same-origin API calls with the session cookie).
      bypassCSP: true,
    });
    cleanup.add({ name: 'Chromium', close: () => context.close(), closeSync: () => undefined });
    await context.addCookies(
      [...auditor.client.cookies].map(([name, value]) => ({
        name,
        value,
        url: org.server.baseUrl,
      })),
    );
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto('/api/audit/head');
    await page.addScriptTag({ content: bundle });
    const result: AuditBenchVerification = await page.evaluate('kluisBenchVerifyAudit()');
    if (!result.ok) throw new BenchFailure(`the browser verifier failed: ${result.message}`);
    if (result.verified < APPEND_EVENTS)
      throw new BenchFailure(
        `the browser verified ${result.verified} events, fewer than the ${APPEND_EVENTS} appended`,
      );
    report.add(
      'verify_events_s',
      `verify ${result.verified.toLocaleString('en')} events in Chromium (shared/audit/verify.ts over the API: signature, chain re-hash, Merkle root)`,
      result.verified / (result.ms / 1000),
      'events/s',
      { summary: true },
    );
    report.add('verify_ms', 'the whole browser verification', result.ms, 'ms');
    await context.close();
  }

  if (bench.runs('query')) {
    const sqlite = new Database(databasePath);
    cleanup.add({
      name: 'bulk SQLite connection',
      close: () => Promise.resolve(void sqlite.close()),
      closeSync: () => void sqlite.close(),
    });
    const { count } = sqlite.prepare('SELECT COUNT(*) AS count FROM audit_events').get() as {
      count: number;
    };
    const { top } = sqlite
      .prepare('SELECT COALESCE(MAX(seq), 0) AS top FROM audit_events')
      .get() as { top: number };
    const missing = Math.max(0, QUERY_EVENTS - count);
    progress(
      `bulk-inserting ${missing.toLocaleString('en')} rows to ${QUERY_EVENTS.toLocaleString('en')} events (hashes not valid: the query figure only)…`,
    );
    const insert = sqlite.prepare(
      `INSERT INTO audit_events (seq, id, occurred_at, action, actor_id, actor_role, target_type, target_id, ip, user_agent, result, details, prev_hash, hash, encoding)
       VALUES (?, ?, ?, ?, ?, 'team', 'document', ?, '192.0.2.20', 'bench', ?, '{}', ?, ?, 2)`,
    );
    const actions = [
      'document.downloaded',
      'document.uploaded',
      'account.login_succeeded',
      'message.sent',
      'document.moved',
    ];
    const start = Date.UTC(2024, 0, 1);
    const span = 2 * 365 * 24 * 3600 * 1000;
    const fill = sqlite.transaction((from: number, to: number) => {
      for (let i = from; i < to; i += 1) {
        const seq = top + 1 + i;
        const hex = seq.toString(16).padStart(63, '0');
        insert.run(
          seq,
          `b${hex.slice(-35)}`,
          new Date(start + Math.floor((i / missing) * span)).toISOString(),
          actions[i % actions.length],
          `bench-actor-${i % 200}`,
          `doc-${i % 50_000}`,
          i % 97 === 0 ? 'failure' : 'success',
          `e${hex}`,
          `f${hex}`,
        );
      }
    });
    for (let from = 0; from < missing; from += 50_000) fill(from, Math.min(missing, from + 50_000));
    sqlite.close();

    const api = auditor.client.api;
    const filters = [
      ['actor', 'one actor (1 in 200)', { actor: 'bench-actor-17' }],
      ['date', 'one month', { from: '2025-03-01', to: '2025-03-31' }],
      [
        'actor_date',
        'one actor in one month',
        { actor: 'bench-actor-17', from: '2025-03-01', to: '2025-03-31' },
      ],
      [
        'action_result',
        'action area and result failure',
        { action: 'document.', result: 'failure' },
      ],
    ] as const;
    const medians: number[] = [];
    for (const [key, label, filter] of filters) {
      const first = await api(listAuditEvents, { query: { ...filter, limit: 50 } });
      if (first.events.length === 0) throw new BenchFailure(`the ${label} filter found nothing`);
      const times: number[] = [];
      for (let run = 0; run < QUERY_RUNS; run += 1) {
        const began = performance.now();
        const page = await api(listAuditEvents, { query: { ...filter, limit: 50 } });
        // The next page, by cursor, as the table pages.
        if (page.nextCursor !== null)
          await api(listAuditEvents, { query: { ...filter, limit: 50, before: page.nextCursor } });
        times.push((performance.now() - began) / (page.nextCursor !== null ? 2 : 1));
      }
      medians.push(median(times));
      report.add(
        `query_1m_${key}_ms`,
        `a page of 50 over ${QUERY_EVENTS.toLocaleString('en')} events: ${label} (median of ${QUERY_RUNS}, HTTP included)`,
        median(times),
        'ms',
      );
    }
    report.add(
      'query_1m_ms',
      `a filtered page over ${QUERY_EVENTS.toLocaleString('en')} events, the slowest of the filters above`,
      Math.max(...medians),
      'ms',
      { summary: true },
    );
    report.note(
      `query: rows past the first ${count.toLocaleString('en')} were bulk-inserted with placeholder hashes; the list query does not read them, verification would refuse them.`,
    );
  }
}

export const auditGroup: BenchGroup = {
  name: 'audit',
  title:
    'Audit log: appending, verifying in Chromium, and the filtered table over 1,000,000 events',
  parts: {
    append: `${APPEND_EVENTS.toLocaleString('en')} events through recordAuditEvent (minutes)`,
    verify: `verify them in Chromium (fills the log first when append is not picked)`,
    query: `a filtered page over ${QUERY_EVENTS.toLocaleString('en')} events (bulk-inserted)`,
  },
  run,
};
