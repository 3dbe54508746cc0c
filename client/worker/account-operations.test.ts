// The worker's login with the page's second-factor prompt, against a real server: the prompt is asked, told what went wrong, and the re-authentication of a signed-in browser needs none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmTotpSetup, logout, startTotpSetup, type SecondFactorChallenge } from '../../shared/api';
import type { ApiErrorCode } from '../../shared/api/client';
import { invite, login, signup } from '../../shared/flows/account-flows';
import { SecondFactorNeededError, type SecondFactorPrompt } from '../../shared/flows/second-factor';
import { budget } from '../../server/test/budget';
import { createTestOrganisation, invitationLinkFor, parseInvitationLink, type TestOrganisation } from '../../server/test/org-fixture';
import { decodeBase32, totp } from '../../server/test/rfc6238';
import { createAccountOperations } from './account-operations';
import { outcomeOf } from './outcome';

// The worker signs in with the app's real key stretching, so this account is made with it too.
const email = 'klant.totp@kluis.test';
const password = 'zeven-zeilboten-op-het-ijsselmeer';

let org: TestOrganisation;
let key: Buffer;

/** A six-digit code that is none of the codes of the steps around now (so it is wrong for sure). */
function wrongCode(): string {
  const near = new Set([-1, 0, 1].map((offset) => totp(key, Date.now(), offset)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

beforeAll(async () => {
  org = await createTestOrganisation([]);
  await invite(org.admin.client.api, org.admin.vault, { email, role: 'client', language: 'en' });
  const { token, fragment } = parseInvitationLink(invitationLinkFor(org.testApp, email));
  const setupClient = org.newClient();
  await signup(setupClient.api, { token, fragment, name: 'Klaas Klant', password, language: 'en' });
  await login(setupClient.api, email, password);
  const started = await setupClient.api(startTotpSetup, { body: {} });
  key = decodeBase32(started.secret);
  // Confirmed with the code of the current step: sign-ins below use the next step's (±1 step, never a used one).
  await setupClient.api(confirmTotpSetup, { body: { setupId: started.setupId, code: totp(key, Date.now()), name: 'Phone' } });
}, budget(120_000));

afterAll(async () => {
  await org?.close();
});

describe('login with a second-factor prompt', () => {
  it('asks the prompt, passes on what the server said about a wrong code, and signs in with the right one; the browser then re-authenticates without it and, trusted, signs in without it', async () => {
    const browser = org.newClient();
    const operations = createAccountOperations(browser.api);
    const asked: { challenge: SecondFactorChallenge; problem: ApiErrorCode | null }[] = [];
    const prompt: SecondFactorPrompt = (challenge, problem) => {
      asked.push({ challenge, problem });
      const code = asked.length === 1 ? wrongCode() : totp(key, Date.now(), 1);
      return Promise.resolve({ method: 'totp', code, trustDevice: asked.length > 1 });
    };

    const signedIn = await operations.login(email, password, prompt);
    expect(signedIn.session.user.email).toBe(email);
    expect(signedIn.name).toBe('Klaas Klant');
    expect(asked.map((call) => call.problem)).toEqual([null, 'second_factor_invalid']);
    expect(asked[0]?.challenge.methods).toContain('totp');
    // The same step both times: a wrong answer does not start a new one.
    expect(asked[1]?.challenge.challengeId).toBe(asked[0]?.challenge.challengeId);

    // The re-authentication dialog passes no prompt: a signed-in browser is not asked for the factor again.
    const again = await operations.reauthenticate(password);
    expect(again.session.user.email).toBe(email);

    // Signed out, this browser is trusted (trustDevice was ticked): no prompt at all.
    await browser.api(logout, {});
    const unasked: SecondFactorPrompt = () => Promise.reject(new Error('a trusted browser was asked for the second factor'));
    const trusted = await operations.login(email, password, unasked);
    expect(trusted.session.user.email).toBe(email);
  });

  it('ends in SecondFactorNeededError (the page: second_factor_needed) without a prompt, or when the person goes back', async () => {
    const operations = createAccountOperations(org.newClient().api);
    await expect(operations.login(email, password)).rejects.toBeInstanceOf(SecondFactorNeededError);

    let asked = 0;
    const goingBack: SecondFactorPrompt = () => {
      asked += 1;
      return Promise.resolve(null);
    };
    const outcome = await outcomeOf(() => createAccountOperations(org.newClient().api).login(email, password, goingBack));
    expect(asked).toBe(1);
    expect(outcome).toMatchObject({ ok: false, failure: { status: 0, code: 'second_factor_needed' } });
  });
});
