import { LRUCache } from "lru-cache";
import type { AuditInput, AuditTrail } from "./audit-trail.js";

/** A security event as other parts report it; what is left out reads empty (details: none, outcome: "refused"). */
export type SecurityEvent = Pick<AuditInput, "actor" | "tenantId" | "action" | "target"> &
  Partial<Pick<AuditInput, "outcome" | "requestId" | "sourceAddress" | "details">>;

/** Writes to the audit trail on behalf of the service's parts. */
export interface AuditRecorder {
  /**
   * Appends an admin change, waiting for the write; a failed write is
   * reported to `onError` and never fails the change, which has happened.
   */
  record(input: AuditInput): Promise<void>;
  /**
   * Appends a security event (a refused key, a failed sign-in, a lock-out)
   * without waiting, at most once per action and target per `windowMs`
   * across all replicas (one per key and minute by default), so a flood of
   * refused calls writes a bounded number of entries. Each process first
   * filters in memory, so a flood costs one store claim per window, not one
   * per call.
   */
  recordSecurityEvent(event: SecurityEvent): void;
}

/** Options for {@link createAuditRecorder}. */
export interface AuditRecorderOptions {
  trail: Pick<AuditTrail, "append" | "claimOnce">;
  /** The shortest time between two entries for one action and target; one minute by default. */
  windowMs?: number;
  /** The most distinct action and target pairs remembered for that. */
  maxTracked?: number;
  onError?: (err: unknown) => void;
}

/**
 * Makes the recorder the service's parts share. Its `recordSecurityEvent`
 * is what the console's sign-in and lock-outs call.
 *
 * @example
 * const audit = createAuditRecorder({ trail });
 * audit.recordSecurityEvent({ actor: { kind: "system", id: "console" }, tenantId: "",
 *   action: "signin.failed", target: "console", sourceAddress: maskAddress(ip) });
 */
export function createAuditRecorder(options: AuditRecorderOptions): AuditRecorder {
  const windowMs = options.windowMs ?? 60_000;
  // ttlResolution 0: no timer per millisecond while a burst of refusals is
  // being told apart (see the key cache, cached-admin-store.ts).
  const recent = new LRUCache<string, true>({
    max: options.maxTracked ?? 10_000,
    ttl: windowMs,
    ttlResolution: 0,
  });
  const append = async (input: AuditInput) => {
    try {
      await options.trail.append(input);
    } catch (err) {
      options.onError?.(err);
    }
  };
  return {
    record: append,
    recordSecurityEvent(event) {
      const key = `${event.action}:${event.target}`.slice(0, 200);
      if (recent.has(key)) return;
      recent.set(key, true);
      const entry: AuditInput = {
        outcome: "refused",
        requestId: "",
        sourceAddress: "unknown",
        details: {},
        ...event,
      };
      void options.trail.claimOnce(key, windowMs).then(
        (first) => (first ? append(entry) : undefined),
        (err: unknown) => options.onError?.(err),
      );
    },
  };
}
