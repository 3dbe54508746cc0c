// The production Notifier: account notices rendered and delivered by the mailer (SMTP or the .eml outbox).
import type { Logger } from 'pino';
import type { Config } from '../env';
import type { Notifier } from '../services/notifications';
import { createMailer } from './mailer';

export function createMailNotifier(config: Pick<Config, 'mail'>, logger: Logger): Notifier & { close(): Promise<void> } {
  const mailer = createMailer(config, logger);
  return {
    send: (to, language, notification) => mailer.send({ to, language, template: notification }),
    close: () => mailer.close(),
  };
}
