// Message boxes: info, success, warning, error, and the prominent security warning; tone also in the text.
import type { ReactNode } from 'react';

export type AlertTone = 'info' | 'success' | 'warning' | 'error' | 'security';

export interface AlertProps {
  readonly tone: AlertTone;
  readonly title?: ReactNode;
  readonly children?: ReactNode;
  /** Errors and security warnings interrupt (role="alert"); the rest are polite status messages. */
  readonly live?: boolean;
  readonly id?: string;
}

export function Alert({ tone, title, children, live = true, id }: AlertProps) {
  const assertive = tone === 'error' || tone === 'security';
  const role = live ? (assertive ? 'alert' : 'status') : undefined;
  return (
    <div className={`alert alert-${tone}`} role={role} id={id}>
      {title && <p className="alert-title">{title}</p>}
      {children && <div className="alert-body">{children}</div>}
    </div>
  );
}
