// Security headers on every response (API, static files, errors, 404), and no-store on the API.
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './app-env';

/**
 * WARNING: no 'unsafe-inline' and no 'unsafe-eval' (SECURITY.md 1.1). 'wasm-unsafe-eval' is the one
 * relaxation: WebAssembly.compile() of the Argon2/OPAQUE modules needs it (CSP Level 3, 6.7.2.5).
 * `blob:` sources are object URLs this page made itself from files it decrypted (client/transfers):
 * img-src for image previews, frame-src and object-src for PDF previews (a blob: document inherits
 * this policy, and Chromium's PDF viewer is a plugin, so object-src 'none' would block it; no other
 * plugin content exists). frame-src 'self' is the hidden iframe that starts a streamed download at
 * /download/<token>; worker-src 'self' lets the page register the download service worker.
 */
export const contentSecurityPolicy = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'blob:', 'data:'],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  frameSrc: ["'self'", 'blob:'],
  objectSrc: ['blob:'],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** One year; sent only when users reach Kluis over HTTPS (RFC 6797 7.2: ignored over plain HTTP anyway). */
const HSTS = 'max-age=31536000';

export function securityHeaders(options: { readonly https: boolean }): MiddlewareHandler<AppEnv> {
  return secureHeaders({
    contentSecurityPolicy,
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    referrerPolicy: 'no-referrer',
    strictTransportSecurity: options.https ? HSTS : false,
    xContentTypeOptions: 'nosniff',
    xFrameOptions: 'DENY',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  });
}

/** API answers are per user and often secret-adjacent: never stored by browsers or proxies. */
export function noStore(): MiddlewareHandler<AppEnv> {
  return async function noStoreMiddleware(c, next) {
    await next();
    c.header('Cache-Control', 'no-store');
  };
}
