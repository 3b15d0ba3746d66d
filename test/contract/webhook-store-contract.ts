import { describe, expect, it } from "vitest";
import type { WebhookEndpointRecord, WebhookStore } from "../../src/events/webhook-store.js";

/** Makes two handles on one fresh store, as two replicas would have. */
export type WebhookStorePair = () => Promise<{ a: WebhookStore; b: WebhookStore }>;

const endpoint = (id: string, tenantId: string, createdAtMs: number): WebhookEndpointRecord => ({
  id,
  tenantId,
  url: "https://hooks.example.com/otp",
  eventTypes: ["challenge.verified"],
  description: "",
  secrets: [{ id: "whs_1", sealed: "sealed", createdAtMs, expiresAtMs: 0 }],
  createdAtMs,
  disabledAtMs: 0,
  disabledReason: "",
});

/** The behaviour every {@link WebhookStore} shares. */
export function describeWebhookStoreContract(name: string, pair: WebhookStorePair): void {
  describe(`WebhookStore contract: ${name}`, () => {
    it("stores, lists by tenant and deletes endpoints", async () => {
      const { a, b } = await pair();
      await a.putEndpoint(endpoint("whe_2", "ten_a", 2));
      await a.putEndpoint(endpoint("whe_1", "ten_a", 1));
      await a.putEndpoint(endpoint("whe_3", "ten_b", 3));
      expect((await b.listEndpoints("ten_a")).map((e) => e.id)).toEqual(["whe_1", "whe_2"]);
      expect((await b.listEndpoints(undefined)).map((e) => e.id)).toEqual([
        "whe_1",
        "whe_2",
        "whe_3",
      ]);
      expect(await b.getEndpoint("whe_3")).toEqual(endpoint("whe_3", "ten_b", 3));
      expect(await b.deleteEndpoint("whe_3")).toBe(true);
      expect(await b.deleteEndpoint("whe_3")).toBe(false);
      expect(await a.getEndpoint("whe_3")).toBeUndefined();
    });

    it("counts a failure streak from its first failure and ends it on a success", async () => {
      const { a, b } = await pair();
      expect(await a.recordOutcome("whe_1", false, 100)).toEqual({
        consecutiveFailures: 1,
        failingSinceMs: 100,
      });
      await Promise.all([
        b.recordOutcome("whe_1", false, 200),
        a.recordOutcome("whe_1", false, 300),
      ]);
      expect(await b.getHealth("whe_1")).toEqual({ consecutiveFailures: 3, failingSinceMs: 100 });
      expect(await a.recordOutcome("whe_1", true, 400)).toEqual({
        consecutiveFailures: 0,
        failingSinceMs: 0,
      });
      expect(await b.getHealth("whe_1")).toEqual({ consecutiveFailures: 0, failingSinceMs: 0 });
    });

    it("keeps the newest attempts per endpoint, newest first", async () => {
      const { a, b } = await pair();
      for (let i = 1; i <= 5; i++) {
        await a.recordAttempt(
          "whe_1",
          {
            messageId: `evt_${i}`,
            eventType: "challenge.verified",
            attempt: 1,
            atMs: i,
            httpStatus: 500,
            outcome: "failed",
            durationMs: 3,
            error: "http_500",
          },
          3,
        );
      }
      const listed = await b.listAttempts("whe_1", 10);
      expect(listed.map((x) => x.messageId)).toEqual(["evt_5", "evt_4", "evt_3"]);
      expect((await b.listAttempts("whe_1", 1)).length).toBe(1);
      expect(await b.listAttempts("whe_2", 10)).toEqual([]);
    });
  });
}
