// The messages between the page, the crypto worker and the download service worker (client/download-sw.ts).
import type { ApiErrorCode } from '../../shared/api/client';

/** The service worker controls only this path: a download is a navigation to `/download/<token>`. */
export const DOWNLOAD_SCOPE = '/download/';
/** The built service worker's fixed URL (vite.config.ts serves and builds it there). */
export const DOWNLOAD_WORKER_URL = '/download-sw.js';
/** A token is single-use and unguessable (a UUID from the page); the worker accepts only this shape. */
export const DOWNLOAD_TOKEN_PATTERN = /^[A-Za-z0-9-]{16,64}$/;
/** A registered token whose download did not start by then is forgotten, with its key. */
export const DOWNLOAD_GRANT_TTL_MS = 60_000;

/**
 * Page → service worker, with two ports: `ports[0]` receives the grant from the crypto worker
 * (client/worker/transfers.ts, StreamedDownloadGrant), `ports[1]` is the page's status channel.
 * WARNING: the page keeps neither end of the key channel, so key bytes never pass through it.
 */
export interface RegisterDownload {
  readonly type: 'register';
  readonly token: string;
}

/** Page → service worker, over the status port. */
export interface CancelDownload {
  readonly type: 'cancel';
}

/** Service worker → page, over the status port. Sizes are plaintext bytes. */
export type DownloadStatus =
  /** The grant arrived: point the iframe at `/download/<token>`. */
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly doneBytes: number; readonly totalBytes: number }
  /** The whole file authenticated and was handed to the browser's download. */
  | { readonly type: 'done'; readonly doneBytes: number }
  /** The download stopped; with `file_damaged` the browser discards the partial file. */
  | { readonly type: 'error'; readonly code: ApiErrorCode };
