// What the server tells people by e-mail, in one place (the mailer renders and delivers it).
import type { Logger } from 'pino';
import type { Language, Role, SecondFactorKind } from '../../shared/api';
import type { AdminSecurityEvent, EscrowUseKind } from '../mail/templates';

export type Notification =
  | { readonly kind: 'invitation'; readonly organisationName: string; readonly role: Role; readonly link: string; readonly expiresAt: string }
  | { readonly kind: 'invitation_existing_account'; readonly organisationName: string; readonly link: string; readonly at: string }
  | { readonly kind: 'account_locked'; readonly organisationName: string; readonly failures: number; readonly lockedUntil: string }
  | { readonly kind: 'password_changed'; readonly organisationName: string; readonly at: string }
  | { readonly kind: 'login_second_step_abandoned'; readonly organisationName: string; readonly at: string }
  | { readonly kind: 'trusted_devices_revoked'; readonly organisationName: string; readonly at: string }
  | { readonly kind: 'new_document'; readonly organisationName: string; readonly link: string }
  | { readonly kind: 'new_message'; readonly organisationName: string; readonly link: string }
  | { readonly kind: 'request_reminder'; readonly organisationName: string; readonly link: string; readonly dueDate: string }
  | { readonly kind: 'second_factor_code'; readonly organisationName: string; readonly code: string; readonly purpose: 'login' | 'setup'; readonly expiresAt: string }
  | { readonly kind: 'second_factor_removed'; readonly organisationName: string; readonly factor: SecondFactorKind; readonly at: string }
  | { readonly kind: 'password_reset'; readonly organisationName: string; readonly link: string; readonly expiresAt: string }
  | { readonly kind: 'escrow_used'; readonly organisationName: string; readonly use: EscrowUseKind; readonly actorRole: Role; readonly at: string; readonly link: string }
  | { readonly kind: 'reset_approval_requested'; readonly organisationName: string; readonly link: string; readonly at: string }
  | {
      readonly kind: 'admin_security_event';
      readonly organisationName: string;
      readonly event: AdminSecurityEvent;
      readonly actorEmail: string;
      readonly targetEmail: string | null;
      readonly ip: string | null;
      readonly at: string;
    };

export interface Notifier {
  /** Delivers one message; rejects when it could not be delivered or written to the outbox. */
  send(to: string, language: Language, notification: Notification): Promise<void>;
}

/** A notifier for tests that only want to see what would have been sent. */
export function createRecordingNotifier(): Notifier & { readonly sent: { to: string; language: Language; notification: Notification }[] } {
  const sent: { to: string; language: Language; notification: Notification }[] = [];
  return {
    sent,
    send(to, language, notification) {
      sent.push({ to, language, notification });
      return Promise.resolve();
    },
  };
}

/** Sends without failing the caller: for notices after the fact (a lock, a changed password). */
export async function notifyQuietly(notifier: Notifier, logger: Logger, to: string, language: Language, notification: Notification): Promise<boolean> {
  try {
    await notifier.send(to, language, notification);
    return true;
  } catch (error) {
    logger.error({ err: error, kind: notification.kind }, 'could not send notification');
    return false;
  }
}
