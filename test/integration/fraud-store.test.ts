import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { fraudBucketStart, fraudRetentionMs } from "../../src/fraud/fraud-store.js";
import { createMemoryFraudStore } from "../../src/store/memory/fraud.js";
import { clusterSlotOf } from "../../src/store/redis/cluster-slot.js";
import { createRedisFraudStore } from "../../src/store/redis/fraud.js";
import { describeFraudStoreContract } from "../contract/fraud-store-contract.js";
import { useRedisLayouts } from "../support/redis-layouts.js";

const redis = useRedisLayouts();
const { layouts, topologyOf } = redis;

describeFraudStoreContract("memory", async () => {
  const store = createMemoryFraudStore();
  return [store, store];
});

for (const [name, layout] of Object.entries(layouts)) {
  // Two replicas: two sets of connections on one key prefix.
  describeFraudStoreContract(name, async () => {
    const keyPrefix = redis.nextPrefix("fraud");
    const [a, b] = await redis.replicasOf(layout());
    return [
      createRedisFraudStore({ topology: a, keyPrefix }),
      createRedisFraudStore({ topology: b, keyPrefix }),
    ];
  });
}

describe("Redis fraud keys", () => {
  it("keeps a tenant's buckets in one slot, every key with an expiry, and no number anywhere", async () => {
    const topology = await topologyOf(layouts["Redis Cluster"]());
    const store = createRedisFraudStore({ topology, keyPrefix: "fraudkeys:" });
    const now = Date.now();
    const minute = fraudBucketStart(now);
    const counts = new Map([["+44 751", { sends: 2, verified: 1 }]]);
    await store.add(
      new Map([
        [
          "ten_a",
          new Map([
            [minute, counts],
            [minute - 60_000, counts],
          ]),
        ],
      ]),
    );
    await store.block({ tenantId: "ten_a", prefix: "+44 751", untilMs: now + 60_000 }, now);
    const keys: string[] = [];
    for (const node of redis.servers().cluster.nodes) {
      const direct = new Redis(node);
      for (const key of await direct.keys("fraudkeys:*")) {
        keys.push(key);
        const ttl = await direct.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(fraudRetentionMs);
        const type = await direct.type(key);
        const fields = type === "hash" ? await direct.hkeys(key) : await direct.zrange(key, 0, -1);
        expect(fields.join(" ")).not.toMatch(/\d{7}/);
      }
      await direct.quit();
    }
    expect(keys.sort()).toEqual(
      [
        "fraudkeys:fraud:blocks",
        `fraudkeys:fraud:{ten_a}:${minute - 60_000}`,
        `fraudkeys:fraud:{ten_a}:${minute}`,
      ].sort(),
    );
    expect(clusterSlotOf(`fraudkeys:fraud:{ten_a}:${minute}`)).toBe(
      clusterSlotOf(`fraudkeys:fraud:{ten_a}:${minute - 60_000}`),
    );
  });

  it("writes one MULTI per tenant and flush, to the node holding the tenant", async () => {
    const topology = await topologyOf(layouts["URL shards"]());
    const store = createRedisFraudStore({ topology, keyPrefix: "fraudmulti:" });
    const monitors = await Promise.all(
      [redis.servers().single, redis.servers().second].map(async (server) => {
        const monitor = await new Redis(server.url).monitor();
        const seen: string[] = [];
        monitor.on("monitor", (_time: string, args: string[]) => {
          if (args.some((a) => a.startsWith("fraudmulti:"))) seen.push(args[0] as string);
          else if (args[0]?.toLowerCase() === "multi") seen.push("multi");
        });
        return { monitor, seen };
      }),
    );
    const minute = fraudBucketStart(Date.now());
    await store.add(
      new Map([
        [
          "ten_a",
          new Map([
            [
              minute,
              new Map([
                ["+44 751", { sends: 2, verified: 0 }],
                ["+44 740", { sends: 1, verified: 1 }],
              ]),
            ],
          ]),
        ],
      ]),
    );
    await new Promise((r) => setTimeout(r, 100));
    const written = monitors.filter((m) => m.seen.some((c) => c.toLowerCase() === "hincrby"));
    expect(written).toHaveLength(1);
    expect(written[0]?.seen.map((c) => c.toLowerCase())).toEqual([
      "multi",
      "hincrby",
      "hincrby",
      "hincrby",
      "pexpireat",
    ]);
    for (const m of monitors) m.monitor.disconnect();
  });
});
