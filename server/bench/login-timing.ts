// Bench part "server:timing" (issue 19): does the server's time for a login probe tell real addresses from unknown ones?
import { randomBytes } from 'node:crypto';
import { startOpaqueLogin } from '../../shared/crypto';
import { createBenchOrganisation } from './bench-organisation';
import { BenchFailure, type BenchContext } from './harness';
import { kluisLogin } from './login-load';
import { median } from './measure';
import { type ServerProcess, startKluisProcess } from './server-process';

/** Measured rounds; each round probes every address with every kind once, in a shuffled order. */
const ROUNDS = 400;
/** Rounds before measuring (connections, JIT, the SQLite page cache), not counted. */
const WARMUP_ROUNDS = 20;
/** The target: medians of real (and locked) addresses within 2 ms of unknown ones. */
export const TIMING_TARGET_MS = 2;
/** The bench server's KLUIS_LOGIN_LIMIT_PER_IP: every probe comes from 127.0.0.1. */
const LIMIT_PER_IP = 1_000_000;
/** The organisation's default lockout (SECURITY.md 5.5): 3 counted failures lock an account. */
const DEFAULT_MAX_FAILURES = 3;
/** A KE1 of the right size whose points do not decode (all bits set: above the field prime). */
const MALFORMED_KE1 = '_'.repeat(128);
/** A KE3 of the right size that no state verifies (64 zero bytes). */
const GARBAGE_KE3 = 'A'.repeat(86);

/** `control`: more unknown addresses, probed like the others: their gap to `unknown` is the bench's noise floor. */
type Address = 'real' | 'locked' | 'unknown' | 'control';
/** What an attacker can send without a password: each costs them nothing but a request. */
type Kind = 'malformed_start' | 'start_garbage_finish' | 'start_abort';
const KINDS: readonly Kind[] = ['malformed_start', 'start_garbage_finish', 'start_abort'];
const ADDRESSES: readonly Address[] = ['real', 'locked', 'unknown', 'control'];
/** Probes that count a failure against a real unlocked account (a well-formed start). */
const COUNTED: ReadonlySet<Kind> = new Set(['start_garbage_finish', 'start_abort']);

interface Probe {
  /** Round-trip time of each request of the probe, in order (start, then finish or abort). */
  readonly stepsMs: readonly number[];
}

/** POSTs JSON as the web app does (our Origin); returns the status and the round-trip time, body read. */
async function post(server: ServerProcess, path: string, body: unknown): Promise<{ status: number; ms: number; json: unknown }> {
  const started = performance.now();
  const response = await fetch(server.baseUrl + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: server.baseUrl },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : null;
  return { status: response.status, ms: performance.now() - started, json };
}

function expectStatus(what: string, got: { status: number; json: unknown }, status: number): void {
  if (got.status !== status) throw new BenchFailure(`${what}: HTTP ${got.status} (expected ${status}): ${JSON.stringify(got.json)}`);
}

