import { describe, expect, it } from "vitest";
import { describeRecipientIndexContract } from "../../../test/contract/recipient-index-contract.js";
import { describeStoreContract } from "../../../test/contract/store-contract.js";
import { sampleChallenge } from "../../../test/support/sample-challenge.js";
import { createMemoryStore } from "./memory-store.js";

describeStoreContract("memory", async (clock) => createMemoryStore({ now: clock.now }));
describeRecipientIndexContract("memory", async (clock) => createMemoryStore({ now: clock.now }));

describe("memory store sweep", () => {
  it("returns to its size once what it held has expired, without being read", async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const store = createMemoryStore({ now: () => nowMs, sweepIntervalMs: 5 });
    const empty = store.recordCount();
    for (let i = 0; i < 200; i++)
      await store.createChallenge({ record: sampleChallenge(crypto.randomUUID(), nowMs) });
    await store.incrementUsage("ten_a", "rpc:Generate", nowMs);
    expect(store.recordCount()).toBe(empty + 201);
    // Past every challenge's retention and the usage day's 40 days.
    nowMs += 41 * 86_400_000;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(store.recordCount()).toBe(empty);
    await store.close();
  });
});
