// Key derivation: Argon2id parameters and floors (one constant), HKDF-SHA-256 with fixed labels.
import { argon2id } from 'hash-wasm';
import { type Bytes, utf8 } from './bytes';
import { WeakParametersError } from './errors';

export interface Argon2idParams {
  /** Memory in KiB (RFC 9106 "m"). */
  readonly memoryKiB: number;
  /** Passes over memory (RFC 9106 "t"). */
  readonly iterations: number;
  /** Lanes (RFC 9106 "p"). */
  readonly parallelism: number;
}

/**
 * The client's Argon2id parameters: 64 MiB, t=3, p=1 (RFC 9106 section 7.4 "second recommended
 * option" with more passes). Used inside OPAQUE's key stretching and for recovery secrets.
 * Raised only by shipping a new client, never by a server answer.
 */
export const ARGON2ID_DEFAULT: Argon2idParams = Object.freeze({
  memoryKiB: 64 * 1024,
  iterations: 3,
  parallelism: 1,
});

/**
 * WARNING: floors and ceilings hold whatever a server or a stored record says. Floors stop a
 * malicious server from downgrading the work factor (OWASP: m >= 19 MiB, t >= 2); ceilings stop it
 * from freezing the browser with absurd values.
 */
export const ARGON2ID_FLOOR = Object.freeze({ memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 });
export const ARGON2ID_CEILING = Object.freeze({ memoryKiB: 1024 * 1024, iterations: 16, parallelism: 4 });

export const ARGON2ID_SALT_BYTES = 16;

/** Throws WeakParametersError unless the parameters are within the floors and ceilings. */
export function assertArgon2idParams(params: Argon2idParams): void {
  const check = (name: keyof Argon2idParams) => {
    const value = params[name];
    if (!Number.isSafeInteger(value) || value < ARGON2ID_FLOOR[name] || value > ARGON2ID_CEILING[name]) {
      throw new WeakParametersError(name);
    }
  };
  check('memoryKiB');
  check('iterations');
  check('parallelism');
}

/** Passwords and recovery secrets are NFKC-normalised so the same text typed anywhere derives the same key. */
export function normalizeSecret(secret: string): string {
  return secret.normalize('NFKC');
}

/**
 * Argon2id (RFC 9106, version 0x13) over a password or recovery secret.
 * @param secret UTF-8 string (NFKC-normalised here) or raw bytes
 * @param salt at least 16 random bytes
 * @param length output length in bytes
 */
export async function deriveArgon2id(
  secret: string | Uint8Array,
  salt: Uint8Array,
  params: Argon2idParams,
  length = 32,
): Promise<Bytes> {
  assertArgon2idParams(params);
  if (salt.length < ARGON2ID_SALT_BYTES) throw new WeakParametersError('salt');
  const password = typeof secret === 'string' ? utf8(normalizeSecret(secret)) : secret;
  return argon2idUnchecked(password, salt, params, length);
}

/**
 * @internal Argon2id without floors, for known-answer tests only (their salts and costs are small).
 * WARNING: never call this from application code; use deriveArgon2id.
 */
export async function argon2idUnchecked(
  password: Uint8Array,
  salt: Uint8Array,
  params: Argon2idParams,
  length: number,
): Promise<Bytes> {
  const out = await argon2id({
    password,
    salt,
    iterations: params.iterations,
    parallelism: params.parallelism,
    memorySize: params.memoryKiB,
    hashLength: length,
    outputType: 'binary',
  });
  return new Uint8Array(out);
}

/**
 * The HKDF info labels. WARNING: one label per purpose; a label is never reused for another
 * purpose and never changed (a change is a new format version).
 */
export const HKDF_LABEL = Object.freeze({
  /** OPAQUE export key -> the key that wraps the user's key safe (RFC 9807 section 6.4.4 export_key). */
  keySafeWrap: 'kluis/v1/keysafe-wrap',
  /** Recovery secret (after Argon2id) -> key that wraps the escrow key E, which wraps the organisation's escrow private key. */
  recoveryWrap: 'kluis/v1/recovery-wrap',
  /** Per-key AES-256-GCM subkey for records; the purpose name is appended. */
  recordAead: 'kluis/v1/record-aead/',
  /** Per-key commitment value for records; the purpose name is appended. */
  recordCommit: 'kluis/v1/record-commit/',
  /** Per-file AES-256-GCM payload key, salted by the header nonce. */
  filePayload: 'kluis/v1/file-payload',
  /** Per-file key commitment, salted by the header nonce. */
  fileCommit: 'kluis/v1/file-commit',
  /** Escrow key -> one invitation's binding key; the invitation id is appended. */
  invitationBinding: 'kluis/v1/invitation-binding/',
  /** A passkey's PRF output -> the key that wraps the user key; length-prefixed user id and credential id follow. */
  passkeyUnlock: 'kluis/v1/passkey-unlock',
  /** Escrow reset: SHA-256 over this, the reset id and the link secret gives the Argon2id salt of the recovery code. */
  resetSalt: 'kluis/v1/reset-salt',
  /** Escrow reset: Argon2id(code) || link secret -> the one-time key that wraps the user key. */
  resetWrap: 'kluis/v1/reset-wrap',
  /** Escrow reset: the same input -> the proof the server compares (its SHA-256); the reset id follows, length-prefixed. */
  resetProof: 'kluis/v1/reset-proof',
} as const);

/** Imports key material as a non-extractable HKDF base key. */
export function importHkdfKey(material: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', material, 'HKDF', false, ['deriveBits', 'deriveKey']);
}

/** HKDF-SHA-256 (RFC 5869) output bytes. */
export async function hkdfBytes(base: CryptoKey, salt: Bytes, info: string | Bytes, length: number): Promise<Bytes> {
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt, info: typeof info === 'string' ? utf8(info) : info },
    base,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** HKDF-SHA-256 straight into a non-extractable AES-256-GCM key: the subkey never exists as bytes in JS. */
export function hkdfAesGcmKey(base: CryptoKey, salt: Bytes, info: string): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: utf8(info) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}
