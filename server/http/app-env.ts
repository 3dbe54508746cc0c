// The Hono environment of this app: what middleware puts on the request context.
import type { Logger } from 'pino';

export interface AppEnv {
  Variables: {
    /** Random per request; also sent as X-Request-Id and written to every log line. */
    requestId: string;
    /** The app logger bound to this request's id. */
    logger: Logger;
  };
}
