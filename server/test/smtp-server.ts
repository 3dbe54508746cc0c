// Test helper: a real SMTP server on 127.0.0.1 that keeps what it receives, and a small MIME reader for it and for .eml files.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { budget } from './budget';

/** A message as a mail client would show it: decoded headers and text parts. */
export interface ParsedMail {
  /** Header names lower-case; values unfolded and RFC 2047-decoded; repeated headers in order. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /** First value of a header (name in any case), or undefined. */
  header(name: string): string | undefined;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly subject: string | undefined;
  /** The first text/plain part, decoded (quoted-printable or base64, then its charset), lines ending in LF. */
  readonly text: string | undefined;
  /** The first text/html part, decoded. */
  readonly html: string | undefined;
}

export interface ReceivedMail extends ParsedMail {
  /** The SMTP envelope: MAIL FROM and RCPT TO addresses. */
  readonly envelope: { readonly from: string | null; readonly to: readonly string[] };
  /** The user name the client authenticated as, or null. */
  readonly user: string | null;
  /** The message exactly as received (CRLF line ends, dot-unstuffed). */
  readonly raw: string;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>` (no credentials; add them for a server started with some). */
  readonly url: string;
  readonly port: number;
  /** Everything received so far, oldest first. */
  messages(): readonly ReceivedMail[];
  /** The first message, received already or later, that matches; rejects after `timeoutMs`. */
  waitForMessage(predicate?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/**
 * Starts an SMTP server on a free port of 127.0.0.1: plain text only (no STARTTLS), AUTH optional
 * unless `credentials` are given, in which case they are required and anything else gets
 * "535 Authentication failed for <user name>".
 */
export async function startTestSmtpServer(options: { readonly credentials?: { readonly user: string; readonly pass: string } } = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const events = new EventEmitter();
  const { credentials } = options;
  const server = new SMTPServer({
    authOptional: credentials === undefined,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 1_000,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.pass) {
        callback(null, { user: auth.username });
        return;
      }
      // Like some real relays, the refusal names the user: the mailer must not pass that on as is.
      callback(null, { message: `Authentication failed for ${auth.username ?? '(none)'}`, responseCode: 535 });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const { mailFrom, rcptTo } = session.envelope;
        const mail: ReceivedMail = {
          ...parseMail(raw),
          envelope: { from: mailFrom ? mailFrom.address : null, to: rcptTo.map((recipient) => recipient.address) },
          user: typeof session.user === 'string' ? session.user : null,
          raw,
        };
        received.push(mail);
        events.emit('mail', mail);
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages: () => [...received],
    waitForMessage(predicate = () => true, timeoutMs = budget(5_000)) {
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const onMail = (mail: ReceivedMail) => {
          if (!predicate(mail)) return;
          clearTimeout(timer);
          events.off('mail', onMail);
          resolve(mail);
        };
        const timer = setTimeout(() => {
          events.off('mail', onMail);
          reject(new Error(`test SMTP server: no matching message within ${timeoutMs} ms (${received.length} received)`));
        }, timeoutMs);
        events.on('mail', onMail);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Reads an RFC 5322 / MIME message just far enough for tests: headers (unfolded, RFC 2047 words
 * decoded), multipart bodies (nested), quoted-printable and base64 transfer encodings, charsets.
 * Not a general parser: no attachments, no malformed-input recovery.
 */
export function parseMail(raw: string): ParsedMail {
  const leaves = collectParts(raw);
  const headers = parseHeaders(splitEntity(raw).head);
  const header = (name: string) => headers.get(name.toLowerCase())?.[0];
  return {
    headers,
    header,
    from: header('from'),
    to: header('to'),
    subject: header('subject'),
    text: leaves.find((part) => part.type === 'text/plain')?.body,
    html: leaves.find((part) => part.type === 'text/html')?.body,
  };
}

function splitEntity(entity: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(entity);
  if (!match) return { head: entity, body: '' };
  return { head: entity.slice(0, match.index), body: entity.slice(match.index + match[0].length) };
}

function parseHeaders(head: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeWords(line.slice(colon + 1).trim());
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  return headers;
}

/** RFC 2047 encoded words (`=?utf-8?Q?...?=`, `=?utf-8?B?...?=`); whitespace between two of them is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_word, charset: string, encoding: string, data: string) => {
      const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : quotedPrintableBytes(data.replace(/_/g, ' '));
      return new TextDecoder(charset).decode(bytes);
    });
}

function quotedPrintableBytes(text: string): Buffer {
  const bytes: number[] = [];
  const source = Buffer.from(text, 'utf8');
  for (let i = 0; i < source.length; i++) {
    const byte = source[i] as number;
    const hex = source.subarray(i + 1, i + 3).toString('latin1');
    if (byte === 0x3d && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

function parameter(value: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

interface Leaf {
  readonly type: string;
  readonly body: string;
}

function collectParts(entity: string): Leaf[] {
  const { head, body } = splitEntity(entity);
  const headers = parseHeaders(head);
  const contentType = headers.get('content-type')?.[0] ?? 'text/plain; charset=us-ascii';
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = parameter(contentType, 'boundary');
    if (boundary === undefined) return [];
    const delimiter = `--${boundary}`;
    const end = body.indexOf(`${delimiter}--`);
    const sections = (end === -1 ? body : body.slice(0, end)).split(delimiter).slice(1);
    return sections.flatMap((section) => collectParts(section.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, '')));
  }
  const encoding = (headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase();
  const charset = parameter(contentType, 'charset') ?? 'utf-8';
  let bytes: Buffer;
  if (encoding === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable') bytes = quotedPrintableBytes(body.replace(/=\r?\n/g, ''));
  else bytes = Buffer.from(body, 'utf8');
  // Lines as a mail client shows them: CRLF becomes LF.
  return [{ type, body: new TextDecoder(charset).decode(bytes).replace(/\r\n/g, '\n') }];
}
