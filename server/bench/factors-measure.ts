// What the second sign-in step costs (issue 20): the requests of a sign-in with a password alone,
// with a TOTP code, a passkey or a backup code as second factor, and of a passkey-only sign-in, over
// real HTTP against an in-process server; client crypto (OPAQUE, the authenticator) is not timed.
import { rmSync } from 'node:fs';
import {
  confirmTotpSetup,
  createBackupCodes,
  finishLogin,
  finishPasskeyLogin,
  finishPasskeyRegistration,
  startLogin,
  startPasskeyLogin,
  startPasskeyRegistration,
  startTotpSetup,
  verifySecondFactor,
} from '../../shared/api';
import { OPAQUE_BENCH_KEY_STRETCHING, finishOpaqueLogin, startOpaqueLogin } from '../../shared/crypto';
import { PASSKEY_UNLOCK_PRF_SALT, enablePasskeyUnlock } from '../../shared/flows/passkey-unlock';
import { createTestOrganisation, type Member } from '../test/org-fixture';
import { decodeBase32, totp } from '../test/rfc6238';
import { SoftwareAuthenticator } from '../test/software-authenticator';
import { BenchFailure, type BenchContext } from './harness';
import { median } from './measure';

/** Sign-ins per kind, interleaved round by round (backup codes: one set of ten). */
const ROUNDS = 30;
const BACKUP_ROUNDS = 10;

type Kind = 'password' | 'totp' | 'passkey' | 'backup';

/** Loopback round trips of one sign-in's requests, ms. */
interface SignInTimes {
  readonly password: number;
  readonly step: number;
}

