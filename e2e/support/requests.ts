// Records every request a browser context sends (pages, their workers, service workers) and finds secrets in them.
import type { BrowserContext, Request } from '@playwright/test';

export interface CapturedRequest {
  readonly url: string;
  readonly method: string;
  /** Every header as sent, cookies included. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body; empty when there was none (or Chromium did not expose it, see `bodyKnown`). */
  readonly body: Buffer;
  /** False when the request had a body Chromium could not hand over (a stream): check it by other means. */
  readonly bodyKnown: boolean;
  readonly fromServiceWorker: boolean;
}

export interface Leak {
  readonly request: CapturedRequest;
  readonly secret: string;
  readonly encoding: string;
  readonly where: 'url' | 'header' | 'body';
}

export interface RequestLog {
  /** Everything captured so far, headers resolved. */
  all(): Promise<CapturedRequest[]>;
  /** Every place one of the secrets occurs, in any of the encodings of `encodingsOf`. */
  findLeaks(secrets: readonly Secret[]): Promise<Leak[]>;
  /** Throws, listing each leak, when any secret occurs in any request. */
  expectNoSecrets(secrets: readonly Secret[]): Promise<void>;
  /** Records another browser context too (a second user in the same test). */
  watch(context: BrowserContext): void;
  stop(): void;
}

/** A secret as text (checked as its UTF-8 bytes) or as raw bytes. */
export type Secret = string | Uint8Array;

/** Starts recording; attach it before the first navigation. */
export function captureRequests(context: BrowserContext): RequestLog {
  const pending: Promise<CapturedRequest>[] = [];
  const contexts = new Set<BrowserContext>();
  const onRequest = (request: Request): void => {
    pending.push(capture(request));
  };
  const watch = (next: BrowserContext): void => {
    if (contexts.has(next)) return;
    contexts.add(next);
    next.on('request', onRequest);
  };
  watch(context);

  const all = (): Promise<CapturedRequest[]> => Promise.all(pending);
  const findLeaks = async (secrets: readonly Secret[]): Promise<Leak[]> =>
    findSecretLeaks(await all(), secrets);
  return {
    all,
    findLeaks,
    async expectNoSecrets(secrets) {
      const leaks = await findLeaks(secrets);
      if (leaks.length > 0) {
        const lines = leaks.map(
          (leak) =>
            `  ${leak.request.method} ${leak.request.url}: secret ${JSON.stringify(leak.secret)} as ${leak.encoding} in the ${leak.where}`,
        );
        throw new Error(
          `Secrets found in ${leaks.length} place(s) of the captured requests:\n${lines.join('\n')}`,
        );
      }
    },
    watch,
    stop: () => {
      for (const watched of contexts) watched.off('request', onRequest);
      contexts.clear();
    },
  };
}

async function capture(request: Request): Promise<CapturedRequest> {
  const body = request.postDataBuffer();
  let headers: Record<string, string>;
  try {
    headers = await request.allHeaders();
  } catch {
    // The page or worker went away before the headers could be read; the provisional ones remain.
    headers = request.headers();
  }
  const declaredLength = Number(headers['content-length'] ?? '0');
  return {
    url: request.url(),
    method: request.method(),
    headers,
    body: body ?? Buffer.alloc(0),
    bodyKnown: body !== null || !(declaredLength > 0 || headers['transfer-encoding'] !== undefined),
    fromServiceWorker: request.serviceWorker() !== null,
  };
}

interface Needle {
  readonly encoding: string;
  readonly bytes: Buffer;
}

/**
 * The forms a secret can take on the wire: raw UTF-8, hex (both cases), base64 and base64url at
 * every byte alignment (a secret inside a longer base64 string is encoded differently depending on
 * its offset modulo 3), and percent-encoding. Fragments shorter than 4 characters are skipped:
 * they would match by chance.
 */
export function encodingsOf(secret: Secret): Needle[] {
  const raw = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const needles: Needle[] = [{ encoding: 'utf-8', bytes: raw }];
  const text = (encoding: string, value: string): void => {
    const bytes = Buffer.from(value, 'latin1');
    if (value.length >= 4 && !needles.some((needle) => needle.bytes.equals(bytes)))
      needles.push({ encoding, bytes });
  };
  text('hex', raw.toString('hex'));
  text('HEX', raw.toString('hex').toUpperCase());
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset), raw])
      .toString('base64')
      .replace(/=+$/, '');
    // Characters fully inside the secret's bits: from ceil(8*offset/6) to floor(8*(offset+n)/6).
    const fragment = encoded.slice(
      Math.ceil((8 * offset) / 6),
      Math.floor((8 * (offset + raw.length)) / 6),
    );
    text(`base64@${offset}`, fragment);
    text(`base64url@${offset}`, fragment.replaceAll('+', '-').replaceAll('/', '_'));
  }
  if (typeof secret === 'string') {
    const percent = encodeURIComponent(secret);
    if (percent !== secret) text('percent-encoded', percent);
    const form = new URLSearchParams({ s: secret }).toString().slice(2);
    if (form !== secret && form !== percent) text('form-encoded', form);
  }
  return needles;
}

export function findSecretLeaks(
  requests: readonly CapturedRequest[],
  secrets: readonly Secret[],
): Leak[] {
  const leaks: Leak[] = [];
  for (const secret of secrets) {
    const label =
      typeof secret === 'string' ? secret : `${Buffer.from(secret).toString('hex')} (bytes)`;
    const needles = encodingsOf(secret);
    for (const request of requests) {
      const places: [Leak['where'], Buffer][] = [
        ['url', Buffer.from(request.url, 'utf8')],
        [
          'header',
          Buffer.from(
            Object.entries(request.headers)
              .map(([name, value]) => `${name}: ${value}`)
              .join('\n'),
            'utf8',
          ),
        ],
        ['body', request.body],
      ];
      for (const [where, haystack] of places) {
        const found = needles.find((needle) => haystack.includes(needle.bytes));
        if (found) leaks.push({ request, secret: label, encoding: found.encoding, where });
      }
    }
  }
  return leaks;
}
