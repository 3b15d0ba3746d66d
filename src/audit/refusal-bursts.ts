import type { SecurityEvent } from "./audit-recorder.js";

/** Options for {@link createRefusalBursts}. */
export interface RefusalBurstOptions {
  /** Refusals of one reason for one tenant within a window that make a burst. */
  threshold: number;
  /** The window refusals are counted in, and the shortest time between two reports of one burst. */
  windowMs: number;
  /** Told of each burst; the audit recorder writes it once per window across replicas. */
  onBurst: (event: SecurityEvent) => void;
  now?: () => number;
  /** The most tenant and reason pairs counted at once; the oldest window is dropped first. */
  maxTracked?: number;
}

/** Counts refusals and reports bursts of them (see {@link createRefusalBursts}). */
export interface RefusalBursts {
  /** Counts one refusal with `reason` for `tenantId` ("" when the caller had no tenant). */
  refused(reason: string, tenantId: string): void;
}

/**
 * Turns refusals (rate limits, quotas, refused credentials) into audit
 * entries when they come in bursts: `threshold` refusals of one reason for
 * one tenant within a fixed window report one `refusals.burst` event with
 * the count so far. Counting is in process memory and costs nothing on calls
 * that are not refused; each replica reports its own bursts, and the audit
 * recorder keeps one entry per reason and tenant per window across replicas.
 *
 * @example
 * const bursts = createRefusalBursts({ threshold: 20, windowMs: 60_000, onBurst: audit.recordSecurityEvent });
 * bursts.refused("RATE_LIMITED", "ten_1");
 */
export function createRefusalBursts(options: RefusalBurstOptions): RefusalBursts {
  const now = options.now ?? Date.now;
  const max = options.maxTracked ?? 10_000;
  const windows = new Map<string, { startMs: number; count: number }>();
  return {
    refused(reason, tenantId) {
      const at = now();
      const key = `${tenantId}\0${reason}`;
      let w = windows.get(key);
      if (w === undefined || at - w.startMs >= options.windowMs) {
        if (w === undefined && windows.size >= max) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
        w = { startMs: at, count: 0 };
        windows.delete(key);
        windows.set(key, w);
      }
      w.count += 1;
      if (w.count !== options.threshold) return;
      options.onBurst({
        actor: { kind: "system", id: "refusals" },
        tenantId,
        action: "refusals.burst",
        target: reason,
        outcome: "refused",
        details: { count: String(w.count), windowSeconds: String(options.windowMs / 1000) },
      });
    },
  };
}
