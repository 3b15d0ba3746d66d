import type { OutboxEntry, OutboxFilter, OutboxStore } from "../../delivery/delivery-store.js";
import type { MemoryState } from "./memory-state.js";

/** The development outbox: one capped list, newest read first, each entry with its own expiry. */
export function createMemoryOutbox(state: MemoryState, maxEntries: number): OutboxStore {
  return {
    async appendOutbox(entry: OutboxEntry, retentionMs: number) {
      state.outbox.push({ entry: { ...entry }, untilMs: entry.createdAtMs + retentionMs });
      if (state.outbox.length > maxEntries) {
        state.outbox = state.outbox.slice(state.outbox.length - maxEntries);
      }
    },

    async listOutbox(filter: OutboxFilter, nowMs: number) {
      const { outbox } = state;
      const found: OutboxEntry[] = [];
      for (let i = outbox.length - 1; i >= 0 && found.length < filter.limit; i--) {
        const item = outbox[i];
        if (item === undefined || nowMs >= item.untilMs) continue;
        const { entry } = item;
        if (filter.tenantId !== undefined && (entry.tenantId ?? "default") !== filter.tenantId)
          continue;
        if (filter.recipient !== undefined && entry.recipient !== filter.recipient) continue;
        if (filter.challengeId !== undefined && entry.challengeId !== filter.challengeId) continue;
        found.push({ ...entry });
      }
      return found;
    },
  };
}
