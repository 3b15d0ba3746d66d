import { createRedisAdminStore } from "../store/redis/admin-store.js";
import { createRedisChangeFeed } from "../store/redis/change-feed.js";
import { type AdminStore, createMemoryAdminStore } from "../tenancy/admin-store.js";
import { withKeyCache } from "../tenancy/cached-admin-store.js";
import { type ChangeFeed, createLocalChangeFeed } from "../tenancy/change-feed.js";
import type { OpenedStore } from "./open-store.js";

// How long a replica trusts a key it looked up, behind the change feed that
// tells it of revocations at once; and how long it remembers a key it did not find.
const keyCache = { ttlMs: 30_000, missTtlMs: 5_000, max: 10_000 };

/**
 * Opens tenants and API keys beside the store. Keys are resolved from
 * process memory; a revocation reaches every replica through the change feed
 * (see tenancy/cached-admin-store.ts).
 */
export async function openAdmin(
  opened: OpenedStore,
): Promise<{ admin: AdminStore; feed: ChangeFeed }> {
  const feed =
    opened.redis === undefined
      ? createLocalChangeFeed()
      : createRedisChangeFeed(opened.redis.topology, opened.redis.keyPrefix);
  const admin = await withKeyCache(
    opened.redis === undefined
      ? createMemoryAdminStore()
      : createRedisAdminStore({
          topology: opened.redis.topology,
          keyPrefix: opened.redis.keyPrefix,
        }),
    feed,
    keyCache,
  );

  return { admin, feed };
}
