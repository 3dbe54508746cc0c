// Integration: passkeys over real HTTP with a software authenticator: registration, the second-factor check, PRF unlock and passkey-only sign-in, and every way to get them wrong.
import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Endpoint,
  type EndpointInput,
  type EndpointResponse,
  finishLogin,
  finishPasskeyLogin,
  finishPasskeyRegistration,
  getSession,
  removePasskeyUnlock,
  setPasskeyUnlock,
  startLogin,
  startPasskeyLogin,
  startPasskeyRegistration,
} from '../../../shared/api';
import type { ApiCallOptions, CallApi } from '../../../shared/api/client';
import { login, openProfile } from '../../../shared/flows/account-flows';
import { PASSKEY_UNLOCK_PRF_SALT, enablePasskeyUnlock, passkeyLogin } from '../../../shared/flows/passkey-unlock';
import type { SecondFactorPrompt } from '../../../shared/flows/second-factor';
import { PinMismatchError, openVault, openVaultWithUserKey } from '../../../shared/flows/vault';
import { DecryptionError, IntegrityError, finishOpaqueLogin, startOpaqueLogin } from '../../../shared/crypto';
import { budget } from '../../test/budget';
import { createTestOrganisation, fast, type Member, type TestOrganisation } from '../../test/org-fixture';
import { SoftwareAuthenticator, type StoredCredential, type Tampering } from '../../test/software-authenticator';
import type { Notification } from '../notifications';

/**
 * The server's clock: the wall clock moved by `offsetMs` (within a test) on top of `baseMs`, which
 * each test moves 10 minutes on, so every test starts in fresh rate-limit windows (5 minutes long,
 * registration: 20 per user) even after a test that moved its clock up to a window further.
 */
const clock = { baseMs: 0, offsetMs: 0 };
const now = () => new Date(Date.now() + clock.baseMs + clock.offsetMs);

let org: TestOrganisation;
let origin: string;

beforeAll(async () => {
  org = await createTestOrganisation(['client', 'auditor'], { now, env: { KLUIS_LOGIN_LIMIT_PER_IP: '100' } });
  origin = org.testApp.config.publicOrigin;
}, budget(120_000));
afterAll(() => org?.close());
// Every test starts with no passkeys (a password sign-in then needs no second step), unlocked, with recent logins.
beforeEach(async () => {
  clock.baseMs += 10 * 60_000;
  clock.offsetMs = 0;
  await org.testApp.db.deleteFrom('second_factors').execute();
  await org.testApp.db.updateTable('users').set({ failed_logins: 0, locked_until: null, lock_notified: 0 }).execute();
  await org.relogin(org.members.client!);
});
afterEach(() => {
  clock.offsetMs = 0;
});

const client = () => org.members.client!;
const passkeyRows = (userId: string) => org.testApp.db.selectFrom('second_factors').selectAll().where('user_id', '=', userId).where('kind', '=', 'passkey').execute();
const auditOf = (action: string, targetId: string) =>
  org.testApp.db.selectFrom('audit_events').select(['action', 'actor_id', 'target_id', 'details']).where('action', '=', action).where('target_id', '=', targetId).execute();
const userRow = (userId: string) => org.testApp.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();

/** Registers a new passkey for `member` on `authenticator` through the real endpoints. */
async function addPasskey(member: Member, authenticator: SoftwareAuthenticator, name = 'Laptop') {
  const { ceremonyId, options } = await member.client.api(startPasskeyRegistration, { body: {} });
  const made = authenticator.register(options);
  const factor = await member.client.api(finishPasskeyRegistration, { body: { ceremonyId, name, response: made.response } });
  return { factor, credential: made.credential };
}

/** Turns on unlock for a passkey the way the browser does: its PRF output for the fixed salt wraps the user key. */
async function turnOnUnlock(member: Member, authenticator: SoftwareAuthenticator, passkey: { factor: { id: string }; credential: StoredCredential }) {
  const credentialId = passkey.credential.id.toString('base64url');
  await enablePasskeyUnlock(member.client.api, member.vault, { factorId: passkey.factor.id, credentialId }, authenticator.prf(passkey.credential, PASSKEY_UNLOCK_PRF_SALT));
}

