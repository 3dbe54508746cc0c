// Refused state-changing requests leave a 'denied' audit event (issue 22 item 1), in one place for
// every route: a role or IP refusal, a cross-site request, a locked account.
import type { Context } from 'hono';
import { endpoints, type Endpoint, type ErrorCode } from '../../shared/api';
import type { Db } from '../db/database';
import type { AppError } from '../errors';
import { recordAuditEvent } from '../services/audit.service';
import type { AppEnv } from './app-env';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The refusals worth an event; validation errors and the like are the caller's mistakes, not attempts. */
const AUDITED_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['forbidden', 'ip_not_allowed', 'csrf_rejected', 'account_locked']);

/** The contract endpoint `method path` belongs to: by path pattern, literal segments winning over `:param` ones. */
export function endpointMatcher(list: readonly Endpoint[] = Object.values(endpoints as Record<string, Endpoint>)): (method: string, path: string) => Endpoint | undefined {
  const compiled = list.map((endpoint) => ({ endpoint, method: endpoint.method.toUpperCase(), segments: endpoint.path.split('/') }));
  const literals = (segments: readonly string[]) => segments.filter((s) => !s.startsWith(':')).length;
  compiled.sort((a, b) => literals(b.segments) - literals(a.segments));
  return (method, path) => {
    const actual = path.split('/');
    return compiled.find(
      (c) => c.method === method && c.segments.length === actual.length && c.segments.every((s, i) => (s.startsWith(':') ? actual[i] !== '' : s === actual[i])),
    )?.endpoint;
  };
}

/**
 * Called by app.onError (server/http/pipeline.ts) for every failed request: a state-changing request
 * refused with one of AUDITED_REFUSALS, that the service did not audit itself, gets `access.denied`
 * in a transaction of its own (the route's, if any, was rolled back). Details: the operation and
 * the error code, nothing from the request.
 * An error hook rather than a middleware wrapping every /api request: only failures pay for it.
 */
export function refusalRecorder(db: Db): (error: AppError, c: Context<AppEnv>) => Promise<void> {
  const endpointOf = endpointMatcher();
  return async function recordRefusal(error, c) {
    if (SAFE_METHODS.has(c.req.method) || error.audited || !AUDITED_REFUSALS.has(error.code)) return;
    const session = c.get('session') ?? null;
    try {
      await db.transaction().execute((trx) =>
        recordAuditEvent(trx, {
          action: 'access.denied',
          actorId: session?.userId ?? null,
          ...(session ? { actorRole: session.role } : {}),
          result: 'denied',
          details: { operationId: endpointOf(c.req.method, c.req.path)?.operationId ?? null, code: error.code },
        }),
      );
    } catch (failure) {
      // The refusal stands either way; a log that cannot be written is an operator's problem.
      c.get('logger').error({ err: failure }, 'could not audit a refused request');
    }
  };
}
