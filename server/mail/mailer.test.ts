// createMailer through real nodemailer transports: the .eml outbox on disk, and SMTP to a real in-process server.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Language } from '../../shared/api';
import { loadConfig } from '../env';
import { parseMail, startTestSmtpServer, type TestSmtpServer } from '../test/smtp-server';
import { createMailer, MailDeliveryError, smtpTransportOptions, type Mailer, type MailMessage } from './mailer';
import { renderMail } from './templates';
import { invitationLink, samples } from './sample-templates';

let dataDir: string;
let lines: string[];
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kluis-mail-'));
  lines = [];
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

function mailerFor(env: Record<string, string> = {}): Mailer {
  const config = loadConfig({ MAIL_FROM: 'Kluis Jansen <kluis@jansen.example>', ...env, KLUIS_DATA_DIR: dataDir });
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  const mailer = createMailer(config, logger);
  cleanups.push(() => mailer.close());
  return mailer;
}

async function smtpServer(options?: Parameters<typeof startTestSmtpServer>[0]): Promise<TestSmtpServer> {
  const server = await startTestSmtpServer(options);
  cleanups.push(() => server.close());
  return server;
}

function logs(): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

function invitation(language: Language, to = 'lotte@example.nl'): MailMessage {
  return { to, language, template: samples.invitation };
}

const token = invitationLink.slice(invitationLink.lastIndexOf('/') + 1, invitationLink.indexOf('#'));
const fragment = invitationLink.slice(invitationLink.indexOf('#') + 1);

async function outboxFiles(): Promise<string[]> {
  return (await readdir(join(dataDir, 'outbox'))).sort();
}

