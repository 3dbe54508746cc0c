// Vault session lifecycle: lock terminates the worker and starts a fresh one; stale work cannot unlock.
import { describe, expect, it } from 'vitest';
import type { CryptoEngine, SelfTestReport } from '../worker';
import { VaultLockedError, VaultSession, type VaultSnapshot } from './vault-session';

/** A stand-in worker: the lifecycle is under test here; the real worker runs in e2e/smoke.spec.ts. */
interface FakeApi {
  selfTest(): Promise<SelfTestReport>;
}

class FakeEngine implements CryptoEngine<FakeApi> {
  terminated = false;
  readonly failed: Promise<never>;
  readonly api: FakeApi;
  #stop: (reason: Error) => void = () => undefined;

  constructor(selfTest: () => Promise<SelfTestReport>) {
    this.failed = new Promise<never>((_resolve, reject) => {
      this.#stop = reject;
    });
    this.failed.catch(() => undefined);
    this.api = { selfTest };
  }

  terminate(): void {
    this.terminated = true;
    this.#stop(new Error('terminated'));
  }
}

function setUp(
  selfTest: () => Promise<SelfTestReport> = () =>
    Promise.resolve({ durationMs: 7, checks: ['ok'] }),
) {
  const engines: FakeEngine[] = [];
  const session = new VaultSession<FakeApi>(
    () => {
      const engine = new FakeEngine(selfTest);
      engines.push(engine);
      return engine;
    },
    { selfTestTimeoutMs: 200 },
  );
  return { session, engines };
}

function nextChange(session: VaultSession<FakeApi>): Promise<VaultSnapshot> {
  return new Promise((resolve) => {
    const unsubscribe = session.subscribe(() => {
      unsubscribe();
      resolve(session.getSnapshot());
    });
  });
}

describe('VaultSession', () => {
  it('starts locked, then reports the engine ready after its self-test', async () => {
    const { session } = setUp();
    expect(session.getSnapshot()).toEqual({ state: 'locked', engine: { kind: 'starting' } });
    expect(await nextChange(session)).toEqual({
      state: 'locked',
      engine: { kind: 'ready', selfTestMs: 7 },
    });
    session.dispose();
  });

  it('reports a failing or hanging self-test as failed', async () => {
    const failing = setUp(() =>
      Promise.reject(new Error('encryption self-test failed: wasm-sha256')),
    );
    expect((await nextChange(failing.session)).engine).toEqual({
      kind: 'failed',
      reason: 'encryption self-test failed: wasm-sha256',
    });
    failing.session.dispose();

    const hanging = setUp(() => new Promise<never>(() => undefined));
    expect((await nextChange(hanging.session)).engine).toEqual({
      kind: 'failed',
      reason: 'the self-test timed out',
    });
    hanging.session.dispose();
  });

  it('unlocks only through an operation in the worker, and lock terminates that worker for a fresh one', async () => {
    const { session, engines } = setUp();
    await nextChange(session);
    await session.unlock(() => Promise.resolve());
    expect(session.getSnapshot().state).toBe('unlocked');

    session.lock();
    expect(engines).toHaveLength(2);
    expect(engines[0]?.terminated).toBe(true);
    expect(engines[1]?.terminated).toBe(false);
    expect(session.getSnapshot()).toEqual({ state: 'locked', engine: { kind: 'starting' } });
    expect((await nextChange(session)).engine.kind).toBe('ready');
    session.dispose();
    expect(engines[1]?.terminated).toBe(true);
  });

  it('does not unlock when a lock happens while the unlock operation runs', async () => {
    const { session } = setUp();
    await nextChange(session);
    let finish: () => void = () => undefined;
    const unlocking = session.unlock(() => new Promise<void>((resolve) => (finish = resolve)));
    session.lock();
    finish();
    await expect(unlocking).rejects.toBeInstanceOf(VaultLockedError);
    expect(session.getSnapshot().state).toBe('locked');
    session.dispose();
  });

  it('cuts off an operation whose worker was terminated instead of hanging', async () => {
    const { session } = setUp();
    const running = session.run(() => new Promise<never>(() => undefined));
    session.lock();
    await expect(running).rejects.toBeInstanceOf(VaultLockedError);
    session.dispose();
  });
});
