// The page's side of a streamed download: registers the download service worker once, wires the ports, starts the hidden iframe.
import { ApiError, type ApiErrorCode } from '../../shared/api/client';
import {
  DOWNLOAD_SCOPE,
  DOWNLOAD_WORKER_URL,
  type CancelDownload,
  type DownloadStatus,
  type RegisterDownload,
} from './download-protocol';

let registering: Promise<ServiceWorker> | undefined;

async function register(): Promise<ServiceWorker> {
  const registration = await navigator.serviceWorker.register(DOWNLOAD_WORKER_URL, {
    scope: DOWNLOAD_SCOPE,
    // An ES module in `vite` dev; the production build is one self-contained file, valid either way.
    type: 'module',
    updateViaCache: 'none',
  });
  const worker = registration.active ?? registration.waiting ?? registration.installing;
  if (!worker) throw new Error('the download service worker did not install');
  if (worker.state === 'activated') return worker;
  // navigator.serviceWorker.ready never settles here: this page is outside the worker's scope.
  await new Promise<void>((resolve, reject) => {
    const onChange = () => {
      if (worker.state === 'activated') resolve();
      else if (worker.state === 'redundant') reject(new Error('the download service worker failed to activate'));
      else return;
      worker.removeEventListener('statechange', onChange);
    };
    worker.addEventListener('statechange', onChange);
  });
  return worker;
}

/**
 * The active download service worker, registered on first use (call it early to have it ready);
 * null where the browser has none (no support, an insecure origin, private modes that refuse it).
 */
export function downloadWorker(): Promise<ServiceWorker | null> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator) || !window.isSecureContext) return Promise.resolve(null);
  registering ??= register();
  return registering.catch(() => {
    registering = undefined; // try again next time
    return null;
  });
}

export interface StreamedDownloadOptions {
  readonly worker: ServiceWorker;
  /** Asks the crypto worker to send the grant over `port` (prepareStreamedDownload, port transferred). */
  readonly prepare: (port: MessagePort) => Promise<void>;
  readonly onProgress: (doneBytes: number, totalBytes: number) => void;
  readonly signal: AbortSignal;
}

function failure(code: ApiErrorCode): ApiError {
  const messages: Partial<Record<ApiErrorCode, string>> = {
    file_damaged: 'This file was altered or is damaged.',
    cancelled: 'The transfer was cancelled.',
  };
  return new ApiError({ status: 0, code, message: messages[code] ?? 'The download stopped.' });
}

/**
 * Downloads one version as a stream through the service worker; resolves once the browser has the
 * whole, authenticated file. A hidden iframe starts it (in Chromium an `<a download>` click bypasses the service worker).
 */
export async function streamDownload(options: StreamedDownloadOptions): Promise<void> {
  const { worker, signal } = options;
  const token = crypto.randomUUID();
  const keys = new MessageChannel();
  const status = new MessageChannel();
  let iframe: HTMLIFrameElement | undefined;

  const finished = new Promise<void>((resolve, reject) => {
    status.port2.onmessage = (event: MessageEvent<DownloadStatus>) => {
      const message = event.data;
      switch (message.type) {
        case 'ready':
          iframe = document.createElement('iframe');
          iframe.hidden = true;
          iframe.title = 'download';
          iframe.src = `${DOWNLOAD_SCOPE}${token}`;
          document.body.append(iframe);
          break;
        case 'progress':
          options.onProgress(message.doneBytes, message.totalBytes);
          break;
        case 'done':
          resolve();
          break;
        case 'error':
          reject(failure(message.code));
          break;
      }
    };
  });
  // When the crypto worker refuses first (prepare throws: an altered wrapped key), the service
  // worker's own 'error' may still arrive; that rejection is already reported, not unhandled.
  finished.catch(() => undefined);
  const cancel = () => status.port2.postMessage({ type: 'cancel' } satisfies CancelDownload);
  signal.addEventListener('abort', cancel, { once: true });

  try {
    // WARNING: the page keeps no end of the key channel: port1 goes to the service worker, port2 to
    // the crypto worker, which sends the file key straight across (client/worker/transfers.ts).
    worker.postMessage({ type: 'register', token } satisfies RegisterDownload, [keys.port1, status.port1]);
    try {
      await options.prepare(keys.port2);
    } catch (error) {
      cancel();
      throw error;
    }
    await finished;
  } finally {
    signal.removeEventListener('abort', cancel);
    status.port2.close();
    // The browser's download manager owns the stream by now; the iframe has done its job.
    const frame = iframe;
    if (frame) setTimeout(() => frame.remove(), 1000);
  }
}

/** Saves a Blob as a file through an object URL (the fallback for browsers without the service worker). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has read the URL once the download started; keep it a little for slow starts.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
