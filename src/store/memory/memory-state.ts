import type { RateLimiterMemory } from "rate-limiter-flexible";
import type { DeliveryRecord, OutboxEntry } from "../../delivery/delivery-store.js";
import type { ChallengeRecord } from "../../otp/challenge-store.js";
import type { TotpFactorRecord } from "../../totp/totp-store.js";
import { usageRetentionMs, utcDay } from "../usage-day.js";

/**
 * What every record kind of the memory store shares: the maps, the clock and
 * the sweep that drops what has expired. The record modules (challenges.ts,
 * limits.ts, deliveries.ts, totp-factors.ts, outbox.ts) read and change it
 * without awaiting in between, which is what makes each of their methods atomic.
 */
export interface MemoryState {
  /** The clock used to drop expired records. */
  readonly now: () => number;
  readonly challenges: Map<string, ChallengeRecord>;
  readonly factors: Map<string, TotpFactorRecord>;
  readonly deliveries: Map<string, DeliveryRecord>;
  /** Counters by name, per tenant and UTC day (keyed by {@link usageDayKey}). */
  readonly usage: Map<string, Map<string, number>>;
  /** `channel:providerMessageId` to the delivery's id, until the delivery expires. */
  readonly providerIndex: Map<string, { id: string; untilMs: number }>;
  /** A recipient index key to the latest challenge made for it, until its code expires. */
  readonly recipientIndex: Map<string, { id: string; untilMs: number }>;
  /** Oldest first; replaced, not changed in place, when trimmed or swept. */
  outbox: { entry: OutboxEntry; untilMs: number }[];
  /** One limiter per bucket and limit, shared by `consume` and the hot path's charges. */
  readonly limiters: Map<string, RateLimiterMemory>;
}

/** The key of a tenant's usage counters for one UTC day (`YYYY-MM-DD`). */
export function usageDayKey(tenantId: string, day: string): string {
  return `${tenantId}\0${day}`;
}

/** Empty state on the given clock (the service's clock by default). */
export function createMemoryState(now: () => number = Date.now): MemoryState {
  return {
    now,
    challenges: new Map(),
    factors: new Map(),
    deliveries: new Map(),
    usage: new Map(),
    providerIndex: new Map(),
    recipientIndex: new Map(),
    outbox: [],
    limiters: new Map(),
  };
}

/** Drops every record whose retention has passed, of every kind. */
export function sweep(state: MemoryState): void {
  const nowMs = state.now();
  const { challenges, factors, deliveries, providerIndex, usage } = state;
  for (const [id, record] of challenges) if (nowMs >= record.retainUntilMs) challenges.delete(id);
  for (const [id, record] of factors) if (nowMs >= record.retainUntilMs) factors.delete(id);
  for (const [id, record] of deliveries) if (nowMs >= record.retainUntilMs) deliveries.delete(id);
  for (const [key, entry] of providerIndex) if (nowMs >= entry.untilMs) providerIndex.delete(key);
  for (const [key, entry] of state.recipientIndex) {
    if (nowMs >= entry.untilMs) state.recipientIndex.delete(key);
  }
  state.outbox = state.outbox.filter((o) => nowMs < o.untilMs);
  // Usage days are kept 40 days, as Redis keeps them.
  const oldest = utcDay(nowMs - usageRetentionMs);
  for (const key of usage.keys()) if ((key.split("\0")[1] ?? "") < oldest) usage.delete(key);
}

/** How many records the state holds, of every kind (rate-limit buckets aside). */
export function recordCount(state: MemoryState): number {
  return (
    state.challenges.size +
    state.factors.size +
    state.deliveries.size +
    state.providerIndex.size +
    state.recipientIndex.size +
    state.outbox.length +
    state.usage.size
  );
}
