// The client's IP address for logs and audit events, honouring TRUST_PROXY.
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/**
 * With `trustProxy`, the rightmost X-Forwarded-For entry: the address the one proxy in front of
 * Kluis saw (entries further left are client-supplied and can be forged). Otherwise the socket's
 * peer address. Null when neither is known (e.g. requests made in tests).
 */
export function clientIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header('X-Forwarded-For')?.split(',').map((entry) => entry.trim()).filter(Boolean);
    const nearest = forwarded?.at(-1);
    if (nearest) return nearest;
  }
  const bindings = c.env as Partial<HttpBindings> | undefined;
  return bindings?.incoming?.socket.remoteAddress ?? null;
}
