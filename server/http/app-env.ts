// The Hono environment of this app: what middleware puts on the request context.
import type { Logger } from 'pino';
import type { SessionContext } from '../services/auth.service';

export interface AppEnv {
  Variables: {
    /** Random per request; also sent as X-Request-Id and written to every log line. */
    requestId: string;
    /** The app logger bound to this request's id. */
    logger: Logger;
    /** The signed-in session behind the cookie, if any (API requests only). */
    session: SessionContext | null;
    /** The client's address (TRUST_PROXY honoured), for lockout throttling and the audit log. */
    clientIp: string | null;
  };
}
