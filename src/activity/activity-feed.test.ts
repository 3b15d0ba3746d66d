import { describe, expect, it } from "vitest";
import type { ActivityEvent } from "./activity-event.js";
import { createActivityFeed, createLocalActivityBus } from "./activity-feed.js";
import { createWatchQueue } from "./watch-queue.js";

const event = (n: number): ActivityEvent => ({
  kind: "verify",
  atMs: n,
  tenantId: "t1",
  outcome: "verified",
  channel: "sms",
  recipientMasked: "+1******4567",
  challengeId: `c${n}`,
  replica: "1@host",
  action: "",
  target: "",
  actor: "",
});

describe("activity feed", () => {
  it("sends queued events as one batch and hands them to every watcher", async () => {
    const sent: number[] = [];
    const local = createLocalActivityBus();
    const bus = {
      ...local,
      send: async (b: Parameters<typeof local.send>[0]) => {
        sent.push(b.events.length);
        await local.send(b);
      },
    };
    const feed = createActivityFeed({ bus, batchMs: 20 });
    const seen: string[] = [];
    const stop = await feed.watch({ event: (e) => seen.push(e.challengeId), dropped: () => {} });
    for (let i = 0; i < 5; i++) feed.publish(event(i));
    expect(seen).toEqual([]);
    await expect.poll(() => seen.length).toBe(5);
    expect(sent).toEqual([5]);
    stop();
    feed.publish(event(9));
    await feed.close();
    expect(seen).toHaveLength(5);
  });

  it("drops and counts events beyond its queue between two sends", async () => {
    const feed = createActivityFeed({
      bus: createLocalActivityBus(),
      batchMs: 10_000,
      maxQueued: 3,
    });
    let dropped = 0;
    const seen: ActivityEvent[] = [];
    await feed.watch({ event: (e) => seen.push(e), dropped: (n) => (dropped += n) });
    for (let i = 0; i < 10; i++) feed.publish(event(i));
    await feed.close();
    expect(seen).toHaveLength(3);
    expect(dropped).toBe(7);
  });

  it("bounds every field of an event before it is queued", async () => {
    const feed = createActivityFeed({ bus: createLocalActivityBus(), batchMs: 10_000 });
    const seen: ActivityEvent[] = [];
    await feed.watch({ event: (e) => seen.push(e), dropped: () => {} });
    feed.publish({ ...event(1), target: "k".repeat(10_000) });
    await feed.close();
    expect(seen[0]?.target).toHaveLength(200);
  });
});

describe("watch queue", () => {
  it("holds at most its capacity for a slow reader and says how many it dropped", async () => {
    const queue = createWatchQueue(2);
    for (let i = 0; i < 5; i++) queue.push(event(i));
    const signal = new AbortController().signal;
    const first = await queue.next(1_000, signal);
    expect(first.event?.challengeId).toBe("c0");
    expect(first.dropped).toBe(3);
    const second = await queue.next(1_000, signal);
    expect([second.event?.challengeId, second.dropped]).toEqual(["c1", 0]);
  });

  it("answers without an event after the wait, and at once when aborted", async () => {
    const queue = createWatchQueue(2);
    const idle = await queue.next(10, new AbortController().signal);
    expect(idle).toEqual({ event: undefined, dropped: 0 });
    const abort = new AbortController();
    const pending = queue.next(60_000, abort.signal);
    abort.abort();
    expect((await pending).event).toBeUndefined();
  });

  it("wakes a waiting reader as soon as an event arrives", async () => {
    const queue = createWatchQueue(2);
    const pending = queue.next(60_000, new AbortController().signal);
    queue.push(event(7));
    expect((await pending).event?.challengeId).toBe("c7");
  });
});