/** A passkey-only sign-in answer from a fresh browser: the ceremony, the assertion and its PRF output. */
async function passkeyAssertion(authenticator: SoftwareAuthenticator, tamper: Tampering = {}, pick?: StoredCredential) {
  const browser = org.newClient();
  const { ceremonyId, options } = await browser.api(startPasskeyLogin, { body: {} });
  const { response, credential } = authenticator.assert(options, tamper, pick);
  return { browser, ceremonyId, options, response, prfOutput: authenticator.prf(credential, PASSKEY_UNLOCK_PRF_SALT) };
}

describe('registration', () => {
  it('asks for a passkey of this RP ID (from PUBLIC_ORIGIN), with user verification, resident keys preferred and PRF, and stores it', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const { ceremonyId, options } = await member.client.api(startPasskeyRegistration, { body: {} });
    expect(origin).toMatch(/^http:\/\/localhost:\d+$/);
    expect(options).toMatchObject({
      rp: { id: 'localhost' },
      user: { id: Buffer.from(member.userId).toString('base64url'), name: member.email },
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      attestation: 'none',
      extensions: { prf: {} },
    });
    const made = authenticator.register(options);
    const factor = await member.client.api(finishPasskeyRegistration, { body: { ceremonyId, name: 'Werklaptop', response: made.response } });
    expect(factor).toMatchObject({ kind: 'passkey', name: 'Werklaptop', unlocks: false, lastUsedAt: null, credentialId: made.credential.id.toString('base64url') });
    const row = (await passkeyRows(member.userId)).find((r) => r.id === factor.id)!;
    expect(row).toMatchObject({ credential_id: made.credential.id.toString('base64url'), sign_count: 0, transports: '["internal"]', prf_wrapped_user_key: null });
    // The stored COSE key is the authenticator's public key: x and y as the JWK says.
    const jwk = made.credential.publicKey.export({ format: 'jwk' });
    const cose = Buffer.from(row.public_key!, 'base64url');
    expect(cose.includes(Buffer.from(jwk.x!, 'base64url')) && cose.includes(Buffer.from(jwk.y!, 'base64url'))).toBe(true);
    const added = (await auditOf('second_factor.added', member.userId)).map((e) => ({ ...e, details: JSON.parse(e.details) as unknown }));
    expect(added).toContainEqual({ action: 'second_factor.added', actor_id: member.userId, target_id: member.userId, details: { kind: 'passkey', factorId: factor.id } });

    // The next registration excludes it (the browser refuses the same authenticator twice).
    const again = await member.client.api(startPasskeyRegistration, { body: {} });
    expect(again.options).toMatchObject({ excludeCredentials: [{ id: made.credential.id.toString('base64url'), type: 'public-key' }] });
  });

  it('takes the RP ID from configuration, never from the Host or X-Forwarded-Host header', async () => {
    const member = client();
    const cookie = [...member.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await org.testApp.app.request('http://evil.example/api/account/passkeys/registration/start', {
      method: 'POST',
      headers: { Origin: origin, Cookie: cookie, 'Content-Type': 'application/json', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' },
      body: '{}',
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { options: { rp: { id: string } } }).options.rp.id).toBe('localhost');
  });

  it.each<[string, Tampering]>([
    ['a wrong challenge', { challenge: Buffer.from('another challenge of 32 bytes...').toString('base64url') }],
    ['a wrong origin', { origin: 'https://evil.example' }],
    ['a wrong RP ID', { rpId: 'evil.example' }],
    ['no user verification', { userVerified: false }],
    ['an assertion type instead of a creation', { type: 'webauthn.get' }],
  ])('refuses an attestation with %s (passkey_rejected) and stores nothing', async (_what, tamper) => {
    const member = client();
    const before = (await passkeyRows(member.userId)).length;
    const { ceremonyId, options } = await member.client.api(startPasskeyRegistration, { body: {} });
    const made = new SoftwareAuthenticator(origin).register(options, tamper);
    await expect(member.client.api(finishPasskeyRegistration, { body: { ceremonyId, name: 'Evil', response: made.response } })).rejects.toMatchObject({
      status: 401,
      code: 'passkey_rejected',
    });
    expect(await passkeyRows(member.userId)).toHaveLength(before);
  });

  it('uses a ceremony once, for its own user, for 5 minutes (factor_setup_expired)', async () => {
    const member = client();
    const other = await org.relogin(org.members.auditor!);
    const authenticator = new SoftwareAuthenticator(origin);
    // Twice.
    const first = await member.client.api(startPasskeyRegistration, { body: {} });
    const made = authenticator.register(first.options);
    await member.client.api(finishPasskeyRegistration, { body: { ceremonyId: first.ceremonyId, name: 'One', response: made.response } });
    await expect(member.client.api(finishPasskeyRegistration, { body: { ceremonyId: first.ceremonyId, name: 'One', response: made.response } })).rejects.toMatchObject({
      status: 410,
      code: 'factor_setup_expired',
    });
    // Someone else's ceremony.
    const theirs = await other.client.api(startPasskeyRegistration, { body: {} });
    const forThem = new SoftwareAuthenticator(origin).register(theirs.options);
    await expect(member.client.api(finishPasskeyRegistration, { body: { ceremonyId: theirs.ceremonyId, name: 'X', response: forThem.response } })).rejects.toMatchObject({
      code: 'factor_setup_expired',
    });
    // Too late (the session itself is still recent: 6 minutes).
    const late = await member.client.api(startPasskeyRegistration, { body: {} });
    const lateAnswer = authenticator.register(late.options);
    clock.offsetMs = 6 * 60_000;
    await expect(member.client.api(finishPasskeyRegistration, { body: { ceremonyId: late.ceremonyId, name: 'Late', response: lateAnswer.response } })).rejects.toMatchObject({
      code: 'factor_setup_expired',
    });
  });

  it('refuses a credential that is registered already (conflict)', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const { credential } = await addPasskey(member, authenticator);
    const { ceremonyId, options } = await member.client.api(startPasskeyRegistration, { body: {} });
    const again = authenticator.register(options, {}, credential);
    await expect(member.client.api(finishPasskeyRegistration, { body: { ceremonyId, name: 'Again', response: again.response } })).rejects.toMatchObject({
      status: 409,
      code: 'conflict',
    });
  });

  it('needs a recent login to start and to finish (reauthentication_required)', async () => {
    const member = client();
    const { ceremonyId, options } = await member.client.api(startPasskeyRegistration, { body: {} });
    const made = new SoftwareAuthenticator(origin).register(options);
    clock.offsetMs = 16 * 60_000;
    await expect(member.client.api(startPasskeyRegistration, { body: {} })).rejects.toMatchObject({ status: 401, code: 'reauthentication_required' });
    await expect(member.client.api(finishPasskeyRegistration, { body: { ceremonyId, name: 'Late', response: made.response } })).rejects.toMatchObject({
      code: 'reauthentication_required',
    });
  });
});

