import { OtpError } from "../../core/otp-error.js";
import type { AdminStore, ApiKeyRecord, TenantRecord } from "../../tenancy/admin-store.js";
import type { RedisTopology } from "./topology.js";

/**
 * Tenants and API keys in Redis. Each record is one JSON string, placed on
 * its shard by a stable hash of its key; a key is found by the hash of the
 * presented secret, never by scanning.
 */
export function createRedisAdminStore(options: {
  topology: RedisTopology;
  keyPrefix: string;
}): AdminStore {
  const { topology } = options;
  const k = (...parts: string[]) => `${options.keyPrefix}admin:${parts.join(":")}`;
  const get = async (key: string) => topology.forKey(key).get(key);
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new OtpError("STORE_UNAVAILABLE", "the store is unavailable; retry shortly", {
        cause: err,
        retryAfterMs: 1000,
      });
    }
  };
  const readKey = async (id: string) => {
    const raw = await get(k("key", id));
    return raw === null ? undefined : (JSON.parse(raw) as ApiKeyRecord);
  };
  return {
    createTenant: (tenant) =>
      call(async () => {
        await topology
          .forKey(k("tenant", tenant.id))
          .set(k("tenant", tenant.id), JSON.stringify(tenant));
        await topology.forKey(k("tenants")).sadd(k("tenants"), tenant.id);
      }),
    getTenant: (id) =>
      call(async () => {
        const raw = await get(k("tenant", id));
        return raw === null ? undefined : (JSON.parse(raw) as TenantRecord);
      }),
    listTenants: () =>
      call(async () => {
        const ids = await topology.forKey(k("tenants")).smembers(k("tenants"));
        const all = await Promise.all(ids.map((id) => get(k("tenant", id))));
        return all
          .filter((raw): raw is string => raw !== null)
          .map((raw) => JSON.parse(raw) as TenantRecord)
          .sort((a, b) => a.createdAtMs - b.createdAtMs);
      }),
    createApiKey: (key) =>
      call(async () => {
        await topology.forKey(k("key", key.id)).set(k("key", key.id), JSON.stringify(key));
        await topology.forKey(k("keyhash", key.hash)).set(k("keyhash", key.hash), key.id);
        await topology
          .forKey(k("tenant-keys", key.tenantId))
          .sadd(k("tenant-keys", key.tenantId), key.id);
        // Browser origins of live publishable keys, counted, for CORS.
        if (key.kind === "publishable") {
          for (const origin of key.allowedOrigins) {
            await topology.forKey(k("origins")).hincrby(k("origins"), origin, 1);
          }
        }
      }),
    findApiKeyByHash: (hash) =>
      call(async () => {
        const id = await get(k("keyhash", hash));
        return id === null ? undefined : readKey(id);
      }),
    listApiKeys: (tenantId) =>
      call(async () => {
        const ids = await topology
          .forKey(k("tenant-keys", tenantId))
          .smembers(k("tenant-keys", tenantId));
        const keys = await Promise.all(ids.map(readKey));
        return keys
          .filter((key): key is ApiKeyRecord => key !== undefined)
          .sort((a, b) => a.createdAtMs - b.createdAtMs);
      }),
    revokeApiKey: (id, nowMs) =>
      call(async () => {
        const key = await readKey(id);
        if (key === undefined) return undefined;
        if (key.revokedAtMs === 0) {
          key.revokedAtMs = nowMs;
          await topology.forKey(k("key", id)).set(k("key", id), JSON.stringify(key));
          if (key.kind === "publishable") {
            for (const origin of key.allowedOrigins) {
              await topology.forKey(k("origins")).hincrby(k("origins"), origin, -1);
            }
          }
        }
        return key;
      }),
    isOriginAllowed: (origin) =>
      call(
        async () =>
          Number((await topology.forKey(k("origins")).hget(k("origins"), origin)) ?? "0") > 0,
      ),
  };
}
