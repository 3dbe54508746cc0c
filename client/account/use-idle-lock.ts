// Auto-lock: after the organisation's idle time without user activity, lock the vault.
import { useEffect, useRef } from 'react';

const ACTIVITY_EVENTS = [
  'pointerdown',
  'pointermove',
  'keydown',
  'wheel',
  'touchstart',
  'scroll',
] as const;
/** How often the idle deadline is checked; also the worst-case lateness of a lock. */
const CHECK_INTERVAL_MS = 5_000;

/**
 * Calls `onIdle` once no pointer, key, wheel, touch or scroll activity happened for `minutes`.
 * Also checks when the page becomes visible again (timers are throttled in background tabs).
 * Uses Date.now() and setInterval, so Playwright's clock can fast-forward it.
 */
export function useIdleLock(minutes: number, onIdle: () => void): void {
  const lastActivity = useRef(0);
  const callback = useRef(onIdle);

  useEffect(() => {
    callback.current = onIdle;
  }, [onIdle]);

  useEffect(() => {
    const limitMs = minutes * 60_000;
    lastActivity.current = Date.now();
    let fired = false;
    const check = (): void => {
      if (!fired && Date.now() - lastActivity.current >= limitMs) {
        fired = true;
        callback.current();
      }
    };
    const onActivity = (): void => {
      lastActivity.current = Date.now();
    };
    const onVisibility = (): void => {
      if (document.visibilityState === 'visible') check();
    };
    for (const name of ACTIVITY_EVENTS)
      window.addEventListener(name, onActivity, { passive: true, capture: true });
    document.addEventListener('visibilitychange', onVisibility);
    const timer = setInterval(check, Math.min(CHECK_INTERVAL_MS, limitMs));
    return () => {
      for (const name of ACTIVITY_EVENTS)
        window.removeEventListener(name, onActivity, { capture: true });
      document.removeEventListener('visibilitychange', onVisibility);
      clearInterval(timer);
    };
  }, [minutes]);
}
