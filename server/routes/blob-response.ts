// Answers with a blob's bytes: the Range header in, 200 / 206 / 416 out (blob and document version downloads).
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { BlobRead, RangeRequest } from '../blobs/blob-range';
import { fail } from '../errors';
import type { AppEnv } from '../http/app-env';

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

/** The Range the request asks for, parsed. */
export function rangeOf(c: Context<AppEnv>): RangeRequest | null {
  return parseRangeHeader(c.req.header('Range'));
}

/** Streams `read` as application/octet-stream: 200 whole, 206 partial; throws 416 with `Content-Range: bytes *\/size`. */
export function blobResponse(c: Context<AppEnv>, read: BlobRead): Response {
  if (read.kind === 'unsatisfiable') {
    throw fail('range_not_satisfiable', `The file has ${read.size} bytes; the requested range is outside it.`, {
      headers: { 'Content-Range': `bytes */${read.size}` },
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
}
