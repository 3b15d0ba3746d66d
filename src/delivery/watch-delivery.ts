import { setTimeout as sleep } from "node:timers/promises";
import type { ChannelKind } from "../core/channel-kind.js";
import type { DeliveryEventRecord, DeliveryStore } from "./delivery-store.js";
import { deliveryIdOf, isSettled } from "./delivery-view.js";
import { deliveryErrors } from "./errors.js";

/** What {@link watchDelivery} reads and waits on. */
export interface WatchDeps {
  store: Pick<DeliveryStore, "getDelivery">;
  now: () => number;
  /** How often the store is read, in milliseconds. */
  pollMs: number;
  /** The longest a watch stays open, in milliseconds. */
  maxMs: number;
  /** Aborts when the server shuts down: open watches then end with SHUTTING_DOWN. */
  shutdown?: AbortSignal;
  /** Tells whether a provider reports further statuses for a message it accepted. */
  reportsStatus?: (channel: ChannelKind) => boolean;
}

/**
 * Yields the delivery's events, the past ones first, then new ones as the
 * store records them (read every `pollMs`, so events recorded by any replica
 * show up), until the delivery reaches a final status, nothing more can
 * happen to it, `signal` aborts or `maxMs` passes; at shutdown it fails with
 * SHUTTING_DOWN.
 */
export async function* watchDelivery(
  deps: WatchDeps,
  rawId: string,
  signal: AbortSignal,
): AsyncGenerator<DeliveryEventRecord> {
  const { store, now, shutdown } = deps;
  const id = deliveryIdOf(rawId);
  let record = await store.getDelivery(id, now());
  if (record === undefined) throw deliveryErrors.notFound();
  const deadline = performance.now() + deps.maxMs;
  const wait = shutdown === undefined ? signal : AbortSignal.any([signal, shutdown]);
  let sent = 0;
  for (;;) {
    while (sent < record.events.length) {
      yield record.events[sent] as DeliveryEventRecord;
      sent += 1;
    }
    if (isSettled(record, deps.reportsStatus) || signal.aborted) return;
    if (shutdown?.aborted === true) throw deliveryErrors.shuttingDown();
    const left = deadline - performance.now();
    if (left <= 0) return;
    try {
      await sleep(Math.min(deps.pollMs, left), undefined, { signal: wait });
    } catch {
      if (signal.aborted) return; // the client went away
      throw deliveryErrors.shuttingDown();
    }
    const next = await store.getDelivery(id, now());
    if (next === undefined) return; // forgotten after its retention
    record = next;
  }
}
