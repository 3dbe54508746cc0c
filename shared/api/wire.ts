// Reusable wire schemas: base64url values, ids, e-mail addresses.
import { z } from 'zod';

/** Unpadded base64url of at most `maxBytes` bytes (decoded size). */
export const base64url = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil((maxBytes * 4) / 3))
    .regex(/^[A-Za-z0-9_-]*$/, 'must be unpadded base64url');

/** Server-generated ids: 22 base64url characters (128 random bits). */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be an id');

/** E-mail addresses are compared case-insensitively and stored lower-case (NFKC). */
export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .transform((value) => value.normalize('NFKC').toLowerCase())
  .pipe(z.email());

export const isoDateTime = z.iso.datetime();

export const languageSchema = z.enum(['en', 'nl']);
export type Language = z.infer<typeof languageSchema>;

export const roleSchema = z.enum(['admin', 'team', 'client', 'auditor']);
export type Role = z.infer<typeof roleSchema>;

/** Largest signed statement or history entry payload, in bytes. */
export const MAX_SIGNED_PAYLOAD_BYTES = 8192;

/**
 * A signed statement as stored and transported: the exact UTF-8 JSON bytes its signer signed
 * (base64url) and a 64-byte ECDSA P-256 signature (IEEE P1363 r || s, base64url). Verifiers parse
 * the bytes they verified and never re-serialise (SECURITY.md §4.9).
 */
export const signedPayloadSchema = z
  .strictObject({
    payload: z
      .string()
      .max(Math.ceil((MAX_SIGNED_PAYLOAD_BYTES * 4) / 3))
      .regex(/^[A-Za-z0-9_-]+$/, 'must be unpadded base64url'),
    signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'must be a 64-byte signature'),
  })
  .meta({ id: 'SignedPayload' });
export type SignedPayload = z.infer<typeof signedPayloadSchema>;
