// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/activity-store-contract.ts
// holds both to it.

/** The width of one bucket of counters. */
export type Resolution = "minute" | "hour";

/** One minute, in milliseconds. */
export const minuteMs = 60_000;
/** One hour, in milliseconds. */
export const hourMs = 3_600_000;

/**
 * How long the store keeps each bucket after its start: minute buckets for
 * a day, hour buckets for 30 days (plus one bucket, so a full window can
 * always be read).
 */
export const retentionMs: Readonly<Record<Resolution, number>> = {
  minute: 24 * hourMs + minuteMs,
  hour: 30 * 24 * hourMs + hourMs,
};

/** The width of a bucket of `resolution`, in milliseconds. */
export function bucketWidthMs(resolution: Resolution): number {
  return resolution === "minute" ? minuteMs : hourMs;
}

/** The start of the bucket of `resolution` that holds `atMs`. */
export function bucketStart(resolution: Resolution, atMs: number): number {
  const width = bucketWidthMs(resolution);
  return atMs - (atMs % width);
}

/**
 * Counts to add: minute bucket start -> counter name -> amount (negative
 * amounts subtract). Each count also goes to the hour bucket holding the minute.
 */
export type CounterBatch = ReadonlyMap<number, ReadonlyMap<string, number>>;

/** The counters of one bucket. */
export interface CounterBucket {
  /** The start of the bucket, in milliseconds since the epoch. */
  startMs: number;
  /** Counter name -> value; counters never added are absent. */
  counts: ReadonlyMap<string, number>;
}

/**
 * Time-bucketed activity counters, shared by every replica: each process
 * adds what it counted since its last flush as one batch, and readers sum
 * buckets. Never scanned from challenge records.
 */
export interface ActivityStore {
  /**
   * Adds every count of `batch` to its minute bucket and to the hour bucket
   * holding that minute, in one write per store node; each bucket expires
   * {@link retentionMs} after its start.
   */
  add(batch: CounterBatch): Promise<void>;
  /**
   * The buckets of `resolution` whose start is in `[fromMs, toMs)`, oldest
   * first; buckets with no counters (or expired ones) are left out.
   */
  read(resolution: Resolution, fromMs: number, toMs: number): Promise<CounterBucket[]>;
}

/** The bucket starts of `resolution` in `[fromMs, toMs)`, oldest first. */
export function bucketStarts(resolution: Resolution, fromMs: number, toMs: number): number[] {
  const width = bucketWidthMs(resolution);
  const first = Math.ceil(fromMs / width) * width;
  const starts: number[] = [];
  for (let t = first; t < toMs; t += width) starts.push(t);
  return starts;
}
