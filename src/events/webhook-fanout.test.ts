import { describe, expect, it } from "vitest";
import type { DueItem } from "./due-queue.js";
import { createEventEmitter } from "./event-emitter.js";
import type { ServiceEvent } from "./event-types.js";
import { createWebhookFanout } from "./webhook-fanout.js";
import type { WebhookEndpointRecord } from "./webhook-store.js";

const endpoint = (tenantId: string, eventTypes: string[]): WebhookEndpointRecord => ({
  id: `we_${tenantId}_${eventTypes.join("_")}`,
  tenantId,
  url: "https://hooks.example.com/otp",
  eventTypes,
  description: "",
  secrets: [],
  createdAtMs: 0,
  disabledAtMs: 0,
  disabledReason: "",
});

function setup(endpoints: WebhookEndpointRecord[]) {
  let nowMs = 1_000_000;
  const queued: DueItem[] = [];
  const add = async (items: readonly DueItem[]) => {
    queued.push(...items);
  };
  const fanout = createWebhookFanout({
    store: { listEndpoints: async () => endpoints },
    messages: { add },
    timers: { add },
    feed: { watched: async () => false },
    refreshMs: 2_000,
    now: () => nowMs,
  });
  const event = (type: ServiceEvent["type"], tenantId: string): ServiceEvent => ({
    id: "evt_1",
    type,
    tenantId,
    timeMs: nowMs,
    data: { challenge_id: "c1", expires_at_ms: nowMs + 60_000 },
  });
  return { fanout, queued, event, advance: (ms: number) => (nowMs += ms) };
}

describe("webhook fanout: who could receive an event", () => {
  it("does not know before it has read the endpoints, nor once they are due to be read again", async () => {
    const s = setup([endpoint("t1", [])]);
    expect(s.fanout.mayWant("t1", "challenge.verified")).toBeUndefined();
    await s.fanout([]);
    expect(s.fanout.mayWant("t1", "challenge.verified")).toBe(true);
    s.advance(2_000);
    expect(s.fanout.mayWant("t1", "challenge.verified")).toBeUndefined();
    await s.fanout([]);
    s.fanout.invalidate();
    expect(s.fanout.mayWant("t1", "challenge.verified")).toBeUndefined();
  });

  it("says no for a tenant without endpoints, or whose endpoints take other types or are disabled", async () => {
    const disabled = { ...endpoint("t3", []), disabledAtMs: 5 };
    const s = setup([endpoint("t2", ["challenge.verified"]), disabled]);
    await s.fanout([]);
    expect(s.fanout.mayWant("t1", "challenge.verified")).toBe(false);
    expect(s.fanout.mayWant("t2", "challenge.failed")).toBe(false);
    expect(s.fanout.mayWant("t2", "challenge.verified")).toBe(true);
    expect(s.fanout.mayWant("t3", "challenge.verified")).toBe(false);
  });

  it("says yes for a created challenge when an endpoint takes only its expiry, and then sets the timer", async () => {
    const s = setup([endpoint("t1", ["challenge.expired"])]);
    await s.fanout([]);
    expect(s.fanout.mayWant("t1", "challenge.created")).toBe(true);
    expect(s.fanout.mayWant("t1", "challenge.verified")).toBe(false);
    await s.fanout([s.event("challenge.created", "t1")]);
    expect(s.queued.map((q) => q.id)).toEqual(["c1"]);
  });
});

describe("event emitter with heard", () => {
  it("makes no event nobody could receive, and keeps every other one", async () => {
    const batches: string[][] = [];
    const emitter = createEventEmitter({
      feed: { publish: async () => {}, watched: async () => false },
      fanout: async (events) => {
        batches.push(events.map((e) => `${e.type} ${e.tenantId}`));
      },
      flushMs: 60_000,
      heard: (type, tenantId) => tenantId === "t1" || type === "quota.exhausted",
    });
    emitter.emit("challenge.created", "t1", { challenge_id: "1" });
    emitter.emit("challenge.created", "t2", { challenge_id: "2" });
    emitter.emit("quota.exhausted", "t2", { bucket: "tenant_generate" });
    await emitter.flush();
    expect(batches).toEqual([["challenge.created t1", "quota.exhausted t2"]]);
    await emitter.close();
  });
});
