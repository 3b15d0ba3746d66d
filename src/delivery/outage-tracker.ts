import type { DeliveryError } from "./delivery-error.js";

/** Remembers whether a provider failed recently, for `Channel.healthy()`. */
export interface OutageTracker {
  /** Records a send that the provider accepted. */
  succeeded(): void;
  /** Records a failed send; only retryable failures (the provider's fault) count. */
  failed(err: DeliveryError): void;
  /** False while the last send ended in a provider failure less than `coolDownMs` ago. */
  healthy(): boolean;
}

/**
 * Creates an {@link OutageTracker}. Health is passive, from real sends, so
 * ListChannels costs no provider calls and a permanent error about one
 * recipient never marks the whole channel unhealthy.
 */
export function createOutageTracker(
  coolDownMs = 30_000,
  now: () => number = Date.now,
): OutageTracker {
  let outageAtMs: number | undefined;
  return {
    succeeded() {
      outageAtMs = undefined;
    },
    failed(err) {
      if (err.retryable && err.reason !== "DELIVERY_CANCELED") outageAtMs = now();
    },
    healthy: () => outageAtMs === undefined || now() - outageAtMs >= coolDownMs,
  };
}
