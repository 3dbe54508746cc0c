// The PRF input of "unlock with passkey" (no imports: the page asks the authenticator with it, the crypto stays in the worker).

/**
 * SHA-256("kluis/v1/passkey-unlock"), 32 bytes: the PRF evaluation input ("salt") of "unlock with
 * passkey" (W3C WebAuthn Level 3, 10.1.4; the browser hashes it again with "WebAuthn PRF" before the
 * authenticator sees it). WARNING: fixed by this client for this one purpose and never taken from the
 * server, so a server cannot choose what the authenticator derives; a new purpose gets a new salt.
 */
export const PASSKEY_UNLOCK_PRF_SALT: Uint8Array<ArrayBuffer> = Uint8Array.from([
  0x5f, 0xd8, 0xa4, 0x49, 0xa0, 0x42, 0x7d, 0x94, 0xd6, 0x6c, 0x8f, 0x1c, 0x9d, 0x72, 0x00, 0x38,
  0xe7, 0x36, 0xe9, 0x83, 0x66, 0x1b, 0xcd, 0xbb, 0xd9, 0xa6, 0x9b, 0x2f, 0x9c, 0x60, 0xf7, 0xe7,
]);
