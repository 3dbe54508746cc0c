// Decrypt-free checks that no request carries private-key or raw secret-key material (the zero-knowledge check's second half).
import { expect } from '@playwright/test';
import { encodingsOf, findSecretLeaks, type CapturedRequest } from './requests';

/**
 * Why this approach: the browser never exports its keys (they are non-extractable or live only in
 * the crypto worker), and the test must not add a hook that exports them, not even for e2e. So the
 * check looks for what leaked key material would look like instead:
 *
 * 1. DER structure. A PKCS#8 private key starts with `SEQUENCE { INTEGER 0, AlgorithmIdentifier }`.
 *    The 18 bytes `02 01 00 30 0d 06 09 2a 86 48 86 f7 0d 01 01 01 05 00` (version 0, then the
 *    rsaEncryption OID with NULL parameters) occur in every RSA private key (`MIIJ…` in base64 for
 *    RSA-4096) but not in an SPKI public key, which has no version field. The same holds for the
 *    P-256 signing key: `02 01 00 30 13 06 07 2a 86 48 ce 3d 02 01`. Both are searched raw, as hex
 *    and as base64/base64url at every alignment (encodingsOf), so a key inside a larger encoded
 *    blob is found too. Wrapped keys are AES-GCM ciphertext and contain no such structure.
 * 2. JWK. No Kluis request uses JWK; a `"kty"` anywhere would be an exported CryptoKey.
 * 3. Raw key lengths. An unwrapped user, escrow or key-safe key is 32 bytes and the OPAQUE export
 *    key is 64 bytes. Every base64url string value in a JSON request body that decodes to exactly
 *    32 or 64 bytes must sit in a field known to hold a public value of that size (below); any other
 *    field of that length fails the test. Wrapped and sealed keys are longer (nonce, tag, version).
 */
const PKCS8_RSA = Uint8Array.from([
  0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
  0x05, 0x00,
]);
const PKCS8_EC = Uint8Array.from([
  0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
]);

/** JSON fields that legitimately hold 32- or 64-byte values, with what they are. */
const PUBLIC_FIXED_LENGTH_FIELDS: Readonly<Record<string, string>> = {
  setupToken: 'one-time 256-bit token the server issued',
  token: 'one-time 256-bit invitation token the server issued',
  recoveryToken: 'one-time 256-bit token the server issued',
  challengeId: 'the pending second sign-in step: a 256-bit token the server issued after the password step',
  registrationRequest:
    'OPAQUE RegistrationRequest: the blinded password element (RFC 9807 5.1), 32 bytes',
  finishLoginRequest: 'OPAQUE KE3: the client key-confirmation MAC (RFC 9807 6.3), 64 bytes',
  signature: 'ECDSA P-256 signature over a public statement, 64 bytes',
  recoverySalt: 'random Argon2id salt, public by design',
  binding:
    'HMAC-SHA-256 invitation binding over public fingerprints (SECURITY.md 4.10), 32 bytes: a MAC, not a key',
  linkSecret:
    'the escrow reset link secret (SECURITY.md 5.8): the server gets it once to e-mail the link, like an invitation token; without the recovery code it opens nothing',
  proof:
    'escrow reset proof: an HKDF output (info kluis/v1/reset-proof) of link secret and stretched code, compared by its SHA-256; the reset key is a separate HKDF output it does not reveal',
};

/**
 * JSON paths (not field names: `id` is everywhere) that legitimately hold 32- or 64-byte values.
 * WebAuthn responses name their credential: Chromium's credential ids are 32 bytes.
 */
const PUBLIC_FIXED_LENGTH_PATHS: Readonly<Record<string, string>> = {
  '$.response.id': 'WebAuthn credential id (public: names a passkey, W3C WebAuthn 5.1), base64url',
  '$.response.rawId': 'WebAuthn credential id again (rawId), base64url',
};

const RAW_KEY_LENGTHS = new Set([32, 64]);

interface Finding {
  readonly url: string;
  readonly path: string;
  readonly bytes: number;
}

function walk(
  value: unknown,
  path: string,
  found: (path: string, key: string, text: string) => void,
  key = '',
): void {
  if (typeof value === 'string') found(path, key, value);
  else if (Array.isArray(value))
    value.forEach((item, index) => walk(item, `${path}[${index}]`, found, key));
  else if (typeof value === 'object' && value !== null) {
    for (const [name, item] of Object.entries(value)) walk(item, `${path}.${name}`, found, name);
  }
}

/** Fields of JSON request bodies whose value has the length of a raw secret key but is not known to be public. */
export function rawKeyLengthFindings(requests: readonly CapturedRequest[]): Finding[] {
  const findings: Finding[] = [];
  for (const request of requests) {
    if (request.body.length === 0 || !(request.headers['content-type'] ?? '').includes('json'))
      continue;
    let json: unknown;
    try {
      json = JSON.parse(request.body.toString('utf8'));
    } catch {
      continue;
    }
    walk(json, '$', (path, key, text) => {
      if (!/^[A-Za-z0-9_-]{40,}$/.test(text)) return;
      const bytes = Buffer.from(text, 'base64url').length;
      if (RAW_KEY_LENGTHS.has(bytes) && !(key in PUBLIC_FIXED_LENGTH_FIELDS) && !(path in PUBLIC_FIXED_LENGTH_PATHS))
        findings.push({ url: request.url, path, bytes });
    });
  }
  return findings;
}

export function expectNoKeyMaterial(requests: readonly CapturedRequest[]): void {
  // The needles must be searchable in every encoding, or the check could not fail.
  expect(encodingsOf(PKCS8_RSA).length).toBeGreaterThan(5);
  const leaks = findSecretLeaks(requests, [PKCS8_RSA, PKCS8_EC, '"kty"']);
  expect(
    leaks.map(
      (leak) =>
        `${leak.request.method} ${leak.request.url}: ${leak.secret} as ${leak.encoding} in the ${leak.where}`,
    ),
    'private-key structure or JWK in a request',
  ).toEqual([]);
  expect(
    rawKeyLengthFindings(requests),
    'a value with the length of a raw key in a field not known to be public',
  ).toEqual([]);
}
