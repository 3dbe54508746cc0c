// OPAQUE (RFC 9807) client side via @serenity-kit/opaque, with Kluis's key stretching and error types.
import * as opaque from '@serenity-kit/opaque';
import { type Bytes, fromBase64Url } from './bytes';
import { DecryptionError, IntegrityError } from './errors';
import { normalizeSecret } from './kdf';

/**
 * Argon2id inside OPAQUE's key stretching (RFC 9807 section 6.3.2.3 "Stretch"): 64 MiB, t=3, p=1.
 * WARNING: a client constant. The server never sends KDF parameters, so it cannot downgrade them.
 */
export const OPAQUE_KEY_STRETCHING = Object.freeze({
  'argon2id-custom': Object.freeze({ memory: 64 * 1024, iterations: 3, parallelism: 1 }),
});

/**
 * Minimal key stretching (Argon2id 8 KiB, t=1) for benchmark and test accounts only: the server's
 * work is exactly the same, the client's nearly free. Never used by the app.
 */
export const OPAQUE_BENCH_KEY_STRETCHING = Object.freeze({
  'argon2id-custom': Object.freeze({ memory: 8, iterations: 1, parallelism: 1 }),
});

type KeyStretching = typeof OPAQUE_KEY_STRETCHING | typeof OPAQUE_BENCH_KEY_STRETCHING;

export interface OpaqueClientResult {
  /** OPAQUE export key (64 bytes): only ever used through deriveKeySafeKey. */
  readonly exportKey: Bytes;
  /** The server's static public key as the protocol saw it (base64url), to compare with the pinned one. */
  readonly serverStaticPublicKey: string;
}

// The library starts compiling its WebAssembly on import; observe a failure (e.g. a CSP without
// 'wasm-unsafe-eval') here so it surfaces from the calls below instead of as an unhandled rejection.
opaque.ready.catch(() => undefined);

/** Loads the OPAQUE WebAssembly (needs CSP 'wasm-unsafe-eval'). */
export async function opaqueReady(): Promise<void> {
  await opaque.ready;
}

/** Registration step 1: the blinded password element to send (base64url). */
export async function startOpaqueRegistration(password: string) {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: normalizeSecret(password) });
  return { state: clientRegistrationState, request: registrationRequest };
}

/** Registration step 2: the record to upload, and the export key that wraps the new key safe. */
export async function finishOpaqueRegistration(
  state: string,
  response: string,
  password: string,
  keyStretching: KeyStretching = OPAQUE_KEY_STRETCHING,
): Promise<OpaqueClientResult & { readonly record: string }> {
  await opaque.ready;
  let result: opaque.client.FinishRegistrationResult;
  try {
    result = opaque.client.finishRegistration({
      clientRegistrationState: state,
      registrationResponse: response,
      password: normalizeSecret(password),
      keyStretching,
    });
  } catch {
    throw new IntegrityError('malformed');
  }
  return {
    record: result.registrationRecord,
    exportKey: fromBase64Url(result.exportKey),
    serverStaticPublicKey: result.serverStaticPublicKey,
  };
}

/** Login step 1: the credential request to send (base64url). */
export async function startOpaqueLogin(password: string) {
  await opaque.ready;
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: normalizeSecret(password) });
  return { state: clientLoginState, request: startLoginRequest };
}

/**
 * Login step 2. Verifies the server's answer (OPAQUE authenticates the server too).
 * @throws DecryptionError for a wrong password, an unknown account, or a server that is not the
 *   one the account registered with; IntegrityError for a malformed server message.
 */
export async function finishOpaqueLogin(
  state: string,
  response: string,
  password: string,
  keyStretching: KeyStretching = OPAQUE_KEY_STRETCHING,
): Promise<OpaqueClientResult & { readonly finishRequest: string }> {
  await opaque.ready;
  let result: opaque.client.FinishLoginResult | undefined;
  try {
    result = opaque.client.finishLogin({
      clientLoginState: state,
      loginResponse: response,
      password: normalizeSecret(password),
      keyStretching,
    });
  } catch {
    throw new IntegrityError('malformed');
  }
  if (!result) throw new DecryptionError();
  return {
    finishRequest: result.finishLoginRequest,
    exportKey: fromBase64Url(result.exportKey),
    serverStaticPublicKey: result.serverStaticPublicKey,
  };
}
