import { afterAll, beforeAll } from "vitest";
import type { AuditRetention, AuditTrail } from "../../src/audit/audit-trail.js";
import { createMemoryAuditTrail } from "../../src/store/memory/audit-trail.js";
import { createRedisAuditTrail } from "../../src/store/redis/audit-trail.js";
import {
  createRedisTopology,
  type RedisLayout,
  type RedisTopology,
} from "../../src/store/redis/topology.js";
import { describeAuditTrailContract } from "../contract/audit-trail-contract.js";
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
let prefixes = 0;
const topologies: RedisTopology[] = [];

beforeAll(async () => {
  [single, second, cluster] = await Promise.all([startRedis(), startRedis(), startRedisCluster()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(topologies.map((t) => t.close()));
  await Promise.all([single?.stop(), second?.stop(), cluster?.stop()]);
});

async function trailOn(
  layout: RedisLayout,
  keyPrefix: string,
  retention: AuditRetention,
): Promise<AuditTrail> {
  const topology = createRedisTopology(layout, timeouts);
  await topology.ready();
  topologies.push(topology);
  return createRedisAuditTrail({ topology, keyPrefix, ...retention });
}

describeAuditTrailContract("memory", async (retention) => {
  const trail = createMemoryAuditTrail(retention);
  return { trail, another: async () => trail };
});

const layouts = {
  "single Redis": () => ({ kind: "single", url: single.url }),
  "DB-index shards 2-5": () => ({ kind: "db-range", url: single.url, first: 2, last: 5 }),
  "URL shards": () => ({ kind: "urls", urls: [single.url, second.url] }),
  "Redis Cluster": () => ({ kind: "cluster", nodes: cluster.nodes }),
} satisfies Record<string, () => RedisLayout>;

for (const [name, layout] of Object.entries(layouts)) {
  describeAuditTrailContract(name, async (retention) => {
    // Two replicas: each opens its own connections to the same layout and prefix.
    const keyPrefix = `audit${++prefixes}:`;
    const trail = await trailOn(layout(), keyPrefix, retention);
    return { trail, another: () => trailOn(layout(), keyPrefix, retention) };
  });
}
