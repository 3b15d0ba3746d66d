import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisAdminStore } from "../../src/store/redis/admin-store.js";
import { createRedisTopology, type RedisTopology } from "../../src/store/redis/topology.js";
import { type AdminStore, createMemoryAdminStore } from "../../src/tenancy/admin-store.js";
import { generateApiKey } from "../../src/tenancy/api-key.js";
import {
  type RedisCluster,
  type RedisInstance,
  startRedis,
  startRedisCluster,
} from "../support/redis-harness.js";

let redis: RedisInstance;
let cluster: RedisCluster;
const topologies: RedisTopology[] = [];
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all(topologies.map((t) => t.close()));
  await Promise.all([redis?.stop(), cluster?.stop()]);
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
  "Redis Cluster": () => onRedis({ kind: "cluster", nodes: cluster.nodes }),
};

for (const [name, make] of Object.entries(stores)) {
  describe(`admin store: ${name}`, () => {
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
