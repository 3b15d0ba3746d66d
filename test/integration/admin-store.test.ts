import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisAdminStore } from "../../src/store/redis/admin-store.js";
import { createRedisTopology, type RedisTopology } from "../../src/store/redis/topology.js";
import {
  type AdminStore,
  type ApiKeyRecord,
  createMemoryAdminStore,
} from "../../src/tenancy/admin-store.js";
import { generateApiKey } from "../../src/tenancy/api-key.js";
import { emptySettings } from "../../src/tenancy/tenant-settings.js";
import {
  type RedisCluster,
  type RedisInstance,
  startRedis,
  startRedisCluster,
} from "../support/redis-harness.js";

let redis: RedisInstance;
let second: RedisInstance;
let cluster: RedisCluster;
const topologies: RedisTopology[] = [];
beforeAll(async () => {
  [redis, second, cluster] = await Promise.all([startRedis(), startRedis(), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all(topologies.map((t) => t.close()));
  await Promise.all([redis?.stop(), second?.stop(), cluster?.stop()]);
});

async function onRedis(layout: Parameters<typeof createRedisTopology>[0]): Promise<AdminStore> {
  const topology = createRedisTopology(layout, { commandTimeoutMs: 2000, connectTimeoutMs: 5000 });
  await topology.ready();
  topologies.push(topology);
  return createRedisAdminStore({
    topology,
    keyPrefix: `admin-${Date.now()}-${topologies.length}:`,
  });
}

const stores: Record<string, () => Promise<AdminStore>> = {
  memory: async () => createMemoryAdminStore(),
  "single Redis": () => onRedis({ kind: "single", url: redis.url }),
  "DB-index shards 2-5": () => onRedis({ kind: "db-range", url: redis.url, first: 2, last: 5 }),
  "URL shards": () => onRedis({ kind: "urls", urls: [redis.url, second.url] }),
  "Redis Cluster": () => onRedis({ kind: "cluster", nodes: cluster.nodes }),
};

function newKey(tenantId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const made = generateApiKey("secret");
  return {
    id: made.id,
    tenantId,
    kind: "secret",
    scopes: ["generate"],
    allowedOrigins: [],
    name: "",
    createdAtMs: 1,
    revokedAtMs: 0,
    hash: made.hash,
    ...overrides,
  };
}

for (const [name, make] of Object.entries(stores)) {
  describe(`admin store: ${name}`, () => {
    it("renames, suspends and resumes a tenant, keeping the first suspension time", async () => {
      const store = await make();
      await store.createTenant({ id: "ten_s", name: "S", createdAtMs: 1 });
      expect((await store.updateTenant("ten_s", { name: "Renamed" }))?.name).toBe("Renamed");
      expect((await store.updateTenant("ten_s", { suspendedAtMs: 5 }))?.suspendedAtMs).toBe(5);
      expect((await store.updateTenant("ten_s", { suspendedAtMs: 9 }))?.suspendedAtMs).toBe(5);
      const key = newKey("ten_s");
      await store.createApiKey(key);
      const credential = await store.findCredential(key.hash);
      expect([credential?.key.id, credential?.tenant?.suspendedAtMs]).toEqual([key.id, 5]);
      expect((await store.updateTenant("ten_s", { suspendedAtMs: 0 }))?.suspendedAtMs).toBe(0);
      expect(await store.getTenant("ten_s")).toMatchObject({ name: "Renamed", suspendedAtMs: 0 });
      expect(await store.updateTenant("ten_missing", { name: "x" })).toBeUndefined();
    });

    it("keeps a tenant's settings with it, handed out with its keys' credentials", async () => {
      const store = await make();
      await store.createTenant({ id: "ten_cfg", name: "C", createdAtMs: 1 });
      const settings = {
        ...emptySettings(),
        brandName: "Acme",
        templates: [{ channel: "sms" as const, locale: "es", text: "{{code}} Acme", subject: "" }],
        rateLimitBuckets: [{ name: "user", limit: "5/1m" }],
      };
      expect((await store.updateTenant("ten_cfg", { settings }))?.settings).toEqual(settings);
      // A rename leaves the settings as they are.
      await store.updateTenant("ten_cfg", { name: "Renamed" });
      expect((await store.getTenant("ten_cfg"))?.settings).toEqual(settings);
      const key = newKey("ten_cfg");
      await store.createApiKey(key);
      expect((await store.findCredential(key.hash))?.tenant?.settings).toEqual(settings);
      expect((await store.listTenants()).find((t) => t.id === "ten_cfg")?.settings).toEqual(
        settings,
      );
    });

    it("deletes a key: gone from the list, revoked, and still told apart from an unknown key", async () => {
      const store = await make();
      await store.createTenant({ id: "ten_d", name: "D", createdAtMs: 1 });
      const kept = newKey("ten_d", { expiresAtMs: 99 });
      const gone = newKey("ten_d", { createdAtMs: 2 });
      await store.createApiKey(kept);
      await store.createApiKey(gone);
      const deleted = await store.deleteApiKey(gone.id, 10);
      expect([deleted?.revokedAtMs, deleted?.deletedAtMs]).toEqual([10, 10]);
      expect(await store.deleteApiKey(gone.id, 11)).toBeUndefined();
      expect(await store.revokeApiKey(gone.id, 11)).toBeUndefined();
      expect((await store.listApiKeys("ten_d")).map((k) => [k.id, k.expiresAtMs])).toEqual([
        [kept.id, 99],
      ]);
      expect((await store.findApiKeyByHash(gone.hash))?.deletedAtMs).toBe(10);
    });

    it("deletes a tenant with every key it has", async () => {
      const store = await make();
      await store.createTenant({ id: "ten_x", name: "X", createdAtMs: 1 });
      const keys = [newKey("ten_x"), newKey("ten_x", { createdAtMs: 2 })];
      for (const key of keys) await store.createApiKey(key);
      const deleted = await store.deleteTenant("ten_x", 20);
      expect(deleted?.tenant.id).toBe("ten_x");
      expect(deleted?.keys.map((k) => k.id).sort()).toEqual(keys.map((k) => k.id).sort());
      expect(await store.getTenant("ten_x")).toBeUndefined();
      expect((await store.listTenants()).map((t) => t.id)).not.toContain("ten_x");
      expect(await store.listApiKeys("ten_x")).toEqual([]);
      const credential = await store.findCredential(keys[0]?.hash ?? "");
      expect([credential?.key.deletedAtMs, credential?.tenant]).toEqual([20, undefined]);
      expect(await store.deleteTenant("ten_x", 21)).toBeUndefined();
    });

    it("keeps the latest last use of each key, written in batches", async () => {
      const store = await make();
      await store.createTenant({ id: "ten_u", name: "U", createdAtMs: 1 });
      const [a, b] = [newKey("ten_u"), newKey("ten_u", { createdAtMs: 2 })];
      await store.createApiKey(a as ApiKeyRecord);
      await store.createApiKey(b as ApiKeyRecord);
      await store.recordKeyUses(new Map([[a?.id ?? "", 500]]));
      await store.recordKeyUses(
        new Map([
          [a?.id ?? "", 400],
          [b?.id ?? "", 300],
        ]),
      );
      expect((await store.listApiKeys("ten_u")).map((k) => k.lastUsedAtMs)).toEqual([500, 300]);
    });

    it("keeps tenants and finds keys only by the hash of the whole key, revoked or not", async () => {
      const store = await make();
      await store.createTenant({ id: "ten_a", name: "A", createdAtMs: 1 });
      await store.createTenant({ id: "ten_b", name: "B", createdAtMs: 2 });
      expect((await store.listTenants()).map((t) => t.id)).toEqual(["ten_a", "ten_b"]);
      const made = generateApiKey("secret");
      await store.createApiKey({
        id: made.id,
        tenantId: "ten_a",
        kind: "secret",
        scopes: ["generate", "verify"],
        allowedOrigins: [],
        name: "backend",
        createdAtMs: 3,
        revokedAtMs: 0,
        hash: made.hash,
      });
      expect((await store.findApiKeyByHash(made.hash))?.tenantId).toBe("ten_a");
      expect(await store.findApiKeyByHash(generateApiKey("secret").hash)).toBeUndefined();
      expect((await store.listApiKeys("ten_a")).map((k) => k.id)).toEqual([made.id]);
      expect(await store.listApiKeys("ten_b")).toEqual([]);
      expect((await store.revokeApiKey(made.id, 10))?.revokedAtMs).toBe(10);
      expect((await store.revokeApiKey(made.id, 20))?.revokedAtMs).toBe(10);
      expect((await store.findApiKeyByHash(made.hash))?.revokedAtMs).toBe(10);
      expect(await store.revokeApiKey("otp_sk_00000000", 10)).toBeUndefined();
    });

    it("knows the browser origins of live publishable keys only", async () => {
      const store = await make();
      const made = generateApiKey("publishable");
      await store.createApiKey({
        id: made.id,
        tenantId: "ten_a",
        kind: "publishable",
        scopes: ["generate", "verify"],
        allowedOrigins: ["https://shop.example.com"],
        name: "web",
        createdAtMs: 1,
        revokedAtMs: 0,
        hash: made.hash,
      });
      expect(await store.isOriginAllowed("https://shop.example.com")).toBe(true);
      expect(await store.isOriginAllowed("https://other.example.com")).toBe(false);
      await store.revokeApiKey(made.id, 2);
      expect(await store.isOriginAllowed("https://shop.example.com")).toBe(false);
    });
  });
}
