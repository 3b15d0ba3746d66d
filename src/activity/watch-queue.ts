import type { ActivityEvent } from "./activity-event.js";

/** What a watcher reads next: an event, or none when it waited long enough (a heartbeat), and what was dropped before it. */
export interface WatchItem {
  event: ActivityEvent | undefined;
  /** Events left out for this watcher since its previous item. */
  dropped: number;
}

/**
 * One watcher's buffer: at most `capacity` events wait for a slow reader;
 * beyond that new events are dropped and counted, and the count goes out
 * with the next item. Memory never grows past the capacity.
 */
export interface WatchQueue {
  push(event: ActivityEvent): void;
  /** Counts events dropped upstream, for the next item. */
  drop(count: number): void;
  /**
   * The next item: an event as soon as one is queued, or an item without an
   * event after `waitMs` (or once `signal` aborts).
   */
  next(waitMs: number, signal: AbortSignal): Promise<WatchItem>;
}

/** Creates a {@link WatchQueue} holding at most `capacity` events. */
export function createWatchQueue(capacity: number): WatchQueue {
  const items: ActivityEvent[] = [];
  let head = 0;
  let dropped = 0;
  let wake: (() => void) | undefined;
  const take = (): WatchItem => {
    const event = head < items.length ? items[head++] : undefined;
    if (head > 256 && head * 2 > items.length) {
      items.splice(0, head);
      head = 0;
    }
    const item = { event, dropped };
    dropped = 0;
    return item;
  };
  return {
    push(event) {
      if (items.length - head >= capacity) dropped += 1;
      else items.push(event);
      wake?.();
    },
    drop(count) {
      dropped += count;
      wake?.();
    },
    async next(waitMs, signal) {
      if (head < items.length || dropped > 0 || signal.aborted) return take();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        signal.addEventListener("abort", done);
        wake = done;
      });
      return take();
    },
  };
}
