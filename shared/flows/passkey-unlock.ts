// "Unlock with passkey": the user key wrapped under a key derived from a passkey's PRF output, and signing in with a passkey alone.
import type { z } from 'zod';
import {
  type Bytes,
  type KeyContext,
  type SecretKey,
  IntegrityError,
  derivePasskeyUnlockKey,
  fromBase64Url,
  fromUtf8,
  toBase64Url,
  unwrapSecretKey,
  wrapSecretKey,
} from '../crypto';
import { type EndpointResponse, type authenticationResponseSchema, finishPasskeyLogin, setPasskeyUnlock } from '../api';
import type { CallApi } from '../api/client';
import { settleSignIn } from './account-flows';
import { type UnlockedVault, openVaultWithUserKey } from './vault';

export { PASSKEY_UNLOCK_PRF_SALT } from './passkey-prf-salt';

/** Where a passkey's wrapping of the user key belongs (bound into its associated data). */
export const passkeyUnlockContext = (userId: string, credentialId: string): KeyContext => ({ id: `passkey/${credentialId}`, owner: userId });

/**
 * Wraps the user key under the key derived from a passkey's PRF output (shared/crypto
 * derivePasskeyUnlockKey): a record envelope of type "wrapped-key/user" bound to the account and
 * the credential. The PRF output never leaves the browser; only this wrapping is stored.
 * @param prfOutput 32 bytes: the credential's PRF output for PASSKEY_UNLOCK_PRF_SALT
 * @param credentialId base64url, as the browser reported it
 */
export async function wrapUserKeyForPasskey(userKey: SecretKey<'user'>, prfOutput: Uint8Array, userId: string, credentialId: string): Promise<Bytes> {
  const wrapping = await derivePasskeyUnlockKey(prfOutput, userId, credentialId);
  return wrapSecretKey(wrapping, userKey, passkeyUnlockContext(userId, credentialId));
}

/**
 * Opens a wrapping made by wrapUserKeyForPasskey. The user key comes back extractable (a password
 * change or a new passkey wrapping needs its bytes).
 * @throws DecryptionError when the wrapping was made under another key (another passkey, another
 *   account, or not by this browser at all), IntegrityError when it was altered or moved
 */
export async function unwrapUserKeyWithPasskey(wrapped: Uint8Array, prfOutput: Uint8Array, userId: string, credentialId: string): Promise<SecretKey<'user'>> {
  const wrapping = await derivePasskeyUnlockKey(prfOutput, userId, credentialId);
  return unwrapSecretKey(wrapping, wrapped, 'user', passkeyUnlockContext(userId, credentialId), { extractable: true });
}

/** Turns on "unlock with passkey" for one of the signed-in user's passkeys. */
export async function enablePasskeyUnlock(
  api: CallApi,
  vault: UnlockedVault,
  passkey: { readonly factorId: string; readonly credentialId: string },
  prfOutput: Uint8Array,
): Promise<void> {
  const wrapped = await wrapUserKeyForPasskey(vault.userKey, prfOutput, vault.userId, passkey.credentialId);
  await api(setPasskeyUnlock, { params: { id: passkey.factorId }, body: { wrappedUserKey: toBase64Url(wrapped) } });
}

/** What the browser's authenticator answered (client/features/second-factors/webauthn.ts assertPasskey). */
export interface PasskeyAssertion {
  /** The AuthenticationResponseJSON without its PRF results (those are `prfOutput`). */
  readonly response: z.input<typeof authenticationResponseSchema>;
  /** 32 bytes: the PRF output for PASSKEY_UNLOCK_PRF_SALT. WARNING: key material; never sent. */
  readonly prfOutput: Uint8Array;
}

/**
 * Signs in with a passkey alone (after startPasskeyLogin and the browser's assertion): the server
 * verifies the assertion and answers the key safe and this passkey's wrapping of the user key,
 * which only this browser's PRF output opens.
 * WARNING: the account and the credential are the ones the authenticator named (user handle and
 * credential id), never the server's fields: a wrapping or bundle served for another passkey or
 * another account fails here, before anything is opened.
 * @throws IntegrityError when the server's answer names another account or credential than the
 *   authenticator did, DecryptionError or IntegrityError when the wrapping does not open
 */
export async function passkeyLogin(
  api: CallApi,
  ceremonyId: string,
  assertion: PasskeyAssertion,
): Promise<{ vault: UnlockedVault; bundle: EndpointResponse<typeof finishPasskeyLogin> }> {
  const credentialId = assertion.response.rawId;
  const handle = assertion.response.response.userHandle;
  const bundle = await api(finishPasskeyLogin, { body: { ceremonyId, response: assertion.response } });
  const userId = bundle.session.user.id;
  if (credentialId !== assertion.response.id || bundle.unlock.credentialId !== credentialId || handle === undefined || fromUtf8(fromBase64Url(handle)) !== userId) {
    throw new IntegrityError('authentication_failed');
  }
  const userKey = await unwrapUserKeyWithPasskey(fromBase64Url(bundle.unlock.wrappedUserKey), assertion.prfOutput, userId, credentialId);
  const vault = await settleSignIn(api, await openVaultWithUserKey(bundle, userKey), bundle);
  return { vault, bundle };
}
