import { RateLimiterMemory } from "rate-limiter-flexible";
import type {
  CallCharges,
  LimitRefusal,
  LimitStore,
  RateLimit,
  RateLimitResult,
  UsageStore,
} from "../../tenancy/limit-store.js";
import { consumeWith } from "../consume-with.js";
import { utcDay } from "../usage-day.js";
import { type MemoryState, usageDayKey } from "./memory-state.js";

/** The limiter of a bucket and limit, made on first use and kept in the state. */
function limiterFor(state: MemoryState, bucket: string, limit: RateLimit): RateLimiterMemory {
  const name = `${bucket}:${limit.points}/${limit.windowMs}`;
  let limiter = state.limiters.get(name);
  if (limiter === undefined) {
    limiter = new RateLimiterMemory({
      keyPrefix: bucket,
      points: limit.points,
      duration: limit.windowMs / 1000,
    });
    state.limiters.set(name, limiter);
  }
  return limiter;
}

/** Counts one call of `counter` on the tenant's UTC day of `atMs`. */
function addUsage(state: MemoryState, tenantId: string, counter: string, atMs: number): void {
  const key = usageDayKey(tenantId, utcDay(atMs));
  const day = state.usage.get(key) ?? new Map<string, number>();
  day.set(counter, (day.get(counter) ?? 0) + 1);
  state.usage.set(key, day);
}

/**
 * Charges a Generate's or Verify's usage and limits, as the Redis store's
 * challenge script does. Usage first (a refused call is still a call), then
 * each limit in order; the first one over its limit refuses, and the ones
 * after it are not charged.
 */
export async function chargeCall(
  state: MemoryState,
  charges: CallCharges | undefined,
  near?: string[],
): Promise<LimitRefusal | undefined> {
  if (charges === undefined) return undefined;
  const { usage: counted } = charges;
  if (counted !== undefined) {
    for (const counter of counted.counters)
      addUsage(state, counted.tenantId, counter, counted.atMs);
  }
  for (const limit of charges.limits) {
    const result = await consumeWith(limiterFor(state, limit.bucket, limit.limit), limit.key);
    if (!result.allowed) return { bucket: limit.bucket, retryAfterMs: result.retryAfterMs };
    // This call brought the limit to 80 % of its points (once per window): a quota warning.
    const consumed = limit.limit.points - result.remaining;
    if (consumed === Math.ceil(limit.limit.points * 0.8)) near?.push(limit.bucket);
  }
  return undefined;
}

/** Rate limits outside the hot path (rate-limiter-flexible) and the usage counters. */
export function createMemoryLimits(state: MemoryState): LimitStore & UsageStore {
  return {
    async consume(bucket: string, key: string, limit: RateLimit): Promise<RateLimitResult> {
      return consumeWith(limiterFor(state, bucket, limit), key);
    },

    async incrementUsage(tenantId, counter, atMs) {
      addUsage(state, tenantId, counter, atMs);
    },

    async getUsage(tenantId, days) {
      return Object.fromEntries(
        days.map((d) => [d, Object.fromEntries(state.usage.get(usageDayKey(tenantId, d)) ?? [])]),
      );
    },
  };
}
