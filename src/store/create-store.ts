import type { Config } from "../config.js";
import { createMemoryStore } from "./memory-store.js";
import { createRedisStore } from "./redis/redis-store.js";
import { createRedisTopology, describeLayout } from "./redis/topology.js";
import type { Store } from "./store.js";

/** A start-up failure of the store, named for the operator. */
export class StoreStartError extends Error {
  override readonly name = "StoreStartError";
}

/**
 * Opens the store the config asks for: Redis when any REDIS_* layout is set,
 * the in-memory store otherwise. Waits until Redis answers, or fails with a
 * message that names the layout (never its credentials).
 */
export async function createStore(config: Config, now: () => number): Promise<Store> {
  if (config.redis === undefined) return createMemoryStore({ now });
  const topology = createRedisTopology(config.redis.layout, config.redis);
  try {
    await topology.ready();
  } catch (err) {
    await topology.close();
    throw new StoreStartError(
      `cannot reach ${describeLayout(config.redis.layout)} within ${config.redis.connectTimeoutMs} ms`,
      { cause: err },
    );
  }
  return createRedisStore({ topology, keyPrefix: config.redis.keyPrefix });
}
