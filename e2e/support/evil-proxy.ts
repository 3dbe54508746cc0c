// Test-only tampering HTTP proxy in front of the real Kluis server: the "malicious server" of e2e/malicious-server.spec.ts.
//
// The browser talks only to this proxy; the real server runs with PUBLIC_ORIGIN set to the proxy's
// origin, so its CSRF/Origin checks pass. Everything is forwarded unchanged (streamed bodies, Range
// requests, cookies) until a test installs a rule. A rule matches a method and a path and then
// rewrites the server's JSON answer, replays a recorded older answer, rewrites the answer's raw
// bytes, answers by itself, or replaces the request body on its way to the server. Every request
// body the server received through the proxy is recorded, so a test can prove afterwards that no
// plaintext or key reached the server. It lives only under e2e/: nothing in server/ or client/ may
// import it (eslint.config.js forbids it, and e2e/evil-proxy-boundary.test.ts checks the tree).
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CapturedRequest } from './requests';
import { budget } from '../../server/test/budget';

/** An answer the server gave through the proxy (JSON answers only; blobs and pages are not kept). */
export interface RecordedAnswer {
  readonly seq: number;
  readonly method: string;
  /** Path with query, as requested. */
  readonly url: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** A request body as the server received it (after any rule replaced it), in the shape of requests.ts. */
export interface ReceivedRequest extends CapturedRequest {
  readonly seq: number;
  /** True when a rule replaced the browser's body before it went on. */
  readonly replaced: boolean;
}

export interface RuleContext {
  readonly method: string;
  /** Path without query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Named groups of the rule's pattern (`:spaceId` in a string pattern). */
  readonly params: Readonly<Record<string, string>>;
  /** The request body as the browser sent it (empty for GET). */
  readonly requestBody: Buffer;
  /** How many times this rule has matched before (0 on the first match). */
  readonly hit: number;
}

export interface Rule {
  readonly method: string;
  /** `/api/spaces/:spaceId` style (a parameter matches one path segment) or a RegExp on the path. */
  readonly path: string | RegExp;
  /** Further condition on the request. */
  readonly when?: (context: RuleContext) => boolean;
  /** Matches at most this many times, then stands aside. */
  readonly times?: number;
  /** Rewrite the server's JSON answer (return the new body; mutating and returning it is fine). */
  readonly rewriteJson?: (body: unknown, context: RuleContext) => unknown;
  /** Send this recorded answer's body (and status) instead of the server's; the request still reaches the server. */
  readonly replay?: RecordedAnswer | ((context: RuleContext) => RecordedAnswer);
  /** Rewrite the raw bytes of the server's answer (e.g. cut a blob short); Content-Range is left as the server sent it. */
  readonly rewriteBytes?: (body: Buffer, context: RuleContext) => Buffer;
  /** Replace the request body going to the server: return bytes, or a value sent as JSON. */
  readonly replaceRequestBody?: (body: Buffer, context: RuleContext) => unknown;
  /** Answer without asking the server. */
  readonly respond?: (context: RuleContext) => { status: number; body: unknown };
}

export interface InstalledRule {
  /** How often the rule has matched so far. */
  hits(): number;
  remove(): void;
}

export interface EvilProxy {
  /** The origin the browser uses (http://localhost:<port>). */
  readonly origin: string;
  readonly port: number;
  /** Where requests go (set once the real server is up). */
  target(url: string): void;
  rule(rule: Rule): InstalledRule;
  clearRules(): void;
  /** A position in the records; `received(mark)` and `answers(..., mark)` return what came after it. */
  mark(): number;
  /** Every request the server received through the proxy (bodies as received, in order). */
  received(since?: number): ReceivedRequest[];
  /** Recorded JSON answers of the server for `method` and `path` (pattern as in rules), oldest first. */
  answers(method: string, path: string | RegExp, since?: number): RecordedAnswer[];
  /** Resolves when a request matching method and path has been answered after `since`. */
  waitForAnswer(
    method: string,
    path: string | RegExp,
    since?: number,
    timeoutMs?: number,
  ): Promise<RecordedAnswer>;
  stop(): Promise<void>;
}

/** Compiles `/api/spaces/:spaceId/history` into a RegExp with named groups. */
export function pathPattern(path: string | RegExp): RegExp {
  if (path instanceof RegExp) return path;
  const source = path
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? `(?<${segment.slice(1)}>[^/]+)`
        : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function forwardHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface ActiveRule {
  readonly rule: Rule;
  readonly pattern: RegExp;
  hits: number;
}

/** Starts the proxy on a free port of localhost; call `target()` with the real server's URL before the first request. */
export async function startEvilProxy(): Promise<EvilProxy> {
  let upstream: URL | undefined;
  let rules: ActiveRule[] = [];
  let seq = 0;
  const received: ReceivedRequest[] = [];
  const recorded: RecordedAnswer[] = [];
  const waiters = new Set<() => void>();

  const candidates = (
    method: string,
    path: string,
  ): { active: ActiveRule; params: Record<string, string> }[] => {
    const found: { active: ActiveRule; params: Record<string, string> }[] = [];
    for (const active of rules) {
      if (active.rule.method.toUpperCase() !== method) continue;
      if (active.rule.times !== undefined && active.hits >= active.rule.times) continue;
      const match = active.pattern.exec(path);
      if (match) found.push({ active, params: { ...(match.groups ?? {}) } });
    }
    return found;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!upstream) throw new Error('the evil proxy has no target yet');
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const path = url.pathname;
    const matching = candidates(method, path);
    const requestSeq = ++seq;

    // The request body: streamed through when no rule needs it whole, recorded either way.
    const browserBody: Buffer | undefined = matching.length > 0 ? await readAll(req) : undefined;
    let context: RuleContext | undefined;
    let active: ActiveRule | undefined;
    for (const candidate of matching) {
      const attempt: RuleContext = {
        method,
        path,
        query: url.searchParams,
        params: candidate.params,
        requestBody: browserBody ?? Buffer.alloc(0),
        hit: candidate.active.hits,
      };
      if (candidate.active.rule.when && !candidate.active.rule.when(attempt)) continue;
      context = attempt;
      active = candidate.active;
      active.hits += 1;
      break;
    }
    const rule = active?.rule;

    if (rule?.respond && context) {
      const answer = rule.respond(context);
      const bytes = Buffer.from(JSON.stringify(answer.body));
      received.push(record(requestSeq, method, req, browserBody ?? Buffer.alloc(0), false));
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        'content-length': String(bytes.length),
      });
      res.end(bytes);
      return;
    }

