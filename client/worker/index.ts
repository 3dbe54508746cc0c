// Starts the crypto Web Worker and wraps it with comlink; the page talks to the worker only through this.
import { wrap } from 'comlink';
import type { CryptoWorkerApi, SelfTestReport } from './crypto.worker';

export type { CryptoWorkerApi, SelfTestReport } from './crypto.worker';
export type { WorkerOutcome, WorkerFailure } from './outcome';
export type {
  SignedIn,
  SessionInfo,
  SetupOutcome,
  SetupRequest,
  SignupRequest,
  RecoverRequest,
  Person,
  EscrowStatus,
  EscrowHolderView,
  OwnKeys,
  PeopleList,
  ProgressStep,
} from './account-operations';
export type { KeyStatus, TrustWarning } from './trust';
export type { EventCheckState, HeadProblem, HistoryChecks, VerifiedWitness, WitnessedHeadStatus } from './history-operations';
export type { AuditEventDetail, AuditExportView, AuditVerificationView, HeadView, InclusionStatus, VerifyAuditProgress, WitnessStatus, WitnessView } from './audit-operations';
export type { CheckedReset, EscrowHolderInfo, EscrowUseView, MyEscrow, ResetLink, ResetStep, StartedReset } from './reset-operations';

/** The page's view of the worker: async calls in (arguments are cloned), never key material out. */
export type CryptoEngineApi = {
  readonly [K in keyof CryptoWorkerApi]: (
    ...args: Parameters<CryptoWorkerApi[K]>
  ) => Promise<Awaited<ReturnType<CryptoWorkerApi[K]>>>;
};

/** The least an engine must offer the vault session: the start-up self-test. */
export interface SelfTestingApi {
  selfTest(): Promise<SelfTestReport>;
}

export interface CryptoEngine<Api extends SelfTestingApi = CryptoEngineApi> {
  readonly api: Api;
  /**
   * Rejects when the worker fails to load or crashes (for example when CSP blocks its script or its
   * WASM) or is terminated. Calls still in flight never answer then: race them against this.
   */
  readonly failed: Promise<never>;
  /** Ends the worker at once; every key inside it is gone with it. */
  terminate(): void;
}

export function startCryptoEngine(): CryptoEngine {
  const worker = new Worker(new URL('./crypto.worker.ts', import.meta.url), {
    type: 'module',
    name: 'kluis-crypto',
  });
  let stop: (reason: Error) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    stop = reject;
  });
  // Observed by whoever races against it; never an unhandled rejection.
  failed.catch(() => undefined);
  const fail = (event: Event): void => {
    const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : '';
    stop(new Error(`the crypto worker stopped${detail}`));
  };
  worker.addEventListener('error', fail, { once: true });
  worker.addEventListener('messageerror', fail, { once: true });
  return {
    api: wrap<CryptoWorkerApi>(worker),
    failed,
    terminate: () => {
      worker.terminate();
      stop(new Error('the crypto worker was terminated'));
    },
  };
}
