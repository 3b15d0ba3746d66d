import { describe, expect, it } from "vitest";
import { describeStoreContract } from "../../../test/contract/store-contract.js";
import type { ChallengeRecord } from "../store.js";
import { createMemoryStore } from "./memory-store.js";

describeStoreContract("memory", async (clock) => createMemoryStore({ now: clock.now }));

function challenge(nowMs: number): ChallengeRecord {
  return {
    id: crypto.randomUUID(),
    codeHmac: "hmac",
    bindingHash: "",
    alphabet: "numeric",
    codeLength: 6,
    ttlSeconds: 60,
    maxAttempts: 5,
    attempts: 0,
    state: "pending",
    createdAtMs: nowMs,
    expiresAtMs: nowMs + 60_000,
    verifiedAtMs: 0,
    sends: 1,
    lastSentAtMs: nowMs,
    retainUntilMs: nowMs + 120_000,
    targets: [],
    deliveryAttempts: [],
    idempotencyFingerprint: "",
  };
}

describe("memory store sweep", () => {
  it("returns to its size once what it held has expired, without being read", async () => {
    let nowMs = Date.UTC(2026, 0, 1);
    const store = createMemoryStore({ now: () => nowMs, sweepIntervalMs: 5 });
    const empty = store.recordCount();
    for (let i = 0; i < 200; i++) await store.createChallenge({ record: challenge(nowMs) });
    await store.incrementUsage("ten_a", "rpc:Generate", nowMs);
    expect(store.recordCount()).toBe(empty + 201);
    // Past every challenge's retention and the usage day's 40 days.
    nowMs += 41 * 86_400_000;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(store.recordCount()).toBe(empty);
    await store.close();
  });
});
