// The download service worker (/download-sw.js, scope /download/): streams one version's ciphertext through decryption into a file download.
// The file-stream modules of shared/crypto, not its index: the index also loads the OPAQUE client
// (a 424 kB WebAssembly module) that this worker never uses.
import { readErrorAnswer } from '../shared/api/errors';
import { concatBytes } from '../shared/crypto/bytes';
import { KluisCryptoError } from '../shared/crypto/errors';
import { importSecretKey } from '../shared/crypto/keys';
import { decryptFileStream, plaintextFileSize } from '../shared/crypto/stream';
import type { ApiErrorCode } from '../shared/api/client';
import { contentDisposition } from './transfers/content-disposition';
import {
  DOWNLOAD_GRANT_TTL_MS,
  DOWNLOAD_SCOPE,
  DOWNLOAD_TOKEN_PATTERN,
  type CancelDownload,
  type DownloadStatus,
  type RegisterDownload,
} from './transfers/download-protocol';
import type { StreamedDownloadGrant } from './worker/transfers';

/**
 * WARNING: this worker receives one raw file key per download (client/worker/transfers.ts,
 * prepareStreamedDownload; SECURITY.md 4.4.3). It keeps it only until that one download starts or
 * 60 s pass, never stores it, and serves each token once, only to a same-origin navigation.
 * Tampering or truncation makes the response body ERROR, not end: only then does Chromium discard
 * the partial file (Chromium keeps a truncated download unless the stream errors).
 */

/** Plaintext handed to the browser per enqueue. */
const ENQUEUE_BYTES = 1024 * 1024;

// The service worker globals this file uses (tsconfig has the DOM library, not WebWorker).
interface SwExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface SwFetchEvent extends SwExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response> | Response): void;
}
interface SwMessageEvent extends SwExtendableEvent {
  readonly data: unknown;
  readonly ports: readonly MessagePort[];
  readonly origin: string;
}
interface SwGlobal {
  readonly location: Location;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: SwExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: SwFetchEvent) => void): void;
  addEventListener(type: 'message', listener: (event: SwMessageEvent) => void): void;
}
declare const self: SwGlobal;

interface Pending {
  readonly status: MessagePort;
  /** The grant from the crypto worker, or null when it refused or the token expired. */
  readonly grant: Promise<StreamedDownloadGrant | null>;
  readonly expiry: ReturnType<typeof setTimeout>;
}

/** An authentic file that ends at another length than its authentic metadata says. */
class WrongLengthError extends Error {
  override readonly name = 'WrongLengthError';
}

/** Registered downloads that have not started: at most one use each. */
const pending = new Map<string, Pending>();
/** Progress messages at most this often. */
const PROGRESS_INTERVAL_MS = 250;

function post(port: MessagePort, status: DownloadStatus): void {
  port.postMessage(status);
}

function isGrant(value: unknown): value is StreamedDownloadGrant {
  if (typeof value !== 'object' || value === null) return false;
  const g = value as Record<string, unknown>;
  const file = g.file as Record<string, unknown> | null | undefined;
  return (
    g.type === 'grant' &&
    g.fileKey instanceof Uint8Array &&
    g.fileKey.length === 32 &&
    typeof file === 'object' &&
    file !== null &&
    typeof file.id === 'string' &&
    typeof file.owner === 'string' &&
    typeof g.name === 'string' &&
    typeof g.mimeType === 'string' &&
    typeof g.size === 'number' &&
    typeof g.contentPath === 'string' &&
    g.contentPath.startsWith('/api/versions/')
  );
}

function forget(token: string): Pending | undefined {
  const entry = pending.get(token);
  if (!entry) return undefined;
  pending.delete(token);
  clearTimeout(entry.expiry);
  return entry;
}

function register(event: SwMessageEvent): void {
  const data = event.data as Partial<RegisterDownload> | null;
  const [keyPort, status] = event.ports;
  // Only pages of this origin can message this worker; the origin check is belt and braces.
  if (event.origin !== self.location.origin || data?.type !== 'register' || !keyPort || !status) return;
  const token = data.token;
  if (typeof token !== 'string' || !DOWNLOAD_TOKEN_PATTERN.test(token) || pending.has(token)) {
    post(status, { type: 'error', code: 'invalid_link' });
    return;
  }
  let settle: (grant: StreamedDownloadGrant | null) => void = () => undefined;
  const grant = new Promise<StreamedDownloadGrant | null>((resolve) => (settle = resolve));
  keyPort.onmessage = (message) => {
    keyPort.close();
    const value: unknown = message.data;
    settle(isGrant(value) ? value : null);
  };
  const expiry = setTimeout(() => {
    if (!forget(token)) return;
    settle(null);
    keyPort.close();
    post(status, { type: 'error', code: 'aborted' });
  }, DOWNLOAD_GRANT_TTL_MS);
  pending.set(token, { status, grant, expiry });
  status.onmessage = (message) => {
    if ((message.data as Partial<CancelDownload> | null)?.type !== 'cancel' || !forget(token)) return;
    settle(null);
    post(status, { type: 'error', code: 'cancelled' });
  };
  // Keeps this worker alive until the crypto worker has answered.
  event.waitUntil(
    grant.then((received) => {
      if (received) post(status, { type: 'ready' });
      else if (forget(token)) post(status, { type: 'error', code: 'crypto_failed' });
    }),
  );
}

