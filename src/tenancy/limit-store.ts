import type { RateLimit } from "../config/index.js";

// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/store-contract.ts holds both to it.

/**
 * One limit a call is charged against as part of the store step it makes
 * (Generate's create, Verify's check): one hit against `key` in the bucket
 * named `bucket`, in a fixed window of `limit.windowMs`.
 */
export interface LimitCharge {
  bucket: string;
  key: string;
  limit: RateLimit;
  /**
   * When the node holding this counter cannot be reached, count nothing and
   * let the call through (the per-IP buckets); otherwise the call fails.
   * Only matters where the counter can live apart from the challenge.
   */
  failOpen?: boolean;
  /** Keep the counter beside the challenge the call is about (see {@link ConsumeOptions}). */
  withChallenge?: boolean;
}

/** A tenant's usage counters to add one to, for the UTC day of `atMs` (see {@link Store.incrementUsage}). */
export interface UsageCharge {
  tenantId: string;
  counters: string[];
  atMs: number;
  /** Told when the counters could not be written; usage is best effort and never fails a call. */
  onError?: (err: unknown) => void;
}

/**
 * What a call is charged as part of its one store step. The limits are
 * counted in order, and the first one over its limit refuses the call:
 * limits after it are not charged and the step changes nothing else.
 */
export interface CallCharges {
  limits: LimitCharge[];
  usage?: UsageCharge;
  /** Told of each fail-open limit skipped because its node was unreachable. */
  onFailedOpen?: (bucket: string, err: unknown) => void;
}

/**
 * `given` with its limits replaced by `limits`, its usage and fail-open
 * callback kept. Built field by field: on a per-call path a spread's copy
 * outlived the young generation (docs/hot-path.md).
 *
 * @example
 * const charges = chargesWithLimits(call.charges, [...(call.charges?.limits ?? []), perChallenge]);
 */
export function chargesWithLimits(
  given: CallCharges | undefined,
  limits: LimitCharge[],
): CallCharges {
  const charges: CallCharges = { limits };
  if (given?.usage !== undefined) charges.usage = given.usage;
  if (given?.onFailedOpen !== undefined) charges.onFailedOpen = given.onFailedOpen;
  return charges;
}

/** A call refused by one of its {@link CallCharges}. */
export interface LimitRefusal {
  bucket: string;
  /** How long until a hit would be allowed again. */
  retryAfterMs: number;
}

/** Options for {@link Store.consume}. */
export interface ConsumeOptions {
  /**
   * Keeps the counter beside this challenge's record (the same shard, the
   * same Cluster slot), so that it is reachable exactly when the challenge is:
   * a fault elsewhere never blocks the challenge's own limit, and the limit
   * is never skipped while the challenge can be used.
   */
  withChallenge?: string;
}

/** The outcome of {@link Store.consume}. */
export interface RateLimitResult {
  allowed: boolean;
  /** Hits left in the current window. */
  remaining: number;
  /** When refused, how long until a hit would be allowed again. */
  retryAfterMs: number;
}

// A limit is written in the configuration (`10/1m`), so config/ owns its type.
export type { RateLimit };

/** Rate limits and quotas kept in the store, each hit counted as one atomic step. */
export interface LimitStore {
  /**
   * Counts one hit against `key` in the bucket named `bucket` (for example
   * "generate_ip") and tells whether it is within `limit`, as one atomic step.
   */
  consume(
    bucket: string,
    key: string,
    limit: RateLimit,
    options?: ConsumeOptions,
  ): Promise<RateLimitResult>;
}

/** A tenant's daily usage counters. */
export interface UsageStore {
  /** Adds one to a tenant's usage counter for the UTC day containing `atMs`; kept 40 days. */
  incrementUsage(tenantId: string, counter: string, atMs: number): Promise<void>;
  /** A tenant's usage counters for the given UTC days (YYYY-MM-DD). */
  getUsage(tenantId: string, days: string[]): Promise<Record<string, Record<string, number>>>;
}
