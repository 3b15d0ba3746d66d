import { describe, expect, it } from "vitest";
import { createEventEmitter } from "./event-emitter.js";
import type { ServiceEvent } from "./event-types.js";

function feedStub(watched: boolean) {
  const published: ServiceEvent[][] = [];
  return {
    published,
    feed: {
      publish: async (events: readonly ServiceEvent[]) => {
        published.push([...events]);
      },
      watched: async () => watched,
    },
  };
}

describe("event emitter", () => {
  it("writes what was emitted in one batch per flush, never during emit", async () => {
    const { feed, published } = feedStub(true);
    const batches: ServiceEvent[][] = [];
    const emitter = createEventEmitter({
      feed,
      fanout: async (events) => {
        batches.push([...events]);
      },
      flushMs: 60_000,
    });
    emitter.emit("challenge.created", "t", { challenge_id: "1" });
    emitter.emit("challenge.verified", "t", { challenge_id: "1" });
    expect(batches).toEqual([]);
    await emitter.flush();
    expect(batches.map((b) => b.map((e) => e.type))).toEqual([
      ["challenge.created", "challenge.verified"],
    ]);
    expect(published).toHaveLength(1);
    expect(batches[0]?.[0]?.id).toMatch(/^evt_[0-9a-f]{32}$/);
    await emitter.close();
  });

  it("publishes to the live feed only while someone watches", async () => {
    const { feed, published } = feedStub(false);
    const emitter = createEventEmitter({ feed, fanout: async () => {}, flushMs: 60_000 });
    emitter.emit("challenge.created", "t", {});
    await emitter.flush();
    expect(published).toEqual([]);
    await emitter.close();
  });

  it("keeps a batch whose write failed for the next flush, and drops the oldest beyond the bound", async () => {
    const { feed } = feedStub(false);
    let fail = true;
    const written: string[] = [];
    let dropped = 0;
    const emitter = createEventEmitter({
      feed,
      fanout: async (events) => {
        if (fail) throw new Error("store down");
        written.push(...events.map((e) => String(e.data.n)));
      },
      flushMs: 60_000,
      maxBuffered: 3,
      onDropped: (n) => {
        dropped += n;
      },
    });
    emitter.emit("challenge.created", "t", { n: 1 });
    emitter.emit("challenge.created", "t", { n: 2 });
    await emitter.flush();
    emitter.emit("challenge.created", "t", { n: 3 });
    emitter.emit("challenge.created", "t", { n: 4 });
    fail = false;
    await emitter.flush();
    expect(written).toEqual(["2", "3", "4"]);
    expect(dropped).toBe(1);
    await emitter.close();
  });
});