describe('the second sign-in step: requestOptions and verifyAssertion', () => {
  const factors = () => org.testApp.services.passkeys;

  it('asks for this account\'s passkeys with user verification, and accepts a genuine answer once per counter value', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const { factor, credential } = await addPasskey(member, authenticator);
    const { options, expectedChallenge } = await factors().requestOptions(member.userId);
    expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'required', challenge: expectedChallenge });
    expect(options.allowCredentials?.map((c) => c.id)).toContain(credential.id.toString('base64url'));
    const { response } = authenticator.assert(options, {}, credential);
    expect(await factors().verifyAssertion(member.userId, response, expectedChallenge)).toEqual({ ok: true, factorId: factor.id });
    const row = (await passkeyRows(member.userId)).find((r) => r.id === factor.id)!;
    expect([row.sign_count, row.last_used_at !== null]).toEqual([1, true]);
    // The same answer again (a replay): its counter did not move forward.
    expect(await factors().verifyAssertion(member.userId, response, expectedChallenge)).toEqual({ ok: false, code: 'passkey_counter_regressed' });
  });

  it.each<[string, Tampering]>([
    ['a wrong challenge', { challenge: Buffer.from('another challenge of 32 bytes...').toString('base64url') }],
    ['a wrong origin', { origin: 'https://evil.example' }],
    ['a wrong RP ID', { rpId: 'evil.example' }],
    ['no user verification', { userVerified: false }],
    ['a signature by another key', { wrongKey: true }],
    ['a creation type instead of an assertion', { type: 'webauthn.create' }],
  ])('refuses an assertion with %s (passkey_rejected), leaving the counter as it was', async (_what, tamper) => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const { factor, credential } = await addPasskey(member, authenticator);
    const { options, expectedChallenge } = await factors().requestOptions(member.userId);
    const { response } = authenticator.assert(options, tamper, credential);
    expect(await factors().verifyAssertion(member.userId, response, expectedChallenge)).toEqual({ ok: false, code: 'passkey_rejected' });
    expect((await passkeyRows(member.userId)).find((r) => r.id === factor.id)).toMatchObject({ sign_count: 0, last_used_at: null });
  });

  it('refuses a passkey of another account (passkey_rejected)', async () => {
    const member = client();
    const other = await org.relogin(org.members.auditor!);
    const authenticator = new SoftwareAuthenticator(origin);
    const { credential } = await addPasskey(other, authenticator);
    const { options, expectedChallenge } = await factors().requestOptions(member.userId);
    const { response } = authenticator.assert(options, {}, credential);
    expect(await factors().verifyAssertion(member.userId, response, expectedChallenge)).toEqual({ ok: false, code: 'passkey_rejected' });
  });

  it('refuses a counter that goes backwards (a cloned authenticator), audits it and keeps the higher counter', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const { factor, credential } = await addPasskey(member, authenticator);
    for (let i = 0; i < 5; i += 1) {
      const { options, expectedChallenge } = await factors().requestOptions(member.userId);
      expect((await factors().verifyAssertion(member.userId, authenticator.assert(options, {}, credential).response, expectedChallenge)).ok).toBe(true);
    }
    const { options, expectedChallenge } = await factors().requestOptions(member.userId);
    const clone = authenticator.assert(options, { counter: 2 }, credential);
    expect(await factors().verifyAssertion(member.userId, clone.response, expectedChallenge, '203.0.113.9')).toEqual({ ok: false, code: 'passkey_counter_regressed' });
    expect((await passkeyRows(member.userId)).find((r) => r.id === factor.id)!.sign_count).toBe(5);
    const events = (await auditOf('passkey.counter_regressed', member.userId)).map((e) => ({ ...e, details: JSON.parse(e.details) as unknown }));
    expect(events).toContainEqual({ action: 'passkey.counter_regressed', actor_id: null, target_id: member.userId, details: { factorId: factor.id, stored: 5, received: 2 } });
  });

  it('accepts an authenticator that never counts (always 0), and refuses a 0 from one that counted', async () => {
    const member = client();
    const silent = new SoftwareAuthenticator(origin, { counting: false });
    const { credential } = await addPasskey(member, silent);
    for (let i = 0; i < 2; i += 1) {
      const { options, expectedChallenge } = await factors().requestOptions(member.userId);
      expect((await factors().verifyAssertion(member.userId, silent.assert(options, {}, credential).response, expectedChallenge)).ok).toBe(true);
    }
    const counting = new SoftwareAuthenticator(origin);
    const second = await addPasskey(member, counting);
    const first = await factors().requestOptions(member.userId);
    expect((await factors().verifyAssertion(member.userId, counting.assert(first.options, {}, second.credential).response, first.expectedChallenge)).ok).toBe(true);
    const next = await factors().requestOptions(member.userId);
    expect(await factors().verifyAssertion(member.userId, counting.assert(next.options, { counter: 0 }, second.credential).response, next.expectedChallenge)).toEqual({
      ok: false,
      code: 'passkey_counter_regressed',
    });
  });
});

