import { describe, expect, it } from "vitest";
import {
  type FraudBatch,
  type FraudStore,
  fraudBucketMs,
  fraudBucketStart,
} from "../../src/fraud/fraud-store.js";

/** Two handles on one fresh, empty fraud store (two replicas' connections, or one process twice). */
export type FraudStorePair = () => Promise<[FraudStore, FraudStore]>;

type Counts = Record<string, { sends?: number; verified?: number }>;

/** A batch of one tenant: bucket start -> prefix -> counts. */
function batchOf(tenantId: string, buckets: [number, Counts][]): FraudBatch {
  return new Map([
    [
      tenantId,
      new Map(
        buckets.map(([start, counts]) => [
          start,
          new Map(
            Object.entries(counts).map(([prefix, c]) => [
              prefix,
              { sends: c.sends ?? 0, verified: c.verified ?? 0 },
            ]),
          ),
        ]),
      ),
    ],
  ]);
}

/**
 * The behaviour every {@link FraudStore} shares: one suite, run against
 * memory, a single Redis, DB-index shards, URL shards and a Redis Cluster.
 */
export function describeFraudStoreContract(name: string, makePair: FraudStorePair): void {
  describe(`FraudStore contract: ${name}`, () => {
    const now = Date.now();
    const minute = fraudBucketStart(now);

    it("sums the buckets that overlap the window and leaves older ones out", async () => {
      const [store] = await makePair();
      await store.add(
        batchOf("t1", [
          [minute, { "+44 751": { sends: 3, verified: 1 } }],
          [minute - 5 * fraudBucketMs, { "+44 751": { sends: 4 } }],
          [minute - 20 * fraudBucketMs, { "+44 751": { sends: 100 } }],
        ]),
      );
      const [sum] = await store.sums(
        [{ tenantId: "t1", prefix: "+44 751", windowMs: 10 * fraudBucketMs }],
        now,
      );
      expect(sum).toEqual({ sends: 7, verified: 1 });
      const [wide] = await store.sums(
        [{ tenantId: "t1", prefix: "+44 751", windowMs: 30 * fraudBucketMs }],
        now,
      );
      expect(wide).toEqual({ sends: 107, verified: 1 });
    });

    it("adds what every replica flushed, tenant and prefix apart, in the order asked", async () => {
      const [a, b] = await makePair();
      await a.add(batchOf("t1", [[minute, { "+44 751": { sends: 2 }, "+44 740": { sends: 1 } }]]));
      await b.add(batchOf("t1", [[minute, { "+44 751": { sends: 5, verified: 1 } }]]));
      await b.add(batchOf("t2", [[minute, { "+44 751": { sends: 9 } }]]));
      const sums = await a.sums(
        [
          { tenantId: "t2", prefix: "+44 751", windowMs: fraudBucketMs },
          { tenantId: "t1", prefix: "+44 751", windowMs: fraudBucketMs },
          { tenantId: "t1", prefix: "+44 740", windowMs: fraudBucketMs },
          { tenantId: "t3", prefix: "+1 415", windowMs: fraudBucketMs },
        ],
        now,
      );
      expect(sums).toEqual([
        { sends: 9, verified: 0 },
        { sends: 7, verified: 1 },
        { sends: 1, verified: 0 },
        { sends: 0, verified: 0 },
      ]);
    });

    it("takes many tenants in one flush", async () => {
      const [store] = await makePair();
      const tenants = Array.from({ length: 20 }, (_, i) => `ten_${i}`);
      const batch = new Map(
        tenants.map((t, i) => [
          t,
          new Map([[minute, new Map([["+34 612", { sends: i + 1, verified: 0 }]])]]),
        ]),
      );
      await store.add(batch);
      const sums = await store.sums(
        tenants.map((tenantId) => ({ tenantId, prefix: "+34 612", windowMs: fraudBucketMs })),
        now,
      );
      expect(sums.map((s) => s.sends)).toEqual(tenants.map((_, i) => i + 1));
    });

    it("records a block once, shows it to every replica while active, and forgets it when it ends", async () => {
      const [a, b] = await makePair();
      const block = { tenantId: "t1", prefix: "+44 751", untilMs: now + 60_000 };
      expect(await a.block(block, now)).toBe(true);
      expect(await b.block({ ...block, untilMs: now + 30_000 }, now + 1)).toBe(false);
      expect(await b.activeBlocks(now)).toEqual([block]);
      expect(await a.activeBlocks(now + 60_000)).toEqual([]);
      expect(await b.block({ ...block, untilMs: now + 120_000 }, now + 60_000)).toBe(true);
      expect(await a.activeBlocks(now + 60_000)).toEqual([{ ...block, untilMs: now + 120_000 }]);
    });

    it("keeps the later end when a block is recorded again", async () => {
      const [store] = await makePair();
      const block = { tenantId: "t1", prefix: "+44 751", untilMs: now + 60_000 };
      await store.block(block, now);
      await store.block({ ...block, untilMs: now + 90_000 }, now);
      expect(await store.activeBlocks(now)).toEqual([{ ...block, untilMs: now + 90_000 }]);
    });

    it("keeps blocks of tenants and prefixes apart", async () => {
      const [store] = await makePair();
      await store.block({ tenantId: "t1", prefix: "+44 751", untilMs: now + 60_000 }, now);
      await store.block({ tenantId: "t2", prefix: "+44 751", untilMs: now + 50_000 }, now);
      await store.block({ tenantId: "t1", prefix: "+1 415", untilMs: now + 40_000 }, now);
      const active = await store.activeBlocks(now);
      expect(active.map((b) => `${b.tenantId} ${b.prefix}`).sort()).toEqual([
        "t1 +1 415",
        "t1 +44 751",
        "t2 +44 751",
      ]);
    });
  });
}