/** The stable code of an error answer of the content request (document_deleted, version_not_found…). */
async function errorCodeOf(response: Response): Promise<ApiErrorCode> {
  // A body cut off on the way reads as no body: off the contract, like a proxy's page.
  const text = await response.text().catch(() => '');
  return readErrorAnswer(response.status, text).code;
}

function failureCode(error: unknown, cancelled: boolean): ApiErrorCode {
  if (cancelled) return 'cancelled';
  if (error instanceof KluisCryptoError) return 'file_damaged';
  return 'network_error';
}

/** A small page for the hidden iframe when no download can start (the page hears why over its port). */
function refusal(status: number): Response {
  return new Response(null, { status, headers: { 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; sandbox" } });
}

async function answer(entry: Pending): Promise<Response> {
  const { status } = entry;
  const grant = await entry.grant;
  if (!grant) return refusal(404);
  const key = await importSecretKey('file', grant.fileKey); // wipes the raw bytes it was given
  const abort = new AbortController();
  let cancelled = false;
  let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  status.onmessage = (message) => {
    if ((message.data as Partial<CancelDownload> | null)?.type !== 'cancel' || cancelled) return;
    cancelled = true;
    abort.abort();
    // Erroring (not closing) the body makes the browser drop the partial file.
    stream?.error(new Error('cancelled'));
    post(status, { type: 'error', code: 'cancelled' });
  };

  let response: Response;
  try {
    response = await fetch(grant.contentPath, { credentials: 'same-origin', cache: 'no-store', signal: abort.signal });
  } catch (error) {
    if (!cancelled) post(status, { type: 'error', code: failureCode(error, cancelled) });
    return refusal(502);
  }
  if (!response.ok || !response.body) {
    post(status, { type: 'error', code: response.ok ? 'invalid_response' : await errorCodeOf(response) });
    return refusal(response.status >= 400 ? response.status : 502);
  }

  const reader = response.body.pipeThrough(decryptFileStream(key, grant.file)).getReader();
  let done = 0;
  let reported = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        stream = controller;
      },
      async pull(controller) {
        try {
          // About 1 MiB per enqueue: each one is a hop into the browser's download pipe.
          const pieces: Uint8Array[] = [];
          let bytes = 0;
          let finished = false;
          while (bytes < ENQUEUE_BYTES) {
            const next = await reader.read();
            if (cancelled) return;
            if (next.done) {
              finished = true;
              break;
            }
            pieces.push(next.value);
            bytes += next.value.length;
          }
          if (bytes > 0) {
            done += bytes;
            controller.enqueue(pieces.length === 1 ? pieces[0]! : concatBytes(...pieces));
          }
          if (finished) {
            // The metadata is authentic too: an authentic file of another length is not this version.
            if (done !== grant.size) throw new WrongLengthError();
            controller.close();
            post(status, { type: 'done', doneBytes: done });
            return;
          }
          const now = Date.now();
          if (now - reported >= PROGRESS_INTERVAL_MS) {
            reported = now;
            post(status, { type: 'progress', doneBytes: done, totalBytes: grant.size });
          }
        } catch (error) {
          if (cancelled) return;
          post(status, { type: 'error', code: error instanceof WrongLengthError ? 'file_damaged' : failureCode(error, false) });
          controller.error(error);
          abort.abort();
        }
      },
      cancel() {
        // The browser stopped the download (the user cancelled it in the browser's own UI).
        abort.abort();
        reader.cancel().catch(() => undefined);
        if (!cancelled) post(status, { type: 'error', code: 'cancelled' });
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );

  const headers = new Headers({
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(grant.name),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // Never rendered, but if it were: no script, no plugins, an opaque origin.
    'Content-Security-Policy': "default-src 'none'; sandbox",
  });
  // A length the browser can show, when the ciphertext's length agrees with the authentic metadata.
  const cipherLength = Number(response.headers.get('Content-Length') ?? NaN);
  try {
    if (Number.isSafeInteger(cipherLength) && plaintextFileSize(cipherLength) === grant.size) headers.set('Content-Length', String(grant.size));
  } catch {
    // A malformed length: the stream will fail as damaged; no length announced.
  }
  return new Response(body, { status: 200, headers });
}

self.addEventListener('install', (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('message', register);

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(DOWNLOAD_SCOPE)) return;
  const token = url.pathname.slice(DOWNLOAD_SCOPE.length);
  // Single use, and only as a navigation of a page of this origin (the page's hidden iframe).
  const entry = event.request.method === 'GET' && event.request.mode === 'navigate' ? forget(token) : undefined;
  event.respondWith(entry ? answer(entry) : refusal(404));
});
