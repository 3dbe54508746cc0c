// "Unlock with passkey" seen from outside Kluis's code: a credential's PRF output asked of the virtual authenticator, and its wrapping opened with node:crypto.
import { createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import type { Page } from '@playwright/test';

/** SHA-256("kluis/v1/passkey-unlock"): the PRF input SECURITY.md 5.7 documents, computed here rather than imported. */
export const DOCUMENTED_PRF_SALT: Buffer = createHash('sha256').update('kluis/v1/passkey-unlock').digest();

/**
 * Asks the page's authenticator (the CDP virtual one) for the PRF output of one credential for `salt`,
 * with a WebAuthn call written here, not Kluis's. Counts as an assertion (the sign count moves).
 * @param credentialId base64url, as the browser reports it
 * @returns the 32-byte PRF output ("first" result)
 */
export async function prfOutputOf(page: Page, credentialId: string, salt: Uint8Array): Promise<Buffer> {
  const bytes = await page.evaluate(
    async ({ id, first }) => {
      const b64 = id.replace(/-/g, '+').replace(/_/g, '/');
      const rawId = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
      const credential = (await navigator.credentials.get({
        publicKey: {
          challenge: crypto.getRandomValues(new Uint8Array(32)),
          allowCredentials: [{ type: 'public-key', id: rawId }],
          userVerification: 'required',
          extensions: { prf: { eval: { first: new Uint8Array(first) } } },
        },
      })) as PublicKeyCredential;
      const results = credential.getClientExtensionResults() as { prf?: { results?: { first?: ArrayBuffer } } };
      return [...new Uint8Array(results.prf?.results?.first ?? new ArrayBuffer(0))];
    },
    { id: credentialId, first: [...salt] },
  );
  return Buffer.from(bytes);
}

const lengthPrefixed = (text: string): Buffer => {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/**
 * Opens a passkey's wrapping of the user key from its documented format alone (SECURITY.md 5.7 and
 * 4.2), with node:crypto: wrapping key = HKDF-SHA-256(prf, empty, "kluis/v1/passkey-unlock" ||
 * lp(user id) || lp(credential id)); a record envelope (version 1 || commitment 32 || IV 12 ||
 * ciphertext || tag 16) under HKDF(key, empty, "kluis/v1/record-aead/passkey"), associated data
 * "kluis/v1/record" || 0x00 0x01 || lp("wrapped-key/user") || lp("passkey/" + credential id) || lp(user id).
 * @returns the 32-byte user key; throws when the wrapping does not open with this PRF output
 */
export function openPasskeyWrapping(prf: Buffer, userId: string, credentialId: string, wrapped: Buffer): Buffer {
  const info = Buffer.concat([Buffer.from('kluis/v1/passkey-unlock'), lengthPrefixed(userId), lengthPrefixed(credentialId)]);
  const key = Buffer.from(hkdfSync('sha256', prf, Buffer.alloc(0), info, 32));
  const aead = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'kluis/v1/record-aead/passkey', 32));
  const decipher = createDecipheriv('aes-256-gcm', aead, wrapped.subarray(33, 45));
  decipher.setAAD(
    Buffer.concat([
      Buffer.from('kluis/v1/record'),
      Buffer.from([0, 1]),
      lengthPrefixed('wrapped-key/user'),
      lengthPrefixed(`passkey/${credentialId}`),
      lengthPrefixed(userId),
    ]),
  );
  decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
  return Buffer.concat([decipher.update(wrapped.subarray(45, wrapped.length - 16)), decipher.final()]);
}
