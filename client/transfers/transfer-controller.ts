// The page's transfer queue: uploads one file at a time, streamed downloads, previews; progress, speed and time left; cancel.
import { proxy, transfer } from 'comlink';
import { ApiError, type ApiErrorCode, isApiError } from '../../shared/api/client';
import type { WorkerOutcome } from '../worker/outcome';
import type { DocumentView, TransferOperations, TransferProgress, UploadTarget, VersionView } from '../worker/space-types';
import { downloadWorker, saveBlob, streamDownload } from './streamed-download';

/** The transfer operations as the crypto worker exposes them: each answers with a WorkerOutcome. */
export type TransferEngineApi = {
  readonly [K in keyof TransferOperations]: (
    ...args: Parameters<TransferOperations[K]>
  ) => Promise<WorkerOutcome<Awaited<ReturnType<TransferOperations[K]>>>>;
};

/** Runs one operation on the unlocked crypto worker; failures arrive as ApiError (account.run). */
export type RunTransferOperation = <T>(operation: (api: TransferEngineApi) => Promise<WorkerOutcome<T>>) => Promise<T>;

/** Largest file decrypted into memory: previews, and downloads where no service worker exists (measured in Chromium: 256 MiB works, 1 GiB fails). */
export const BLOB_LIMIT_BYTES = 256 * 1024 * 1024;
/** Speed is measured over this much recent time. */
const SPEED_WINDOW_MS = 5000;

export type TransferState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** One row of the transfers list. Sizes are plaintext bytes. */
export interface TransferRow {
  readonly id: string;
  /** The file name as the user knows it. */
  readonly name: string;
  readonly direction: 'upload' | 'download';
  readonly state: TransferState;
  /** What the worker is doing while running; null otherwise. */
  readonly phase: TransferProgress['phase'] | null;
  readonly doneBytes: number;
  readonly totalBytes: number;
  /** Whole percent, 0–100. */
  readonly percent: number;
  /** Over the last few seconds; null while unknown. */
  readonly bytesPerSecond: number | null;
  /** At the current speed, rounded up; null while unknown. */
  readonly secondsLeft: number | null;
  /** The stable code of a failure (file_too_large, storage_full, file_damaged, cancelled…); null unless failed or cancelled. */
  readonly errorCode: ApiErrorCode | null;
  readonly error: ApiError | null;
  /** Uploads: where the file goes, and the stored document once done. */
  readonly target: UploadTarget | null;
  readonly document: DocumentView | null;
}

/** The version a download or preview is for: VersionView has all of it. */
export type VersionRef = Pick<VersionView, 'id' | 'documentId' | 'name' | 'size'>;

export interface TransferControllerOptions {
  readonly run: RunTransferOperation;
  /** The download service worker; defaults to registering client/download-sw.ts. Tests pass their own. */
  readonly downloadWorker?: () => Promise<ServiceWorker | null>;
  readonly now?: () => number;
}

interface Entry {
  row: TransferRow;
  readonly file?: File;
  readonly samples: { at: number; bytes: number }[];
  readonly abort: AbortController;
  settle?: { resolve: (document: DocumentView) => void; reject: (error: ApiError) => void };
}

function percentOf(done: number, total: number): number {
  if (total <= 0) return 100;
  return Math.min(100, Math.max(0, Math.floor((done / total) * 100)));
}

function cancelledError(): ApiError {
  return new ApiError({ status: 0, code: 'cancelled', message: 'The transfer was cancelled.' });
}

function asApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError({ status: 0, code: 'crypto_failed', message: 'The transfer could not be completed.', cause: error });
}

/**
 * An external store for React's useSyncExternalStore (see useTransfers in ./transfers-context.tsx).
 * Uploads run one file at a time in queue order; downloads start at once (each is one stream).
 * WARNING: rows hold file names (plaintext the user may see) and nothing secret; the whole store is
 * dropped with the account on lock (TransfersProvider), and every transfer running then is cancelled.
 */
export class TransferController {
  #run: RunTransferOperation;
  readonly #downloadWorker: () => Promise<ServiceWorker | null>;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<() => void>();
  #rows: readonly TransferRow[] = [];
  #pumping = false;
  #disposed = false;

