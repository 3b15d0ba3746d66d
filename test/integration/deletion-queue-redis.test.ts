import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisDeletionQueue } from "../../src/store/redis/deletion-queue.js";
import {
  createRedisTopology,
  type RedisLayout,
  type RedisTopology,
} from "../../src/store/redis/topology.js";
import { describeDeletionQueueContract } from "../contract/deletion-queue-contract.js";
import {
  type RedisCluster,
  type RedisInstance,
  startRedis,
  startRedisCluster,
} from "../support/redis-harness.js";

const timeouts = { commandTimeoutMs: 2000, connectTimeoutMs: 5000 };
const leaseMs = 1000;
let single: RedisInstance;
let second: RedisInstance;
let cluster: RedisCluster;
const topologies: RedisTopology[] = [];
let prefixes = 0;

beforeAll(async () => {
  [single, second, cluster] = await Promise.all([startRedis(), startRedis(), startRedisCluster()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(topologies.map((t) => t.close()));
  await Promise.all([single?.stop(), second?.stop(), cluster?.stop()]);
});

/** A connection of its own, as a separate instance of the service would have. */
async function topologyOf(layout: RedisLayout): Promise<RedisTopology> {
  const topology = createRedisTopology(layout, timeouts);
  topologies.push(topology);
  await topology.ready();
  return topology;
}

const layouts = {
  "Redis, one server": () => ({ kind: "single", url: single.url }),
  "Redis, URL shards": () => ({ kind: "urls", urls: [single.url, second.url] }),
  "Redis Cluster": () => ({ kind: "cluster", nodes: cluster.nodes }),
} satisfies Record<string, () => RedisLayout>;

for (const [name, layout] of Object.entries(layouts)) {
  describeDeletionQueueContract(name, leaseMs, async () => {
    const keyPrefix = `dq${++prefixes}:`;
    const [ta, tb] = await Promise.all([topologyOf(layout()), topologyOf(layout())]);
    return {
      a: createRedisDeletionQueue({ topology: ta, keyPrefix, leaseMs }),
      b: createRedisDeletionQueue({ topology: tb, keyPrefix, leaseMs }),
    };
  });
}

describe("Redis DeletionQueue keys", () => {
  it("puts both sorted sets under the prefix, with an expiry", async () => {
    const topology = await topologyOf({ kind: "single", url: single.url });
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
    const first = await topologyOf({ kind: "single", url: single.url });
    const before = createRedisDeletionQueue({ topology: first, keyPrefix: "restart:" });
    await before.schedule({ chatId: "7", messageId: 9, deliveryId: "d" }, Date.now());
    await first.close();
    const after = createRedisDeletionQueue({
      topology: await topologyOf({ kind: "single", url: single.url }),
      keyPrefix: "restart:",
    });
    expect(await after.claimDue(Date.now(), 10)).toEqual([
      { chatId: "7", messageId: 9, deliveryId: "d" },
    ]);
  });
});
