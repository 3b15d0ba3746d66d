import { describe, expect, it } from "vitest";
import { createCodeHasher } from "../otp/code-hasher.js";
import { createMemoryStore } from "../store/memory/memory-store.js";
import { advancesStatus, createDeliveryService, deliveryStatusOf } from "./delivery-service.js";
import { createDispatcher } from "./dispatcher.js";
import { createOutboxChannel } from "./outbox/outbox-channel.js";

const event = (status: "queued" | "sent" | "delivered" | "failed" | "deleted") => ({
  status,
  atMs: 0,
  reason: "",
  attempt: 0,
});

describe("delivery status", () => {
  it("is the furthest status reached, whatever order the events came in", () => {
    expect(deliveryStatusOf([event("queued"), event("delivered"), event("sent")])).toBe(
      "delivered",
    );
    expect(deliveryStatusOf([event("queued")])).toBe("queued");
    expect(advancesStatus("sent", "delivered")).toBe(true);
    expect(advancesStatus("delivered", "sent")).toBe(false);
    expect(advancesStatus("delivered", "failed")).toBe(false);
    expect(advancesStatus("sent", "deleted")).toBe(true);
  });
});

describe("WatchDelivery in memory", () => {
  const build = (shutdown?: AbortSignal) => {
    const store = createMemoryStore();
    const dispatcher = createDispatcher({
      store,
      channels: [createOutboxChannel({ store, kind: "outbox", retentionMs: 60_000 })],
    });
    return {
      store,
      service: createDeliveryService({
        store,
        dispatcher,
        hasher: createCodeHasher(["k".repeat(32)]),
        watchPollMs: 5,
        shutdown,
      }),
    };
  };

  it("streams the history of a finished delivery and ends", async () => {
    const { service } = build();
    const sent = await service.send({
      channel: "outbox",
      recipient: "dev",
      content: { kind: "text", text: "hi" },
      selfDestructSeconds: 0,
      idempotencyKey: "",
      locale: "",
    });
    const seen: string[] = [];
    for await (const e of service.watch(sent.id, new AbortController().signal)) seen.push(e.status);
    expect(seen).toEqual(["queued", "sent"]);
  });

  it("follows a delivery still in flight until the client goes away", async () => {
    const { store, service } = build();
    const id = crypto.randomUUID();
    await store.createDelivery({
      id,
      channel: "sms",
      recipientMasked: "+1******2671",
      challengeId: "",
      createdAtMs: Date.now(),
      deleteAtMs: 0,
      providerMessageId: "",
      idempotencyFingerprint: "",
      retainUntilMs: Date.now() + 60_000,
      events: [event("queued")],
    });
    const client = new AbortController();
    const seen: string[] = [];
    for await (const e of service.watch(id, client.signal)) {
      seen.push(e.status);
      if (seen.length === 1) {
        await store.appendDeliveryEvent(id, { ...event("sent"), attempt: 1 }, "SM1");
      }
      if (seen.length === 2) client.abort();
    }
    expect(seen).toEqual(["queued", "sent"]);
  });

  it("fails with SHUTTING_DOWN when the server stops", async () => {
    const shutdown = new AbortController();
    const { store, service } = build(shutdown.signal);
    const id = crypto.randomUUID();
    await store.createDelivery({
      id,
      channel: "sms",
      recipientMasked: "",
      challengeId: "",
      createdAtMs: Date.now(),
      deleteAtMs: 0,
      providerMessageId: "",
      idempotencyFingerprint: "",
      retainUntilMs: Date.now() + 60_000,
      events: [event("queued")],
    });
    const watching = (async () => {
      for await (const _ of service.watch(id, new AbortController().signal)) shutdown.abort();
    })();
    await expect(watching).rejects.toMatchObject({ reason: "SHUTTING_DOWN" });
  });
});