describe('unlock with passkey, and signing in with a passkey alone', () => {
  it('opens the vault with no password: the same keys, a session, audited as a passkey sign-in; no PRF output in any request', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const passkey = await addPasskey(member, authenticator);
    await turnOnUnlock(member, authenticator, passkey);
    expect((await passkeyRows(member.userId)).find((r) => r.id === passkey.factor.id)!.prf_wrapped_user_key).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    expect((await auditOf('passkey.unlock_set', member.userId)).filter((e) => e.details === JSON.stringify({ factorId: passkey.factor.id }))).toHaveLength(1);

    const { browser, ceremonyId, options, response, prfOutput } = await passkeyAssertion(authenticator);
    expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'required' });
    expect(options).not.toHaveProperty('allowCredentials');
    expect(options).not.toHaveProperty('extensions');
    const { vault, bundle } = await passkeyLogin(browser.api, ceremonyId, { response, prfOutput });
    expect(vault.userId).toBe(member.userId);
    expect(bundle.unlock).toMatchObject({ factorId: passkey.factor.id, credentialId: passkey.credential.id.toString('base64url') });
    // The same user key as the password opens: the profile decrypts, the key fingerprints match.
    expect((await openProfile(vault, { id: member.userId, profile: bundle.keys.profile, escrowUserKey: '' })).name).toBe('client Persoon');
    expect(Buffer.from(vault.privateKey.publicKey.fingerprint).equals(Buffer.from(member.vault.privateKey.publicKey.fingerprint))).toBe(true);
    await expect(browser.api(getSession, {})).resolves.toMatchObject({ user: { id: member.userId } });
    const succeeded = await org.testApp.db.selectFrom('audit_events').select('details').where('action', '=', 'auth.login_succeeded').where('actor_id', '=', member.userId).orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(JSON.parse(succeeded.details)).toEqual({ method: 'passkey', factorId: passkey.factor.id });
    // Zero knowledge: the PRF output (and its hex or base64url forms) is in no request body.
    const forms = [Buffer.from(prfOutput).toString('hex'), Buffer.from(prfOutput).toString('base64url'), Buffer.from(prfOutput).toString('base64')];
    for (const sent of [...browser.sent, ...member.client.sent]) for (const form of forms) expect(sent.body).not.toContain(form.slice(0, 40));

    // The password keeps working, now with the passkey as its second factor.
    const secondFactor: SecondFactorPrompt = (challenge) => {
      const { response: answer } = authenticator.assert(challenge.passkeyOptions as { challenge: string });
      return Promise.resolve({ method: 'passkey', response: answer, trustDevice: false });
    };
    await expect(login(org.newClient().api, member.email, member.password, { ...fast, secondFactor })).resolves.toMatchObject({ vault: { userId: member.userId } });
  });

  it('refuses a passkey without unlock (passkey_unlock_unavailable) without counting it, and after unlock was turned off', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const passkey = await addPasskey(member, authenticator);
    const first = await passkeyAssertion(authenticator);
    await expect(passkeyLogin(first.browser.api, first.ceremonyId, first)).rejects.toMatchObject({ status: 409, code: 'passkey_unlock_unavailable' });
    expect(first.browser.cookies.size).toBe(0);
    expect((await userRow(member.userId)).failed_logins).toBe(0);

    await turnOnUnlock(member, authenticator, passkey);
    await member.client.api(removePasskeyUnlock, { params: { id: passkey.factor.id } });
    expect((await auditOf('passkey.unlock_removed', member.userId)).filter((e) => e.details === JSON.stringify({ factorId: passkey.factor.id }))).toHaveLength(1);
    const second = await passkeyAssertion(authenticator);
    await expect(passkeyLogin(second.browser.api, second.ceremonyId, second)).rejects.toMatchObject({ code: 'passkey_unlock_unavailable' });
  });

  it.each<[string, Tampering]>([
    ['a wrong origin', { origin: 'https://evil.example' }],
    ['a wrong RP ID', { rpId: 'evil.example' }],
    ['a wrong challenge', { challenge: Buffer.from('another challenge of 32 bytes...').toString('base64url') }],
    ['no user verification', { userVerified: false }],
  ])('refuses an answer with %s (passkey_rejected) and counts it like a wrong password', async (_what, tamper) => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    await turnOnUnlock(member, authenticator, await addPasskey(member, authenticator));
    const attempt = await passkeyAssertion(authenticator, tamper);
    await expect(passkeyLogin(attempt.browser.api, attempt.ceremonyId, attempt)).rejects.toMatchObject({ status: 401, code: 'passkey_rejected' });
    expect(attempt.browser.cookies.size).toBe(0);
    expect((await userRow(member.userId)).failed_logins).toBe(1);
    const failed = await auditOf('auth.login_failed', member.userId);
    expect(JSON.parse(failed.at(-1)!.details)).toEqual({ step: 'passkey', reason: 'passkey_rejected' });
  });

  it('refuses a deactivated account\'s genuine passkey (account_deactivated) only after it verified, and a deleted account\'s like an unknown one (issue 21)', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    await turnOnUnlock(member, authenticator, await addPasskey(member, authenticator));
    const setStatus = (status: 'active' | 'deactivated' | 'deleted') => org.testApp.db.updateTable('users').set({ status }).where('id', '=', member.userId).execute();
    try {
      await setStatus('deactivated');
      // A bad answer is refused as such: the account's state is not revealed before the passkey verified.
      const forged = await passkeyAssertion(authenticator, { userVerified: false });
      await expect(passkeyLogin(forged.browser.api, forged.ceremonyId, forged)).rejects.toMatchObject({ code: 'passkey_rejected' });
      const genuine = await passkeyAssertion(authenticator);
      await expect(passkeyLogin(genuine.browser.api, genuine.ceremonyId, genuine)).rejects.toMatchObject({ status: 403, code: 'account_deactivated' });
      expect(genuine.browser.cookies.size).toBe(0);
      await setStatus('deleted');
      const deleted = await passkeyAssertion(authenticator);
      await expect(passkeyLogin(deleted.browser.api, deleted.ceremonyId, deleted)).rejects.toMatchObject({ code: 'passkey_rejected' });
      expect(deleted.browser.cookies.size).toBe(0);
    } finally {
      await setStatus('active');
    }
  });

  it('refuses a replayed answer: its ceremony is gone (second_factor_expired), and under a new ceremony its challenge is wrong', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    await turnOnUnlock(member, authenticator, await addPasskey(member, authenticator));
    const attempt = await passkeyAssertion(authenticator);
    await passkeyLogin(attempt.browser.api, attempt.ceremonyId, attempt);
    await expect(attempt.browser.api(finishPasskeyLogin, { body: { ceremonyId: attempt.ceremonyId, response: attempt.response } })).rejects.toMatchObject({
      status: 410,
      code: 'second_factor_expired',
    });
    const fresh = await org.newClient().api(startPasskeyLogin, { body: {} });
    await expect(attempt.browser.api(finishPasskeyLogin, { body: { ceremonyId: fresh.ceremonyId, response: attempt.response } })).rejects.toMatchObject({
      code: 'passkey_rejected',
    });
  });

  it('refuses a ceremony older than 5 minutes (second_factor_expired)', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    await turnOnUnlock(member, authenticator, await addPasskey(member, authenticator));
    const attempt = await passkeyAssertion(authenticator);
    clock.offsetMs = 5 * 60_000 + 1_000;
    await expect(passkeyLogin(attempt.browser.api, attempt.ceremonyId, attempt)).rejects.toMatchObject({ code: 'second_factor_expired' });
  });

  it('refuses a counter that went backwards (passkey_counter_regressed), audited and counted', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    await turnOnUnlock(member, authenticator, await addPasskey(member, authenticator));
    for (let i = 0; i < 3; i += 1) {
      const attempt = await passkeyAssertion(authenticator);
      await passkeyLogin(attempt.browser.api, attempt.ceremonyId, attempt);
    }
    const clone = await passkeyAssertion(authenticator, { counter: 1 });
    await expect(passkeyLogin(clone.browser.api, clone.ceremonyId, clone)).rejects.toMatchObject({ status: 401, code: 'passkey_counter_regressed' });
    expect((await auditOf('passkey.counter_regressed', member.userId)).length).toBeGreaterThan(0);
    expect((await userRow(member.userId)).failed_logins).toBe(1);
  });

  it('refuses an unknown credential and a user handle of another account (passkey_rejected), counting nothing', async () => {
    const member = client();
    const stranger = new SoftwareAuthenticator(origin);
    const registration = await org.newClient().api(startPasskeyLogin, { body: {} });
    // A credential this Kluis never registered.
    stranger.register({ challenge: registration.options.challenge, rp: { name: 'x', id: 'localhost' }, user: { id: Buffer.from(member.userId).toString('base64url'), name: 'x' } });
    const unknown = await passkeyAssertion(stranger);
    await expect(passkeyLogin(unknown.browser.api, unknown.ceremonyId, unknown)).rejects.toMatchObject({ code: 'passkey_rejected' });
    // A real passkey of the auditor, claiming to be the client's.
    const auditor = await org.relogin(org.members.auditor!);
    const authenticator = new SoftwareAuthenticator(origin);
    const theirs = await addPasskey(auditor, authenticator);
    await turnOnUnlock(auditor, authenticator, theirs);
    (theirs.credential as { userHandle: Buffer }).userHandle = Buffer.from(member.userId);
    const crossed = await passkeyAssertion(authenticator);
    await expect(passkeyLogin(crossed.browser.api, crossed.ceremonyId, crossed)).rejects.toMatchObject({ code: 'passkey_rejected' });
    expect((await userRow(member.userId)).failed_logins).toBe(0);
    const noHandle = await passkeyAssertion(authenticator, { noUserHandle: true });
    await expect(passkeyLogin(noHandle.browser.api, noHandle.ceremonyId, noHandle)).rejects.toMatchObject({ code: 'passkey_rejected' });
  });

  it('locks the account after three failures like wrong passwords (the lock e-mail), then refuses even a genuine passkey (account_locked)', async () => {
    const auditor = await org.relogin(org.members.auditor!);
    const authenticator = new SoftwareAuthenticator(origin);
    await turnOnUnlock(auditor, authenticator, await addPasskey(auditor, authenticator));
    for (let i = 0; i < 3; i += 1) {
      const wrong = await passkeyAssertion(authenticator, { origin: 'https://evil.example' });
      await expect(passkeyLogin(wrong.browser.api, wrong.ceremonyId, wrong)).rejects.toMatchObject({ code: 'passkey_rejected' });
    }
    expect((await userRow(auditor.userId)).locked_until).not.toBeNull();
    const sent = (org.testApp.notifier as unknown as { sent: { to: string; notification: Notification }[] }).sent;
    expect(sent.filter((m) => m.to === auditor.email && m.notification.kind === 'account_locked')).toHaveLength(1);
    const genuine = await passkeyAssertion(authenticator);
    await expect(passkeyLogin(genuine.browser.api, genuine.ceremonyId, genuine)).rejects.toMatchObject({ status: 423, code: 'account_locked' });
    expect(genuine.browser.cookies.size).toBe(0);
  });

  it('turns unlock on and off only with a recent login, and only for one\'s own passkeys (not_found for another person\'s)', async () => {
    const member = client();
    const auditor = await org.relogin(org.members.auditor!);
    const authenticator = new SoftwareAuthenticator(origin);
    const theirs = await addPasskey(auditor, authenticator);
    const wrapped = 'A'.repeat(124);
    await expect(member.client.api(setPasskeyUnlock, { params: { id: theirs.factor.id }, body: { wrappedUserKey: wrapped } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(member.client.api(removePasskeyUnlock, { params: { id: theirs.factor.id } })).rejects.toMatchObject({ code: 'not_found' });
    await turnOnUnlock(auditor, authenticator, theirs);
    await expect(member.client.api(removePasskeyUnlock, { params: { id: theirs.factor.id } })).rejects.toMatchObject({ code: 'not_found' });
    expect((await passkeyRows(auditor.userId)).find((r) => r.id === theirs.factor.id)!.prf_wrapped_user_key).not.toBeNull();

    const own = await addPasskey(member, new SoftwareAuthenticator(origin));
    clock.offsetMs = 16 * 60_000;
    await expect(member.client.api(setPasskeyUnlock, { params: { id: own.factor.id }, body: { wrappedUserKey: wrapped } })).rejects.toMatchObject({
      status: 401,
      code: 'reauthentication_required',
    });
    await expect(member.client.api(removePasskeyUnlock, { params: { id: own.factor.id } })).rejects.toMatchObject({ code: 'reauthentication_required' });
  });
});

describe('the per-IP throttle', () => {
  it('refuses passkey sign-ins past KLUIS_LOGIN_LIMIT_PER_IP per 5 minutes (rate_limited), on the budget password sign-ins share', async () => {
    // The start of a fresh window (windows are aligned to multiples of 5 minutes): nothing counted yet.
    const window = 5 * 60_000;
    clock.offsetMs = window - (now().getTime() % window);
    await login(org.newClient().api, client().email, client().password, fast);
    const browser = org.newClient();
    let allowed = 0;
    let refused: unknown = null;
    while (refused === null && allowed <= 100) {
      try {
        await browser.api(startPasskeyLogin, { body: {} });
        allowed += 1;
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited' });
    // 100 per window, one of which was the password sign-in above.
    expect(allowed).toBe(99);
    await expect(login(org.newClient().api, client().email, client().password, fast)).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

/** A CallApi that hands the passkey sign-in's answer through `tamper` first: a malicious server. */
function tampering(api: CallApi, tamper: (answer: EndpointResponse<typeof finishPasskeyLogin>) => unknown): CallApi {
  return async <E extends Endpoint>(endpoint: E, input: EndpointInput<E>, options?: ApiCallOptions) => {
    const answer = await api(endpoint, input, options);
    return (endpoint.operationId === finishPasskeyLogin.operationId ? tamper(answer as EndpointResponse<typeof finishPasskeyLogin>) : answer) as typeof answer;
  };
}

describe('a malicious server cannot substitute what a passkey unlocks', () => {
  it('a wrapping served for another passkey of the same account does not open', async () => {
    const member = client();
    const authenticator = new SoftwareAuthenticator(origin);
    const one = await addPasskey(member, authenticator, 'One');
    const two = await addPasskey(member, authenticator, 'Two');
    await turnOnUnlock(member, authenticator, one);
    await turnOnUnlock(member, authenticator, two);
    const twoWrapping = (await passkeyRows(member.userId)).find((r) => r.id === two.factor.id)!.prf_wrapped_user_key!;
    // The server answers passkey one's sign-in with passkey two's wrapping, under either credential id.
    const attempt = await passkeyAssertion(authenticator, {}, one.credential);
    const swapped = tampering(attempt.browser.api, (answer) => ({ ...answer, unlock: { ...answer.unlock, wrappedUserKey: twoWrapping } }));
    await expect(passkeyLogin(swapped, attempt.ceremonyId, attempt)).rejects.toThrow(DecryptionError);
    const again = await passkeyAssertion(authenticator, {}, one.credential);
    const renamed = tampering(again.browser.api, (answer) => ({ ...answer, unlock: { ...answer.unlock, credentialId: two.credential.id.toString('base64url'), wrappedUserKey: twoWrapping } }));
    await expect(passkeyLogin(renamed, again.ceremonyId, again)).rejects.toThrow(IntegrityError);
  });

  it('the password wrapping, or another account\'s passkey wrapping, served as this passkey\'s does not open', async () => {
    const member = client();
    const auditor = await org.relogin(org.members.auditor!);
    const authenticator = new SoftwareAuthenticator(origin);
    const mine = await addPasskey(member, authenticator);
    await turnOnUnlock(member, authenticator, mine);
    const theirs = await addPasskey(auditor, authenticator);
    await turnOnUnlock(auditor, authenticator, theirs);
    const theirWrapping = (await passkeyRows(auditor.userId)).find((r) => r.id === theirs.factor.id)!.prf_wrapped_user_key!;

    const a = await passkeyAssertion(authenticator, {}, mine.credential);
    const passwordWrapping = tampering(a.browser.api, (answer) => ({ ...answer, unlock: { ...answer.unlock, wrappedUserKey: answer.keys.wrappedUserKey } }));
    await expect(passkeyLogin(passwordWrapping, a.ceremonyId, a)).rejects.toThrow(DecryptionError);
    const b = await passkeyAssertion(authenticator, {}, mine.credential);
    const otherAccount = tampering(b.browser.api, (answer) => ({ ...answer, unlock: { ...answer.unlock, wrappedUserKey: theirWrapping } }));
    await expect(passkeyLogin(otherAccount, b.ceremonyId, b)).rejects.toThrow(DecryptionError);
  });

  it('another account\'s bundle (session, keys) served to this passkey does not open, even with this user key', async () => {
    const member = client();
    const auditor = await org.relogin(org.members.auditor!);
    const authenticator = new SoftwareAuthenticator(origin);
    const mine = await addPasskey(member, authenticator);
    await turnOnUnlock(member, authenticator, mine);
    const theirs = await addPasskey(auditor, authenticator);
    await turnOnUnlock(auditor, authenticator, theirs);
    const theirSignIn = await passkeyAssertion(authenticator, {}, theirs.credential);
    const theirBundle = await theirSignIn.browser.api(finishPasskeyLogin, { body: { ceremonyId: theirSignIn.ceremonyId, response: theirSignIn.response } });

    const attempt = await passkeyAssertion(authenticator, {}, mine.credential);
    const swapped = tampering(attempt.browser.api, (answer) => ({ ...theirBundle, unlock: answer.unlock }));
    await expect(passkeyLogin(swapped, attempt.ceremonyId, attempt)).rejects.toThrow(IntegrityError);
    // Past the flow's own check, the key safe itself refuses: it is bound to its account.
    await expect(openVaultWithUserKey(theirBundle, member.vault.userKey)).rejects.toThrow(DecryptionError);
  });

  it('opening with a user key skips only the OPAQUE pin: the password path still refuses another server key', async () => {
    const member = client();
    const browser = org.newClient();
    const attempt = await startOpaqueLogin(member.password);
    const start = await browser.api(startLogin, { body: { email: member.email, startLoginRequest: attempt.request } });
    const finished = await finishOpaqueLogin(attempt.state, start.loginResponse, member.password, fast.keyStretching);
    const outcome = await browser.api(finishLogin, { body: { loginId: start.loginId, finishLoginRequest: finished.finishRequest } });
    if ('secondFactor' in outcome) throw new Error('this organisation asks nobody for a second factor');
    const otherServerKey = Buffer.from(finished.serverStaticPublicKey, 'base64url').reverse().toString('base64url');
    await expect(openVault(outcome, finished.exportKey, otherServerKey)).rejects.toThrow(PinMismatchError);
    await expect(openVault(outcome, finished.exportKey, finished.serverStaticPublicKey)).resolves.toMatchObject({ userId: member.userId });
    await expect(openVaultWithUserKey(outcome, member.vault.userKey)).resolves.toMatchObject({ userId: member.userId });
  });
});
