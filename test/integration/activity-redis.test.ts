import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import type { ActivityEvent } from "../../src/activity/activity-event.js";
import { type ActivityBus, createActivityFeed } from "../../src/activity/activity-feed.js";
import { bucketStart, hourMs, minuteMs } from "../../src/activity/activity-store.js";
import { createRedisActivityStore } from "../../src/store/redis/activity.js";
import { createRedisActivityBus } from "../../src/store/redis/activity-bus.js";
import { createRedisStoreNodes } from "../../src/store/redis/store-nodes.js";
import { describeActivityStoreContract } from "../contract/activity-store-contract.js";
import { startRedis } from "../support/redis-harness.js";
import { useRedisLayouts } from "../support/redis-layouts.js";

const redis = useRedisLayouts();
const { layouts, topologyOf } = redis;

for (const [name, layout] of Object.entries(layouts)) {
  // Two replicas: two sets of connections on one key prefix.
  describeActivityStoreContract(name, async () => {
    const keyPrefix = redis.nextPrefix("act");
    const [a, b] = await redis.replicasOf(layout());
    return [
      createRedisActivityStore({ topology: a, keyPrefix }),
      createRedisActivityStore({ topology: b, keyPrefix }),
    ];
  });
}

describe("Redis activity keys", () => {
  it("writes one hash per bucket under the prefix, each with an expiry, in one slot per hour", async () => {
    const topology = await topologyOf(layouts["Redis Cluster"]());
    const store = createRedisActivityStore({ topology, keyPrefix: "actkeys:" });
    const hour = bucketStart("hour", Date.now());
    await store.add(
      new Map([
        [hour, new Map([["g|t|sms|US", 1]])],
        [hour + minuteMs, new Map([["g|t|sms|US", 1]])],
      ]),
    );
    const keys: string[] = [];
    for (const node of redis.servers().cluster.nodes) {
      const direct = new Redis(node);
      keys.push(...(await direct.keys("actkeys:*")));
      for (const key of await direct.keys("actkeys:*")) {
        expect(await direct.pttl(key)).toBeGreaterThan(0);
      }
      await direct.quit();
    }
    expect(keys.sort()).toEqual(
      [
        `actkeys:activity:{${hour}}:h`,
        `actkeys:activity:{${hour}}:m:${hour}`,
        `actkeys:activity:{${hour}}:m:${hour + minuteMs}`,
      ].sort(),
    );
    const ttlOf = async (key: string) => {
      const client = topology.clients[0] as Redis;
      return client.pttl(key);
    };
    expect(await ttlOf(`actkeys:activity:{${hour}}:h`)).toBeGreaterThan(29 * 24 * hourMs);
    expect(await ttlOf(`actkeys:activity:{${hour}}:m:${hour}`)).toBeLessThanOrEqual(
      24 * hourMs + minuteMs,
    );
  });

  it("sends one MULTI per flush to one node", async () => {
    const topology = await topologyOf(layouts["URL shards"]());
    const store = createRedisActivityStore({ topology, keyPrefix: "actmulti:" });
    const monitors = await Promise.all(
      [redis.servers().single, redis.servers().second].map(async (server) => {
        const monitor = await new Redis(server.url).monitor();
        const seen: string[] = [];
        monitor.on("monitor", (_time: string, args: string[]) => {
          if (args.some((a) => a.startsWith("actmulti:"))) seen.push(args[0] as string);
          else if (args[0]?.toLowerCase() === "multi") seen.push("multi");
        });
        return { monitor, seen };
      }),
    );
    const hour = bucketStart("hour", Date.now());
    await store.add(
      new Map([
        [
          hour,
          new Map([
            ["a", 1],
            ["b", 2],
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
      "pexpireat",
      "hincrby",
      "hincrby",
      "pexpireat",
    ]);
    for (const m of monitors) m.monitor.disconnect();
  });
});

const feedEvent = (target = ""): ActivityEvent => ({
  kind: "generate",
  atMs: Date.now(),
  tenantId: "t1",
  outcome: "created",
  channel: "sms",
  recipientMasked: "+1******4567",
  challengeId: "c",
  replica: "1@a",
  action: "",
  target,
  actor: "",
});

describe("Redis activity feed", () => {
  it("carries a batch from one replica to another's watcher, bounded field by field", async () => {
    const [a, b] = await Promise.all([
      topologyOf(layouts["Redis Cluster"]()),
      topologyOf(layouts["Redis Cluster"]()),
    ]);
    const buses = [createRedisActivityBus(a, "actfeed:"), createRedisActivityBus(b, "actfeed:")];
    const from = createActivityFeed({ bus: buses[0] as ActivityBus, batchMs: 50 });
    const to = createActivityFeed({ bus: buses[1] as ActivityBus, batchMs: 50 });
    const seen: ActivityEvent[] = [];
    const stop = await to.watch({ event: (e) => seen.push(e), dropped: () => {} });
    // The watcher's replica announced it; the other hears it at once, not at its next check.
    await expect.poll(() => from.live(), { timeout: 500 }).toBe(true);
    from.publish(feedEvent("x".repeat(1_000)));
    await expect.poll(() => seen.length, { timeout: 2_000 }).toBe(1);
    expect(seen[0]).toMatchObject({ tenantId: "t1", recipientMasked: "+1******4567" });
    expect(seen[0]?.target).toHaveLength(200);
    stop();
    await Promise.all([from.close(), to.close()]);
    // A feed does not own its bus: the subscriber's Cluster is closed here, not left to
    // lose its nodes when the servers stop (ioredis then re-picks a subscriber in a loop).
    await Promise.all(buses.map((bus) => bus.close()));
  });

  it("sends nothing while nobody watches on any replica, and stops once the last watcher leaves", async () => {
    const [a, b] = await redis.replicasOf(layouts["single Redis"]());
    const keyPrefix = redis.nextPrefix("actlive");
    const buses = [createRedisActivityBus(a, keyPrefix), createRedisActivityBus(b, keyPrefix)];
    const options = { batchMs: 20, liveCheckMs: 50 };
    const from = createActivityFeed({ bus: buses[0] as ActivityBus, ...options });
    const to = createActivityFeed({ bus: buses[1] as ActivityBus, ...options });
    // Every batch any replica sends, as Redis carries it.
    const spy = new Redis(redis.servers().single.url);
    const batches: string[] = [];
    spy.on("message", (_channel: string, message: string) => batches.push(message));
    await spy.subscribe(`${keyPrefix}activity`);
    try {
      from.publish(feedEvent());
      await new Promise((r) => setTimeout(r, 200));
      expect(from.live()).toBe(false);
      expect(batches).toEqual([]);

      const stop = await to.watch({ event: () => {}, dropped: () => {} });
      await expect.poll(() => from.live(), { timeout: 500 }).toBe(true);
      from.publish(feedEvent());
      await expect.poll(() => batches.length, { timeout: 1_000 }).toBe(1);

      stop();
      // The announcement lasts three check periods; then the other replica stops sending.
      await expect.poll(() => from.live(), { timeout: 2_000 }).toBe(false);
      from.publish(feedEvent());
      await new Promise((r) => setTimeout(r, 200));
      expect(batches).toHaveLength(1);
    } finally {
      spy.disconnect();
      await Promise.all([from.close(), to.close()]);
      await Promise.all(buses.map((bus) => bus.close()));
    }
  });
});

describe("Redis store nodes", () => {
  it("names and times every shard and every Cluster master", async () => {
    const shards = await topologyOf(layouts["DB-index shards 2-5"]());
    const nodes = await createRedisStoreNodes(shards, "h:").probe();
    expect(nodes.map((n) => n.name)).toEqual(
      [2, 3, 4, 5].map((db) => `127.0.0.1:${redis.servers().single.port}/${db}`),
    );
    expect(nodes.every((n) => n.reachable && n.latencyMs >= 0)).toBe(true);

    const masters = await createRedisStoreNodes(
      await topologyOf(layouts["Redis Cluster"]()),
      "h:",
    ).probe();
    expect(masters.map((n) => n.name).sort()).toEqual(
      redis
        .servers()
        .cluster.nodes.map((n) => `${n.host}:${n.port}`)
        .sort(),
    );
    expect(masters.every((n) => n.reachable)).toBe(true);
  });

  it("reports an unreachable shard without its driver's message", async () => {
    const spare = await startRedis();
    const topology = await topologyOf({
      kind: "urls",
      urls: [redis.servers().single.url, spare.url],
    });
    await spare.stop();
    const nodes = await createRedisStoreNodes(topology, "h:").probe();
    expect(nodes.map((n) => [n.reachable, n.error])).toEqual([
      [true, ""],
      [false, "unreachable"],
    ]);
  });
});
