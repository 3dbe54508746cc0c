// Client side of the bare OPAQUE baseline (bare-login-server.ts): registering bench accounts and logging in over plain fetch.
import {
  OPAQUE_BENCH_KEY_STRETCHING,
  finishOpaqueLogin,
  finishOpaqueRegistration,
  startOpaqueLogin,
  startOpaqueRegistration,
} from '../../shared/crypto';
import { type BenchAccount, benchPassword } from './bench-organisation';
import type { LoginOnce } from './login-load';

async function post(
  baseUrl: string,
  path: string,
  body: Record<string, string>,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const parsed: unknown = await response.json();
  if (!response.ok || typeof parsed !== 'object' || parsed === null)
    throw new Error(`${path} answered ${response.status}`);
  return parsed as Record<string, unknown>;
}

function text(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw new Error(`the bare server's answer has no ${name}`);
  return value;
}

/** Registers `count` accounts (with the bench key stretching); returns them and the server's public key. */
export async function registerBareAccounts(
  baseUrl: string,
  count: number,
): Promise<{ accounts: BenchAccount[]; serverPublicKey: string }> {
  const accounts = Array.from({ length: count }, (_, i) => ({
    email: `bare-${i + 1}@kluis.test`,
    password: benchPassword(),
  }));
  let serverPublicKey = '';
  for (const account of accounts) {
    const registration = await startOpaqueRegistration(account.password);
    const started = await post(baseUrl, '/register/start', {
      email: account.email,
      registrationRequest: registration.request,
    });
    const { record } = await finishOpaqueRegistration(
      registration.state,
      text(started, 'registrationResponse'),
      account.password,
      OPAQUE_BENCH_KEY_STRETCHING,
    );
    serverPublicKey = text(
      await post(baseUrl, '/register/finish', { email: account.email, registrationRecord: record }),
      'serverPublicKey',
    );
  }
  return { accounts, serverPublicKey };
}

/** The same client work as kluisLogin (OPAQUE start, finish, server key check) against the bare server. */
export function bareLogin(baseUrl: string, serverPublicKey: string): LoginOnce {
  return async (account) => {
    const attempt = await startOpaqueLogin(account.password);
    const started = await post(baseUrl, '/login/start', {
      email: account.email,
      startLoginRequest: attempt.request,
    });
    const finished = await finishOpaqueLogin(
      attempt.state,
      text(started, 'loginResponse'),
      account.password,
      OPAQUE_BENCH_KEY_STRETCHING,
    );
    if (finished.serverStaticPublicKey !== serverPublicKey)
      throw new Error('the bare server answered with another OPAQUE key');
    await post(baseUrl, '/login/finish', {
      loginId: text(started, 'loginId'),
      finishLoginRequest: finished.finishRequest,
    });
  };
}
