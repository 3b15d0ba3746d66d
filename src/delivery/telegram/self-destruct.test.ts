import { EventEmitter, once } from "node:events";
import { describe, expect, it } from "vitest";
import { createMemoryDeletionQueue } from "../../store/memory/deletion-queue.js";
import type { DeletionItem } from "./deletion-queue.js";
import { createSelfDestruct, type DeletionOutcome } from "./self-destruct.js";

const item = (n: number): DeletionItem => ({ chatId: "1", messageId: n, deliveryId: `d${n}` });

function recorder() {
  const outcomes: DeletionOutcome[] = [];
  const events = new EventEmitter();
  return {
    outcomes,
    onOutcome: (o: DeletionOutcome) => {
      outcomes.push(o);
      events.emit("outcome");
    },
    async reach(count: number) {
      while (outcomes.length < count) await once(events, "outcome");
    },
  };
}

describe("createSelfDestruct", () => {
  it("drains more due items than one batch in one round", async () => {
    const queue = createMemoryDeletionQueue();
    for (let i = 0; i < 7; i++) await queue.schedule(item(i), 0);
    const deleted: number[] = [];
    const poller = createSelfDestruct({
      queue,
      batchSize: 3,
      deleteMessage: async (i) => {
        deleted.push(i.messageId);
      },
    });
    expect(await poller.runOnce()).toBe(7);
    expect(deleted.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await queue.size()).toBe(0);
  });

  it("honours a wake announced while an earlier tick is pending", async () => {
    const queue = createMemoryDeletionQueue();
    const record = recorder();
    const poller = createSelfDestruct({
      queue,
      intervalMs: 3_600_000,
      deleteMessage: async () => {},
      onOutcome: record.onOutcome,
    });
    poller.start(); // its first tick is pending now
    const dueMs = Date.now() + 30;
    await queue.schedule(item(1), dueMs);
    poller.wake(dueMs);
    await record.reach(1);
    expect(Date.now()).toBeGreaterThanOrEqual(dueMs);
    await poller.stop();
  });

  it("keeps polling after the queue fails, reporting the error", async () => {
    const queue = createMemoryDeletionQueue();
    const claim = queue.claimDue.bind(queue);
    const errors = new EventEmitter();
    let failures = 1;
    queue.claimDue = async (nowMs, limit) => {
      if (failures-- > 0) throw new Error("redis down");
      return claim(nowMs, limit);
    };
    await queue.schedule(item(1), 0);
    const record = recorder();
    const poller = createSelfDestruct({
      queue,
      intervalMs: 5,
      deleteMessage: async () => {},
      onOutcome: record.onOutcome,
      onError: (err) => errors.emit("error-seen", err),
    });
    const seen = once(errors, "error-seen");
    poller.start();
    expect(((await seen)[0] as Error).message).toBe("redis down");
    await record.reach(1);
    await poller.stop();
  });

  it("waits for the round in flight when stopped", async () => {
    const queue = createMemoryDeletionQueue();
    await queue.schedule(item(1), 0);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entered = new EventEmitter();
    const poller = createSelfDestruct({
      queue,
      deleteMessage: async () => {
        entered.emit("in");
        await gate;
      },
    });
    const inside = once(entered, "in");
    poller.start();
    await inside;
    let stopped = false;
    const stopping = poller.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await queue.size()).toBe(0);
  });
});
