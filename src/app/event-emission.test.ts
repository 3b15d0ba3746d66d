import { describe, expect, it } from "vitest";
import { sampleChallenge } from "../../test/support/sample-challenge.js";
import { newTenantScope } from "../core/tenant-scope.js";
import type { DeliveryRecord } from "../delivery/delivery-store.js";
import type { EventSink } from "../events/event-emitter.js";
import { createMemoryStore } from "../store/memory/memory-store.js";
import { createTenantStore } from "../store/tenant-store.js";
import type { TotpFactorRecord } from "../totp/totp-store.js";
import { withEvents } from "./event-emission.js";

const now = Date.now();

// The events the sink was handed, as "type tenant".
function recordingStores() {
  const seen: string[] = [];
  const sink: EventSink = { emit: (type, tenantId) => seen.push(`${type} ${tenantId}`) };
  const stores = createTenantStore(withEvents(createMemoryStore(), sink));
  return { seen, stores, as: (tenantId: string) => stores.scoped(newTenantScope(tenantId)) };
}

const delivery = (id: string): DeliveryRecord => ({
  id,
  channel: "sms",
  recipientMasked: "+1******2671",
  challengeId: "",
  createdAtMs: now,
  deleteAtMs: 0,
  providerMessageId: "",
  idempotencyFingerprint: "",
  retainUntilMs: now + 60_000,
  events: [{ status: "queued", atMs: now, reason: "", attempt: 0 }],
});

const factor = (id: string): TotpFactorRecord => ({
  id,
  accountName: "ada@example.com",
  issuer: "Acme",
  sealedSecret: "sealed",
  state: "pending",
  createdAtMs: now,
  lastUsedStep: -1,
  failures: 0,
  lockedUntilMs: 0,
  recoveryHashes: [],
  retainUntilMs: now + 60_000,
});

describe("event emission under the tenant-scoped store", () => {
  it("names the calling tenant on every challenge event", async () => {
    const { seen, as } = recordingStores();
    const id = crypto.randomUUID();
    await as("ten_a").createChallenge({ record: sampleChallenge(id, now) });
    const input = { candidateHmacs: ["hmac"], bindingHash: "", nowMs: now };
    // Another tenant's try is refused in the store: no event, for no one.
    await as("ten_b").verify(id, input);
    await as("ten_a").verify(id, input);
    const other = crypto.randomUUID();
    await as("ten_b").createChallenge({ record: sampleChallenge(other, now) });
    await as("ten_b").cancel(other, now);
    expect(seen).toEqual([
      "challenge.created ten_a",
      "challenge.verified ten_a",
      "challenge.created ten_b",
      "challenge.canceled ten_b",
    ]);
  });

  it("names the calling tenant on delivery and TOTP events, and the record's in background work", async () => {
    const { seen, stores, as } = recordingStores();
    const sent = crypto.randomUUID();
    await as("ten_a").createDelivery(delivery(sent));
    await as("ten_a").appendDeliveryEvent(sent, {
      status: "sent",
      atMs: now,
      reason: "",
      attempt: 1,
    });
    // A provider's report arrives outside any call: the delivery names its tenant.
    await stores.unscoped.appendDeliveryEvent(sent, {
      status: "delivered",
      atMs: now,
      reason: "",
      attempt: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const id = crypto.randomUUID();
    await as("ten_b").createTotpFactor(factor(id));
    const lockout = { nowMs: now, maxFailures: 1, lockoutMs: 60_000 };
    await as("ten_b").recordTotpFailure(id, lockout);
    await as("ten_b").deleteTotpFactor(id);
    expect(seen).toEqual([
      "delivery.status_changed ten_a",
      "delivery.status_changed ten_a",
      "totp.locked ten_b",
      "totp.deleted ten_b",
    ]);
  });
});