export async function measureSecondFactors({ report, cleanup, progress }: BenchContext): Promise<void> {
  // The clock moves 31 s before every round, so each TOTP code is of a step never used before.
  const clock = { offsetMs: 0 };
  const now = () => new Date(Date.now() + clock.offsetMs);
  progress(`second factors: an in-process organisation, ${ROUNDS} sign-ins per kind (password alone, TOTP, passkey; ${BACKUP_ROUNDS} backup codes), interleaved`);
  const org = await createTestOrganisation(['client', 'team', 'auditor'], { now, env: { LOG_LEVEL: 'warn', KLUIS_LOGIN_LIMIT_PER_IP: '100000' } });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= org.close());
  cleanup.add({ name: 'second-factor bench organisation', close, closeSync: () => rmSync(org.testApp.tempDir, { recursive: true, force: true }) });
  try {
    const origin = org.testApp.config.publicOrigin;
    const plain = org.members.team!;
    const withTotp = org.members.client!;
    const withPasskey = org.members.auditor!;

    const setup = await withTotp.client.api(startTotpSetup, { body: {} });
    const secret = decodeBase32(setup.secret);
    await withTotp.client.api(confirmTotpSetup, { body: { setupId: setup.setupId, code: totp(secret, now().getTime()), name: 'bench' } });
    const { codes } = await withTotp.client.api(createBackupCodes, { body: {} });

    const authenticator = new SoftwareAuthenticator(origin);
    const registration = await withPasskey.client.api(startPasskeyRegistration, { body: {} });
    const made = authenticator.register(registration.options);
    const factor = await withPasskey.client.api(finishPasskeyRegistration, { body: { ceremonyId: registration.ceremonyId, name: 'bench', response: made.response } });
    const credentialId = made.credential.id.toString('base64url');
    await enablePasskeyUnlock(withPasskey.client.api, withPasskey.vault, { factorId: factor.id, credentialId }, authenticator.prf(made.credential, PASSKEY_UNLOCK_PRF_SALT));

    const signIn = async (member: Member, kind: Kind): Promise<SignInTimes> => {
      const browser = org.newClient();
      const attempt = await startOpaqueLogin(member.password);
      let t = performance.now();
      const started = await browser.api(startLogin, { body: { email: member.email, startLoginRequest: attempt.request } });
      let password = performance.now() - t;
      const finished = await finishOpaqueLogin(attempt.state, started.loginResponse, member.password, OPAQUE_BENCH_KEY_STRETCHING);
      t = performance.now();
      const outcome = await browser.api(finishLogin, { body: { loginId: started.loginId, finishLoginRequest: finished.finishRequest } });
      password += performance.now() - t;
      if (kind === 'password') {
        if ('secondFactor' in outcome) throw new BenchFailure('a password-only account was asked for a second factor');
        return { password, step: 0 };
      }
      if (!('secondFactor' in outcome)) throw new BenchFailure(`an account with a ${kind} factor signed in without it`);
      const { challengeId, passkeyOptions } = outcome.secondFactor;
      let body;
      if (kind === 'totp') body = { challengeId, method: 'totp' as const, code: totp(secret, now().getTime()), trustDevice: false };
      else if (kind === 'backup') body = { challengeId, method: 'backup' as const, code: codes.shift() ?? '', trustDevice: false };
      else {
        if (!passkeyOptions) throw new BenchFailure('no passkey options in the challenge');
        body = { challengeId, method: 'passkey' as const, response: authenticator.assert(passkeyOptions).response, trustDevice: false };
      }
      t = performance.now();
      await browser.api(verifySecondFactor, { body });
      return { password, step: performance.now() - t };
    };

    const passkeyOnly = async (): Promise<number> => {
      const browser = org.newClient();
      let t = performance.now();
      const { ceremonyId, options } = await browser.api(startPasskeyLogin, { body: {} });
      let ms = performance.now() - t;
      const { response } = authenticator.assert(options);
      t = performance.now();
      const bundle = await browser.api(finishPasskeyLogin, { body: { ceremonyId, response } });
      ms += performance.now() - t;
      if (bundle.session.user.id !== withPasskey.userId) throw new BenchFailure('a passkey-only sign-in opened the wrong account');
      return ms;
    };

    const times = { password: [] as SignInTimes[], totp: [] as SignInTimes[], passkey: [] as SignInTimes[], backup: [] as SignInTimes[], passkeyOnly: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      clock.offsetMs += 31_000;
      times.password.push(await signIn(plain, 'password'));
      times.totp.push(await signIn(withTotp, 'totp'));
      times.passkey.push(await signIn(withPasskey, 'passkey'));
      if (round < BACKUP_ROUNDS) times.backup.push(await signIn(withTotp, 'backup'));
      times.passkeyOnly.push(await passkeyOnly());
    }

    const passwordMs = median(times.password.map((s) => s.password));
    report.add('password_signin_ms', 'sign-in requests, password alone (OPAQUE start + finish, session opened)', passwordMs, 'ms');
    for (const kind of ['totp', 'passkey', 'backup'] as const) {
      const step = median(times[kind].map((s) => s.step));
      const total = median(times[kind].map((s) => s.password + s.step));
      report.add(`second_step_${kind}_ms`, `second step with ${kind === 'totp' ? 'a TOTP code' : kind === 'passkey' ? 'a passkey assertion' : 'a backup code'} (session opened)`, step, 'ms');
      report.add(`signin_${kind}_vs_password`, `sign-in requests with ${kind} / password alone`, total / passwordMs, 'x', { summary: kind === 'totp' });
    }
    const passkeyOnlyMs = median(times.passkeyOnly);
    report.add('passkey_only_signin_ms', 'passkey-only sign-in requests (options + assertion, session opened)', passkeyOnlyMs, 'ms');
    report.add('passkey_only_vs_password', 'passkey-only sign-in requests / password alone', passkeyOnlyMs / passwordMs, 'x', { summary: true });
    report.note(
      'Second factors: medians of loopback round trips of each sign-in\'s requests (client work untimed: OPAQUE with the bench key stretching, ' +
        'the software authenticator). A TOTP code is matched against three steps and claimed with a conditional UPDATE; a passkey assertion is an ' +
        'ECDSA P-256 verification by @simplewebauthn/server and a counter UPDATE; a backup code is an HMAC and a conditional UPDATE. Each second ' +
        'step also opens the session the password finish would have opened, so the step replaces that work rather than adding all of it.',
    );
  } finally {
    await close();
  }
}
