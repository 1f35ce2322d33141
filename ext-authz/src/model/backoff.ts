// Retrying the way OPA's plugins retry (bundle downloads, decision-log uploads): exponential backoff from
// 100 ms by a factor of 1.6 up to a maximum, with ±20 % jitter; and the timers those loops run on,
// injectable for tests, unref'd in production so a retry loop never keeps the process alive.

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const unrefTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const BACKOFF_BASE_MS = 100;
const BACKOFF_FACTOR = 1.6;
const BACKOFF_JITTER = 0.2;

/** The delay before retry number `retry` (0 for the first try: no delay), in ms. */
export function backoffDelayMs(retry: number, maxDelayMs: number, random: () => number): number {
  if (retry <= 0) return 0;
  let d = BACKOFF_BASE_MS;
  for (let r = retry; d < maxDelayMs && r > 0; r--) d *= BACKOFF_FACTOR;
  d = Math.min(d, maxDelayMs);
  return Math.max(0, d * (1 + BACKOFF_JITTER * (random() * 2 - 1)));
}
