// The crypto worker's transfer engine: streaming encrypted uploads in parts, decryption to a Blob, and the key hand-off to the download service worker.
import {
  type DocumentSummary,
  addVersion,
  completeUpload,
  createDocument,
  createUpload,
  getDocument,
  PART_DIGEST_HEADER,
  formatContentDigest,
  partsDigestInput,
  spaceUploadPurpose,
  uploadPartPath,
  versionContentPath,
  abortUpload,
  readErrorAnswer,
} from '../../shared/api';
import {
  type FileContext,
  type SecretKey,
  KluisCryptoError,
  encryptBlobParts,
  decryptFileStream,
  encryptedFileSize,
  sha256,
  toHex,
} from '../../shared/crypto';
import { documentCreateDraft, versionAddDraft } from '../../shared/flows/space-entries';
import { recordDigest } from '../../shared/flows/space-history';
import {
  type DocumentMetadata,
  newClientId,
  openFileKey,
  openVersionMetadata,
  prepareVersion,
} from '../../shared/flows/spaces';
import { concatBytes } from '../../shared/crypto/bytes';
import { ApiError, type CallApi } from '../../shared/api/client';
import { FileDamagedError, TransferCancelledError, UnsignedItemError } from './outcome';
import { openPartSpool } from './part-spool';
import type { SpaceVerifier } from './space-verification';
import { documentViewOf, versionViewOf } from './space-views';
import type {
  DocumentView,
  ProgressCallback,
  TransferOperations,
  TransferProgress,
  UploadTarget,
} from './space-types';

const MiB = 1024 * 1024;

/**
 * Measured in headless Chromium on the 2-core machines (README "Benchmarks", `npm run bench`):
 * 8 MiB parts with 3 in flight move as fast as 16 MiB parts and as 4 in flight, while keeping at
 * most ~4 parts (32 MiB) of ciphertext in memory; 4 MiB parts pay a request's overhead twice as often.
 */
export const DEFAULT_PART_BYTES = 8 * MiB;
export const DEFAULT_PARTS_IN_FLIGHT = 3;

export interface TransferTuning {
  /** Ciphertext bytes per part (MIN_PART_BYTES..MAX_PART_BYTES of shared/api/uploads.ts). */
  readonly partSize: number;
  /** Parts PUT at the same time. */
  readonly partsInFlight: number;
  /** Tries per request before its error is reported (network errors, 5xx, upload_busy). */
  readonly maxAttempts: number;
  /** First back-off delay; doubled per retry, capped at maxDelayMs, then jittered (50–100 %). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Least time between two progress reports (the last one is always sent). */
  readonly progressIntervalMs: number;
}

export const DEFAULT_TUNING: TransferTuning = {
  partSize: DEFAULT_PART_BYTES,
  partsInFlight: DEFAULT_PARTS_IN_FLIGHT,
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  progressIntervalMs: 250,
};

export interface TransferDeps {
  /** JSON endpoints (same origin in the browser, a cookie-keeping client in Node tests). */
  readonly api: CallApi;
  /** Raw requests: part bodies and version content. The global fetch when omitted. */
  readonly fetch?: typeof fetch;
  /** Origin raw requests go to; '' (same origin) in the browser. */
  readonly baseUrl?: string;
  /** Trusted space keys, verified histories and signed writes (client/worker/space-operations.ts). */
  readonly spaces: TransferSpaces;
  readonly tuning?: Partial<TransferTuning>;
}

/** What the transfer engine needs of the space operations. */
export interface TransferSpaces {
  /** The trusted key of a space (refused while nothing vouches for it). */
  spaceKeyOf(spaceId: string): Promise<SecretKey<'space'>>;
  readonly verifier: Pick<SpaceVerifier, 'open' | 'signedWrite'>;
}

/**
 * What the download service worker receives over the MessagePort (client/download-sw.ts), and
 * nothing more. WARNING: `fileKey` is a raw file key; see prepareStreamedDownload.
 */
