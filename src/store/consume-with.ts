import { RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimitResult } from "./store.js";

/**
 * Runs one `consume` on a rate-limiter-flexible limiter and turns its
 * resolve-or-reject answer into a {@link RateLimitResult}. A refusal rejects
 * with a `RateLimiterRes`; any other rejection is a store failure and is thrown.
 */
export async function consumeWith(
  limiter: { consume(key: string, points?: number): Promise<RateLimiterRes> },
  key: string,
): Promise<RateLimitResult> {
  try {
    const res = await limiter.consume(key, 1);
    return { allowed: true, remaining: res.remainingPoints, retryAfterMs: 0 };
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      return { allowed: false, remaining: 0, retryAfterMs: Math.max(1, err.msBeforeNext) };
    }
    throw err;
  }
}
