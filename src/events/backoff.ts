import { randomInt } from "node:crypto";

/** How retries are spaced: exponential from `baseMs`, capped at `maxMs`, with jitter. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Retries stop once this long has passed since the first attempt. */
  giveUpAfterMs: number;
}

/**
 * The delay before attempt `attempt + 1`, after `attempt` failed ones:
 * `baseMs * 4^(attempt-1)` capped at `maxMs`, then "equal jitter" (a random
 * point in the upper half), so retries of many messages spread out but never
 * come sooner than half the schedule. With the defaults (5 s base, 4 h cap)
 * the schedule is about 5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 4 h, 4 h, ...
 * and a message is retried for `giveUpAfterMs` (26 h by default).
 *
 * `random(n)` returns an integer in [0, n); crypto by default.
 *
 * @example
 * retryDelayMs({ baseMs: 5000, maxMs: 14_400_000, giveUpAfterMs: 93_600_000 }, 1); // 2500..5000
 */
export function retryDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: (n: number) => number = randomInt,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const full = Math.min(policy.maxMs, policy.baseMs * 4 ** exponent);
  const half = Math.floor(full / 2);
  return full - half + (half > 0 ? random(half + 1) : 0);
}

/** True when a message first tried at `sinceMs` should not be tried again at `nowMs`. */
export function shouldGiveUp(policy: BackoffPolicy, sinceMs: number, nowMs: number): boolean {
  return nowMs - sinceMs >= policy.giveUpAfterMs;
}
