// The browser's WebAuthn calls (main thread only: workers have no navigator.credentials), through @simplewebauthn/browser.
import { bufferToBase64URLString, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { z } from 'zod';
import { registrationResponseSchema } from '../../../shared/api';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/browser';

/** What the server sends as options: the library's JSON (kept loose in the contract). */
type Options = { readonly challenge: string; readonly [key: string]: unknown };

/** The server's options name another relying party than this site: refused before the authenticator is asked. */
export class ForeignRelyingPartyError extends Error {
  override readonly name = 'ForeignRelyingPartyError';
  constructor() {
    super('the passkey options name another site than this page');
  }
}

/**
 * WARNING: Kluis's RP ID is the host name of PUBLIC_ORIGIN, which is this page's own host. An RP ID
 * in the server's options that is anything else is a server trying to have the authenticator answer
 * for another site. The browser refuses a host that is neither this one nor a registrable suffix of
 * it (W3C WebAuthn Level 3, 5.1.3 and 5.1.4.1), but it would let a parent domain through (a page on
 * kluis.example.nl may name example.nl, and be answered with that site's passkeys): so the page
 * allows only its own host, or none (which means its own).
 */
function assertOwnRelyingParty(rpId: unknown): void {
  if (rpId !== undefined && rpId !== globalThis.location.hostname) throw new ForeignRelyingPartyError();
}

/**
 * A passkey assertion; with `prfSalt`, the authenticator also derives its PRF output for that input
 * (W3C WebAuthn Level 3, 10.1.4). WARNING: a PRF output is key material: it is split off here,
 * returned separately (for the crypto worker, transferred), and never left in the response that
 * goes to the server. The salt is this client's own: whatever PRF input the server's options
 * carry is replaced.
 * @throws ForeignRelyingPartyError when the options name another site (before the authenticator is asked)
 */
export async function assertPasskey(
  options: Options,
  prfSalt?: Uint8Array<ArrayBuffer>,
): Promise<{ response: AuthenticationResponseJSON; prfOutput: ArrayBuffer | null }> {
  const { extensions = {}, ...rest } = options as unknown as PublicKeyCredentialRequestOptionsJSON;
  assertOwnRelyingParty(rest.rpId);
  const { prf: _fromServer, ...inputs } = extensions;
  const optionsJSON: PublicKeyCredentialRequestOptionsJSON = { ...rest, extensions: prfSalt ? { ...inputs, prf: { eval: { first: prfSalt } } } : inputs };
  const response = await startAuthentication({ optionsJSON });
  const { prf, ...otherExtensions } = response.clientExtensionResults as AuthenticationResponseJSON['clientExtensionResults'] & {
    prf?: { results?: { first?: BufferSource } };
  };
  const first = prf?.results?.first;
  const prfOutput = first ? (first instanceof ArrayBuffer ? first : first.buffer.slice(first.byteOffset, first.byteOffset + first.byteLength)) : null;
  return { response: { ...response, clientExtensionResults: otherExtensions }, prfOutput };
}

/** The transports the contract knows; a newer browser may name more (they are only hints for later sign-ins). */
const knownTransport = registrationResponseSchema.shape.response.shape.transports.unwrap().element;
type KnownTransport = z.infer<typeof knownTransport>;

/**
 * A new passkey. The PRF extension's "enabled" flag says whether it can later unlock the account.
 * @throws ForeignRelyingPartyError when the options name another site (before the authenticator is asked)
 */
export async function createPasskey(options: Options): Promise<{ response: z.input<typeof registrationResponseSchema>; prfEnabled: boolean }> {
  assertOwnRelyingParty((options.rp as { readonly id?: unknown } | undefined)?.id);
  const response = await startRegistration({ optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON });
  const { prf, ...otherExtensions } = response.clientExtensionResults as RegistrationResponseJSON['clientExtensionResults'] & { prf?: { enabled?: boolean } };
  const transports = response.response.transports?.filter((name): name is KnownTransport => knownTransport.safeParse(name).success);
  return {
    response: { ...response, response: { ...response.response, transports }, clientExtensionResults: otherExtensions },
    prfEnabled: prf?.enabled === true,
  };
}

/**
 * Request options made in the browser, for asking one known passkey for its PRF output (turning on
 * unlock). Nobody verifies this assertion: only the PRF output is used, so the challenge is just
 * fresh randomness, and the RP ID is the page's own (the one the passkey was registered for).
 */
export function localPasskeyOptions(credentialId: string): Options {
  return {
    challenge: bufferToBase64URLString(crypto.getRandomValues(new Uint8Array(32)).buffer),
    allowCredentials: [{ id: credentialId, type: 'public-key' }],
    userVerification: 'required',
    timeout: 120_000,
  };
}
