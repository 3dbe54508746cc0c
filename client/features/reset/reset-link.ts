// Reads a reset link's #fragment (`r` = reset id, `s` = link secret): browsers never send the fragment to a server.

export interface ResetFragment {
  readonly resetId: string;
  readonly linkSecret: string;
}

/**
 * The reset id and link secret of `#r=…&s=…`, or null when either is missing or malformed (the same
 * shapes as shared/flows/escrow-reset.ts `parseResetFragment`, which the worker applies again).
 */
export function resetFragment(hash: string): ResetFragment | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const resetId = params.get('r');
  const linkSecret = params.get('s');
  if (!resetId || !/^[A-Za-z0-9_-]{22}$/.test(resetId)) return null;
  if (!linkSecret || !/^[A-Za-z0-9_-]{43}$/.test(linkSecret)) return null;
  return { resetId, linkSecret };
}

/**
 * Takes the secret out of the address bar (history and screenshots): the page keeps it in memory
 * only. replaceState fires no hashchange, so the page keeps the values it read.
 */
export function clearFragment(): void {
  if (window.location.hash === '') return;
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}`);
}
