import { describe, expect, it } from "vitest";
import { type AdminStore, createMemoryAdminStore } from "./admin-store.js";
import { generateApiKey } from "./api-key.js";
import { withKeyCache } from "./cached-admin-store.js";
import { type ChangeFeed, createLocalChangeFeed } from "./change-feed.js";

const options = { ttlMs: 60_000, missTtlMs: 60_000, max: 100 };

// Two replicas over one store, joined by one feed, as two processes on one Redis are.
async function twoReplicas(): Promise<{ store: AdminStore; a: AdminStore; b: AdminStore }> {
  const store = createMemoryAdminStore();
  const feed: ChangeFeed = createLocalChangeFeed();
  return {
    store,
    a: await withKeyCache(store, feed, options),
    b: await withKeyCache(store, feed, options),
  };
}

async function keyIn(store: AdminStore, tenantId: string) {
  const made = generateApiKey("secret");
  await store.createApiKey({
    id: made.id,
    tenantId,
    kind: "secret",
    scopes: ["generate"],
    allowedOrigins: [],
    name: "",
    createdAtMs: 1,
    revokedAtMs: 0,
    hash: made.hash,
  });
  return made;
}

describe("withKeyCache", () => {
  it("serves a key with its tenant from memory until the tenant changes, then reads it again on every replica", async () => {
    const { store, a, b } = await twoReplicas();
    await store.createTenant({ id: "ten_a", name: "A", createdAtMs: 1 });
    const key = await keyIn(store, "ten_a");
    const other = await keyIn(store, "ten_a");
    const cached = await b.findCredential(key.hash);
    expect(await b.findCredential(key.hash)).toBe(cached);
    await b.findCredential(other.hash);
    await a.updateTenant("ten_a", { suspendedAtMs: 7 });
    const fresh = await b.findCredential(key.hash);
    expect(fresh).not.toBe(cached);
    expect(fresh?.tenant?.suspendedAtMs).toBe(7);
    expect((await b.findCredential(other.hash))?.tenant?.suspendedAtMs).toBe(7);
  });

  it("forgets a deleted key and a deleted tenant's keys on every replica", async () => {
    const { store, a, b } = await twoReplicas();
    await store.createTenant({ id: "ten_d", name: "D", createdAtMs: 1 });
    const key = await keyIn(store, "ten_d");
    const kept = await keyIn(store, "ten_d");
    await b.findCredential(key.hash);
    await b.findCredential(kept.hash);
    await a.deleteApiKey(key.id, 5);
    expect((await b.findCredential(key.hash))?.key.deletedAtMs).toBe(5);
    await a.deleteTenant("ten_d", 6);
    const gone = await b.findCredential(kept.hash);
    expect([gone?.key.deletedAtMs, gone?.tenant]).toEqual([6, undefined]);
  });
});
