import type { Config } from "../config/index.js";
import type { RecipientVault } from "../core/recipient-vault.js";
import { createMemoryStore } from "../store/memory/memory-store.js";
import { createRedisStore } from "../store/redis/redis-store.js";
import {
  createRedisTopology,
  describeLayout,
  type RedisTopology,
} from "../store/redis/topology.js";
import type { Store } from "../store/store.js";

/** A start-up failure of the store, named for the operator. */
export class StoreStartError extends Error {
  override readonly name = "StoreStartError";
}

/** An opened store, and the Redis connections under it when it is the Redis store. */
export interface OpenedStore {
  store: Store;
  /**
   * The Redis connections and key prefix the store uses, so that state kept
   * beside it (the Telegram deletion queue and links) lives in the same Redis
   * under the same prefix; undefined for the in-memory store.
   */
  redis: { topology: RedisTopology; keyPrefix: string } | undefined;
}

/**
 * Opens the store the config asks for: Redis when any REDIS_* layout is set,
 * the in-memory store otherwise. Waits until Redis answers, or fails with a
 * message that names the layout (never its credentials). Closing the store
 * closes the connections. The Redis store keeps recipients only sealed or
 * hashed by `vault`.
 */
export async function openStore(
  config: Config,
  now: () => number,
  vault: RecipientVault,
): Promise<OpenedStore> {
  if (config.redis === undefined) return { store: createMemoryStore({ now }), redis: undefined };
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
  return {
    store: createRedisStore({ topology, keyPrefix: config.redis.keyPrefix, vault }),
    redis: { topology, keyPrefix: config.redis.keyPrefix },
  };
}