  constructor(options: TransferControllerOptions) {
    this.#run = options.run;
    this.#downloadWorker = options.downloadWorker ?? downloadWorker;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The account's runner changes with it (TransfersProvider); transfers already running keep theirs. */
  setRunner(run: RunTransferOperation): void {
    this.#run = run;
  }

  /** For useSyncExternalStore. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Every transfer, oldest first; a new array after every change. */
  getSnapshot = (): readonly TransferRow[] => this.#rows;

  /** Queues files for upload to `target` (one at a time); returns their transfer ids. */
  enqueueUploads = (files: readonly File[], target: UploadTarget): string[] => this.#enqueue(files, target).map((entry) => entry.row.id);

  /** Queues like enqueueUploads; resolves with the documents once all are stored, rejects with the first failure (ApiError). */
  uploadAndWait = (files: readonly File[], target: UploadTarget): Promise<DocumentView[]> =>
    Promise.all(
      this.#enqueue(files, target).map(
        (entry) =>
          new Promise<DocumentView>((resolve, reject) => {
            entry.settle = { resolve, reject };
          }),
      ),
    );

  /**
   * Downloads a version to the user's disk: streamed through the download service worker, or, where
   * there is none, decrypted into memory up to BLOB_LIMIT_BYTES (else `download_unsupported`).
   * Returns the transfer id; the row reports progress and the outcome.
   */
  startDownload = (version: VersionRef): string => {
    const entry = this.#add({ name: version.name ?? version.id, direction: 'download', totalBytes: version.size ?? 0, target: null });
    void this.#download(entry, version);
    return entry.row.id;
  };

