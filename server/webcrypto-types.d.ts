// The WebCrypto type names shared/crypto uses, for the server's project: @types/node declares them
// only inside `webcrypto`, and the server is compiled without the browser libraries (server/tsconfig.json).
type CryptoKey = import('node:crypto').webcrypto.CryptoKey;
type KeyAlgorithm = import('node:crypto').webcrypto.KeyAlgorithm;
type RsaHashedKeyGenParams = import('node:crypto').webcrypto.RsaHashedKeyGenParams;
