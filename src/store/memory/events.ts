import type { ClaimedItem, DueQueue } from "../../events/due-queue.js";
import type { EventFeed } from "../../events/event-feed.js";
import type { ServiceEvent } from "../../events/event-types.js";

/**
 * The live event feed of a single process (the in-memory store): batches go
 * straight to this process's listeners.
 */
export function createMemoryEventFeed(now: () => number = Date.now): EventFeed {
  const listeners = new Set<(events: readonly ServiceEvent[]) => void>();
  let watchedUntil = 0;
  const watched = () => listeners.size > 0 || watchedUntil > now();
  return {
    async publish(events) {
      if (events.length === 0) return;
      for (const listener of listeners) listener(structuredClone(events));
    },
    async listen(onEvents) {
      listeners.add(onEvents);
      return () => listeners.delete(onEvents);
    },
    async announceWatching(ttlMs) {
      watchedUntil = Math.max(watchedUntil, now() + ttlMs);
    },
    // One process: always known without I/O.
    watchedNow: watched,
    watched: async () => watched(),
    async close() {
      listeners.clear();
    },
  };
}

interface Entry {
  body: string;
  dueMs: number;
  sinceMs: number;
  claim: number;
  /** Set while claimed: when the lease lapses. */
  leasedUntilMs: number | undefined;
  /** Set once completed with a keep time: until when it stays replayable. */
  keptUntilMs: number | undefined;
}

/**
 * The in-process {@link DueQueue}: every method runs without awaiting, so
 * claims are atomic within the process. Nothing survives a restart (use the
 * Redis queue for that).
 */
export function createMemoryDueQueue(options: { leaseMs: number }): DueQueue {
  const entries = new Map<string, Entry>();
  const queued = (e: Entry) => e.keptUntilMs === undefined;
  const forget = (nowMs: number) => {
    for (const [id, e] of entries) {
      if (e.keptUntilMs !== undefined && e.keptUntilMs <= nowMs) entries.delete(id);
    }
  };
  return {
    async add(items, nowMs) {
      for (const item of items) {
        const had = entries.get(item.id);
        if (had !== undefined && queued(had)) continue;
        entries.set(item.id, {
          body: item.body,
          dueMs: item.dueMs,
          sinceMs: nowMs,
          claim: had?.claim ?? 0,
          leasedUntilMs: undefined,
          keptUntilMs: undefined,
        });
      }
    },
    async claim(nowMs, limit) {
      forget(nowMs);
      const at = (e: Entry) => e.leasedUntilMs ?? e.dueMs;
      const due = [...entries.entries()]
        .filter(([, e]) => queued(e) && at(e) <= nowMs)
        .sort(([, a], [, b]) => at(a) - at(b))
        .slice(0, Math.max(0, limit));
      return due.map(([id, e]): ClaimedItem => {
        e.claim += 1;
        e.leasedUntilMs = nowMs + options.leaseMs;
        return { id, body: e.body, claim: e.claim, sinceMs: e.sinceMs };
      });
    },
    async complete(id, claim, nowMs, keepMs) {
      const e = entries.get(id);
      if (e === undefined || !queued(e) || e.claim !== claim || e.leasedUntilMs === undefined) {
        return false;
      }
      if (keepMs > 0) {
        e.leasedUntilMs = undefined;
        e.keptUntilMs = nowMs + keepMs;
      } else entries.delete(id);
      return true;
    },
    async retry(id, claim, dueMs) {
      const e = entries.get(id);
      if (e === undefined || !queued(e) || e.claim !== claim || e.leasedUntilMs === undefined) {
        return false;
      }
      e.leasedUntilMs = undefined;
      e.dueMs = dueMs;
      return true;
    },
    async replay(id, nowMs) {
      forget(nowMs);
      const e = entries.get(id);
      if (e === undefined || queued(e)) return false;
      e.keptUntilMs = undefined;
      e.dueMs = nowMs;
      e.sinceMs = nowMs;
      e.claim = 0;
      return true;
    },
    async get(id) {
      return entries.get(id)?.body;
    },
    async size() {
      return [...entries.values()].filter(queued).length;
    },
  };
}
