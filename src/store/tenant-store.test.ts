import { describe, expect, it } from "vitest";
import { sampleChallenge } from "../../test/support/sample-challenge.js";
import { newTenantScope } from "../core/tenant-scope.js";
import { createMemoryStore } from "./memory/memory-store.js";
import type { ChallengeRecord } from "./store.js";
import { createTenantStore } from "./tenant-store.js";

const now = Date.now();
const record = (id: string): ChallengeRecord => sampleChallenge(id, now);

describe("tenant-scoped store", () => {
  it("lets no call change another tenant's record, whatever that call read before", async () => {
    const stores = createTenantStore(createMemoryStore());
    const callOf = (tenantId: string) => stores.scoped(newTenantScope(tenantId));
    const id = crypto.randomUUID();
    await callOf("ten_a").createChallenge({ record: record(id) });
    const input = { candidateHmacs: ["hmac"], bindingHash: "", nowMs: now };
    // A read by A in one call is not remembered in B's call.
    await callOf("ten_a").getChallenge(id, now);
    const b = callOf("ten_b");
    await b.getChallenge(id, now);
    expect(await b.verify(id, input)).toBeUndefined();
    expect(await callOf("ten_b").cancel(id, now)).toBeUndefined();
    const a = callOf("ten_a");
    await a.getChallenge(id, now);
    expect((await a.verify(id, input))?.outcome).toBe("verified");
  });

  it("lets background work (no tenant) see every record", async () => {
    const stores = createTenantStore(createMemoryStore());
    const id = crypto.randomUUID();
    await stores.scoped(newTenantScope("ten_a")).createChallenge({ record: record(id) });
    expect((await stores.unscoped.getChallenge(id, now))?.tenantId).toBe("ten_a");
    expect(stores.scoped(undefined)).toBe(stores.unscoped);
  });

  it("keeps one call's memory of owned records to that call", async () => {
    const stores = createTenantStore(createMemoryStore());
    const id = crypto.randomUUID();
    const scope = newTenantScope("ten_a");
    await stores.scoped(scope).createChallenge({ record: record(id) });
    // The same scope (one call) made two stores: both know the record is the tenant's.
    expect(scope.owned?.has(`challenge:${id}`)).toBe(true);
    expect(newTenantScope("ten_a").owned).toBeUndefined();
  });

  it("keys rate-limit buckets by the call's tenant", async () => {
    const stores = createTenantStore(createMemoryStore());
    const limit = { points: 1, windowMs: 60_000 };
    const a = stores.scoped(newTenantScope("ten_a"));
    const b = stores.scoped(newTenantScope("ten_b"));
    expect((await a.consume("b", "k", limit)).allowed).toBe(true);
    expect((await a.consume("b", "k", limit)).allowed).toBe(false);
    expect((await b.consume("b", "k", limit)).allowed).toBe(true);
  });
});
