import {
  type ActivityStore,
  bucketStart,
  type CounterBucket,
  type Resolution,
  retentionMs,
} from "../../activity/activity-store.js";

/**
 * {@link ActivityStore} in process memory, for the in-memory store (one
 * process): a map per resolution, bucket start -> counters; buckets are
 * forgotten {@link retentionMs} after their start, as Redis expires them.
 */
export function createMemoryActivityStore(options: { now?: () => number } = {}): ActivityStore {
  const now = options.now ?? Date.now;
  const buckets: Record<Resolution, Map<number, Map<string, number>>> = {
    minute: new Map(),
    hour: new Map(),
  };
  const prune = () => {
    const t = now();
    for (const resolution of ["minute", "hour"] as const) {
      for (const start of buckets[resolution].keys()) {
        if (start + retentionMs[resolution] <= t) buckets[resolution].delete(start);
      }
    }
  };
  const addTo = (resolution: Resolution, start: number, counts: ReadonlyMap<string, number>) => {
    let bucket = buckets[resolution].get(start);
    if (bucket === undefined) {
      bucket = new Map();
      buckets[resolution].set(start, bucket);
    }
    for (const [field, n] of counts) bucket.set(field, (bucket.get(field) ?? 0) + n);
  };
  return {
    async add(batch) {
      for (const [minute, counts] of batch) {
        addTo("minute", minute, counts);
        addTo("hour", bucketStart("hour", minute), counts);
      }
      prune();
    },
    async read(resolution, fromMs, toMs) {
      prune();
      const found: CounterBucket[] = [];
      for (const [startMs, counts] of buckets[resolution]) {
        if (startMs >= fromMs && startMs < toMs && counts.size > 0) {
          found.push({ startMs, counts: new Map(counts) });
        }
      }
      return found.sort((a, b) => a.startMs - b.startMs);
    },
  };
}
