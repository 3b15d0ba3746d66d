import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisConsoleSessionStore } from "../../src/store/redis/console-sessions.js";
import { createRedisTopology, type RedisTopology } from "../../src/store/redis/topology.js";
import { createMemoryConsoleSessionStore } from "../../src/tenancy/console-session-store.js";
import { describeConsoleSessionContract } from "../contract/console-session-contract.js";
import {
  type RedisCluster,
  type RedisInstance,
  startRedis,
  startRedisCluster,
} from "../support/redis-harness.js";

const timeouts = { commandTimeoutMs: 2000, connectTimeoutMs: 5000 };
let single: RedisInstance;
let second: RedisInstance;
let cluster: RedisCluster;
const topologies: Record<string, RedisTopology> = {};
let prefixes = 0;

beforeAll(async () => {
  [single, second, cluster] = await Promise.all([startRedis(), startRedis(), startRedisCluster()]);
  topologies.single = createRedisTopology({ kind: "single", url: single.url }, timeouts);
  topologies.shards = createRedisTopology(
    { kind: "urls", urls: [single.url, second.url] },
    timeouts,
  );
  topologies.dbRange = createRedisTopology(
    { kind: "db-range", url: second.url, first: 2, last: 5 },
    timeouts,
  );
  topologies.cluster = createRedisTopology({ kind: "cluster", nodes: cluster.nodes }, timeouts);
  await Promise.all(Object.values(topologies).map((t) => t.ready()));
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(topologies).map((t) => t.close()));
  await Promise.all([single?.stop(), second?.stop(), cluster?.stop()]);
});

const onRedis = (name: string) => async () =>
  createRedisConsoleSessionStore({
    topology: topologies[name] as RedisTopology,
    keyPrefix: `cs${++prefixes}:`,
  });

describeConsoleSessionContract("memory", async () => createMemoryConsoleSessionStore());
describeConsoleSessionContract("Redis, one server", onRedis("single"));
describeConsoleSessionContract("Redis, URL shards", onRedis("shards"));
describeConsoleSessionContract("Redis, DB-index shards 2-5", onRedis("dbRange"));
describeConsoleSessionContract("Redis Cluster", onRedis("cluster"));

describe("Redis console session keys", () => {
  it("names a session only by the hash it is given and always sets an expiry", async () => {
    const store = createRedisConsoleSessionStore({
      topology: topologies.single as RedisTopology,
      keyPrefix: "cskeys:",
    });
    const idHash = "a".repeat(64);
    const now = Date.now();
    await store.create(
      idHash,
      {
        kind: "operator",
        tenantId: "",
        keyId: "admin",
        keyHash: "",
        createdAtMs: now,
        expiresAtMs: now + 60_000,
      },
      30_000,
    );
    const client = topologies.single?.clients[0];
    if (client === undefined) throw new Error("no client");
    expect(await client.keys("cskeys:*")).toEqual([`cskeys:console-session:${idHash}`]);
    const ttl = await client.pttl(`cskeys:console-session:${idHash}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });
});
