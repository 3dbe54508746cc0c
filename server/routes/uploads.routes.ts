// Upload routes: start, store a part (raw body), resume state, complete, abort; blob download with Range.
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { endpoints } from '../../shared/api';
import { errorResponse, fail } from '../errors';
import type { AppEnv } from '../http/app-env';
import type { Actor } from '../services/account-deps';
import type { RangeRequest, UploadsService } from '../services/uploads.service';
import { defineRawRoute, defineRoute } from './define-route';

const octetStream = /^application\/octet-stream\s*(;|$)/i;

/** The signed-in actor; define-route already refused requests without a session. */
function actorOf(c: Context<AppEnv>): Actor {
  const session = c.get('session');
  if (!session) throw fail('unauthenticated', 'Sign in first.');
  return { userId: session.userId, role: session.role, sessionId: session.id, authenticatedAt: session.authenticatedAt, ip: c.get('clientIp') };
}

function nodeRequestOf(c: Context<AppEnv>): IncomingMessage | null {
  const env: unknown = c.env;
  if (typeof env === 'object' && env !== null && 'incoming' in env && env.incoming instanceof IncomingMessage) return env.incoming;
  return null;
}

async function* nodeChunks(incoming: IncomingMessage): AsyncGenerator<Uint8Array> {
  // destroyOnReturn: false: stopping early (wrong length, full store) must not kill the socket
  // before the error answer is sent; Node discards the rest of the body itself.
  for await (const chunk of incoming.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
}

async function* webChunks(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * The request body as a stream of chunks. Reads the Node request directly when there is one
 * (FACTS.md: ~570 MiB/s against ~340 MiB/s through the web stream); `app.request()` in tests has
 * none and uses the web stream. WARNING: nothing before this route may touch `c.req.raw.body`
 * (server/http/pipeline.ts exempts it from the JSON body limit for that reason).
 */
function requestBody(c: Context<AppEnv>): AsyncIterable<Uint8Array> {
  const incoming = nodeRequestOf(c);
  return incoming ? nodeChunks(incoming) : webChunks(c.req.raw.body);
}

function contentLengthOf(c: Context<AppEnv>): number | null {
  const header = c.req.header('Content-Length');
  return header !== undefined && /^\d{1,16}$/.test(header) ? Number(header) : null;
}

/** One `bytes=` range (RFC 9110 14.1.2); anything else (several ranges, other units) is ignored: the whole blob is sent. */
export function parseRangeHeader(header: string | undefined): RangeRequest | null {
  const match = header === undefined ? null : /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') return { suffix: Number(last) };
  const start = Number(first);
  const end = last === '' ? null : Number(last);
  if (end !== null && end < start) return null;
  return { start, end };
}

export function uploadRoutes(uploads: UploadsService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  defineRoute(app, endpoints.createUpload, ({ body }, c) => uploads.createUpload(actorOf(c), body));
  defineRoute(app, endpoints.getUpload, ({ params }, c) => uploads.getUpload(actorOf(c), params.id));
  defineRoute(app, endpoints.uploadPart, ({ params }, c) => {
    if (!octetStream.test(c.req.header('Content-Type') ?? '')) {
      throw fail('unsupported_media_type', 'Send the part as the raw request body with Content-Type: application/octet-stream.');
    }
    return uploads.storePart(actorOf(c), params.id, params.n, { source: requestBody(c), contentLength: contentLengthOf(c) });
  });
  defineRoute(app, endpoints.completeUpload, ({ params, body }, c) => uploads.completeUpload(actorOf(c), params.id, body));
  defineRoute(app, endpoints.abortUpload, async ({ params }, c) => {
    await uploads.abortUpload(actorOf(c), params.id);
    return null;
  });

  defineRawRoute(app, endpoints.downloadBlob, async ({ params }, c) => {
    const read = await uploads.readBlob(actorOf(c), params.blobId, parseRangeHeader(c.req.header('Range')));
    if (read.kind === 'unsatisfiable') {
      return errorResponse(c, fail('range_not_satisfiable', `The file has ${read.size} bytes; the requested range is outside it.`), {
        'Content-Range': `bytes */${read.size}`,
      });
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' };
    const body = Readable.toWeb(read.stream) as ReadableStream<Uint8Array>;
    if (read.kind === 'whole') return c.body(body, 200, { ...headers, 'Content-Length': String(read.size) });
    return c.body(body, 206, {
      ...headers,
      'Content-Length': String(read.end - read.start + 1),
      'Content-Range': `bytes ${read.start}-${read.end}/${read.size}`,
    });
  });

  return app;
}
