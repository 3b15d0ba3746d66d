import { describe, expect, it } from "vitest";
import { describeDueQueueContract } from "../../../test/contract/due-queue-contract.js";
import { describeWebhookStoreContract } from "../../../test/contract/webhook-store-contract.js";
import { createMemoryDueQueue, createMemoryEventFeed } from "./events.js";
import { createMemoryWebhookStore } from "./webhooks.js";

describeDueQueueContract("memory", 1000, async () => {
  const queue = createMemoryDueQueue({ leaseMs: 1000 });
  return { a: queue, b: queue };
});

describeWebhookStoreContract("memory", async () => {
  const store = createMemoryWebhookStore();
  return { a: store, b: store };
});

describe("memory event feed", () => {
  it("hands each published batch to every listener until it stops", async () => {
    const feed = createMemoryEventFeed();
    const seen: string[] = [];
    const stop = await feed.listen((events) => seen.push(...events.map((e) => e.id)));
    const event = {
      id: "evt_1",
      type: "challenge.created" as const,
      tenantId: "t",
      timeMs: 1,
      data: {},
    };
    await feed.publish([event]);
    stop();
    await feed.publish([{ ...event, id: "evt_2" }]);
    expect(seen).toEqual(["evt_1"]);
  });

  it("reads as watched while an announcement lasts", async () => {
    let now = 1000;
    const feed = createMemoryEventFeed(() => now);
    expect(await feed.watched()).toBe(false);
    await feed.announceWatching(500);
    expect(await feed.watched()).toBe(true);
    now = 1500;
    expect(await feed.watched()).toBe(false);
  });
});
