import {
  type DeletionItem,
  type DeletionQueue,
  defaultDeletionLeaseMs,
  deletionMember,
} from "../../delivery/telegram/deletion-queue.js";

/** Options for {@link createMemoryDeletionQueue}. */
export interface MemoryDeletionQueueOptions {
  /** How long a claim lasts before the item is due again, in milliseconds. */
  leaseMs?: number;
}

interface Entry {
  item: DeletionItem;
  dueMs: number;
  /** Set while claimed: when the claim lapses. */
  leasedUntilMs: number | undefined;
}

/**
 * The in-process {@link DeletionQueue}, for the embedded default store. Every
 * method runs to completion without awaiting, so claims are atomic within the
 * process; pending deletions do not survive a restart (use the Redis queue for that).
 */
export function createMemoryDeletionQueue(options: MemoryDeletionQueueOptions = {}): DeletionQueue {
  const leaseMs = options.leaseMs ?? defaultDeletionLeaseMs;
  const entries = new Map<string, Entry>();
  return {
    async schedule(item, dueMs) {
      entries.set(deletionMember(item), { item, dueMs, leasedUntilMs: undefined });
    },
    async claimDue(nowMs, limit) {
      const due: Entry[] = [];
      for (const entry of entries.values()) {
        const claimable =
          entry.leasedUntilMs === undefined ? entry.dueMs <= nowMs : entry.leasedUntilMs <= nowMs;
        if (claimable) due.push(entry);
      }
      const dueAt = (e: Entry) => e.leasedUntilMs ?? e.dueMs;
      due.sort((a, b) => dueAt(a) - dueAt(b));
      const claimed = due.slice(0, Math.max(0, limit));
      for (const entry of claimed) entry.leasedUntilMs = nowMs + leaseMs;
      return claimed.map((e) => ({ ...e.item }));
    },
    async complete(item) {
      entries.delete(deletionMember(item));
    },
    async release(item, dueMs) {
      const member = deletionMember(item);
      if (entries.has(member)) entries.set(member, { item, dueMs, leasedUntilMs: undefined });
    },
    async size() {
      return entries.size;
    },
  };
}
