import { Cluster, type Redis } from "ioredis";
import type { StoreNodeHealth, StoreNodes } from "../../activity/system-health.js";
import { probeKeysByMaster } from "./ping-every-node.js";
import type { RedisTopology } from "./topology.js";
import { isUnreachableError } from "./unreachable.js";

/**
 * {@link StoreNodes} of a Redis layout: a timed PING per connection (each
 * shard), and for a Cluster a timed `EXISTS` of a never-written key in one
 * of each master's slots (the probe `/readyz` uses, see ping-every-node.ts),
 * in parallel, each bounded by the command timeout. Errors are reported in
 * fixed words, never the driver's message.
 */
export function createRedisStoreNodes(topology: RedisTopology, keyPrefix: string): StoreNodes {
  return {
    layout: topology.layout.kind,
    async probe() {
      const perClient = await Promise.all(
        topology.clients.map((client) =>
          client instanceof Cluster ? probeCluster(client, keyPrefix) : probeOne(client),
        ),
      );
      return perClient.flat();
    },
  };
}

async function timed(name: string, call: () => Promise<unknown>): Promise<StoreNodeHealth> {
  const started = performance.now();
  try {
    await call();
    return { name, reachable: true, latencyMs: performance.now() - started, error: "" };
  } catch (err) {
    return {
      name,
      reachable: false,
      latencyMs: performance.now() - started,
      error: isUnreachableError(err) ? "unreachable" : "error",
    };
  }
}

function probeOne(client: Redis): Promise<StoreNodeHealth> {
  const { host, port, db } = client.options;
  return timed(`${host}:${port}/${db ?? 0}`, () => client.ping());
}

async function probeCluster(client: Cluster, keyPrefix: string): Promise<StoreNodeHealth[]> {
  let keys: Map<string, string>;
  try {
    keys = probeKeysByMaster(client.slots, keyPrefix);
  } catch {
    return [{ name: "cluster", reachable: false, latencyMs: 0, error: "slots not served" }];
  }
  return Promise.all([...keys].map(([master, key]) => timed(master, () => client.exists(key))));
}
