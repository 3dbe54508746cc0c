// Reads a link's #fragment (tokens and pins travel there: browsers never send it to the server).
import { useSyncExternalStore } from 'react';

function subscribeToHash(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/**
 * The current #fragment, re-read when only it changes (opening a second link to the same page is
 * not a page load). Pages key their state on it, so a new link never runs with an old one's state.
 */
export function useLocationHash(): string {
  return useSyncExternalStore(subscribeToHash, () => window.location.hash);
}
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function fragmentParams(): URLSearchParams {
  return new URLSearchParams(window.location.hash.replace(/^#/, ''));
}

/** A 256-bit token from the fragment, or null when it is missing or malformed. */
export function fragmentToken(name: string): string | null {
  const value = fragmentParams().get(name);
  return value !== null && TOKEN.test(value) ? value : null;
}

/**
 * An invitation fragment `t=…&e=…&o=…&a=…`, with `&i=…&k=…` when the inviter held the escrow key:
 * the token, the inviter's pinned values and the invitation binding (its format is checked by the
 * worker: a damaged binding part stops sign-up rather than dropping the binding).
 */
export function invitationFragment(): {
  token: string;
  fragment: string;
  escrowFingerprint: string;
} | null {
  const params = fragmentParams();
  const token = fragmentToken('t');
  const e = params.get('e') ?? '';
  const o = params.get('o') ?? '';
  const a = params.get('a') ?? '';
  if (!token || !/^[0-9a-f]{64}$/.test(e) || !TOKEN.test(o) || !/^[0-9a-f]{64}$/.test(a))
    return null;
  const binding = [
    ...params.getAll('i').map((i) => ['i', i]),
    ...params.getAll('k').map((k) => ['k', k]),
  ];
  const bindingPart = binding.length > 0 ? `&${new URLSearchParams(binding).toString()}` : '';
  return { token, fragment: `e=${e}&o=${o}&a=${a}${bindingPart}`, escrowFingerprint: e };
}
