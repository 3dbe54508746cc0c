// The versioned record envelope (bytes) and its associated data; parsed strictly.
import { type Bytes, concatBytes, lengthPrefixed, utf8 } from './bytes';
import { IntegrityError, UnsupportedVersionError } from './errors';

/**
 * Record envelope, version 1 (all offsets in bytes):
 *
 *   0       version = 0x01
 *   1..32   key commitment: HKDF(key, info = "kluis/v1/record-commit/<purpose>"), 32 bytes
 *   33..44  IV: 96 fresh random bits per encryption (NIST SP 800-38D section 8.2.2)
 *   45..    AES-256-GCM ciphertext followed by the 16-byte tag
 *
 * Associated data binds the ciphertext to where it belongs, so it cannot be moved to another record:
 *   "kluis/v1/record" || 0x00 || version || lp(type) || lp(id) || lp(owner), lp = u32be length || UTF-8.
 */
export const RECORD_VERSION = 1;
export const RECORD_COMMITMENT_BYTES = 32;
export const RECORD_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
export const RECORD_HEADER_BYTES = 1 + RECORD_COMMITMENT_BYTES + RECORD_IV_BYTES;
export const RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + GCM_TAG_BYTES;

/** Where a record belongs. Every field is bound into the AEAD associated data. */
export interface RecordContext {
  /** Record type, e.g. "document-name", "message", "wrapped-key/file". */
  readonly type: string;
  /** The record's own id (document id, message id, ...). */
  readonly id: string;
  /** The owner the record belongs to (user id or space id). */
  readonly owner: string;
}

export interface RecordEnvelope {
  readonly commitment: Bytes;
  readonly iv: Bytes;
  readonly ciphertext: Bytes;
}

export function recordAad(ctx: RecordContext, version = RECORD_VERSION): Bytes {
  return concatBytes(
    utf8('kluis/v1/record'),
    Uint8Array.of(0, version),
    lengthPrefixed(ctx.type),
    lengthPrefixed(ctx.id),
    lengthPrefixed(ctx.owner),
  );
}

export function encodeRecordEnvelope(envelope: RecordEnvelope): Bytes {
  return concatBytes(Uint8Array.of(RECORD_VERSION), envelope.commitment, envelope.iv, envelope.ciphertext);
}

/** Splits an envelope; unknown versions and impossible lengths are rejected before any crypto runs. */
export function parseRecordEnvelope(bytes: Uint8Array): RecordEnvelope {
  if (bytes.length === 0) throw new IntegrityError('malformed');
  const version = bytes[0]!;
  if (version !== RECORD_VERSION) throw new UnsupportedVersionError('record', version);
  if (bytes.length < RECORD_OVERHEAD_BYTES) throw new IntegrityError('truncated');
  return {
    commitment: bytes.slice(1, 1 + RECORD_COMMITMENT_BYTES),
    iv: bytes.slice(1 + RECORD_COMMITMENT_BYTES, RECORD_HEADER_BYTES),
    ciphertext: bytes.slice(RECORD_HEADER_BYTES),
  };
}
