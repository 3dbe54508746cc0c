// The in-memory vault session: which crypto worker holds the keys, whether it is unlocked, and lock().
import type { CryptoEngine, CryptoEngineApi, SelfTestingApi } from '../worker';

/**
 * WARNING: the page never holds key material. Keys live only inside the crypto worker; the page
 * knows just `locked` or `unlocked`. Locking terminates the worker, which drops every key at once,
 * and starts a fresh, empty one. Nothing here is ever persisted (no Web Storage, no IndexedDB, no
 * query cache).
 */
export type VaultState = 'locked' | 'unlocked';

export type EngineStatus =
  | { readonly kind: 'starting' }
  | { readonly kind: 'ready'; readonly selfTestMs: number }
  | { readonly kind: 'failed'; readonly reason: string };

export interface VaultSnapshot {
  readonly state: VaultState;
  readonly engine: EngineStatus;
}

export interface VaultSessionOptions {
  /** How long a new worker may take to pass its self-test before it counts as failed. */
  readonly selfTestTimeoutMs?: number;
}

/** Thrown to a caller whose operation was cut off because the vault was locked meanwhile. */
export class VaultLockedError extends Error {
  override readonly name = 'VaultLockedError';
  constructor() {
    super('the vault was locked while the operation was running');
  }
}

export class VaultSession<Api extends SelfTestingApi = CryptoEngineApi> {
  readonly #startEngine: () => CryptoEngine<Api>;
  readonly #selfTestTimeoutMs: number;
  readonly #listeners = new Set<() => void>();
  #engine: CryptoEngine<Api>;
  /** Incremented on every lock: work started under an older generation must not change the state. */
  #generation = 0;
  #snapshot: VaultSnapshot = { state: 'locked', engine: { kind: 'starting' } };
  #disposed = false;

  constructor(startEngine: () => CryptoEngine<Api>, options: VaultSessionOptions = {}) {
    this.#startEngine = startEngine;
    this.#selfTestTimeoutMs = options.selfTestTimeoutMs ?? 20_000;
    this.#engine = startEngine();
    void this.#checkEngine(this.#generation);
  }

  getSnapshot = (): VaultSnapshot => this.#snapshot;

  /** For React's useSyncExternalStore; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /**
   * Runs an operation in the current worker and returns its result. If the vault is locked (or the
   * worker dies) while it runs, rejects with VaultLockedError: the worker that held its keys is gone.
   */
  async run<T>(operation: (api: Api) => Promise<T>): Promise<T> {
    const generation = this.#generation;
    const engine = this.#engine;
    try {
      return await Promise.race([operation(engine.api), engine.failed]);
    } catch (error) {
      if (generation !== this.#generation) throw new VaultLockedError();
      throw error;
    }
  }

  /**
   * Runs an operation that installs keys inside the worker (a login, an unlock); when it resolves
   * and no lock happened meanwhile, the vault is unlocked. The operation must return nothing secret.
   */
  async unlock(operation: (api: Api) => Promise<void>): Promise<void> {
    const generation = this.#generation;
    await this.run(operation);
    if (generation !== this.#generation) throw new VaultLockedError();
    this.#update({ ...this.#snapshot, state: 'unlocked' });
  }

  /** Drops every key: terminates the worker and starts an empty one. Safe to call when locked. */
  lock = (): void => {
    if (this.#disposed) return;
    this.#generation += 1;
    this.#engine.terminate();
    this.#engine = this.#startEngine();
    this.#update({ state: 'locked', engine: { kind: 'starting' } });
    void this.#checkEngine(this.#generation);
  };

  /** Ends the session for good (page teardown, tests). */
  dispose(): void {
    this.#disposed = true;
    this.#generation += 1;
    this.#engine.terminate();
    this.#listeners.clear();
  }

  async #checkEngine(generation: number): Promise<void> {
    let status: EngineStatus;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error('the self-test timed out')),
        this.#selfTestTimeoutMs,
      );
    });
    try {
      const report = await Promise.race([
        this.#engine.api.selfTest(),
        this.#engine.failed,
        timeout,
      ]);
      status = { kind: 'ready', selfTestMs: report.durationMs };
    } catch (error) {
      status = { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
    if (generation !== this.#generation) return;
    this.#update({ ...this.#snapshot, engine: status });
  }

  #update(snapshot: VaultSnapshot): void {
    this.#snapshot = snapshot;
    for (const listener of this.#listeners) listener();
  }
}
