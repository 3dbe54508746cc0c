// Test fixtures: one realistic example of every mail template (imported by the mail tests).
import type { MailTemplate, MailTemplateKind } from './templates';

/** Shaped like a real invitation link: a 256-bit token in the path, key pins in the fragment. */
export const invitationLink =
  'https://kluis.example.com/invite/Qm9vLWJhci1iYXotcXV4LXF1dXgtY29ycmdlLWdyYXVsdA#e=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf&o=Zz9-_yXwVuTsRqPoNmLkJiHgFeDcBa0123456789abcd&a=0123456789-_abcdefghijklmnopqrstuvwxyzABCDEF';

/** One example of every kind; the mapped type makes a new kind without an example a type error. */
export const samples: { readonly [K in MailTemplateKind]: MailTemplate<K> } = {
  invitation: { kind: 'invitation', organisationName: 'Jansen & de Vries Accountants', role: 'client', link: invitationLink, expiresAt: '2025-01-22T09:30:00.000Z' },
  invitation_existing_account: { kind: 'invitation_existing_account', organisationName: 'Jansen & de Vries Accountants', link: 'https://kluis.example.com/login', at: '2025-01-15T09:30:00Z' },
  account_locked: { kind: 'account_locked', organisationName: 'Jansen & de Vries Accountants', failures: 5, lockedUntil: '2025-07-15T13:05:00Z' },
  login_second_step_abandoned: { kind: 'login_second_step_abandoned', organisationName: 'Jansen & de Vries Accountants', at: '2025-03-30T00:59:59Z' },
  password_changed: { kind: 'password_changed', organisationName: 'Jansen & de Vries Accountants', at: '2025-10-26T01:00:00Z' },
  trusted_devices_revoked: { kind: 'trusted_devices_revoked', organisationName: 'Jansen & de Vries Accountants', at: '2025-06-02T08:15:00Z' },
  new_document: { kind: 'new_document', organisationName: 'Jansen & de Vries Accountants', link: 'https://kluis.example.com/documents' },
  new_message: { kind: 'new_message', organisationName: 'Jansen & de Vries Accountants', link: 'https://kluis.example.com/messages' },
  request_reminder: { kind: 'request_reminder', organisationName: 'Jansen & de Vries Accountants', link: 'https://kluis.example.com/spaces/AAAAAAAAAAAAAAAAAAAAAA', dueDate: '2025-01-17' },
  second_factor_code: { kind: 'second_factor_code', organisationName: 'Jansen & de Vries Accountants', code: '042917', purpose: 'login', expiresAt: '2025-03-04T08:40:00Z' },
  second_factor_removed: { kind: 'second_factor_removed', organisationName: 'Jansen & de Vries Accountants', factor: 'totp', at: '2025-03-04T08:30:00Z' },
  password_reset: {
    kind: 'password_reset',
    organisationName: 'Jansen & de Vries Accountants',
    link: 'https://kluis.example.com/reset#r=AAAAAAAAAAAAAAAAAAAAAA&s=Qm9vLWJhci1iYXotcXV4LXF1dXgtY29ycmdlLWdyYXVsdA',
    expiresAt: '2025-03-07T08:30:00Z',
  },
  escrow_used: { kind: 'escrow_used', organisationName: 'Jansen & de Vries Accountants', use: 'reset', actorRole: 'team', at: '2025-03-04T08:30:00Z', link: 'https://kluis.example.com/account' },
  reset_approval_requested: { kind: 'reset_approval_requested', organisationName: 'Jansen & de Vries Accountants', link: 'https://kluis.example.com/people', at: '2025-03-04T08:30:00Z' },
  admin_security_event: {
    kind: 'admin_security_event',
    organisationName: 'Jansen & de Vries Accountants',
    event: 'reset_started',
    actorEmail: 'p.jansen@example.com',
    targetEmail: 'client@example.org',
    ip: '192.0.2.10',
    at: '2025-03-04T08:30:00Z',
  },
};
