// Typed errors of the crypto core. Messages are fixed strings: they never carry key or plaintext bytes.

export type CryptoErrorCode = 'wrong_key' | 'integrity' | 'unsupported_version' | 'weak_parameters';

/** Why an integrity check failed; for logs and tests, never secret. */
export type IntegrityReason =
  | 'authentication_failed'
  | 'malformed'
  | 'truncated'
  | 'trailing_data'
  | 'empty_final_chunk';

export abstract class KluisCryptoError extends Error {
  abstract readonly code: CryptoErrorCode;
}

/** The key or password does not belong to this ciphertext (its key commitment does not match). */
export class DecryptionError extends KluisCryptoError {
  readonly code = 'wrong_key';
  constructor() {
    super('The key or password does not match this data.');
    this.name = 'DecryptionError';
  }
}

/** The ciphertext was altered, reordered, truncated, extended or is otherwise damaged. */
export class IntegrityError extends KluisCryptoError {
  readonly code = 'integrity';
  constructor(readonly reason: IntegrityReason) {
    super(`The data was altered or is damaged (${reason}).`);
    this.name = 'IntegrityError';
  }
}

/** A format version (or variant) this client does not implement. */
export class UnsupportedVersionError extends KluisCryptoError {
  readonly code = 'unsupported_version';
  constructor(
    readonly format: string,
    readonly version: number,
  ) {
    super(`Unsupported ${format} version ${version}.`);
    this.name = 'UnsupportedVersionError';
  }
}

/** Key-derivation parameters below the floors (or above the ceilings) this client accepts. */
export class WeakParametersError extends KluisCryptoError {
  readonly code = 'weak_parameters';
  constructor(readonly parameter: string) {
    super(`Refusing key-derivation parameter out of the accepted range: ${parameter}.`);
    this.name = 'WeakParametersError';
  }
}
