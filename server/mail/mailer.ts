// createMailer: renders a MailTemplate and delivers it through the configured SMTP relay, or into the durable .eml outbox.
import nodemailer, { type SendMailOptions, type SMTPPoolOptions } from 'nodemailer';
import type { Logger } from 'pino';
import type { Language } from '../../shared/api';
import type { Config } from '../env';
import { outboxFileName, writeFileDurably } from './outbox';
import { renderMail, type MailTemplate } from './templates';

export type { MailTemplate, MailTemplateData, MailTemplateKind } from './templates';

export interface MailMessage {
  /** One e-mail address. */
  readonly to: string;
  /** The recipient's language; the whole message, subject included, is written in it. */
  readonly language: Language;
  readonly template: MailTemplate;
}

export interface Mailer {
  /** Where messages go: the SMTP relay of `SMTP_URL`, or `<dataDir>/outbox`. */
  readonly transport: 'smtp' | 'outbox';
  /**
   * Resolves once the relay accepted the message, or once its .eml file is durable in the outbox.
   * Rejects with MailDeliveryError when it was not delivered, with TypeError for a message that
   * cannot be rendered (see renderMail) or a `to` that is not one address.
   */
  send(message: MailMessage): Promise<void>;
  /** Closes pooled SMTP connections (call at shutdown: idle connections otherwise stay open for minutes). */
  close(): Promise<void>;
}

/** A message was not delivered. The message names the step and the SMTP or file system code; never credentials. */
export class MailDeliveryError extends Error {
  override readonly name = 'MailDeliveryError';
  readonly transport: 'smtp' | 'outbox';
  /** Nodemailer's code (`EAUTH`, `ECONNECTION`, `ETIMEDOUT`, `EENVELOPE`, ...) or the file system's (`EACCES`, `ENOSPC`, ...). */
  readonly code: string;
  /** The SMTP reply code, when the relay answered with an error. */
  readonly responseCode: number | undefined;

  constructor(transport: 'smtp' | 'outbox', code: string, message: string, options?: { readonly responseCode?: number; readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.transport = transport;
    this.code = code;
    this.responseCode = options?.responseCode;
  }
}

/** Connecting, the greeting and each reply; plus one deadline for the whole delivery (a relay can trickle replies). */
const smtpTimeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, dnsTimeout: 10_000 } as const;
const deliveryDeadlineMs = 60_000;

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Nodemailer pool options for `SMTP_URL`. Query parameters of the URL override these (nodemailer
 * merges URL options last), e.g. `?requireTLS=false` for a relay on a private network without TLS.
 */
export function smtpTransportOptions(smtpUrl: string): SMTPPoolOptions & { pool: true } {
  const url = new URL(smtpUrl);
  return {
    pool: true,
    url: smtpUrl,
    maxConnections: 3,
    ...smtpTimeouts,
    // WARNING: smtp:// to another host would send the credentials and the invitation links in clear
    // if the relay does not offer STARTTLS (or an attacker strips it): require it (RFC 3207).
    requireTLS: url.protocol === 'smtp:' && !loopbackHosts.has(url.hostname),
    // Nothing we send refers to files or URLs; refuse them should a template ever try.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  };
}

/** `Display Name <address>` or `address`, as env.ts accepts it; an object, so a comma in the name cannot split it. */
function parseFrom(from: string): SendMailOptions['from'] {
  const match = /^(.*?)\s*<([^<>]+)>$/.exec(from);
  if (!match?.[2]) return from;
  const name = (match[1] ?? '').replace(/^"(.*)"$/, '$1');
  return name === '' ? match[2] : { name, address: match[2] };
}

/** One address, nothing that a MIME parser would read as a list, a group or a header. */
const singleAddress = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/u;

interface NodemailerFailure {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly responseCode?: unknown;
}

/** Removes the URL's user name and password (raw and percent-decoded) from `text`. */
function redact(text: string, smtpUrl: string): string {
  const url = new URL(smtpUrl);
  const secrets = [url.username, url.password]
    .flatMap((value) => [value, safeDecode(value)])
    .filter((value) => value.length >= 3)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((redacted, secret) => redacted.split(secret).join('[redacted]'), text);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function smtpFailure(error: unknown, smtpUrl: string): MailDeliveryError {
  const failure: NodemailerFailure = typeof error === 'object' && error !== null ? error : {};
  const code = typeof failure.code === 'string' ? failure.code : 'EUNKNOWN';
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const detail = typeof failure.message === 'string' ? redact(failure.message, smtpUrl) : 'unknown error';
  const { host, protocol } = new URL(smtpUrl);
  // WARNING: no `cause`: nodemailer's error objects may carry parts of the SMTP conversation.
  return new MailDeliveryError('smtp', code, `Could not send mail via ${protocol}//${host} (${code}): ${detail}`, responseCode === undefined ? undefined : { responseCode });
}

/**
 * The mailer of `config.mail`: SMTP when `smtpUrl` is set, otherwise the embedded outbox. Logs one
 * info line per message with where it went (file path, or "sent via SMTP" and the Message-ID),
 * never the recipient's address, the body or a link. Failures are left to the caller to log.
 */
export function createMailer(config: Pick<Config, 'mail'>, logger: Logger): Mailer {
  const { smtpUrl, from, outboxDir } = config.mail;
  const sender = parseFrom(from);

  function compose(message: MailMessage): SendMailOptions {
    if (!singleAddress.test(message.to)) throw new TypeError('mail: `to` must be one e-mail address');
    const { subject, text, html } = renderMail(message.language, message.template);
    return {
      from: sender,
      to: message.to,
      subject,
      text,
      html,
      headers: {
        'Content-Language': message.language,
        // RFC 3834: an automatic message; auto-responders must not answer it.
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'All',
      },
      disableFileAccess: true,
      disableUrlAccess: true,
    };
  }

  if (smtpUrl !== null) {
    const transporter = nodemailer.createTransport(smtpTransportOptions(smtpUrl));
    return {
      transport: 'smtp',
      async send(message) {
        const mail = compose(message);
        let messageId: string;
        try {
          const info = await transporter.sendMail({ ...mail, signal: AbortSignal.timeout(deliveryDeadlineMs) });
          messageId = info.messageId;
        } catch (error) {
          throw smtpFailure(error, smtpUrl);
        }
        logger.info({ mail: { kind: message.template.kind, language: message.language, messageId } }, 'mail sent via SMTP');
      },
      close() {
        transporter.close();
        return Promise.resolve();
      },
    };
  }

  // RFC 5322 needs CRLF line ends; nodemailer's stream transport writes LF unless told otherwise.
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', disableFileAccess: true, disableUrlAccess: true });
  return {
    transport: 'outbox',
    async send(message) {
      const info = await composer.sendMail(compose(message));
      if (!Buffer.isBuffer(info.message)) throw new TypeError('mail: the stream transport did not return a buffer');
      let file: string;
      try {
        file = await writeFileDurably(outboxDir, outboxFileName(new Date()), info.message);
      } catch (error) {
        const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'EUNKNOWN';
        throw new MailDeliveryError('outbox', code, `Could not write mail to the outbox ${outboxDir} (${code})`, { cause: error });
      }
      logger.info({ mail: { kind: message.template.kind, language: message.language, file } }, `mail written to ${file}`);
    },
    close() {
      composer.close();
      return Promise.resolve();
    },
  };
}