  /**
   * The decrypted content of a version as a Blob of its MIME type, for previews (PDFs, images): not
   * listed as a transfer. Rejects with ApiError (`file_damaged`, `download_unsupported` above BLOB_LIMIT_BYTES…).
   */
  previewBlob = async (version: Pick<VersionView, 'id' | 'documentId' | 'size'>, signal?: AbortSignal): Promise<Blob> => {
    if ((version.size ?? 0) > BLOB_LIMIT_BYTES) throw new ApiError({ status: 0, code: 'download_unsupported', message: 'This file is too large to preview.' });
    const transferId = crypto.randomUUID();
    const onAbort = () => void this.#run((api) => api.cancelTransfer(transferId)).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#run((api) => api.decryptToBlob(transferId, version.id, version.documentId, proxy(() => undefined)));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  /** Cancels one transfer: a queued one never starts, a running one stops (its upload is abandoned on the server). */
  cancel = (id: string): void => {
    const entry = this.#entries.get(id);
    if (!entry || (entry.row.state !== 'queued' && entry.row.state !== 'running')) return;
    if (entry.row.state === 'queued') {
      this.#finish(entry, { state: 'cancelled', error: cancelledError() });
      return;
    }
    // A streamed download hears the abort over its status port; work inside the crypto worker
    // (uploads, in-memory decryption) is cancelled there. Cancelling an id the worker does not run is harmless.
    entry.abort.abort();
    void this.#run((api) => api.cancelTransfer(id)).catch(() => undefined);
  };

  /** Cancels every queued and running transfer. */
  cancelAll = (): void => {
    // Queued first, so the pump does not start one of them as the running one ends.
    const entries = [...this.#entries.values()].sort((a, b) => Number(b.row.state === 'queued') - Number(a.row.state === 'queued'));
    for (const entry of entries) this.cancel(entry.row.id);
  };

  /** Removes finished, failed and cancelled rows. */
  clearFinished = (): void => {
    for (const [id, entry] of this.#entries) {
      if (entry.row.state !== 'queued' && entry.row.state !== 'running') this.#entries.delete(id);
    }
    this.#publish();
  };

  /** Cancels everything and forgets every row (their file names are plaintext): lock and sign-out. */
  reset(): void {
    this.cancelAll();
    for (const entry of this.#entries.values()) entry.settle?.reject(cancelledError());
    this.#entries.clear();
    this.#publish();
  }

  /** Cancels everything and stops reporting (unmount). */
  dispose(): void {
    this.cancelAll();
    this.#disposed = true;
    this.#listeners.clear();
  }

  #add(init: { name: string; direction: TransferRow['direction']; totalBytes: number; target: UploadTarget | null }, file?: File): Entry {
    const row: TransferRow = {
      id: crypto.randomUUID(),
      name: init.name,
      direction: init.direction,
      state: 'queued',
      phase: null,
      doneBytes: 0,
      totalBytes: init.totalBytes,
      percent: 0,
      bytesPerSecond: null,
      secondsLeft: null,
      errorCode: null,
      error: null,
      target: init.target,
      document: null,
    };
    const entry: Entry = { row, samples: [], abort: new AbortController(), ...(file && { file }) };
    this.#entries.set(row.id, entry);
    this.#publish();
    return entry;
  }

  #enqueue(files: readonly File[], target: UploadTarget): Entry[] {
    const entries = files.map((file) => this.#add({ name: file.name, direction: 'upload', totalBytes: file.size, target }, file));
    void this.#pump();
    return entries;
  }

  #update(entry: Entry, patch: Partial<TransferRow>): void {
    entry.row = { ...entry.row, ...patch };
    this.#publish();
  }

  #progress(entry: Entry, phase: TransferRow['phase'], doneBytes: number, totalBytes: number): void {
    if (entry.row.state !== 'running') return;
    const now = this.#now();
    const samples = entry.samples;
    samples.push({ at: now, bytes: doneBytes });
    while (samples.length > 2 && now - samples[0]!.at > SPEED_WINDOW_MS) samples.shift();
    const first = samples[0]!;
    const seconds = (now - first.at) / 1000;
    const bytesPerSecond = seconds >= 0.5 && doneBytes > first.bytes ? (doneBytes - first.bytes) / seconds : null;
    this.#update(entry, {
      phase,
      doneBytes,
      totalBytes,
      percent: percentOf(doneBytes, totalBytes),
      bytesPerSecond,
      secondsLeft: bytesPerSecond ? Math.ceil(Math.max(0, totalBytes - doneBytes) / bytesPerSecond) : null,
    });
  }

  #finish(entry: Entry, outcome: { state: 'done'; document?: DocumentView } | { state: 'failed' | 'cancelled'; error: ApiError }): void {
    if (outcome.state === 'done') {
      this.#update(entry, {
        state: 'done',
        phase: null,
        doneBytes: entry.row.totalBytes,
        percent: 100,
        secondsLeft: 0,
        document: outcome.document ?? null,
      });
      if (outcome.document) entry.settle?.resolve(outcome.document);
    } else {
      const state = outcome.error.code === 'cancelled' ? 'cancelled' : outcome.state;
      this.#update(entry, { state, phase: null, bytesPerSecond: null, secondsLeft: null, errorCode: outcome.error.code, error: outcome.error });
      entry.settle?.reject(outcome.error);
    }
    entry.settle = undefined;
  }

  /** Runs queued uploads one after another. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        const next = [...this.#entries.values()].find((e) => e.row.direction === 'upload' && e.row.state === 'queued');
        if (!next?.file || this.#disposed) return;
        await this.#upload(next, next.file);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #upload(entry: Entry, file: File): Promise<void> {
    const { id, target } = entry.row;
    if (!target) return;
    this.#update(entry, { state: 'running', phase: 'preparing' });
    entry.samples.push({ at: this.#now(), bytes: 0 });
    try {
      const onProgress = proxy((p: TransferProgress) => this.#progress(entry, p.phase, p.doneBytes, p.totalBytes));
      const document = await this.#run((api) => api.uploadFile(id, file, target, onProgress));
      this.#finish(entry, { state: 'done', document });
    } catch (error) {
      const failure = entry.abort.signal.aborted ? cancelledError() : asApiError(error);
      this.#finish(entry, { state: 'failed', error: failure });
    }
  }

  async #download(entry: Entry, version: VersionRef): Promise<void> {
    const { id } = entry.row;
    const signal = entry.abort.signal;
    this.#update(entry, { state: 'running', phase: 'preparing' });
    entry.samples.push({ at: this.#now(), bytes: 0 });
    try {
      const worker = await this.#downloadWorker();
      if (signal.aborted) throw cancelledError();
      if (worker) {
        await streamDownload({
          worker,
          signal,
          prepare: (port) => this.#run((api) => api.prepareStreamedDownload(version.id, version.documentId, transfer(port, [port]))),
          onProgress: (done, total) => this.#progress(entry, 'decrypting', done, total),
        });
      } else {
        if ((version.size ?? 0) > BLOB_LIMIT_BYTES) {
          throw new ApiError({ status: 0, code: 'download_unsupported', message: 'This browser cannot download a file this large.' });
        }
        const onProgress = proxy((p: TransferProgress) => this.#progress(entry, p.phase, p.doneBytes, p.totalBytes));
        const blob = await this.#run((api) => api.decryptToBlob(id, version.id, version.documentId, onProgress));
        if (signal.aborted) throw cancelledError();
        saveBlob(blob, version.name ?? 'download');
      }
      this.#finish(entry, { state: 'done' });
    } catch (error) {
      const failure = signal.aborted ? cancelledError() : asApiError(error);
      this.#finish(entry, { state: 'failed', error: failure });
    }
  }

  #publish(): void {
    if (this.#disposed) return;
    this.#rows = [...this.#entries.values()].map((entry) => entry.row);
    for (const listener of this.#listeners) listener();
  }
}
