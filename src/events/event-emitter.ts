import type { EventFeed } from "./event-feed.js";
import { type EventData, type EventType, newEvent, type ServiceEvent } from "./event-types.js";

/** Emits events without waiting: what the domains' emission points call. */
export interface EventSink {
  /** Buffers one event; never awaits, never touches the store. */
  emit(type: EventType, tenantId: string, data: EventData): void;
}

/** The process's event buffer: a sink, flushed in batches on a timer. */
export interface EventEmitter extends EventSink {
  /** Writes what is buffered now (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops the timer and flushes what is left. */
  close(): Promise<void>;
}

/** Options for {@link createEventEmitter}. */
export interface EventEmitterOptions {
  /** The live feed WatchEvents reads on every replica; written only while any replica has a watcher. */
  feed: Pick<EventFeed, "publish" | "watched">;
  /** Queues webhook messages and expiry timers for a batch (see webhook-fanout.ts). */
  fanout: (events: readonly ServiceEvent[]) => Promise<void>;
  /** How often the buffer is written; 150 ms by default. */
  flushMs?: number;
  /** The most events held while the store cannot be written; the oldest are dropped beyond it. */
  maxBuffered?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
  /** Told how many events were dropped because the buffer was full. */
  onDropped?: (count: number) => void;
  /**
   * False when nobody could receive an event of `type` for `tenantId` (no
   * endpoint takes it, nobody watches), as far as is known without I/O:
   * such an event is not made at all. Every event is kept without it.
   */
  heard?: (type: EventType, tenantId: string) => boolean;
}

/**
 * Buffers events in process memory and writes them in one batch every
 * `flushMs`: one publish to the live feed (while any replica has a watcher,
 * see {@link EventFeed.watched}) and one enqueue of the
 * webhook messages the batch makes. Emission costs the caller an array push: no
 * store command, no await; and an event nobody could receive (`heard`) is
 * not even made, so a tenant without endpoints, unwatched, costs a check. A
 * batch whose enqueue fails stays buffered and is tried again at the next
 * flush, up to `maxBuffered` events.
 *
 * The crash window: events emitted less than `flushMs` before the process
 * dies are lost with it, although the state change they describe happened
 * (see docs/webhooks.md).
 *
 * @example
 * const events = createEventEmitter({ feed, fanout });
 * events.emit("challenge.verified", tenantId, { challenge_id: id });
 */
export function createEventEmitter(options: EventEmitterOptions): EventEmitter {
  const now = options.now ?? Date.now;
  const maxBuffered = options.maxBuffered ?? 100_000;
  let buffer: ServiceEvent[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;
  const watched = () => options.feed.watched().catch(() => true);

  const write = async () => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    // The live feed is best effort, and written only while someone, on any replica, watches.
    if (await watched())
      options.feed.publish(batch).catch((err: unknown) => options.onError?.(err));
    try {
      await options.fanout(batch);
    } catch (err) {
      options.onError?.(err);
      // Kept for the next flush: webhook delivery is at least once.
      buffer = batch.concat(buffer);
      trim();
    }
  };
  const trim = () => {
    const over = buffer.length - maxBuffered;
    if (over > 0) {
      buffer.splice(0, over);
      options.onDropped?.(over);
    }
  };
  const flush = () => {
    flushing ??= write().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.flushMs ?? 150);
  timer.unref();
  return {
    emit(type, tenantId, data) {
      if (closed || options.heard?.(type, tenantId) === false) return;
      buffer.push(newEvent(type, tenantId, now(), data));
      if (buffer.length > maxBuffered) trim();
    },
    async flush() {
      await flushing;
      await flush();
    },
    async close() {
      clearInterval(timer);
      await flushing;
      await flush();
      closed = true;
    },
  };
}
