import { startRedis } from "../test/support/redis-harness.js";
import { commandAvailable } from "./commands.js";
import type { StoreName } from "./options.js";

/** A store prepared for one service process: the env that selects it, and how to tear it down. */
export interface StoreUnderTest {
  name: StoreName;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The store cannot be set up on this machine; the bench reports why and goes on. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

/**
 * Prepares a store: nothing for memory, a private redis-server on a free port
 * of 127.0.0.1 for redis (passed to the service as `REDIS_URL`).
 */
export async function prepareStore(name: StoreName): Promise<StoreUnderTest> {
  switch (name) {
    case "memory":
      return { name, env: {}, stop: async () => {} };
    case "redis": {
      if (!(await commandAvailable("redis-server", ["--version"]))) {
        throw new StoreUnavailableError(
          "redis-server not found; install it with: apt-get install -y redis-server",
        );
      }
      const redis = await startRedis();
      return { name, env: { REDIS_URL: redis.url }, stop: () => redis.stop() };
    }
  }
}
