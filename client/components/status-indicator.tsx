// A status line with a coloured marker whose meaning is also in the text (never colour alone).
import type { ReactNode } from 'react';

export type StatusTone = 'pending' | 'ok' | 'error';

export function StatusIndicator({ tone, children }: { tone: StatusTone; children: ReactNode }) {
  return (
    <p className={`status status-${tone}`}>
      <span className="status-marker" aria-hidden="true" />
      <span className="status-text">{children}</span>
    </p>
  );
}