    const headers = forwardHeaders(req.headers);
    let sentBody = browserBody;
    let replaced = false;
    if (rule?.replaceRequestBody && context && browserBody) {
      const next = rule.replaceRequestBody(browserBody, context);
      sentBody = Buffer.isBuffer(next) ? next : Buffer.from(JSON.stringify(next));
      replaced = true;
    }
    const rewritesAnswer = Boolean(
      rule && context && (rule.rewriteJson || rule.replay || rule.rewriteBytes),
    );
    if (rewritesAnswer) {
      // A rewritten answer must be the whole fresh answer: no compression, no 304.
      delete headers['accept-encoding'];
      delete headers['if-none-match'];
      delete headers['if-modified-since'];
    }
    if (sentBody !== undefined) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(sentBody.length);
    }

    const upstreamReq = httpRequest({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method,
      path: `${path}${url.search}`,
      headers,
    });
    const chunks: Buffer[] = [];
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      upstreamReq.once('response', resolve);
      upstreamReq.once('error', reject);
    });
    if (sentBody !== undefined) {
      upstreamReq.end(sentBody);
    } else {
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.pipe(upstreamReq);
      req.once('aborted', () => upstreamReq.destroy());
    }
    const response = await answered;
    received.push(record(requestSeq, method, req, sentBody ?? Buffer.concat(chunks), replaced));

    const responseHeaders = forwardHeaders(response.headers);
    const status = response.statusCode ?? 502;
    const isJson = (response.headers['content-type'] ?? '').includes('application/json');
    if (!rewritesAnswer && !isJson) {
      res.writeHead(status, response.statusMessage, responseHeaders);
      response.pipe(res);
      res.once('close', () => response.destroy());
      return;
    }
    let bytes = await readAll(response);
    let outStatus = status;
    if (isJson && response.headers['content-encoding'] === undefined) {
      let body: unknown;
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        body = undefined;
      }
      if (body !== undefined) {
        recorded.push({
          seq: requestSeq,
          method,
          url: `${path}${url.search}`,
          status,
          headers: response.headers,
          body,
        });
        for (const wake of waiters) wake();
      }
      if (rule && context && body !== undefined) {
        if (rule.replay) {
          const older = typeof rule.replay === 'function' ? rule.replay(context) : rule.replay;
          outStatus = older.status;
          body = older.body;
        }
        if (rule.rewriteJson) body = rule.rewriteJson(body, context);
        if (rule.replay || rule.rewriteJson) bytes = Buffer.from(JSON.stringify(body));
      }
    }
    if (rule?.rewriteBytes && context) bytes = rule.rewriteBytes(bytes, context);
    if (rewritesAnswer) {
      delete responseHeaders.etag;
      responseHeaders['cache-control'] = 'no-store';
    }
    responseHeaders['content-length'] = String(bytes.length);
    res.writeHead(outStatus, responseHeaders);
    res.end(bytes);
  };

  const record = (
    requestSeq: number,
    method: string,
    req: IncomingMessage,
    body: Buffer,
    replaced: boolean,
  ): ReceivedRequest => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    return {
      seq: requestSeq,
      url: new URL(req.url ?? '/', 'http://server.invalid').toString(),
      method,
      headers,
      body,
      bodyKnown: true,
      fromServiceWorker: false,
      replaced,
    };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`evil proxy: ${message}`);
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const answers = (method: string, path: string | RegExp, since = 0): RecordedAnswer[] => {
    const pattern = pathPattern(path);
    return recorded.filter(
      (answer) =>
        answer.seq > since &&
        answer.method === method.toUpperCase() &&
        pattern.test(answer.url.split('?')[0]!),
    );
  };

  return {
    origin: `http://localhost:${port}`,
    port,
    target(url) {
      upstream = new URL(url);
    },
    rule(rule) {
      const active: ActiveRule = { rule, pattern: pathPattern(rule.path), hits: 0 };
      rules.push(active);
      return {
        hits: () => active.hits,
        remove: () => {
          rules = rules.filter((candidate) => candidate !== active);
        },
      };
    },
    clearRules() {
      rules = [];
    },
    mark: () => seq,
    received: (since = 0) => received.filter((request) => request.seq > since),
    answers,
    async waitForAnswer(method, path, since = 0, timeoutMs = budget(60_000)) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = answers(method, path, since)[0];
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no answer to ${method} ${String(path)} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 250);
        });
      }
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
