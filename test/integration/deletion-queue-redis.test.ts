import { describe, expect, it } from "vitest";
import { createRedisDeletionQueue } from "../../src/store/redis/deletion-queue.js";
import { describeDeletionQueueContract } from "../contract/deletion-queue-contract.js";
import { useRedisLayouts } from "../support/redis-layouts.js";

const leaseMs = 1000;
const redis = useRedisLayouts();
const { topologyOf } = redis;
// The layouts these queues are held to: one server, URL shards, a Cluster.
const layouts = {
  "Redis, one server": redis.layouts["single Redis"],
  "Redis, URL shards": redis.layouts["URL shards"],
  "Redis Cluster": redis.layouts["Redis Cluster"],
};

for (const [name, layout] of Object.entries(layouts)) {
  describeDeletionQueueContract(name, leaseMs, async () => {
    const keyPrefix = redis.nextPrefix("dq");
    const [ta, tb] = await redis.replicasOf(layout());
    return {
      a: createRedisDeletionQueue({ topology: ta, keyPrefix, leaseMs }),
      b: createRedisDeletionQueue({ topology: tb, keyPrefix, leaseMs }),
    };
  });
}

describe("Redis DeletionQueue keys", () => {
  it("puts both sorted sets under the prefix, with an expiry", async () => {
    const topology = await topologyOf({ kind: "single", url: redis.servers().single.url });
    const queue = createRedisDeletionQueue({ topology, keyPrefix: "keys:", leaseMs });
    const now = Date.now();
    await queue.schedule({ chatId: "1", messageId: 1, deliveryId: "d1" }, now + 5000);
    await queue.schedule({ chatId: "1", messageId: 2, deliveryId: "d2" }, now);
    await queue.claimDue(now, 10);
    const client = topology.clients[0];
    if (client === undefined) throw new Error("no client");
    const keys = (await client.keys("keys:*")).sort();
    expect(keys).toEqual(["keys:{telegram-deletions}:due", "keys:{telegram-deletions}:leased"]);
    for (const key of keys) {
      const ttl = await client.pttl(key);
      expect(ttl, key).toBeGreaterThan(47 * 3600 * 1000);
      expect(ttl, key).toBeLessThanOrEqual(48 * 3600 * 1000 + 6000);
    }
  });

  it("keeps the scheduled items across a new connection (a restarted instance)", async () => {
    const first = await topologyOf({ kind: "single", url: redis.servers().single.url });
    const before = createRedisDeletionQueue({ topology: first, keyPrefix: "restart:" });
    await before.schedule({ chatId: "7", messageId: 9, deliveryId: "d" }, Date.now());
    await first.close();
    const after = createRedisDeletionQueue({
      topology: await topologyOf({ kind: "single", url: redis.servers().single.url }),
      keyPrefix: "restart:",
    });
    expect(await after.claimDue(Date.now(), 10)).toEqual([
      { chatId: "7", messageId: 9, deliveryId: "d" },
    ]);
  });
});
