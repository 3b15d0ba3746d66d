import { describe, expect, it } from "vitest";
import type { ServiceEvent } from "../../src/events/event-types.js";
import { createRedisDueQueue } from "../../src/store/redis/due-queue.js";
import { createRedisEventFeed } from "../../src/store/redis/event-feed.js";
import { createRedisWebhookStore } from "../../src/store/redis/webhooks.js";
import { describeDueQueueContract } from "../contract/due-queue-contract.js";
import { describeWebhookStoreContract } from "../contract/webhook-store-contract.js";
import { useRedisLayouts } from "../support/redis-layouts.js";

const leaseMs = 1000;
const retentionMs = 86_400_000;
const redis = useRedisLayouts();
const { topologyOf } = redis;
// The layouts these queues are held to: one server, URL shards, a Cluster.
const layouts = {
  "Redis, one server": redis.layouts["single Redis"],
  "Redis, URL shards": redis.layouts["URL shards"],
  "Redis Cluster": redis.layouts["Redis Cluster"],
};

for (const [name, layout] of Object.entries(layouts)) {
  describeDueQueueContract(name, leaseMs, async () => {
    const keyPrefix = redis.nextPrefix("dq");
    const [ta, tb] = await redis.replicasOf(layout());
    const options = { keyPrefix, name: "webhook-messages", leaseMs, retentionMs };
    return {
      a: createRedisDueQueue({ topology: ta, ...options }),
      b: createRedisDueQueue({ topology: tb, ...options }),
    };
  });
  describeWebhookStoreContract(name, async () => {
    const keyPrefix = redis.nextPrefix("wh");
    const [ta, tb] = await redis.replicasOf(layout());
    return {
      a: createRedisWebhookStore({ topology: ta, keyPrefix }),
      b: createRedisWebhookStore({ topology: tb, keyPrefix }),
    };
  });

  describe(`Redis event feed: ${name}`, () => {
    it("hands a batch published by one replica to the listeners of another", async () => {
      const keyPrefix = redis.nextPrefix("ef");
      const [ta, tb] = await redis.replicasOf(layout());
      const publisher = createRedisEventFeed({ topology: ta, keyPrefix });
      const watcher = createRedisEventFeed({ topology: tb, keyPrefix });
      const seen: ServiceEvent[] = [];
      const stop = await watcher.listen((events) => seen.push(...events));
      const event: ServiceEvent = {
        id: "evt_1",
        type: "challenge.created",
        tenantId: "ten_a",
        timeMs: Date.now(),
        data: { challenge_id: "c1" },
      };
      await publisher.publish([event, { ...event, id: "evt_2" }]);
      await expect.poll(() => seen.map((e) => e.id), { timeout: 5000 }).toEqual(["evt_1", "evt_2"]);
      // A replica with a listener of its own publishes at once; one without reads the announcement.
      expect([watcher.watchedNow(), await watcher.watched()]).toEqual([true, true]);
      // Without I/O, a replica without listeners knows only what it read within the last second.
      expect(publisher.watchedNow()).toBeUndefined();
      expect(await publisher.watched()).toBe(false);
      expect(publisher.watchedNow()).toBe(false);
      await watcher.announceWatching(2000);
      const third = createRedisEventFeed({ topology: ta, keyPrefix });
      expect(await third.watched()).toBe(true);
      expect(third.watchedNow()).toBe(true);
      stop();
      await Promise.all([publisher.close(), watcher.close(), third.close()]);
    });
  });
}

describe("Redis DueQueue keys", () => {
  it("keeps every key under the prefix with an expiry, and the items across a new instance", async () => {
    const first = await topologyOf({ kind: "single", url: redis.servers().single.url });
    const options = { keyPrefix: "keys:", name: "webhook-messages", leaseMs, retentionMs };
    const before = createRedisDueQueue({ topology: first, ...options });
    const now = Date.now();
    await before.add(
      [
        { id: "m1", body: "b1", dueMs: now },
        { id: "m2", body: "b2", dueMs: now },
      ],
      now,
    );
    const [claimed] = await before.claim(now, 1);
    await before.complete(claimed?.id ?? "", 1, now, 60_000);
    const client = first.clients[0];
    if (client === undefined) throw new Error("no client");
    for (const key of await client.keys("keys:*")) {
      expect(key.startsWith("keys:{webhook-messages}:")).toBe(true);
      expect(await client.pttl(key), key).toBeGreaterThan(0);
    }
    await first.close();
    const after = createRedisDueQueue({
      topology: await topologyOf({ kind: "single", url: redis.servers().single.url }),
      ...options,
    });
    expect((await after.claim(now, 10)).map((c) => c.id)).toEqual(["m2"]);
  });
});
