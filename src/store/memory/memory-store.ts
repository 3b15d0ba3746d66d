import type { Store } from "../store.js";
import { createMemoryChallenges } from "./challenges.js";
import { createMemoryDeliveries } from "./deliveries.js";
import { createMemoryLimits } from "./limits.js";
import { createMemoryState, recordCount, sweep } from "./memory-state.js";
import { createMemoryOutbox } from "./outbox.js";
import { createMemoryTotpFactors } from "./totp-factors.js";

/** Options for {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** The clock used to drop expired records; the service's clock by default. */
  now?: () => number;
  /** How often expired records are swept away, in milliseconds. */
  sweepIntervalMs?: number;
  /** The most outbox messages kept; older ones are dropped first. */
  maxOutboxEntries?: number;
}

/** The memory store, which can also tell how much it holds. */
export interface MemoryStore extends Store {
  /**
   * How many records it holds, of every kind (challenges, factors,
   * deliveries, provider ids, outbox messages, usage days): for tests and
   * diagnostics. Expired ones are swept every `sweepIntervalMs`.
   */
  recordCount(): number;
}

/**
 * The embedded default store: all state in this process, with the same
 * behaviour as the Redis store. One module per record kind (challenges.ts,
 * limits.ts, deliveries.ts, totp-factors.ts, outbox.ts) over one shared
 * state (memory-state.ts). Apart from the rate limiters a call charges first
 * (rate-limiter-flexible's API is asynchronous), every method reads and
 * changes its records without awaiting in between, which is what makes each
 * one atomic here.
 *
 * @example
 * const store = createMemoryStore({ sweepIntervalMs: 10_000 });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const state = createMemoryState(options.now);
  const timer = setInterval(() => sweep(state), options.sweepIntervalMs ?? 30_000);
  timer.unref();
  return {
    description: "memory (in-process, not shared, lost on restart)",
    ...createMemoryChallenges(state),
    ...createMemoryLimits(state),
    ...createMemoryDeliveries(state),
    ...createMemoryTotpFactors(state),
    ...createMemoryOutbox(state, options.maxOutboxEntries ?? 1000),
    recordCount: () => recordCount(state),
    async ping() {},
    async close() {
      clearInterval(timer);
    },
  };
}