describe('the outbox (no SMTP_URL)', () => {
  it.each(['nl', 'en'] as const)('writes one parseable RFC 5322 .eml in %s with the exact link', async (language) => {
    const mailer = mailerFor();
    expect(mailer.transport).toBe('outbox');
    await mailer.send(invitation(language));

    const files = await outboxFiles();
    expect(files).toHaveLength(1);
    const [file] = files as [string];
    expect(file).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{16}\.eml$/);
    const raw = await readFile(join(dataDir, 'outbox', file), 'utf8');
    expect(raw.replace(/\r\n/g, '')).not.toContain('\n');

    const mail = parseMail(raw);
    const expected = renderMail(language, samples.invitation);
    expect(mail.to).toBe('lotte@example.nl');
    expect(mail.from).toBe('Kluis Jansen <kluis@jansen.example>');
    expect(mail.subject).toBe(expected.subject);
    expect(mail.header('content-language')).toBe(language);
    expect(mail.header('auto-submitted')).toBe('auto-generated');
    expect(mail.header('message-id')).toMatch(/^<[^<>@\s]+@jansen\.example>$/);
    expect(Date.parse(mail.header('date') ?? '')).not.toBeNaN();
    expect(mail.text).toBe(expected.text);
    expect(mail.text?.split('\n')).toContain(invitationLink);
    expect(mail.html).toContain(`href="${invitationLink.replace(/&/g, '&amp;')}"`);
  });

  it('keeps the file private and the outbox directory closed to others', async () => {
    await mailerFor().send(invitation('en'));
    const [file] = (await outboxFiles()) as [string];
    expect((await stat(join(dataDir, 'outbox', file))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'outbox'))).mode & 0o777).toBe(0o700);
  });

  it('logs one info line with the file, and never the recipient, the body or the link', async () => {
    await mailerFor().send(invitation('nl'));
    const [file] = (await outboxFiles()) as [string];
    const entries = logs();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 30, msg: `mail written to ${join(dataDir, 'outbox', file)}`, mail: { kind: 'invitation', language: 'nl', file: join(dataDir, 'outbox', file) } });
    expect(lines.join('\n')).not.toMatch(new RegExp(`${token}|${fragment.slice(0, 20)}|lotte@example|Jansen & de Vries`));
  });

  it('gives concurrent messages their own files, each complete', async () => {
    const mailer = mailerFor();
    const recipients = Array.from({ length: 20 }, (_, i) => `client${i}@example.nl`);
    await Promise.all(recipients.map((to, i) => mailer.send(invitation(i % 2 ? 'en' : 'nl', to))));
    const files = await outboxFiles();
    expect(files).toHaveLength(20);
    const received = await Promise.all(files.map(async (file) => parseMail(await readFile(join(dataDir, 'outbox', file), 'utf8'))));
    expect(received.map((mail) => mail.to).sort()).toEqual([...recipients].sort());
    for (const mail of received) expect(mail.text).toContain(invitationLink);
  });

  it('renders every template into the outbox', async () => {
    const mailer = mailerFor();
    for (const template of Object.values(samples)) await mailer.send({ to: 'a@example.nl', language: 'en', template });
    const files = await outboxFiles();
    const subjects = await Promise.all(files.map(async (file) => parseMail(await readFile(join(dataDir, 'outbox', file), 'utf8')).subject));
    expect(subjects.sort()).toEqual(Object.values(samples).map((template) => renderMail('en', template).subject).sort());
  });

  it('rejects with MailDeliveryError when the outbox cannot be created, writing nothing', async () => {
    await writeFile(join(dataDir, 'outbox'), 'not a directory');
    const error: unknown = await mailerFor()
      .send(invitation('en'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect(error).toMatchObject({ transport: 'outbox', code: 'EEXIST', message: `Could not write mail to the outbox ${join(dataDir, 'outbox')} (EEXIST)` });
    expect(await readdir(dataDir)).toEqual(['outbox']);
    expect(await readFile(join(dataDir, 'outbox'), 'utf8')).toBe('not a directory');
    expect(lines).toEqual([]);
  });

  it.each([
    ['two addresses', 'a@example.nl, b@example.nl'],
    ['a header', 'a@example.nl\r\nBcc: b@example.nl'],
    ['a display name', 'Lotte <a@example.nl>'],
    ['no address', ''],
  ])('refuses a `to` with %s (TypeError), writing nothing', async (_case, to) => {
    await expect(mailerFor().send(invitation('en', to))).rejects.toThrow(TypeError);
    await expect(readdir(join(dataDir, 'outbox'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a template it cannot render (TypeError), writing nothing', async () => {
    await expect(mailerFor().send({ to: 'a@example.nl', language: 'nl', template: { ...samples.invitation, expiresAt: 'soon' } })).rejects.toThrow(TypeError);
    await expect(readdir(join(dataDir, 'outbox'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('SMTP (SMTP_URL set)', () => {
  it.each(['en', 'nl'] as const)('delivers in %s to a real SMTP server', async (language) => {
    const server = await smtpServer();
    const mailer = mailerFor({ SMTP_URL: server.url });
    expect(mailer.transport).toBe('smtp');
    await mailer.send(invitation(language));

    const mail = await server.waitForMessage((received) => received.to === 'lotte@example.nl');
    const expected = renderMail(language, samples.invitation);
    expect(mail.envelope).toEqual({ from: 'kluis@jansen.example', to: ['lotte@example.nl'] });
    expect(mail.subject).toBe(expected.subject);
    expect(mail.from).toBe('Kluis Jansen <kluis@jansen.example>');
    expect(mail.header('content-language')).toBe(language);
    expect(mail.text).toBe(expected.text);
    expect(mail.text?.split('\n')).toContain(invitationLink);
    expect(mail.html).toContain(`href="${invitationLink.replace(/&/g, '&amp;')}"`);
    expect(server.messages()).toHaveLength(1);
    await expect(readdir(join(dataDir, 'outbox'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('logs "sent via SMTP" with the Message-ID, never the recipient, the body or the link', async () => {
    const server = await smtpServer();
    await mailerFor({ SMTP_URL: server.url }).send(invitation('en'));
    const mail = await server.waitForMessage();
    const entries = logs();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 30, msg: 'mail sent via SMTP', mail: { kind: 'invitation', language: 'en', messageId: mail.header('message-id') } });
    expect(lines.join('\n')).not.toMatch(new RegExp(`${token}|${fragment.slice(0, 20)}|lotte@example|Jansen & de Vries`));
  });

  it('delivers a Unicode organisation name intact in subject and body', async () => {
    const server = await smtpServer();
    const template = { ...samples.new_message, organisationName: 'Bakkerij Ünal & Zoë — 会計' };
    await mailerFor({ SMTP_URL: server.url }).send({ to: 'a@example.nl', language: 'nl', template });
    const mail = await server.waitForMessage();
    expect(mail.subject).toBe('Er staat een nieuw bericht voor u klaar in Kluis (Bakkerij Ünal & Zoë — 会計)');
    expect(mail.text).toBe(renderMail('nl', template).text);
  });

  it('authenticates with the credentials in SMTP_URL', async () => {
    const server = await smtpServer({ credentials: { user: 'kluis', pass: 'p@ss:w0rd/%' } });
    await mailerFor({ SMTP_URL: `smtp://kluis:${encodeURIComponent('p@ss:w0rd/%')}@127.0.0.1:${server.port}` }).send(invitation('nl'));
    expect((await server.waitForMessage()).user).toBe('kluis');
  });

  it('rejects wrong credentials with MailDeliveryError (EAUTH, 535) that does not contain them', async () => {
    const server = await smtpServer({ credentials: { user: 'kluis', pass: 'right-password' } });
    const error: unknown = await mailerFor({ SMTP_URL: `smtp://kluis-sender:Wr0ng-s3cret@127.0.0.1:${server.port}` })
      .send(invitation('en'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect(error).toMatchObject({ transport: 'smtp', code: 'EAUTH', responseCode: 535 });
    const everything = `${String(error)} ${(error as Error).stack} ${JSON.stringify(error)} ${String((error as Error).cause)}`;
    expect(everything).not.toMatch(/Wr0ng-s3cret|kluis-sender/);
    expect((error as Error).message).toBe(`Could not send mail via smtp://127.0.0.1:${server.port} (EAUTH): Invalid login: 535 Authentication failed for [redacted]`);
    expect(server.messages()).toEqual([]);
  });

  it('rejects with MailDeliveryError when nothing listens, without the credentials', async () => {
    const server = await startTestSmtpServer();
    await server.close();
    const error: unknown = await mailerFor({ SMTP_URL: `smtp://user:Hunter2-secret@127.0.0.1:${server.port}` })
      .send(invitation('en'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect((error as MailDeliveryError).code).toMatch(/^E(CONNECTION|SOCKET)$/);
    expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain('Hunter2-secret');
    expect(lines).toEqual([]);
  });

  it('honours ?requireTLS=true: a relay without STARTTLS gets nothing', async () => {
    const server = await smtpServer();
    const error: unknown = await mailerFor({ SMTP_URL: `${server.url}?requireTLS=true` })
      .send(invitation('en'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailDeliveryError);
    expect((error as MailDeliveryError).code).toBe('ETLS');
    expect(server.messages()).toEqual([]);
  });

  it('sends several messages over its pool', async () => {
    const server = await smtpServer();
    const mailer = mailerFor({ SMTP_URL: server.url });
    const recipients = Array.from({ length: 8 }, (_, i) => `client${i}@example.nl`);
    await Promise.all(recipients.map((to) => mailer.send(invitation('nl', to))));
    expect(server.messages().flatMap((mail) => mail.envelope.to).sort()).toEqual([...recipients].sort());
  });
});

describe('smtpTransportOptions', () => {
  /** The options nodemailer's pool ends up with (URL parameters merged over ours). */
  function resolved(url: string): Record<string, unknown> {
    const transporter = nodemailer.createTransport(smtpTransportOptions(url));
    transporter.close();
    return (transporter.transporter as unknown as { options: Record<string, unknown> }).options;
  }

  it('requires STARTTLS for smtp:// to any host but loopback', () => {
    expect(resolved('smtp://mail.example.com:587')).toMatchObject({ host: 'mail.example.com', port: 587, secure: false, requireTLS: true });
    expect(resolved('smtp://127.0.0.1:2525')).toMatchObject({ requireTLS: false });
    expect(resolved('smtp://localhost:25')).toMatchObject({ requireTLS: false });
    expect(resolved('smtp://[::1]:25')).toMatchObject({ requireTLS: false });
  });

  it('uses implicit TLS for smtps://, and lets ?requireTLS=false opt out on a private network', () => {
    expect(resolved('smtps://mail.example.com')).toMatchObject({ secure: true });
    expect(resolved('smtp://relay.internal:25?requireTLS=false')).toMatchObject({ requireTLS: false });
  });

  it('is a pool with timeouts, no file or URL access and no logging', () => {
    expect(resolved('smtps://u:p@mail.example.com')).toMatchObject({
      pool: true,
      maxConnections: 3,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
      auth: { user: 'u', pass: 'p' },
    });
  });
});
