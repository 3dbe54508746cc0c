// Integration: the second-factor policy chosen at setup (issue 20): the product default holds the founding
// Administrator to it (the recovery kit is still confirmed first), and a chosen policy is what Settings shows.
import { afterEach, describe, expect, it } from 'vitest';
import {
  confirmRecoveryKit,
  confirmTotpSetup,
  getSession,
  getSettings,
  listSecondFactors,
  listUsers,
  startTotpSetup,
  type Role,
} from '../../shared/api';
import { isApiError } from '../../shared/api/api-error';
import { login, setupOrganisation } from '../../shared/flows/account-flows';
import { browserLikeClient, listen, type BrowserLikeClient } from '../lib/node-api-client';
import { makeTestApp } from '../test/make-test-app';
import { fast } from '../test/org-fixture';
import { decodeBase32, totp } from '../test/rfc6238';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A fresh server, set up through the browser flows with `secondFactorRoles` as given (or left out), and its Administrator signed in. */
async function setUpWith(secondFactorRoles: readonly Role[] | undefined): Promise<BrowserLikeClient> {
  const testApp = await makeTestApp();
  const server = await listen(testApp);
  closers.push(async () => {
    await server.close();
    await testApp.close();
  });
  const client = browserLikeClient(server.baseUrl, testApp.config.publicOrigin);
  const email = 'anna@kluis.test';
  const password = 'zonnige-dinsdag-met-appeltaart';
  await setupOrganisation(
    client.api,
    {
      setupToken: await testApp.services.setup.issueSetupToken(),
      organisationName: 'Kantoor De Vries',
      email,
      name: 'Anna Admin',
      password,
      language: 'en',
      ...(secondFactorRoles ? { secondFactorRoles } : {}),
    },
    fast,
  );
  await login(client.api, email, password, fast);
  return client;
}

async function refusal(call: Promise<unknown>): Promise<{ status: number; code: string }> {
  const error = await call.then(
    () => null,
    (failure: unknown) => failure,
  );
  if (!isApiError(error)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return { status: error.status, code: error.code };
}

describe('the second-factor policy chosen at setup', () => {
  it('by default holds the founding Administrator to it: the recovery kit is confirmed, then nothing but the set-up until a factor exists', async () => {
    const admin = await setUpWith(undefined);
    const session = await admin.api(getSession, {});
    expect(session.secondFactorMissing).toBe(true);
    // The kit is shown once, right after setup: confirming it must not wait for the second factor.
    await expect(admin.api(confirmRecoveryKit, {})).resolves.toBeNull();
    expect(await refusal(admin.api(listUsers, {}))).toEqual({ status: 403, code: 'second_factor_required' });
    expect(await refusal(admin.api(getSettings, {}))).toEqual({ status: 403, code: 'second_factor_required' });

    // An authenticator app, with a code computed outside the server's code path.
    const started = await admin.api(startTotpSetup, { body: {} });
    const code = totp(decodeBase32(started.secret), Date.now());
    await admin.api(confirmTotpSetup, { body: { setupId: started.setupId, code, name: 'Phone' } });
    expect((await admin.api(listSecondFactors, {})).factors.map((factor) => factor.kind)).toEqual(['totp']);
    expect((await admin.api(getSession, {})).secondFactorMissing).toBe(false);
    const settings = await admin.api(getSettings, {});
    expect([...settings.secondFactorRoles].sort()).toEqual(['admin', 'auditor', 'team']);
  });

  it('stores the roles the Administrator ticked', async () => {
    const admin = await setUpWith(['client']);
    expect((await admin.api(getSession, {})).secondFactorMissing).toBe(false);
    await expect(admin.api(confirmRecoveryKit, {})).resolves.toBeNull();
    expect((await admin.api(getSettings, {})).secondFactorRoles).toEqual(['client']);
  });

  it('stores none when none were ticked', async () => {
    const admin = await setUpWith([]);
    expect((await admin.api(getSession, {})).secondFactorMissing).toBe(false);
    expect((await admin.api(getSettings, {})).secondFactorRoles).toEqual([]);
  });
});
