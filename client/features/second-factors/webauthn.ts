// The browser's WebAuthn calls (main thread only: workers have no navigator.credentials), through @simplewebauthn/browser.
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/browser';

/** What the server sends as options: the library's JSON (kept loose in the contract). */
type Options = { readonly challenge: string; readonly [key: string]: unknown };

/**
 * A passkey assertion. WARNING: a PRF output is key material: it is split off here, returned
 * separately (for the crypto worker), and never left in the response that goes to the server.
 */
export async function assertPasskey(options: Options): Promise<{ response: AuthenticationResponseJSON; prfOutput: ArrayBuffer | null }> {
  const response = await startAuthentication({ optionsJSON: options });
  const { prf, ...otherExtensions } = response.clientExtensionResults as AuthenticationResponseJSON['clientExtensionResults'] & {
    prf?: { results?: { first?: BufferSource } };
  };
  const first = prf?.results?.first;
  const prfOutput = first ? (first instanceof ArrayBuffer ? first : (first.buffer.slice(first.byteOffset, first.byteOffset + first.byteLength))) : null;
  return { response: { ...response, clientExtensionResults: otherExtensions }, prfOutput };
}

/** A new passkey. The PRF extension's "enabled" flag says whether it can later unlock the account. */
export async function createPasskey(options: Options): Promise<{ response: RegistrationResponseJSON; prfEnabled: boolean }> {
  const response = await startRegistration({ optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON });
  const { prf, ...otherExtensions } = response.clientExtensionResults as RegistrationResponseJSON['clientExtensionResults'] & { prf?: { enabled?: boolean } };
  return { response: { ...response, clientExtensionResults: otherExtensions }, prfEnabled: prf?.enabled === true };
}
