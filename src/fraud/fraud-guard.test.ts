import { describe, expect, it } from "vitest";
import { isOtpError } from "../core/otp-error.js";
import { createMemoryFraudStore } from "../store/memory/fraud.js";
import { createFraudGuard, type FraudDecision } from "./fraud-guard.js";
import type { FraudThresholds } from "./thresholds.js";

const base: FraudThresholds = {
  mode: "enforce",
  windowMs: 600_000,
  minSends: 10,
  minVerifyRate: 0.5,
  cooldownMs: 60_000,
};
const pumped = (i: number) => `+4475123${String(i).padStart(5, "0")}`;
const normal = (i: number) => `+4474001${String(i).padStart(5, "0")}`;

function setUp(thresholds: Partial<FraudThresholds> = {}) {
  let t = 1_700_000_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const store = createMemoryFraudStore({ now: clock.now });
  const decisions: FraudDecision[] = [];
  const sends: string[] = [];
  const make = () =>
    createFraudGuard({
      store,
      thresholdsFor: () => ({ ...base, ...thresholds }),
      prefixDigits: 3,
      evaluateMs: 0,
      now: clock.now,
      onDecision: (d) => decisions.push(d),
      onSend: (mode, decision) => sends.push(`${mode}:${decision}`),
    });
  return { clock, store, decisions, sends, guard: make(), make };
}

