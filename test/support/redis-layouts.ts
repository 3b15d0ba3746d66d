import { afterAll, beforeAll } from "vitest";
import {
  createRedisTopology,
  type RedisLayout,
  type RedisTopology,
} from "../../src/store/redis/topology.js";
import {
  type RedisCluster,
  type RedisInstance,
  startRedis,
  startRedisCluster,
} from "./redis-harness.js";

/** Every Redis layout the service supports, over the servers of one test file. */
export interface RedisLayouts {
  /** The layouts by name, to build inside tests (the servers start in `beforeAll`). */
  layouts: {
    "single Redis": () => RedisLayout;
    "DB-index shards 2-5": () => RedisLayout;
    "URL shards": () => RedisLayout;
    "Redis Cluster": () => RedisLayout;
  };
  /** The servers: a single Redis, a second one for URL shards, and a 3-node Cluster. */
  servers(): { single: RedisInstance; second: RedisInstance; cluster: RedisCluster };
  /** Opens (and later closes) connections to a layout, as one replica of the service would. */
  topologyOf(layout: RedisLayout): Promise<RedisTopology>;
  /** Two replicas' connections to one layout. */
  replicasOf(layout: RedisLayout): Promise<[RedisTopology, RedisTopology]>;
  /** A key prefix no other store in the file uses, such as `audit3:`. */
  nextPrefix(stem: string): string;
}

const timeouts = { commandTimeoutMs: 2000, connectTimeoutMs: 5000 };

/**
 * Starts, for the test file that calls it, the servers behind every Redis
 * layout (single, DB-index shards, URL shards, a 3-node Cluster), and stops
 * them and every topology opened on them when the file is done.
 *
 * @example
 * const redis = useRedisLayouts();
 * for (const [name, layout] of Object.entries(redis.layouts)) {
 *   describeMyContract(name, async () => createRedisMyStore(await redis.topologyOf(layout())));
 * }
 */
export function useRedisLayouts(): RedisLayouts {
  let single: RedisInstance | undefined;
  let second: RedisInstance | undefined;
  let cluster: RedisCluster | undefined;
  const opened: RedisTopology[] = [];
  let prefixes = 0;
  beforeAll(async () => {
    [single, second, cluster] = await Promise.all([
      startRedis(),
      startRedis(),
      startRedisCluster(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(opened.map((t) => t.close()));
    await Promise.all([single?.stop(), second?.stop(), cluster?.stop()]);
  });
  const topologyOf = async (layout: RedisLayout) => {
    const topology = createRedisTopology(layout, timeouts);
    opened.push(topology);
    await topology.ready();
    return topology;
  };
  const servers = () => {
    if (single === undefined || second === undefined || cluster === undefined) {
      throw new Error("the Redis servers start in beforeAll");
    }
    return { single, second, cluster };
  };
  return {
    layouts: {
      "single Redis": () => ({ kind: "single", url: servers().single.url }),
      "DB-index shards 2-5": () => ({
        kind: "db-range",
        url: servers().single.url,
        first: 2,
        last: 5,
      }),
      "URL shards": () => ({ kind: "urls", urls: [servers().single.url, servers().second.url] }),
      "Redis Cluster": () => ({ kind: "cluster", nodes: servers().cluster.nodes }),
    },
    servers,
    topologyOf,
    replicasOf: (layout) => Promise.all([topologyOf(layout), topologyOf(layout)]),
    nextPrefix: (stem) => `${stem}${++prefixes}:`,
  };
}
