// Node-side API access (tests, demo, bench): the app on a loopback port, and clients that keep cookies like a browser.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApiClient, type CallApi } from '../../shared/api/client';
import type { Hono } from 'hono';
import type { AppEnv } from '../http/app-env';

export interface RunningServer {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Serves `testApp` over real HTTP on 127.0.0.1 (so client IPs, cookies and headers are real). */
export async function listen(testApp: { readonly app: Hono<AppEnv> }): Promise<RunningServer> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: testApp.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  // The client (undici, 4 s) closes idle connections before the server does. With Node's 5 s the
  // server could close one just as a request went out on it when the process's event loop had been
  // blocked (a test filling the database in one transaction): ECONNRESET on a loaded machine.
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 10 * 60_000;
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    // closeAllConnections: a keep-alive connection the client side still holds (seen now and then
    // since issue 22 in client/worker/space-operations.test.ts, with every response finished) would
    // otherwise keep close() waiting for the client's idle timeout, which a loaded run can miss.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

export interface BrowserLikeClient {
  readonly api: CallApi;
  /** The cookies this client holds (name → value). */
  readonly cookies: Map<string, string>;
  /** Every request this client sent (for zero-knowledge assertions). */
  readonly sent: { url: string; method: string; headers: Record<string, string>; body: string }[];
  /** Every Set-Cookie line received, as sent by the server. */
  readonly setCookies: string[];
}

/**
 * A client that behaves like the web app in a browser: sends the configured Origin, keeps cookies
 * from Set-Cookie (honouring deletion), records what it sent.
 */
export function browserLikeClient(baseUrl: string, origin: string): BrowserLikeClient {
  const cookies = new Map<string, string>();
  const sent: BrowserLikeClient['sent'] = [];
  const setCookies: string[] = [];
  const fetchWithCookies: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('Origin', origin);
    if (cookies.size > 0) headers.set('Cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    sent.push({
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(headers),
      body: typeof init?.body === 'string' ? init.body : '',
    });
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      setCookies.push(line);
      const [pair = '', ...attributes] = line.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && new Date(a.split('=')[1] ?? '') < new Date()));
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  };
  return { api: createApiClient({ baseUrl, fetch: fetchWithCookies }), cookies, sent, setCookies };
}