describe("the fraud guard", () => {
  it("blocks a prefix over the floor that verifies too little, and only that prefix", async () => {
    const { guard, decisions } = setUp();
    for (let i = 0; i < 10; i++) guard.sent("t1", pumped(i));
    for (let i = 0; i < 10; i++) {
      guard.sent("t1", normal(i));
      guard.verified("t1", normal(i));
    }
    await guard.tick();
    const refusal = guard.check("t1", pumped(99), "sms");
    expect(isOtpError(refusal, "FRAUD_SUSPECTED")).toBe(true);
    expect(refusal?.metadata).toEqual({ prefix: "+44 751", channel: "sms" });
    expect(refusal?.retryAfterMs).toBe(60_000);
    expect(guard.check("t1", normal(99), "sms")).toBeUndefined();
    expect(decisions).toEqual([
      expect.objectContaining({
        tenantId: "t1",
        prefix: "+44 751",
        country: "GB",
        mode: "enforce",
      }),
    ]);
    expect(decisions[0]?.counts).toEqual({ sends: 10, verified: 0 });
  });

  it("does not judge a prefix under the floor", async () => {
    const { guard } = setUp();
    for (let i = 0; i < 9; i++) guard.sent("t1", pumped(i));
    await guard.tick();
    expect(guard.check("t1", pumped(0), "sms")).toBeUndefined();
  });

  it("does not block a prefix whose verification rate reaches the threshold", async () => {
    const { guard } = setUp();
    for (let i = 0; i < 20; i++) guard.sent("t1", pumped(i));
    for (let i = 0; i < 10; i++) guard.verified("t1", pumped(i));
    await guard.tick();
    expect(guard.check("t1", pumped(0), "sms")).toBeUndefined();
  });

  it("keeps tenants apart", async () => {
    const { guard } = setUp();
    for (let i = 0; i < 10; i++) guard.sent("t1", pumped(i));
    await guard.tick();
    expect(guard.check("t1", pumped(0), "sms")).toBeDefined();
    expect(guard.check("t2", pumped(0), "sms")).toBeUndefined();
  });

  it("lifts the block when the cool-down ends, with RetryInfo counting down meanwhile", async () => {
    const { guard, clock } = setUp();
    for (let i = 0; i < 10; i++) guard.sent("t1", pumped(i));
    await guard.tick();
    clock.advance(45_000);
    expect(guard.check("t1", pumped(0), "sms")?.retryAfterMs).toBe(15_000);
    clock.advance(15_000);
    expect(guard.check("t1", pumped(0), "sms")).toBeUndefined();
  });

  it("forgets sends older than the window", async () => {
    const { guard, clock } = setUp({ windowMs: 120_000 });
    for (let i = 0; i < 9; i++) guard.sent("t1", pumped(i));
    await guard.tick();
    clock.advance(10 * 60_000);
    guard.sent("t1", pumped(9));
    await guard.tick();
    expect(guard.check("t1", pumped(0), "sms")).toBeUndefined();
  });

  it("sums the counts of every replica, and a block made by one stops sends on the other", async () => {
    const { guard: a, make } = setUp();
    const b = make();
    for (let i = 0; i < 5; i++) a.sent("t1", pumped(i));
    await a.tick();
    for (let i = 5; i < 10; i++) b.sent("t1", pumped(i));
    await b.tick();
    expect(b.check("t1", pumped(0), "sms")).toBeDefined();
    expect(a.check("t1", pumped(0), "sms")).toBeUndefined();
    await a.tick();
    expect(a.check("t1", pumped(0), "sms")).toBeDefined();
  });

  it("in report mode lets sends through and counts what it would have refused", async () => {
    const { guard, decisions, sends } = setUp({ mode: "report" });
    for (let i = 0; i < 10; i++) guard.sent("t1", pumped(i));
    await guard.tick();
    expect(guard.check("t1", pumped(0), "sms")).toBeUndefined();
    expect(decisions.map((d) => d.mode)).toEqual(["report"]);
    expect(sends).toEqual(["report:would_refuse"]);
  });

  it("counts nothing for a tenant whose mode is off", async () => {
    const { guard, store, clock } = setUp({ mode: "off" });
    for (let i = 0; i < 10; i++) guard.sent("t1", pumped(i));
    await guard.tick();
    const [sum] = await store.sums(
      [{ tenantId: "t1", prefix: "+44 751", windowMs: 600_000 }],
      clock.now(),
    );
    expect(sum).toEqual({ sends: 0, verified: 0 });
  });

  it("ignores recipients that are not phone numbers", async () => {
    const { guard } = setUp({ minSends: 1 });
    guard.sent("t1", "ada@example.com");
    await guard.tick();
    expect(guard.check("t1", "ada@example.com", "email")).toBeUndefined();
  });

  it("keeps the counts of a failed flush for the next one", async () => {
    const { store, clock } = setUp();
    let fail = true;
    const flaky = {
      ...store,
      add: (batch: Parameters<typeof store.add>[0]) =>
        fail ? Promise.reject(new Error("down")) : store.add(batch),
    };
    const errors: unknown[] = [];
    const guard = createFraudGuard({
      store: flaky,
      thresholdsFor: () => base,
      prefixDigits: 3,
      evaluateMs: 0,
      now: clock.now,
      onError: (err) => errors.push(err),
    });
    for (let i = 0; i < 10; i++) guard.sent("t1", pumped(i));
    await guard.tick();
    expect(errors).toHaveLength(1);
    expect(guard.check("t1", pumped(0), "sms")).toBeUndefined();
    fail = false;
    guard.sent("t1", pumped(10));
    await guard.tick();
    expect(guard.check("t1", pumped(0), "sms")).toBeDefined();
  });

  it("makes no store call on the path of a send or a verification: only its timer's round does", async () => {
    const { store, clock } = setUp();
    const calls: string[] = [];
    const counted = Object.fromEntries(
      Object.entries(store).map(([name, fn]) => [
        name,
        (...args: unknown[]) => {
          calls.push(name);
          return (fn as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as unknown as typeof store;
    const guard = createFraudGuard({
      store: counted,
      thresholdsFor: () => base,
      prefixDigits: 3,
      evaluateMs: 0,
      now: clock.now,
    });
    for (let i = 0; i < 100; i++) {
      guard.check("t1", pumped(i), "sms");
      guard.sent("t1", pumped(i));
      guard.verified("t1", normal(i));
    }
    expect(calls).toEqual([]);
    await guard.tick();
    expect(calls).toEqual(["add", "sums", "block", "activeBlocks"]);
    calls.length = 0;
    for (let i = 0; i < 100; i++) guard.check("t1", pumped(i), "sms");
    expect(calls).toEqual([]);
  });

  it("reports a block of one prefix for each tenant it is found pumped for", async () => {
    const { guard, decisions } = setUp();
    for (let i = 0; i < 10; i++) {
      guard.sent("t1", pumped(i));
      guard.sent("t2", pumped(i));
    }
    await guard.tick();
    expect(decisions.map((d) => `${d.tenantId} ${d.prefix}`).sort()).toEqual([
      "t1 +44 751",
      "t2 +44 751",
    ]);
  });
});
