// The WebCrypto type names shared/crypto uses, for the server's project: @types/node declares them
// only inside `webcrypto`, and the server is compiled without the browser libraries (server/tsconfig.json).
import type { webcrypto } from 'node:crypto';

declare global {
  type CryptoKey = webcrypto.CryptoKey;
  type KeyAlgorithm = webcrypto.KeyAlgorithm;
  type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
}