export interface StreamedDownloadGrant {
  readonly type: 'grant';
  /** 32 raw bytes of one version's file key. */
  readonly fileKey: Uint8Array;
  readonly file: FileContext;
  /** Decrypted file name, MIME type ('' when unknown) and plaintext size in bytes. */
  readonly name: string;
  readonly mimeType: string;
  readonly size: number;
  /** Same-origin path of the ciphertext (GET, with the session cookie). */
  readonly contentPath: string;
}

/** Failures of the key hand-off, also sent over the port so the service worker can drop the token. */
export interface StreamedDownloadRefusal {
  readonly type: 'refused';
}

interface Job {
  readonly controller: AbortController;
  cancelled: boolean;
}

/** Progress reports at most every `interval` ms; `force` sends one regardless (start and end). */
function throttledProgress(onProgress: ProgressCallback, transferId: string, interval: number) {
  let last = -Infinity;
  return (phase: TransferProgress['phase'], doneBytes: number, totalBytes: number, force = false): void => {
    const now = performance.now();
    if (!force && now - last < interval) return;
    last = now;
    // A page that went away must not break the transfer: the callback is only a report.
    Promise.resolve()
      .then(() => onProgress({ transferId, phase, doneBytes, totalBytes }))
      .catch(() => undefined);
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential back-off with jitter: 50–100 % of min(max, base · 2^attempt). */
function backoffMs(tuning: TransferTuning, attempt: number): number {
  const ceiling = Math.min(tuning.maxDelayMs, tuning.baseDelayMs * 2 ** attempt);
  return ceiling * (0.5 + Math.random() / 2);
}

/** Failures that may pass by themselves: no answer, a server error, a part still being written or damaged on the way. */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return (
    error.code === 'network_error' ||
    error.code === 'upload_busy' ||
    error.code === 'rate_limited' ||
    error.code === 'part_digest_mismatch' ||
    error.status >= 500
  );
}

/** An error answer of a raw request as the one client error type (read as callApi reads it). */
async function errorOf(response: Response): Promise<ApiError> {
  // A body cut off on the way reads as no body: off the contract, like a proxy's page.
  const text = await response.text().catch(() => '');
  return new ApiError(readErrorAnswer(response.status, text, response.headers.get('x-request-id') ?? undefined));
}

function networkError(cause: unknown): ApiError {
  return new ApiError({ status: 0, code: 'network_error', message: 'The server could not be reached.', cause });
}

export function createTransferOperations(deps: TransferDeps): TransferOperations {
  const tuning: TransferTuning = { ...DEFAULT_TUNING, ...deps.tuning };
  const fetchImpl = deps.fetch ?? ((input, init) => fetch(input, init));
  const baseUrl = deps.baseUrl ?? '';
  const jobs = new Map<string, Job>();

  function startJob(transferId: string): Job {
    if (jobs.has(transferId)) throw new TypeError('a transfer with this id is running');
    const job: Job = { controller: new AbortController(), cancelled: false };
    jobs.set(transferId, job);
    return job;
  }

  /** After a cancel, whatever the aborted work threw becomes the one `cancelled` failure. */
  function settled(job: Job, error: unknown): unknown {
    return job.cancelled ? new TransferCancelledError() : error;
  }

  /** Runs `attempt` until it succeeds, a non-retryable error, or the tries run out. */
  async function withRetries<T>(signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries += 1) {
      try {
        return await attempt();
      } catch (error) {
        if (signal.aborted || !isRetryable(error) || tries + 1 >= tuning.maxAttempts) throw error;
        await sleep(backoffMs(tuning, tries), signal);
      }
    }
  }

  async function rawFetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetchImpl(baseUrl + path, { ...init, credentials: 'same-origin' });
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason;
      throw networkError(error);
    }
  }

  /** PUTs one part. WARNING: the body is a Blob, never a Uint8Array (measured in Chromium under Playwright on a 2-core machine: ~8 MiB/s against 65–74 MiB/s). */
  async function sendPart(uploadId: string, partNumber: number, body: Blob, digest: Uint8Array, signal: AbortSignal): Promise<void> {
    await withRetries(signal, async () => {
      const response = await rawFetch(uploadPartPath(uploadId, partNumber), {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream', [PART_DIGEST_HEADER]: formatContentDigest(digest) },
        body,
        signal,
      });
      if (!response.ok) throw await errorOf(response);
      await response.body?.cancel();
    });
  }

  /** Abandons an upload on the server; best effort (an unfinished upload also expires by itself). */
  async function abandon(uploadId: string): Promise<void> {
    const signal = AbortSignal.timeout(30_000);
    try {
      await withRetries(signal, () => deps.api(abortUpload, { params: { id: uploadId } }, { signal }));
    } catch {
      // Expires with its parts after KLUIS_UPLOAD_TTL_HOURS.
    }
  }

  /**
   * A version's record, key and metadata, found through its document (the server checks access).
   * A wrapped file key or metadata record that does not authenticate (swapped for another version's,
   * altered) makes the file as damaged as altered content: FileDamagedError, the same words.
   */
  async function openVersion(versionId: string, documentId: string, signal: AbortSignal, extractable: boolean) {
    const history = await deps.api(getDocument, { params: { documentId } }, { signal });
    const version = history.versions.find((v) => v.id === versionId);
    if (!version) throw new ApiError({ status: 404, code: 'version_not_found', message: 'This version does not exist.' });
    const spaceId = history.document.spaceId;
    const spaceKey = await deps.spaces.spaceKeyOf(spaceId);
    // A version the signed history holds must be served with the wrapped key and metadata its uploader signed.
    const { state } = await deps.spaces.verifier.open(spaceId);
    const signed = state?.documents.get(documentId)?.versions.find((v) => v.id === versionId);
    if (signed && ((await recordDigest(version.wrappedFileKey)) !== signed.fileKey || (await recordDigest(version.metadata)) !== signed.metadata)) {
      throw new FileDamagedError();
    }
    try {
      const [metadata, key] = await Promise.all([
        openVersionMetadata(spaceKey, spaceId, version),
        openFileKey(spaceKey, spaceId, version, { extractable }),
      ]);
      return { version, metadata, ...key };
    } catch (error) {
      if (error instanceof KluisCryptoError) throw new FileDamagedError({ cause: error });
      throw error;
    }
  }

  async function upload(job: Job, transferId: string, file: File, target: UploadTarget, onProgress: ProgressCallback): Promise<DocumentView> {
    const { signal } = job.controller;
    const report = throttledProgress(onProgress, transferId, tuning.progressIntervalMs);
    report('preparing', 0, file.size, true);

    const spaceKey = await deps.spaces.spaceKeyOf(target.spaceId);
    const documentId = target.kind === 'new-document' ? newClientId() : target.documentId;
    const metadata: DocumentMetadata = { name: file.name, size: file.size, type: file.type, lastModified: Math.max(0, Math.trunc(file.lastModified)) };
    const prepared = await prepareVersion(spaceKey, target.spaceId, documentId, metadata);
    const cipherSize = encryptedFileSize(file.size);
    const created = await withRetries(signal, () =>
      deps.api(createUpload, { body: { size: cipherSize, partSize: tuning.partSize, purpose: spaceUploadPurpose(target.spaceId) } }, { signal }),
    );
    const uploadId = created.uploadId;
    // Parts go to OPFS where it works (the browser process then keeps no copy of them, part-spool.ts).
    const spool = await openPartSpool(uploadId);
    let spooling = spool !== null;
    /** The request body of a part: its spooled File, or an in-memory Blob when spooling is unavailable or failed (quota, disk). */
    const bodyOf = async (partNumber: number, part: Uint8Array<ArrayBuffer>): Promise<Blob> => {
      if (spool && spooling) {
        try {
          return await spool.store(partNumber, part);
        } catch {
          spooling = false;
        }
      }
      return new Blob([part], { type: 'application/octet-stream' });
    };

    try {
      const digests: Uint8Array[] = [];
      const inFlight = new Set<Promise<void>>();
      let failure: { error: unknown } | undefined;
      let sentCipherBytes = 0;
      let partCount = 0;
      const plainDone = () => Math.min(file.size, Math.floor((sentCipherBytes / cipherSize) * file.size));

      // WARNING: memory holds at most partsInFlight parts plus the one being cut, never the file.
      for await (const pieces of encryptBlobParts(prepared.fileKey, prepared.file, file, tuning.partSize)) {
        // One WebCrypto digest per part, off this thread: an incremental hash of the whole file on
        // this thread (hash-wasm) halved the upload speed (README "Benchmarks", files group).
        const part = pieces.length === 1 ? pieces[0]! : concatBytes(...pieces);
        const digest = await sha256(part);
        const partNumber = partCount++;
        digests.push(digest);
        const body = await bodyOf(partNumber, part);
        const sending: Promise<void> = sendPart(uploadId, partNumber, body, digest, signal)
          .then(
            () => {
              sentCipherBytes += body.size;
              report('encrypting', plainDone(), file.size);
            },
            (error: unknown) => {
              failure ??= { error };
              // The first failure stops the other parts at once.
              job.controller.abort(error);
            },
          )
          .finally(() => spool?.release(partNumber));
        inFlight.add(sending);
        void sending.finally(() => inFlight.delete(sending));
        while (inFlight.size >= tuning.partsInFlight && !failure) await Promise.race(inFlight);
        if (failure) throw failure.error;
        if (signal.aborted) throw signal.reason;
      }
      await Promise.all(inFlight);
      if (failure) throw failure.error;
      if (partCount !== created.partCount) {
        throw new ApiError({ status: 0, code: 'crypto_failed', message: 'The encrypted file has an unexpected size.' });
      }

      report('finishing', file.size, file.size, true);
      const partsSha256 = toHex(await sha256(partsDigestInput(digests)));
      const completed = await withRetries(signal, () => deps.api(completeUpload, { params: { id: uploadId }, body: { partCount, partsSha256 } }, { signal }));
      const version = { versionId: prepared.versionId, blobId: completed.blobId, wrappedFileKey: prepared.wrappedFileKey, metadata: prepared.metadata };
      const document = await fileVersion(target, documentId, version, signal);
      report('finishing', file.size, file.size, true);
      // Authors from the verified history, which now holds this upload.
      const { state } = await deps.spaces.verifier.open(target.spaceId);
      const verification = { state, unverified: new Set<string>() };
      return documentViewOf(document, versionViewOf(document.current, metadata, verification), verification);
    } catch (error) {
      // Until the blob is filed the upload is ours to abandon (after completion it is no longer open).
      await abandon(uploadId);
      throw error;
    } finally {
      await spool?.close();
    }
  }

  /**
   * createDocument or addVersion with its signed history entry (signed again on `history_conflict`);
   * a retry after a lost answer finds the version already filed.
   */
  async function fileVersion(
    target: UploadTarget,
    documentId: string,
    version: { versionId: string; blobId: string; wrappedFileKey: string; metadata: string },
    signal: AbortSignal,
  ): Promise<DocumentSummary> {
    let retried = false;
    const send = <T>(call: () => Promise<T>) =>
      withRetries(signal, () =>
        call().catch((error: unknown) => {
          retried ||= isRetryable(error);
          throw error;
        }),
      );
    try {
      if (target.kind === 'new-document') {
        const fields = { documentId, folderId: target.folderId, requestItemId: target.requestItemId, version };
        return await deps.spaces.verifier.signedWrite(
          target.spaceId,
          await documentCreateDraft(fields),
          (entry) => send(() => deps.api(createDocument, { params: { spaceId: target.spaceId }, body: { ...fields, entry } }, { signal })),
          (state) => {
            if (target.folderId !== null && !state.folders.has(target.folderId)) throw new UnsignedItemError();
            if (target.requestItemId !== null && ![...state.requests.values()].some((r) => r.items.has(target.requestItemId!))) throw new UnsignedItemError();
          },
        );
      }
      return await deps.spaces.verifier.signedWrite(
        target.spaceId,
        await versionAddDraft(documentId, version),
        (entry) => send(() => deps.api(addVersion, { params: { documentId }, body: { ...version, entry } }, { signal })),
        (state) => {
          if (!state.documents.has(documentId)) throw new UnsignedItemError();
        },
      );
    } catch (error) {
      // The first try was filed but its answer lost: the retry finds the id taken or the head moved.
      if (!(retried && error instanceof ApiError && (error.code === 'id_taken' || error.code === 'history_conflict'))) throw error;
      const history = await deps.api(getDocument, { params: { documentId } }, { signal });
      if (!history.versions.some((v) => v.id === version.versionId)) throw error;
      return history.document;
    }
  }

  async function decrypt(job: Job, transferId: string, versionId: string, documentId: string, onProgress: ProgressCallback): Promise<Blob> {
    const { signal } = job.controller;
    const { metadata, fileKey, file } = await openVersion(versionId, documentId, signal, false);
    const report = throttledProgress(onProgress, transferId, tuning.progressIntervalMs);
    report('decrypting', 0, metadata.size, true);
    const response = await rawFetch(versionContentPath(versionId), { method: 'GET', signal });
    if (!response.ok) throw await errorOf(response);
    if (!response.body) throw new FileDamagedError();

    // Plaintext is gathered into Blobs of a few MiB, which the browser may keep outside the JS heap.
    const pieces: Blob[] = [];
    let pending: Uint8Array<ArrayBuffer>[] = [];
    let pendingBytes = 0;
    let done = 0;
    const reader = response.body.pipeThrough(decryptFileStream(fileKey, file)).getReader();
    try {
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) break;
        pending.push(value);
        pendingBytes += value.length;
        done += value.length;
        if (pendingBytes >= 16 * MiB) {
          pieces.push(new Blob(pending));
          pending = [];
          pendingBytes = 0;
        }
        report('decrypting', done, metadata.size);
      }
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof KluisCryptoError) throw new FileDamagedError({ cause: error });
      throw networkError(error);
    }
    // The metadata is authentic too: a well-formed file of another length is not this version.
    if (done !== metadata.size) throw new FileDamagedError();
    pieces.push(new Blob(pending));
    report('decrypting', done, metadata.size, true);
    return new Blob(pieces, { type: metadata.type });
  }

  /** Runs one cancellable job; whatever it throws after a cancel is reported as `cancelled`. */
  async function run<T>(transferId: string, work: (job: Job) => Promise<T>): Promise<T> {
    const job = startJob(transferId);
    try {
      return await work(job);
    } catch (error) {
      throw settled(job, error);
    } finally {
      jobs.delete(transferId);
    }
  }

  return {
    uploadFile(transferId, file, target, onProgress) {
      return run(transferId, (job) => upload(job, transferId, file, target, onProgress));
    },

    cancelTransfer(transferId) {
      const job = jobs.get(transferId);
      if (job && !job.cancelled) {
        job.cancelled = true;
        job.controller.abort(new TransferCancelledError());
      }
      return Promise.resolve();
    },

    /**
     * WARNING: the one place a raw file key leaves the crypto worker (SECURITY.md 4.4.3). It goes
     * straight to Kluis's own download service worker over a MessagePort the page cannot read (the
     * page created the channel but gave both ends away), and it is acceptable because: the service
     * worker is same-origin script served by Kluis like this worker, so it is trusted exactly as much;
     * the key opens one version of one file the user asked to download, nothing else (no space key,
     * no private key); the service worker uses it for one request and forgets it, and drops an unused
     * one after 60 s. Keeping the key here would mean decrypting in this worker and moving every
     * plaintext byte through the page into the service worker (measured: slower, and more memory).
     */
    async prepareStreamedDownload(versionId, documentId, port) {
      try {
        const signal = AbortSignal.timeout(60_000);
        const { metadata, fileKey, file } = await openVersion(versionId, documentId, signal, true);
        const raw = fileKey.rawBytes();
        const grant: StreamedDownloadGrant = {
          type: 'grant',
          fileKey: raw,
          file: { id: file.id, owner: file.owner },
          name: metadata.name,
          mimeType: metadata.type,
          size: metadata.size,
          contentPath: versionContentPath(versionId),
        };
        // Transferred, not copied: no copy of the key bytes stays in this worker.
        port.postMessage(grant, [raw.buffer]);
      } catch (error) {
        port.postMessage({ type: 'refused' } satisfies StreamedDownloadRefusal);
        throw error;
      } finally {
        port.close();
      }
    },

    decryptToBlob(transferId, versionId, documentId, onProgress) {
      return run(transferId, (job) => decrypt(job, transferId, versionId, documentId, onProgress));
    },
  };
}
