import { OtpError } from "../../core/otp-error.js";
import {
  type AdminStore,
  type ApiKeyRecord,
  applyTenantChange,
  deletedKeyMemoryMs,
  readCredential,
  type TenantRecord,
} from "../../tenancy/admin-store.js";
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
 * presented secret, never by scanning. Last uses of keys are one sorted set
 * (`ZADD GT`, so a late batch never moves a time back), written in batches.
 * A deleted key stays as a tombstone that expires after `deletedKeyMemoryMs`.
 */
export function createRedisAdminStore(options: {
  topology: RedisTopology;
  keyPrefix: string;
}): AdminStore {
  const { topology } = options;
  const k = (...parts: string[]) => `${options.keyPrefix}admin:${parts.join(":")}`;
  const ctx: AdminContext = { topology, k };
  const get = (key: string) => getValue(ctx, key);
  const store: AdminStore = {
    createTenant: (tenant) =>
      call(async () => {
        await topology
          .forKey(k("tenant", tenant.id))
          .set(k("tenant", tenant.id), JSON.stringify(tenant));
        await topology.forKey(k("tenants")).sadd(k("tenants"), tenant.id);
      }),
    getTenant: (id) => call(() => readTenant(ctx, id)),
    updateTenant: (id, change) =>
      call(async () => {
        const tenant = await readTenant(ctx, id);
        if (tenant === undefined) return undefined;
        const changed = applyTenantChange(tenant, change);
        await topology.forKey(k("tenant", id)).set(k("tenant", id), JSON.stringify(changed));
        return changed;
      }),
    deleteTenant: (id, nowMs) => call(() => deleteTenant(ctx, id, nowMs)),
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
    findCredential: (hash) => readCredential(store, hash),
    listApiKeys: (tenantId) =>
      call(async () => {
        const ids = await topology
          .forKey(k("tenant-keys", tenantId))
          .smembers(k("tenant-keys", tenantId));
        const keys = (await Promise.all(ids.map((id) => readKey(ctx, id))))
          .filter((key): key is ApiKeyRecord => key !== undefined && !key.deletedAtMs)
          .sort((a, b) => a.createdAtMs - b.createdAtMs);
        if (keys.length === 0) return keys;
        const used = await topology
          .forKey(k("key-used"))
          .zmscore(k("key-used"), ...keys.map((key) => key.id));
        return keys.map((key, i) => {
          const at = used[i];
          return at === null || at === undefined ? key : { ...key, lastUsedAtMs: Number(at) };
        });
      }),
    revokeApiKey: (id, nowMs) => call(() => revokeApiKey(ctx, id, nowMs)),
    deleteApiKey: (id, nowMs) => call(() => deleteApiKey(ctx, id, nowMs)),
    recordKeyUses: (uses) =>
      call(async () => {
        if (uses.size === 0) return;
        const args: string[] = [];
        for (const [id, at] of uses) args.push(String(at), id);
        await topology.forKey(k("key-used")).zadd(k("key-used"), "GT", ...args);
      }),
    isOriginAllowed: (origin) =>
      call(
        async () =>
          Number((await topology.forKey(k("origins")).hget(k("origins"), origin)) ?? "0") > 0,
      ),
  };
  return store;
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

async function readTenant(ctx: AdminContext, id: string): Promise<TenantRecord | undefined> {
  const raw = await getValue(ctx, ctx.k("tenant", id));
  return raw === null ? undefined : (JSON.parse(raw) as TenantRecord);
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
  if (key === undefined || key.deletedAtMs) return undefined;
  if (key.revokedAtMs === 0) {
    key.revokedAtMs = nowMs;
    await ctx.topology.forKey(ctx.k("key", id)).set(ctx.k("key", id), JSON.stringify(key));
    if (key.kind === "publishable") await countOrigins(ctx, key.allowedOrigins, -1);
  }
  return key;
}

/**
 * Deletes a key: revokes it, takes it off its tenant's list and its last use,
 * and leaves the record and its hash as a tombstone that expires.
 */
async function deleteApiKey(
  ctx: AdminContext,
  id: string,
  nowMs: number,
): Promise<ApiKeyRecord | undefined> {
  const { topology, k } = ctx;
  const revoked = await revokeApiKey(ctx, id, nowMs);
  if (revoked === undefined) return undefined;
  const key = { ...revoked, deletedAtMs: nowMs };
  const px = String(deletedKeyMemoryMs);
  await topology.forKey(k("key", id)).set(k("key", id), JSON.stringify(key), "PX", px);
  await topology.forKey(k("keyhash", key.hash)).pexpire(k("keyhash", key.hash), px);
  await topology.forKey(k("tenant-keys", key.tenantId)).srem(k("tenant-keys", key.tenantId), id);
  await topology.forKey(k("key-used")).zrem(k("key-used"), id);
  return key;
}

/** Deletes a tenant's keys, then the tenant; undefined when unknown. */
async function deleteTenant(
  ctx: AdminContext,
  id: string,
  nowMs: number,
): Promise<{ tenant: TenantRecord; keys: ApiKeyRecord[] } | undefined> {
  const { topology, k } = ctx;
  const tenant = await readTenant(ctx, id);
  if (tenant === undefined) return undefined;
  const ids = await topology.forKey(k("tenant-keys", id)).smembers(k("tenant-keys", id));
  const keys: ApiKeyRecord[] = [];
  for (const keyId of ids) {
    const deleted = await deleteApiKey(ctx, keyId, nowMs);
    if (deleted !== undefined) keys.push(deleted);
  }
  await topology.forKey(k("tenant", id)).del(k("tenant", id));
  await topology.forKey(k("tenants")).srem(k("tenants"), id);
  await topology.forKey(k("tenant-keys", id)).del(k("tenant-keys", id));
  return { tenant, keys };
}

/** Adds `by` to the count of each origin, one after another. */
async function countOrigins(ctx: AdminContext, origins: string[], by: number): Promise<void> {
  for (const origin of origins) {
    await ctx.topology.forKey(ctx.k("origins")).hincrby(ctx.k("origins"), origin, by);
  }
}
