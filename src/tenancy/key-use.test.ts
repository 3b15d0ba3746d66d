import { describe, expect, it } from "vitest";
import { createKeyUseRecorder } from "./key-use.js";

describe("createKeyUseRecorder", () => {
  it("keeps uses in memory and writes them in one batch per period", async () => {
    const batches: Map<string, number>[] = [];
    let clock = 1000;
    const uses = createKeyUseRecorder({
      store: { recordKeyUses: async (batch) => void batches.push(new Map(batch)) },
      flushEveryMs: 50,
      now: () => clock,
    });
    for (let i = 0; i < 1000; i++) {
      clock++;
      uses.touch(i % 2 === 0 ? "otp_sk_a" : "otp_sk_b");
    }
    expect(batches).toEqual([]);
    expect(uses.pending("otp_sk_b")).toBe(2000);
    await expect.poll(() => batches.length).toBe(1);
    expect([...(batches[0] ?? [])]).toEqual([
      ["otp_sk_a", 1999],
      ["otp_sk_b", 2000],
    ]);
    expect(uses.pending("otp_sk_b")).toBeUndefined();
    await uses.close();
    expect(batches).toHaveLength(1);
  });

  it("keeps a batch that failed for the next one", async () => {
    let fail = true;
    const written: Map<string, number>[] = [];
    const errors: unknown[] = [];
    const uses = createKeyUseRecorder({
      store: {
        recordKeyUses: async (batch) => {
          if (fail) throw new Error("down");
          written.push(new Map(batch));
        },
      },
      flushEveryMs: 60_000,
      now: () => 5,
      onError: (err) => errors.push(err),
    });
    uses.touch("otp_sk_c");
    await uses.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    await uses.close();
    expect(written.map((m) => [...m])).toEqual([[["otp_sk_c", 5]]]);
  });
});
