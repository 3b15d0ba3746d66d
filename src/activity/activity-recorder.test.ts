import { describe, expect, it } from "vitest";
import { createFakeClock } from "../../test/support/fake-clock.js";
import { createFieldNames } from "./activity-fields.js";
import { createActivityRecorder } from "./activity-recorder.js";
import { type ActivityStore, type CounterBatch, minuteMs } from "./activity-store.js";
import { countryOf } from "./country.js";

/** A store that records the batches it is given, and fails while `failing` is set. */
function recordingStore() {
  const batches: CounterBatch[] = [];
  const state = { failing: false };
  const store: ActivityStore = {
    async add(batch) {
      if (state.failing) throw new Error("down");
      batches.push(batch);
    },
    read: async () => [],
  };
  const flat = () =>
    batches.flatMap((b) =>
      [...b].flatMap(([start, counts]) => [...counts].map(([f, n]) => [start, f, n] as const)),
    );
  return { store, batches, state, flat };
}

describe("activity recorder", () => {
  it("counts into the minute of the call and sends one batch per flush", async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 10, 0, 30));
    const { store, batches, flat } = recordingStore();
    const recorder = createActivityRecorder({ store, now: clock.now, flushMs: 0 });
    recorder.rateLimited("t1", "generate_ip");
    clock.advance(minuteMs);
    recorder.rateLimited("t1", "generate_ip");
    recorder.rateLimited("t1", "generate_ip");
    await recorder.flush();
    expect(batches).toHaveLength(1);
    const minute = Date.UTC(2026, 0, 1, 10, 0);
    expect(flat()).toEqual([
      [minute, "r|t1|generate_ip", 1],
      [minute + minuteMs, "r|t1|generate_ip", 2],
    ]);
    await recorder.flush();
    expect(batches).toHaveLength(1);
  });

  it("counts a challenge as active until its code expires, and less once it is verified", async () => {
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 10, 0, 0));
    const { store, flat } = recordingStore();
    const recorder = createActivityRecorder({ store, now: clock.now, flushMs: 0 });
    const expiresAtMs = clock.now() + 5 * minuteMs;
    const segment = { tenantId: "t1", channel: "sms", country: "US", expiresAtMs };
    recorder.generated(segment);
    recorder.verified(segment, "invalid_code");
    recorder.verified(segment, "verified");
    await recorder.flush();
    // Added and taken back in the minute the code would have expired.
    expect(flat().filter(([, f]) => f.startsWith("e|"))).toEqual([[expiresAtMs, "e|t1", 0]]);
  });

  it("keeps the counts of a failed flush for the next one", async () => {
    const { store, state, flat } = recordingStore();
    const errors: unknown[] = [];
    const recorder = createActivityRecorder({
      store,
      flushMs: 0,
      onError: (err) => errors.push(err),
    });
    state.failing = true;
    recorder.refused("t1", "UNAUTHENTICATED");
    await recorder.flush();
    expect(errors).toHaveLength(1);
    state.failing = false;
    recorder.refused("t1", "UNAUTHENTICATED");
    await recorder.close();
    expect(flat().map(([, f, n]) => [f, n])).toEqual([["x|t1|UNAUTHENTICATED", 2]]);
  });

  it("files each latency into the bucket /metrics uses", async () => {
    const { store, flat } = recordingStore();
    const recorder = createActivityRecorder({ store, flushMs: 0 });
    recorder.rpc("t1", "otp.v1.OtpService/Verify", "ok", 0.005);
    recorder.rpc("t1", "otp.v1.OtpService/Verify", "ok", 0.0051);
    recorder.rpc("t1", "otp.v1.OtpService/Verify", "ok", 60);
    await recorder.flush();
    const latency = Object.fromEntries(
      flat()
        .filter(([, f]) => f.startsWith("l|"))
        .map(([, f, n]) => [f, n]),
    );
    expect(latency).toEqual({
      "l|t1|otp.v1.OtpService/Verify|1": 1,
      "l|t1|otp.v1.OtpService/Verify|2": 1,
      "l|t1|otp.v1.OtpService/Verify|12": 1,
    });
  });
});

describe("counter names", () => {
  it("builds each name once and folds anything unlike a label into other", () => {
    const names = createFieldNames();
    const first = names.name("g", "t1", "sms", "US");
    expect(first).toBe("g|t1|sms|US");
    expect(names.name("g", "t1", "sms", "US")).toBe(first);
    expect(names.name("x", "", "a|b")).toBe("x|-|other");
    expect(names.name("g", "t1", "sms", "+14155552671")).toBe("g|t1|sms|other");
    expect(names.name("g", "t1", "email", "alice@example.com")).toBe("g|t1|email|other");
  });
});

describe("destination country", () => {
  it("reads a phone number's country, and labels email and anything else", () => {
    expect(countryOf("+14155552671")).toBe("US");
    expect(countryOf("+16135550123")).toBe("CA");
    expect(countryOf("+34612345678")).toBe("ES");
    expect(countryOf("+447400123456")).toBe("GB");
    expect(countryOf("+447911123456")).toBe("GG");
    expect(countryOf("alice@example.com")).toBe("email");
    expect(countryOf("@someone")).toBe("other");
    expect(countryOf("123456789")).toBe("other");
    expect(countryOf(undefined)).toBe("other");
  });
});
