import { OtpError } from "../core/otp-error.js";
import type { EventFeed } from "./event-feed.js";
import type { ServiceEvent } from "./event-types.js";

/** Which events a watcher wants: one tenant or all (undefined), some types or all (empty). */
export interface EventFilter {
  tenantId: string | undefined;
  types: readonly string[];
}

/** Options for {@link watchEvents}. */
export interface WatchEventsOptions {
  /** Aborts when the caller goes away: the watch ends quietly. */
  signal: AbortSignal;
  /** Aborts when the server shuts down: the watch ends with SHUTTING_DOWN. */
  shutdown?: AbortSignal;
  /** The most events held for a slow reader before the watch ends with WATCH_LAGGING; 1000 by default. */
  maxQueued?: number;
  /** How long one announcement of a live watcher lasts; 15 s by default, renewed at a third of it. */
  announceMs?: number;
}

/**
 * Yields the events of the live feed that match `filter`, published by any
 * replica, until the caller leaves or the server stops. A reader that falls
 * `maxQueued` events behind is cut off with WATCH_LAGGING, so memory never
 * grows without bound. While it runs, the process announces a live watcher,
 * so every replica keeps expiry timers for `challenge.expired`.
 */
export async function* watchEvents(
  feed: Pick<EventFeed, "listen" | "announceWatching">,
  filter: EventFilter,
  options: WatchEventsOptions,
): AsyncGenerator<ServiceEvent> {
  const maxQueued = options.maxQueued ?? 1000;
  const announceMs = options.announceMs ?? 15_000;
  const types = new Set(filter.types);
  const queue: ServiceEvent[] = [];
  let overrun = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const stop = await feed.listen((events) => {
    for (const event of events) {
      if (filter.tenantId !== undefined && event.tenantId !== filter.tenantId) continue;
      if (types.size > 0 && !types.has(event.type)) continue;
      if (queue.length >= maxQueued) overrun = true;
      else queue.push(event);
    }
    notify();
  });
  const announce = () => feed.announceWatching(announceMs).catch(() => {});
  // Announced before the first event is awaited: replicas publish within a second of it.
  await announce();
  const renew = setInterval(() => void announce(), Math.max(1000, Math.floor(announceMs / 3)));
  renew.unref();
  options.signal.addEventListener("abort", notify);
  options.shutdown?.addEventListener("abort", notify);
  try {
    for (;;) {
      if (options.signal.aborted) return;
      if (options.shutdown?.aborted) {
        throw new OtpError(
          "SHUTTING_DOWN",
          "this server is shutting down; watch again to reach another",
        );
      }
      if (overrun) {
        throw new OtpError("WATCH_LAGGING", "the watch fell too far behind; watch again");
      }
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearInterval(renew);
    stop();
    options.signal.removeEventListener("abort", notify);
    options.shutdown?.removeEventListener("abort", notify);
  }
}
