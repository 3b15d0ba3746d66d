import { OtpError } from "../core/otp-error.js";
import type { AuditEntry, AuditFilter, AuditTrail } from "./audit-trail.js";

/** Options for {@link watchAudit}. */
export interface WatchAuditOptions {
  /** Aborts when the caller goes away: the watch ends quietly. */
  signal: AbortSignal;
  /** Aborts when the server shuts down: the watch ends with SHUTTING_DOWN, so the client reconnects elsewhere. */
  shutdown?: AbortSignal;
  /** The most entries held for a slow reader before the watch ends with WATCH_LAGGING; 1000 by default. */
  maxQueued?: number;
}

/**
 * Yields the entries of the trail that match `filter` as they are appended,
 * on any replica, until the caller leaves or the server stops. A reader that
 * falls `maxQueued` entries behind is cut off with WATCH_LAGGING rather than
 * holding memory without bound; it lists what it missed with `since`.
 *
 * @example
 * for await (const entry of watchAudit(trail, { tenantId }, { signal })) console.log(entry.action);
 */
export async function* watchAudit(
  trail: Pick<AuditTrail, "watch">,
  filter: AuditFilter,
  options: WatchAuditOptions,
): AsyncGenerator<AuditEntry> {
  const maxQueued = options.maxQueued ?? 1000;
  const queue: AuditEntry[] = [];
  let overrun = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const stop = await trail.watch(filter, (entry) => {
    if (queue.length >= maxQueued) overrun = true;
    else queue.push(entry);
    notify();
  });
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
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (overrun) {
        throw new OtpError(
          "WATCH_LAGGING",
          "the watch fell too far behind; watch again and list what was missed",
        );
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stop();
    options.signal.removeEventListener("abort", notify);
    options.shutdown?.removeEventListener("abort", notify);
  }
}
