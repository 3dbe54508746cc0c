// The worker's passkey operations against a real server: unlock turned on and a passkey-only sign-in, each wiping the PRF output it was handed; a refused unwrap holds no vault.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EndpointResponse, type finishPasskeyLogin, finishPasskeyRegistration, startPasskeyLogin, startPasskeyRegistration } from '../../shared/api';
import type { CallApi } from '../../shared/api/client';
import { invite, login, signup } from '../../shared/flows/account-flows';
import { PASSKEY_UNLOCK_PRF_SALT } from '../../shared/flows/passkey-prf-salt';
import { enablePasskeyUnlock } from '../../shared/flows/passkey-unlock';
import { budget } from '../../server/test/budget';
import { createTestOrganisation, invitationLinkFor, parseInvitationLink, type TestOrganisation } from '../../server/test/org-fixture';
import { SoftwareAuthenticator, type StoredCredential } from '../../server/test/software-authenticator';
import { createAccountOperations } from './account-operations';
import { outcomeOf } from './outcome';

// The worker signs in with the app's real key stretching, so this account is made with it too.
const email = 'klant.passkey@kluis.test';
const password = 'acht-eenden-in-de-slootkant';

let org: TestOrganisation;
let authenticator: SoftwareAuthenticator;

/** Registers a new passkey through `api` (a signed-in browser). */
async function addPasskey(api: CallApi, name: string): Promise<{ factorId: string; credential: StoredCredential }> {
  const { ceremonyId, options } = await api(startPasskeyRegistration, { body: {} });
  const made = authenticator.register(options);
  const factor = await api(finishPasskeyRegistration, { body: { ceremonyId, name, response: made.response } });
  return { factorId: factor.id, credential: made.credential };
}

/** A passkey that unlocks, made before the tests by the shared flow (not by the worker under test). */
let unlocking: { factorId: string; credential: StoredCredential };

/** A copy of `bytes` in a buffer of its own (what the page transfers). */
const transferable = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer;

beforeAll(async () => {
  org = await createTestOrganisation([]);
  authenticator = new SoftwareAuthenticator(org.testApp.config.publicOrigin);
  await invite(org.admin.client.api, org.admin.vault, { email, role: 'client', language: 'en' });
  const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
  await signup(org.newClient().api, { token, fragment, name: 'Pim Passkey', password, language: 'en' });
  const browser = org.newClient();
  const { vault } = await login(browser.api, email, password);
  unlocking = await addPasskey(browser.api, 'Phone');
  const credentialId = unlocking.credential.id.toString('base64url');
  await enablePasskeyUnlock(browser.api, vault, { factorId: unlocking.factorId, credentialId }, authenticator.prf(unlocking.credential, PASSKEY_UNLOCK_PRF_SALT));
}, budget(120_000));

afterAll(async () => {
  await org?.close();
});

describe('passkey operations of the crypto worker', () => {
  it('turns on unlock with a PRF output it then wipes, and a fresh worker signs in with the passkey alone: the same keys, the buffer wiped', async () => {
    const browser = org.newClient();
    const operations = createAccountOperations(browser.api);
    // The account has a passkey: the password sign-in asks for it as the second factor.
    await operations.login(email, password, (challenge) =>
      Promise.resolve({ method: 'passkey', response: authenticator.assert(challenge.passkeyOptions as { challenge: string }).response, trustDevice: false }),
    );
    const { factorId, credential } = await addPasskey(browser.api, 'Laptop');

    const prf = transferable(authenticator.prf(credential, PASSKEY_UNLOCK_PRF_SALT));
    await operations.enablePasskeyUnlock(factorId, credential.id.toString('base64url'), prf);
    expect(new Uint8Array(prf).every((byte) => byte === 0)).toBe(true);

    const elsewhere = org.newClient();
    const fresh = createAccountOperations(elsewhere.api);
    const start = await elsewhere.api(startPasskeyLogin, { body: {} });
    const { response } = authenticator.assert(start.options, {}, credential);
    const signInPrf = transferable(authenticator.prf(credential, PASSKEY_UNLOCK_PRF_SALT));
    const signedIn = await fresh.signInWithPasskey(start.ceremonyId, response, signInPrf);
    expect(signedIn).toMatchObject({ session: { user: { email } }, name: 'Pim Passkey' });
    expect(new Uint8Array(signInPrf).every((byte) => byte === 0)).toBe(true);
    expect(fresh.ownKeys()).toEqual(operations.ownKeys());
  });

  it('holds no vault when the wrapping does not open (a server swapping it), and says integrity_failed; the PRF output is wiped all the same', async () => {
    const browser = org.newClient();
    // A malicious server: the passkey's wrapping replaced by the password wrapping of the same key.
    const swapping: CallApi = async (endpoint, input, options) => {
      const answer = await browser.api(endpoint, input, options);
      if (endpoint.operationId !== 'finishPasskeyLogin') return answer;
      const bundle = answer as EndpointResponse<typeof finishPasskeyLogin>;
      return { ...bundle, unlock: { ...bundle.unlock, wrappedUserKey: bundle.keys.wrappedUserKey } } as typeof answer;
    };
    const operations = createAccountOperations(swapping);
    const start = await browser.api(startPasskeyLogin, { body: {} });
    const { response } = authenticator.assert(start.options, {}, unlocking.credential);
    const prf = transferable(authenticator.prf(unlocking.credential, PASSKEY_UNLOCK_PRF_SALT));
    const outcome = await outcomeOf(() => operations.signInWithPasskey(start.ceremonyId, response, prf));
    expect(outcome).toMatchObject({ ok: false, failure: { status: 0, code: 'integrity_failed' } });
    expect(new Uint8Array(prf).every((byte) => byte === 0)).toBe(true);
    expect(() => operations.ownKeys()).toThrow(/Sign in first/);
  });
});
