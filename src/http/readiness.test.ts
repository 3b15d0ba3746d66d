import { describe, expect, it } from "vitest";
import { createReadiness } from "./readiness.js";

function counter(result: () => Promise<void>) {
  const calls = { count: 0 };
  return {
    calls,
    check: () => {
      calls.count += 1;
      return result();
    },
  };
}

describe("createReadiness", () => {
  it("is ready when the check resolves and not ready when it rejects", async () => {
    let fail = false;
    let clock = 0;
    const ready = createReadiness({
      check: async () => {
        if (fail) throw new Error("down");
      },
      draining: () => false,
      now: () => clock,
    });
    expect(await ready()).toBe(true);
    fail = true;
    clock += 1000;
    expect(await ready()).toBe(false);
  });

  it("shares one check among probes arriving together and reuses its answer for cacheMs", async () => {
    let clock = 0;
    const { calls, check } = counter(async () => {});
    const ready = createReadiness({
      check,
      draining: () => false,
      cacheMs: 1000,
      now: () => clock,
    });
    const answers = await Promise.all(Array.from({ length: 50 }, () => ready()));
    expect(answers.every(Boolean)).toBe(true);
    expect(calls.count).toBe(1);
    clock += 999;
    await ready();
    expect(calls.count).toBe(1);
    clock += 1;
    await ready();
    expect(calls.count).toBe(2);
  });

  it("answers not ready when the check outlasts the timeout", async () => {
    const ready = createReadiness({
      check: () => new Promise<void>(() => {}),
      draining: () => false,
      timeoutMs: 20,
    });
    expect(await ready()).toBe(false);
  });

  it("is never ready while draining, without asking the store", async () => {
    const { calls, check } = counter(async () => {});
    const ready = createReadiness({ check, draining: () => true });
    expect(await ready()).toBe(false);
    expect(calls.count).toBe(0);
  });
});
