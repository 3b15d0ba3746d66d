import { LRUCache } from "lru-cache";
import type { AdminStore, Credential } from "./admin-store.js";
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

// What the cache holds for a hash: the key and its tenant, or the fact that there is none.
type Entry = { credential: Credential | undefined };

/**
 * Serves API key lookups from process memory, so authenticating a call costs
 * no store round trip, and keeps every change to a key or its tenant
 * immediate on every replica: revoking or deleting a key publishes
 * `key:<hash>` on the change feed, and renaming, suspending, resuming or
 * deleting a tenant publishes `tenant:<id>`; every replica then drops that
 * key, or every key of that tenant, at once. A key's expiry needs no message:
 * it is a time in the cached record, compared on each call. Should the feed
 * lose messages (a dropped connection), each replica forgets everything; and
 * no entry lives longer than `ttlMs`. Concurrent misses for one key share
 * one lookup.
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
  const cache = createCredentialCache(store, options);
  await feed.subscribe((topic) => {
    if (topic.startsWith("key:")) cache.forgetKey(topic.slice(4));
    else if (topic.startsWith("tenant:")) cache.forgetTenant(topic.slice(7));
  }, cache.forgetAll);
  const keyChanged = async (hash: string) => {
    cache.forgetKey(hash);
    await feed.publish(`key:${hash}`);
  };
  const tenantChanged = async (tenantId: string) => {
    cache.forgetTenant(tenantId);
    await feed.publish(`tenant:${tenantId}`);
  };
  return {
    ...store,
    findCredential: cache.find,
    async findApiKeyByHash(hash) {
      return (await cache.find(hash))?.key;
    },
    async revokeApiKey(id, nowMs) {
      const key = await store.revokeApiKey(id, nowMs);
      if (key !== undefined) await keyChanged(key.hash);
      return key;
    },
    async deleteApiKey(id, nowMs) {
      const key = await store.deleteApiKey(id, nowMs);
      if (key !== undefined) await keyChanged(key.hash);
      return key;
    },
    async updateTenant(id, change) {
      const tenant = await store.updateTenant(id, change);
      if (tenant !== undefined) await tenantChanged(id);
      return tenant;
    },
    async deleteTenant(id, nowMs) {
      const deleted = await store.deleteTenant(id, nowMs);
      if (deleted !== undefined) await tenantChanged(id);
      return deleted;
    },
  };
}

/** The per-process cache of credentials by hash, and what forgets them. */
function createCredentialCache(store: AdminStore, options: KeyCacheOptions) {
  // ttlResolution 0: the clock is read on each lookup (performance.now(), tens
  // of nanoseconds). lru-cache's default of 1 ms keeps the reading for a
  // millisecond and clears it with a timer: one timer made, and one loop
  // wake-up, per millisecond of steady traffic (docs/hot-path.md).
  const cache = new LRUCache<string, Entry>({
    max: options.max,
    ttl: options.ttlMs,
    ttlResolution: 0,
  });
  const pending = new Map<string, Promise<Credential | undefined>>();
  // Bumped by every change: a lookup that was in flight across a change is
  // answered but not cached, since it may have read the record before it.
  let generation = 0;
  const lookup = (hash: string): Promise<Credential | undefined> => {
    const inFlight = pending.get(hash);
    if (inFlight !== undefined) return inFlight;
    const started = generation;
    const settle = () => {
      if (pending.get(hash) === loaded) pending.delete(hash);
    };
    const loaded = store.findCredential(hash).then(
      (credential) => {
        settle();
        if (started === generation) {
          cache.set(
            hash,
            { credential },
            credential === undefined ? { ttl: options.missTtlMs } : {},
          );
        }
        return credential;
      },
      (err: unknown) => {
        settle();
        throw err;
      },
    );
    pending.set(hash, loaded);
    return loaded;
  };
  return {
    async find(hash: string): Promise<Credential | undefined> {
      const hit = cache.get(hash);
      // Callers get the cached record itself: they read it, never change it.
      return hit === undefined ? lookup(hash) : hit.credential;
    },
    forgetKey(hash: string): void {
      generation++;
      pending.delete(hash);
      cache.delete(hash);
    },
    forgetTenant(tenantId: string): void {
      generation++;
      pending.clear();
      const hashes: string[] = [];
      for (const [hash, entry] of cache.entries()) {
        if (entry.credential?.key.tenantId === tenantId) hashes.push(hash);
      }
      for (const hash of hashes) cache.delete(hash);
    },
    forgetAll(): void {
      generation++;
      pending.clear();
      cache.clear();
    },
  };
}
