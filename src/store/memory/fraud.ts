import {
  type FraudBlock,
  type FraudStore,
  fraudRetentionMs,
  maxActiveBlocks,
  windowBucketStarts,
} from "../../fraud/fraud-store.js";
import type { FraudCounts } from "../../fraud/thresholds.js";

/**
 * {@link FraudStore} in process memory, for the in-memory store (one
 * process): tenant -> bucket start -> prefix -> counts, and blocks by tenant
 * and prefix; buckets are forgotten {@link fraudRetentionMs} after their
 * start and blocks when they end, as Redis expires them.
 */
export function createMemoryFraudStore(options: { now?: () => number } = {}): FraudStore {
  const now = options.now ?? Date.now;
  const counts = new Map<string, Map<number, Map<string, FraudCounts>>>();
  const blocks = new Map<string, FraudBlock>();
  const prune = () => {
    const oldest = now() - fraudRetentionMs;
    for (const [tenantId, buckets] of counts) {
      for (const start of buckets.keys()) if (start <= oldest) buckets.delete(start);
      if (buckets.size === 0) counts.delete(tenantId);
    }
  };
  const dropEnded = (nowMs: number) => {
    for (const [key, block] of blocks) if (block.untilMs <= nowMs) blocks.delete(key);
  };
  return {
    async add(batch) {
      for (const [tenantId, buckets] of batch) {
        let stored = counts.get(tenantId);
        if (stored === undefined) {
          stored = new Map();
          counts.set(tenantId, stored);
        }
        for (const [start, prefixes] of buckets) {
          let bucket = stored.get(start);
          if (bucket === undefined) {
            bucket = new Map();
            stored.set(start, bucket);
          }
          for (const [prefix, n] of prefixes) {
            const c = bucket.get(prefix) ?? { sends: 0, verified: 0 };
            bucket.set(prefix, { sends: c.sends + n.sends, verified: c.verified + n.verified });
          }
        }
      }
      prune();
    },
    async sums(queries, nowMs) {
      prune();
      return queries.map(({ tenantId, prefix, windowMs }) => {
        const sum = { sends: 0, verified: 0 };
        const buckets = counts.get(tenantId);
        if (buckets === undefined) return sum;
        for (const start of windowBucketStarts(nowMs, windowMs)) {
          const c = buckets.get(start)?.get(prefix);
          if (c === undefined) continue;
          sum.sends += c.sends;
          sum.verified += c.verified;
        }
        return sum;
      });
    },
    async block(block, nowMs) {
      dropEnded(nowMs);
      const key = `${block.tenantId}|${block.prefix}`;
      const existing = blocks.get(key);
      if (existing === undefined) {
        blocks.set(key, { ...block });
        return true;
      }
      if (block.untilMs > existing.untilMs) blocks.set(key, { ...block });
      return false;
    },
    async activeBlocks(nowMs) {
      dropEnded(nowMs);
      return [...blocks.values()]
        .sort((a, b) => b.untilMs - a.untilMs)
        .slice(0, maxActiveBlocks)
        .map((b) => ({ ...b }));
    },
  };
}
