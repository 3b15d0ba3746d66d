import { OtpError } from "../../core/otp-error.js";
import type { AdminStore, ApiKeyRecord, TenantRecord } from "../../tenancy/admin-store.js";
import type { RedisTopology } from "./topology.js";

/** Where the admin records live, and how their keys are named. */
interface AdminContext {
  topology: RedisTopology;
  /** The key of an admin record, for example `k("tenant", id)`. */
  k: (...parts: string[]) => string;
}

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
  const ctx: AdminContext = { topology, k };
  const get = (key: string) => getValue(ctx, key);
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
    createApiKey: (key) => call(() => writeApiKey(ctx, key)),
    findApiKeyByHash: (hash) =>
      call(async () => {
        const id = await get(k("keyhash", hash));
        return id === null ? undefined : readKey(ctx, id);
      }),
    listApiKeys: (tenantId) =>
      call(async () => {
        const ids = await topology
          .forKey(k("tenant-keys", tenantId))
          .smembers(k("tenant-keys", tenantId));
        const keys = await Promise.all(ids.map((id) => readKey(ctx, id)));
        return keys
          .filter((key): key is ApiKeyRecord => key !== undefined)
          .sort((a, b) => a.createdAtMs - b.createdAtMs);
      }),
    revokeApiKey: (id, nowMs) => call(() => revokeApiKey(ctx, id, nowMs)),
    isOriginAllowed: (origin) =>
      call(
        async () =>
          Number((await topology.forKey(k("origins")).hget(k("origins"), origin)) ?? "0") > 0,
      ),
  };
}

/** Runs `fn`; a Redis failure becomes `STORE_UNAVAILABLE`. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new OtpError("STORE_UNAVAILABLE", "the store is unavailable; retry shortly", {
      cause: err,
      retryAfterMs: 1000,
    });
  }
}

async function getValue(ctx: AdminContext, key: string): Promise<string | null> {
  return ctx.topology.forKey(key).get(key);
}

async function readKey(ctx: AdminContext, id: string): Promise<ApiKeyRecord | undefined> {
  const raw = await getValue(ctx, ctx.k("key", id));
  return raw === null ? undefined : (JSON.parse(raw) as ApiKeyRecord);
}

/** Stores a new key, its secret's hash and its place among its tenant's keys. */
async function writeApiKey(ctx: AdminContext, key: ApiKeyRecord): Promise<void> {
  const { topology, k } = ctx;
  await topology.forKey(k("key", key.id)).set(k("key", key.id), JSON.stringify(key));
  await topology.forKey(k("keyhash", key.hash)).set(k("keyhash", key.hash), key.id);
  await topology
    .forKey(k("tenant-keys", key.tenantId))
    .sadd(k("tenant-keys", key.tenantId), key.id);
  // Browser origins of live publishable keys, counted, for CORS.
  if (key.kind === "publishable") await countOrigins(ctx, key.allowedOrigins, 1);
}

/** Marks a key revoked (once) and stops counting its origins; undefined when unknown. */
async function revokeApiKey(
  ctx: AdminContext,
  id: string,
  nowMs: number,
): Promise<ApiKeyRecord | undefined> {
  const key = await readKey(ctx, id);
  if (key === undefined) return undefined;
  if (key.revokedAtMs === 0) {
    key.revokedAtMs = nowMs;
    await ctx.topology.forKey(ctx.k("key", id)).set(ctx.k("key", id), JSON.stringify(key));
    if (key.kind === "publishable") await countOrigins(ctx, key.allowedOrigins, -1);
  }
  return key;
}

/** Adds `by` to the count of each origin, one after another. */
async function countOrigins(ctx: AdminContext, origins: string[], by: number): Promise<void> {
  for (const origin of origins) {
    await ctx.topology.forKey(ctx.k("origins")).hincrby(ctx.k("origins"), origin, by);
  }
}