async function probe(server: ServerProcess, kind: Kind, email: string): Promise<Probe> {
  if (kind === 'malformed_start') {
    const start = await post(server, '/api/auth/login/start', { email, startLoginRequest: MALFORMED_KE1 });
    expectStatus(`malformed start for ${email}`, start, 400);
    return { stepsMs: [start.ms] };
  }
  // A real KE1, made before the clock starts (the client's work is not the server's time).
  const { request } = await startOpaqueLogin(`guess-${randomBytes(6).toString('hex')}`);
  const start = await post(server, '/api/auth/login/start', { email, startLoginRequest: request });
  expectStatus(`start for ${email}`, start, 200);
  const { loginId } = start.json as { loginId: string };
  if (kind === 'start_garbage_finish') {
    const finish = await post(server, '/api/auth/login/finish', { loginId, finishLoginRequest: GARBAGE_KE3 });
    expectStatus(`garbage finish for ${email}`, finish, 401);
    return { stepsMs: [start.ms, finish.ms] };
  }
  const abort = await post(server, '/api/auth/login/abort', { loginId });
  expectStatus(`abort for ${email}`, abort, 204);
  return { stepsMs: [start.ms, abort.ms] };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomBytes(4).readUInt32LE() % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Starts its own server, signs up two accounts, locks one with three wrong guesses, then probes the
 * real, the locked and unknown addresses in shuffled interleaved rounds with each kind of free
 * probe, timing each request's round trip on loopback. The real account is kept unlocked by a
 * correct login (untimed) whenever its counted failures reach maxFailures - 1.
 */
export async function measureLoginTiming({ report, cleanup, progress, repoRoot }: BenchContext): Promise<void> {
  progress('login timing: starting its own real server and signing up two accounts (RSA-4096 each)');
  const server = await startKluisProcess({ repoRoot, cleanup, env: { KLUIS_LOGIN_LIMIT_PER_IP: String(LIMIT_PER_IP) } });
  const organisation = await createBenchOrganisation(server, 2);
  const [real, locked] = organisation.accounts as [(typeof organisation.accounts)[0], (typeof organisation.accounts)[0]];
  const loginCorrectly = kluisLogin(server.baseUrl, organisation.opaqueServerPublicKey);
  for (let i = 0; i < DEFAULT_MAX_FAILURES; i++) await probe(server, 'start_garbage_finish', locked.email);
  const lockedStart = await startOpaqueLogin(locked.password);
  const check = await post(server, '/api/auth/login/start', { email: locked.email, startLoginRequest: lockedStart.request });
  expectStatus('start for the locked account', check, 200);

  const steps = {} as Record<Kind, Record<Address, number[][]>>;
  for (const kind of KINDS) steps[kind] = { real: [], locked: [], unknown: [], control: [] };
  let realFailures = 0;
  progress(`login timing: ${WARMUP_ROUNDS} warm-up + ${ROUNDS} measured rounds of ${KINDS.length} kinds x ${ADDRESSES.length} addresses, shuffled`);
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    const order = shuffle(KINDS.flatMap((kind) => ADDRESSES.map((address) => ({ kind, address }))));
    for (const { kind, address } of order) {
      if (address === 'real' && COUNTED.has(kind) && realFailures >= DEFAULT_MAX_FAILURES - 1) {
        await loginCorrectly(real);
        realFailures = 0;
      }
      const email = address === 'real' ? real.email : address === 'locked' ? locked.email : `${address === 'unknown' ? 'nobody' : 'no-one'}-${round}-${kind}@kluis.test`;
      const result = await probe(server, kind, email);
      if (address === 'real' && COUNTED.has(kind)) realFailures++;
      if (round >= WARMUP_ROUNDS) steps[kind][address].push([...result.stepsMs]);
    }
  }
  // The locked account must still be locked, or its probes measured something else.
  const lockedAgain = await startOpaqueLogin(locked.password);
  const stillLocked = await post(server, '/api/auth/login/start', { email: locked.email, startLoginRequest: lockedAgain.request });
  expectStatus('start for the locked account after the probes', stillLocked, 200);
  await loginCorrectly(locked).then(
    () => {
      throw new BenchFailure('the locked account signed in: the lock ran out during the bench');
    },
    (error: unknown) => (error instanceof BenchFailure ? Promise.reject(error) : undefined),
  );

  let worst = 0;
  let worstLocked = 0;
  let noise = 0;
  const medians: string[] = [];
  for (const kind of KINDS) {
    const total = (address: Address) => median(steps[kind][address].map((s) => s.reduce((a, b) => a + b, 0)));
    const stepCount = steps[kind].real[0]!.length;
    for (const address of ADDRESSES) {
      report.add(`login_timing_${kind}_${address}_ms`, `${kind.replaceAll('_', ' ')}, ${address} address: median round trip`, total(address), 'ms');
    }
    // Per request as well as the whole probe: a gap in one step could hide behind the other's noise.
    const gaps = (address: Address) =>
      Math.max(
        Math.abs(total(address) - total('unknown')),
        ...Array.from({ length: stepCount }, (_, i) =>
          Math.abs(median(steps[kind][address].map((s) => s[i]!)) - median(steps[kind].unknown.map((s) => s[i]!))),
        ),
      );
    const realGap = gaps('real');
    const lockedGap = gaps('locked');
    report.add(`login_timing_${kind}_gap_ms`, `${kind.replaceAll('_', ' ')}: |median real - median unknown| (worst request or whole probe)`, realGap, 'ms');
    report.add(`login_timing_${kind}_locked_gap_ms`, `${kind.replaceAll('_', ' ')}: |median locked - median unknown|`, lockedGap, 'ms');
    const controlGap = gaps('control');
    report.add(`login_timing_${kind}_noise_ms`, `${kind.replaceAll('_', ' ')}: |median control - median unknown| (the same work)`, controlGap, 'ms');
    noise = Math.max(noise, controlGap);
    worst = Math.max(worst, realGap);
    worstLocked = Math.max(worstLocked, lockedGap);
    medians.push(`${kind}: real ${total('real').toFixed(2)} / locked ${total('locked').toFixed(2)} / unknown ${total('unknown').toFixed(2)} / control ${total('control').toFixed(2)} ms`);
  }
  report.add('login_timing_gap_ms', 'login timing: worst |median real - median unknown| over the kinds of probe', worst, 'ms', { summary: true });
  report.add('login_timing_locked_gap_ms', 'login timing: worst |median locked - median unknown| over the kinds', worstLocked, 'ms', { summary: true });
  report.add('login_timing_noise_ms', 'noise floor: worst |median control - median unknown|, two sets of unknown addresses', noise, 'ms', { summary: true });
  report.add('login_timing_target_ms', 'target for login_timing_gap_ms and login_timing_locked_gap_ms', TIMING_TARGET_MS, 'ms');
  report.add(
    'login_timing_meets_target',
    `both gaps < ${TIMING_TARGET_MS} ms`,
    worst < TIMING_TARGET_MS && worstLocked < TIMING_TARGET_MS,
    '',
    { summary: true },
  );
  report.add('login_timing_probes', 'measured probes per kind and address', ROUNDS, '');
  report.note(`Login timing medians (HTTP round trip on loopback, ${ROUNDS} probes each): ${medians.join('; ')}.`);
}
