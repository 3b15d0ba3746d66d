import { maskRecipient } from "../delivery/mask.js";
import type { EventSink } from "../events/event-emitter.js";
import type { Store } from "../store/store.js";
import type { LimitRefusal } from "../tenancy/limit-store.js";

// The tenant quotas: a refusal by one of them is quota.exhausted.
const isQuota = (refusal: LimitRefusal) => refusal.bucket.startsWith("tenant_");

/**
 * The store with event emission: each state change a domain makes through
 * it (a challenge created, verified, failed or canceled; a delivery's status;
 * a TOTP factor confirmed, locked or deleted; a quota refusal) is handed to
 * the process's event buffer after the store step returns. It adds no store
 * command and no await to any call: the buffer is written in batches on a
 * timer (events/event-emitter.ts). Payloads hold ids, the channel and
 * masked recipients, never a code or a secret. It sits under the
 * tenant-scoped store (store/tenant-store.ts), which stamps records and
 * passes its call's tenant down, so each event names the call's tenant.
 */
export function withEvents(store: Store, sink: EventSink): Store {
  return { ...store, ...challengeEvents(store, sink), ...otherEvents(store, sink) };
}

// Records made before tenants existed, and anonymous development callers.
const tenantOr = (tenantId: string | undefined) => tenantId ?? "default";

// Generate, Verify and Cancel: created, verified, failed, canceled, and quota refusals.
function challengeEvents(
  store: Store,
  sink: EventSink,
): Pick<Store, "createChallenge" | "verify" | "cancel"> {
  // Once per tenant, quota and window in this process, however many calls the quota refuses.
  const exhaustedUntil = new Map<string, number>();
  const quota = (refusal: LimitRefusal, tenantId: string | undefined) => {
    if (!isQuota(refusal)) return;
    const tenant = tenantOr(tenantId);
    const key = `${tenant}\0${refusal.bucket}`;
    const nowMs = Date.now();
    if ((exhaustedUntil.get(key) ?? 0) > nowMs) return;
    if (exhaustedUntil.size >= 10_000) exhaustedUntil.clear();
    exhaustedUntil.set(key, nowMs + refusal.retryAfterMs);
    sink.emit("quota.exhausted", tenant, { bucket: refusal.bucket });
  };
  return {
    async createChallenge(input) {
      const result = await store.createChallenge(input);
      const tenant = tenantOr(input.record.tenantId);
      if (result.kind === "created") {
        for (const bucket of result.nearLimit ?? []) {
          if (bucket.startsWith("tenant_")) {
            sink.emit("quota.warning", tenant, { bucket, percent: 80 });
          }
        }
        const { record } = input;
        const first = record.targets[0];
        sink.emit("challenge.created", tenant, {
          challenge_id: record.id,
          channel: first?.channel ?? "",
          recipient: first === undefined ? "" : maskRecipient(first.recipient),
          expires_at_ms: record.expiresAtMs,
        });
      } else if (result.kind === "refused") quota(result.refusal, tenant);
      return result;
    },
    async verify(id, input) {
      const result = await store.verify(id, input);
      if (result?.refused !== undefined) quota(result.refused, input.tenantId);
      else if (result !== undefined) {
        const { record, outcome } = result;
        const tenant = tenantOr(record.tenantId);
        const data = { challenge_id: id, attempts: record.attempts };
        if (outcome === "verified") sink.emit("challenge.verified", tenant, data);
        else if (
          (outcome === "invalid_code" || outcome === "binding_mismatch") &&
          record.attempts >= record.maxAttempts
        ) {
          sink.emit("challenge.failed", tenant, data);
        }
      }
      return result;
    },
    async cancel(id, nowMs) {
      const record = await store.cancel(id, nowMs);
      if (record?.state === "canceled")
        sink.emit("challenge.canceled", tenantOr(record.tenantId), { challenge_id: id });
      return record;
    },
  };
}

// Delivery status changes and TOTP factors.
function otherEvents(
  store: Store,
  sink: EventSink,
): Pick<Store, "appendDeliveryEvent" | "useTotpStep" | "recordTotpFailure" | "deleteTotpFactor"> {
  return {
    async appendDeliveryEvent(id, event, providerMessageId, deleteAtMs, inCall) {
      const found = await store.appendDeliveryEvent(id, event, providerMessageId, deleteAtMs);
      if (!found) return found;
      const data = {
        delivery_id: id,
        status: event.status,
        reason: event.reason,
        attempt: event.attempt,
      };
      if (inCall !== undefined) sink.emit("delivery.status_changed", inCall, data);
      else {
        // A provider's status report arrives outside any call: the delivery names its tenant.
        // One read, in the background, never on a caller's path.
        void store.getDelivery(id, event.atMs).then(
          (record) =>
            sink.emit("delivery.status_changed", record?.tenantId ?? "default", {
              ...data,
              ...(record === undefined ? {} : { channel: record.channel }),
            }),
          () => sink.emit("delivery.status_changed", "default", data),
        );
      }
      return found;
    },
    async useTotpStep(id, input) {
      const result = await store.useTotpStep(id, input);
      if (result.kind === "ok" && input.requireState === "pending") {
        sink.emit("totp.confirmed", tenantOr(result.record.tenantId), { factor_id: id });
      }
      return result;
    },
    async recordTotpFailure(id, input) {
      const result = await store.recordTotpFailure(id, input);
      if (result.kind === "counted" && result.lockedUntilMs > input.nowMs) {
        sink.emit("totp.locked", tenantOr(input.tenantId), {
          factor_id: id,
          locked_until_ms: result.lockedUntilMs,
        });
      }
      return result;
    },
    async deleteTotpFactor(id, tenantId) {
      const deleted = await store.deleteTotpFactor(id);
      if (deleted) sink.emit("totp.deleted", tenantOr(tenantId), { factor_id: id });
      return deleted;
    },
  };
}
