// Key commitments and invitation bindings: values that let a browser check a key or a public key without trusting the server.
import { type Bytes, constantTimeEqual, lengthPrefixed, concatBytes, toHex, utf8 } from './bytes';
import { HKDF_LABEL, hkdfBytes } from './kdf';
import type { SecretKey } from './keys';

/**
 * The public commitment to a symmetric key: the 32-byte record key commitment
 * HKDF-SHA-256(key, salt = empty, info = "kluis/v1/record-commit/<purpose>"), as lowercase hex.
 * It is what every record envelope made under the key carries in bytes 1..32, so it reveals nothing
 * a stored record does not; a signed entry naming it pins the exact key a seal must open to.
 */
export async function keyCommitment(key: SecretKey): Promise<string> {
  return toHex((await key.recordSubkeys()).commitment);
}

export const INVITATION_BINDING_KEY_BYTES = 32;

/**
 * The invitation binding key k for one invitation, derived from the organisation escrow key E:
 * HKDF-SHA-256(ikm = E, salt = empty, info = "kluis/v1/invitation-binding/" || invitationId, L = 32).
 * Every escrow holder can recompute it; the server, which never holds E, cannot.
 * @returns 32 raw bytes (they travel only in the invitation link's #fragment, base64url)
 */
export async function deriveInvitationBindingKey(escrowKey: SecretKey<'escrow'>, invitationId: string): Promise<Bytes> {
  return hkdfBytes(escrowKey.base, new Uint8Array(0), utf8(HKDF_LABEL.invitationBinding + invitationId), INVITATION_BINDING_KEY_BYTES);
}

/** The message an invitee's browser MACs: "kluis/v1/invitation-binding" || lp(field) for each field, in order. */
function bindingMessage(fields: readonly string[]): Bytes {
  return concatBytes(utf8('kluis/v1/invitation-binding'), ...fields.map((field) => lengthPrefixed(field)));
}

/**
 * HMAC-SHA-256 under the binding key k over the length-prefixed fields
 * (invitationId, userId, email, role, encryption-key fingerprint, signing-key fingerprint).
 * @param bindingKey 32 bytes from the invitation link
 * @returns 32-byte MAC
 */
export async function invitationBindingMac(bindingKey: Uint8Array, fields: readonly string[]): Promise<Bytes> {
  if (bindingKey.length !== INVITATION_BINDING_KEY_BYTES) throw new TypeError(`a binding key has ${INVITATION_BINDING_KEY_BYTES} bytes`);
  const key = await crypto.subtle.importKey('raw', bindingKey as Bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, bindingMessage(fields)));
}

/** Checks a binding MAC in constant time; false for any difference. */
export async function verifyInvitationBindingMac(bindingKey: Uint8Array, fields: readonly string[], mac: Uint8Array): Promise<boolean> {
  return constantTimeEqual(await invitationBindingMac(bindingKey, fields), mac);
}

