// The HTTPS server's TLS settings: TLS 1.2 and 1.3 with forward-secret AEAD cipher suites only.
import type { TlsOptions } from 'node:tls';

/**
 * In the server's order of preference (it decides, honorCipherOrder). TLS 1.3: its three common
 * suites, all AEAD (not the CCM ones OpenSSL leaves off by default). TLS 1.2: ECDHE key exchange
 * with AES-GCM or ChaCha20-Poly1305 only, for ECDSA and RSA certificates. Node's default list also
 * offers CBC suites (MAC-then-encrypt: LUCKY13 and padding oracles, which testssl.sh flags), static
 * RSA key exchange (no forward secrecy) and DHE; every browser Kluis supports speaks TLS 1.3 or
 * TLS 1.2 with ECDHE-GCM, so none of those is needed.
 */
export const TLS_CIPHER_SUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/** The options of node:https createServer for a certificate and its key (PEM). */
export function tlsServerOptions(files: { readonly cert: Buffer; readonly key: Buffer }): TlsOptions {
  return { ...files, minVersion: 'TLSv1.2', ciphers: TLS_CIPHER_SUITES.join(':'), honorCipherOrder: true };
}
