import { LRUCache } from "lru-cache";
import type { AdminStore, ApiKeyRecord } from "./admin-store.js";
import type { ChangeFeed } from "./change-feed.js";

/** Options for {@link withKeyCache}. */
export interface KeyCacheOptions {
  /** How long a key found in the store is trusted without asking again: the safety net behind the feed. */
  ttlMs: number;
  /** How long "no such key" is remembered, so a flood of made-up keys costs one lookup each per period. */
  missTtlMs: number;
  /** The most keys remembered per process. */
  max: number;
}

// What the cache holds for a hash: the key, or the fact that there is none.
type Entry = { key: ApiKeyRecord | undefined };

/**
 * Serves API key lookups from process memory, so authenticating a call costs
 * no store round trip, and keeps revocation immediate on every replica: a
 * revoke publishes `key:<hash>` on the change feed, and every replica drops
 * that key at once. Should the feed lose messages (a dropped connection),
 * each replica forgets everything; and no entry lives longer than `ttlMs`.
 * Concurrent misses for one key share one lookup.
 *
 * @example
 * const admin = await withKeyCache(createRedisAdminStore(...), feed, {
 *   ttlMs: 30_000, missTtlMs: 5_000, max: 10_000,
 * });
 */
export async function withKeyCache(
  store: AdminStore,
  feed: ChangeFeed,
  options: KeyCacheOptions,
): Promise<AdminStore> {
  const cache = new LRUCache<string, Entry>({ max: options.max, ttl: options.ttlMs });
  const pending = new Map<string, Promise<ApiKeyRecord | undefined>>();
  await feed.subscribe(
    (topic) => {
      if (topic.startsWith("key:")) cache.delete(topic.slice(4));
    },
    () => cache.clear(),
  );
  const lookup = (hash: string): Promise<ApiKeyRecord | undefined> => {
    const inFlight = pending.get(hash);
    if (inFlight !== undefined) return inFlight;
    const loaded = store.findApiKeyByHash(hash).then(
      (key) => {
        pending.delete(hash);
        cache.set(hash, { key }, key === undefined ? { ttl: options.missTtlMs } : {});
        return key;
      },
      (err: unknown) => {
        pending.delete(hash);
        throw err;
      },
    );
    pending.set(hash, loaded);
    return loaded;
  };
  return {
    ...store,
    async findApiKeyByHash(hash) {
      const hit = cache.get(hash);
      // Callers get the cached record itself: they read it, never change it.
      return hit === undefined ? lookup(hash) : hit.key;
    },
    async revokeApiKey(id, nowMs) {
      const key = await store.revokeApiKey(id, nowMs);
      if (key !== undefined) {
        cache.delete(key.hash);
        await feed.publish(`key:${key.hash}`);
      }
      return key;
    },
  };
}
