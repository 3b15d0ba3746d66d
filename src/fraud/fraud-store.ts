// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/fraud-store-contract.ts holds
// both to it.
import type { FraudCounts } from "./thresholds.js";

/** The width of one bucket of fraud counts: one minute. */
export const fraudBucketMs = 60_000;

/** The longest window a tenant may judge over (FRAUD_WINDOW_SECONDS allows up to this). */
export const maxFraudWindowMs = 6 * 3_600_000;

/** How long the store keeps a bucket after its start: the longest window and two buckets more. */
export const fraudRetentionMs = maxFraudWindowMs + 2 * fraudBucketMs;

/** The most active blocks {@link FraudStore.activeBlocks} answers. */
export const maxActiveBlocks = 10_000;

/** Counts to add: tenant -> bucket start -> destination prefix -> counts. */
export type FraudBatch = ReadonlyMap<
  string,
  ReadonlyMap<number, ReadonlyMap<string, Readonly<FraudCounts>>>
>;

/** One tenant's destination prefix, summed over the last `windowMs`. */
export interface FraudQuery {
  tenantId: string;
  prefix: string;
  windowMs: number;
}

/** A tenant's destination prefix that is blocked until `untilMs`. */
export interface FraudBlock {
  tenantId: string;
  prefix: string;
  untilMs: number;
}

/**
 * Sends and verified codes per tenant and destination prefix in minute
 * buckets, and the blocks the guard made, shared by every replica. Each
 * process adds what it counted as one batch per flush; nothing here is
 * called on the path of a call.
 */
export interface FraudStore {
  /**
   * Adds every count of `batch` to its bucket, one atomic write per tenant
   * (one batch per store node); each bucket expires {@link fraudRetentionMs}
   * after its start.
   */
  add(batch: FraudBatch): Promise<void>;
  /**
   * The sums of each query's buckets that overlap `[nowMs - windowMs,
   * nowMs]` (see {@link windowBucketStarts}), in the order of `queries`;
   * zero counts for what was never added.
   */
  sums(queries: readonly FraudQuery[], nowMs: number): Promise<FraudCounts[]>;
  /**
   * Records a block; true when the prefix had no active block before (the
   * caller that made it reports it), false when one was active already (then
   * the later end of the two stands).
   */
  block(block: FraudBlock, nowMs: number): Promise<boolean>;
  /** The blocks still active at `nowMs`, at most {@link maxActiveBlocks} (those that end first are dropped). */
  activeBlocks(nowMs: number): Promise<FraudBlock[]>;
}

/** The start of the bucket holding `atMs`. */
export function fraudBucketStart(atMs: number): number {
  return atMs - (atMs % fraudBucketMs);
}

/**
 * The starts of the buckets that overlap `[nowMs - windowMs, nowMs]`,
 * oldest first: the window read is up to one bucket longer than asked,
 * never shorter.
 */
export function windowBucketStarts(nowMs: number, windowMs: number): number[] {
  const starts: number[] = [];
  const last = fraudBucketStart(nowMs);
  for (let t = fraudBucketStart(nowMs - Math.min(windowMs, maxFraudWindowMs)); t <= last; ) {
    starts.push(t);
    t += fraudBucketMs;
  }
  return starts;
}
