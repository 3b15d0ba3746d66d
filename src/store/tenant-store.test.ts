import { describe, expect, it } from "vitest";
import { sampleChallenge } from "../../test/support/sample-challenge.js";
import { runAsTenant } from "../core/tenant-scope.js";
import { createMemoryStore } from "./memory/memory-store.js";
import type { ChallengeRecord } from "./store.js";
import { createTenantStore } from "./tenant-store.js";

const now = Date.now();
const record = (id: string): ChallengeRecord => sampleChallenge(id, now);

describe("tenant-scoped store", () => {
  it("lets no call change another tenant's record, whatever that call read before", async () => {
    const store = createTenantStore(createMemoryStore());
    const id = crypto.randomUUID();
    await runAsTenant("ten_a", () => store.createChallenge({ record: record(id) }));
    const input = { candidateHmacs: ["hmac"], bindingHash: "", nowMs: now };
    // A read by A in one call is not remembered in B's call.
    await runAsTenant("ten_a", () => store.getChallenge(id, now));
    const byB = await runAsTenant("ten_b", async () => {
      await store.getChallenge(id, now);
      return store.verify(id, input);
    });
    expect(byB).toBeUndefined();
    expect(await runAsTenant("ten_b", () => store.cancel(id, now))).toBeUndefined();
    const byA = await runAsTenant("ten_a", async () => {
      await store.getChallenge(id, now);
      return store.verify(id, input);
    });
    expect(byA?.outcome).toBe("verified");
  });

  it("lets background work (no tenant) see every record", async () => {
    const store = createTenantStore(createMemoryStore());
    const id = crypto.randomUUID();
    await runAsTenant("ten_a", () => store.createChallenge({ record: record(id) }));
    expect((await store.getChallenge(id, now))?.tenantId).toBe("ten_a");
  });
});
