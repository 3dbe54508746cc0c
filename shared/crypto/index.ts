// The one entry point of Kluis cryptography: everything else in the app calls these functions.
export {
  type Bytes,
  utf8,
  fromUtf8,
  randomBytes,
  toBase64Url,
  fromBase64Url,
  toHex,
  fromHex,
  constantTimeEqual,
  concatBytes,
  lengthPrefixed,
} from './bytes';
export {
  KluisCryptoError,
  DecryptionError,
  IntegrityError,
  UnsupportedVersionError,
  WeakParametersError,
  type CryptoErrorCode,
  type IntegrityReason,
} from './errors';
export {
  type Argon2idParams,
  ARGON2ID_DEFAULT,
  ARGON2ID_FLOOR,
  ARGON2ID_CEILING,
  ARGON2ID_SALT_BYTES,
  HKDF_LABEL,
  assertArgon2idParams,
  deriveArgon2id,
  normalizeSecret,
} from './kdf';
export {
  type KeyPurpose,
  SecretKey,
  SECRET_KEY_BYTES,
  PRF_OUTPUT_BYTES,
  generateSecretKey,
  importSecretKey,
  deriveKeySafeKey,
  derivePasskeyUnlockKey,
} from './keys';
export { type RecordContext, RECORD_VERSION, RECORD_OVERHEAD_BYTES } from './envelope';
export { encryptRecord, decryptRecord, decryptRecordText } from './record';
export { type KeyContext, wrapSecretKey, unwrapSecretKey, deriveRecoveryKey, deriveResetKeys, RESET_LINK_SECRET_BYTES } from './wrap';
export {
  type PublicKey,
  type PrivateKey,
  type GeneratedKeyPair,
  generateKeyPair,
  unwrapPrivateKey,
  rewrapPrivateKey,
  importPublicKey,
  sealSecretKey,
  openSealedSecretKey,
  formatFingerprint,
} from './rsa';
export { type IncrementalHash, sha256, createSha256 } from './hash';
export {
  type FileContext,
  FILE_VERSION,
  FILE_CHUNK_BYTES,
  FILE_HEADER_BYTES,
  FileEncryptor,
  FileDecryptor,
  encryptFileStream,
  encryptBlobParts,
  SourceChangedError,
  decryptFileStream,
  encryptedFileSize,
  plaintextFileSize,
} from './stream';
export {
  OPAQUE_KEY_STRETCHING,
  OPAQUE_BENCH_KEY_STRETCHING,
  type OpaqueClientResult,
  opaqueReady,
  startOpaqueRegistration,
  finishOpaqueRegistration,
  startOpaqueLogin,
  finishOpaqueLogin,
} from './opaque';
export {
  type SigningPublicKey,
  type SigningPrivateKey,
  SIGNATURE_BYTES,
  generateSigningKeyPair,
  unwrapSigningKey,
  importSigningPublicKey,
  signStatement,
  verifyStatement,
} from './signing';
export {
  INVITATION_BINDING_KEY_BYTES,
  keyCommitment,
  deriveInvitationBindingKey,
  invitationBindingMac,
  verifyInvitationBindingMac,
} from './binding';
export { ED25519_SIGNATURE_BYTES, importEd25519PublicKey, verifyEd25519 } from './ed25519';
