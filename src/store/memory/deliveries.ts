import type { DeliveryStore } from "../../delivery/delivery-store.js";
import type { MemoryState } from "./memory-state.js";

/** Deliveries: one map entry each, with its events; provider ids indexed until the delivery expires. */
export function createMemoryDeliveries(state: MemoryState): DeliveryStore {
  const { deliveries, providerIndex, now } = state;
  return {
    async createDelivery(record) {
      const existing = deliveries.get(record.id);
      if (existing !== undefined && now() < existing.retainUntilMs) {
        const same =
          existing.idempotencyFingerprint !== "" &&
          existing.idempotencyFingerprint === record.idempotencyFingerprint;
        return same ? { kind: "replay", record: structuredClone(existing) } : { kind: "conflict" };
      }
      deliveries.set(record.id, structuredClone(record));
      return { kind: "created" };
    },

    async getDelivery(id, nowMs) {
      const record = deliveries.get(id);
      if (record === undefined || nowMs >= record.retainUntilMs) return undefined;
      return structuredClone(record);
    },

    async appendDeliveryEvent(id, event, providerMessageId, deleteAtMs) {
      const record = deliveries.get(id);
      if (record === undefined) return false;
      record.events.push({ ...event });
      if (deleteAtMs !== undefined && deleteAtMs > 0) record.deleteAtMs = Math.floor(deleteAtMs);
      if (providerMessageId !== undefined && providerMessageId !== "") {
        record.providerMessageId = providerMessageId;
        providerIndex.set(`${record.channel}:${providerMessageId}`, {
          id,
          untilMs: record.retainUntilMs,
        });
      }
      return true;
    },

    async findDeliveryByProviderId(channel, providerMessageId) {
      const entry = providerIndex.get(`${channel}:${providerMessageId}`);
      return entry === undefined || now() >= entry.untilMs ? undefined : entry.id;
    },
  };
}
