import { type FraudBatch, fraudBucketStart, fraudRetentionMs } from "./fraud-store.js";
import type { FraudCounts } from "./thresholds.js";

type Buckets = Map<number, Map<string, FraudCounts>>;

/**
 * Sends and verifications counted in process memory until the next flush:
 * tenant -> minute bucket -> prefix -> counts, and which prefixes had sends
 * since the last evaluation. Bounded: past `maxPairs` distinct tenant and
 * prefix pairs in one batch, new pairs wait for the next one.
 */
export function createFraudCounts(now: () => number, maxPairs: number) {
  let pending = new Map<string, Buckets>();
  let active = new Map<string, Map<string, string>>();
  let pairs = 0;

  const countsFor = (tenantId: string, bucket: number, prefix: string) => {
    let buckets = pending.get(tenantId);
    if (buckets === undefined) {
      buckets = new Map();
      pending.set(tenantId, buckets);
    }
    let prefixes = buckets.get(bucket);
    if (prefixes === undefined) {
      prefixes = new Map();
      buckets.set(bucket, prefixes);
    }
    let counts = prefixes.get(prefix);
    if (counts === undefined) {
      if (pairs >= maxPairs) return undefined;
      pairs += 1;
      counts = { sends: 0, verified: 0 };
      prefixes.set(prefix, counts);
    }
    return counts;
  };

  return {
    /** Counts one code send to `prefix`, and marks the pair for the next evaluation. */
    sent(tenantId: string, prefix: string, country: string) {
      const counts = countsFor(tenantId, fraudBucketStart(now()), prefix);
      if (counts === undefined) return;
      counts.sends += 1;
      let prefixes = active.get(tenantId);
      if (prefixes === undefined) {
        prefixes = new Map();
        active.set(tenantId, prefixes);
      }
      prefixes.set(prefix, country);
    },
    /** Counts one verified code sent to `prefix`. */
    verified(tenantId: string, prefix: string) {
      const counts = countsFor(tenantId, fraudBucketStart(now()), prefix);
      if (counts !== undefined) counts.verified += 1;
    },
    /** Everything counted so far, and the pairs with sends since the last take; counting starts afresh. */
    take(): { batch: FraudBatch; active: Map<string, Map<string, string>> } {
      const taken = { batch: pending, active };
      pending = new Map();
      active = new Map();
      pairs = 0;
      return taken;
    },
    /** Puts back the counts of a failed flush, except buckets the store would have forgotten by now. */
    putBack(batch: FraudBatch) {
      const oldest = now() - fraudRetentionMs;
      for (const [tenantId, buckets] of batch) {
        for (const [bucket, prefixes] of buckets) {
          if (bucket <= oldest) continue;
          for (const [prefix, n] of prefixes) {
            const counts = countsFor(tenantId, bucket, prefix);
            if (counts === undefined) continue;
            counts.sends += n.sends;
            counts.verified += n.verified;
          }
        }
      }
    },
  };
}
