import { OtpError } from "./otp-error.js";

/** Options for {@link StoreUnavailableError}. */
export interface StoreUnavailableOptions {
  /** The driver's error, kept for logs only. */
  cause: unknown;
  /**
   * True when the node holding the key could not be reached (down, timed
   * out, its slots uncovered), false for any other failure.
   */
  unreachable: boolean;
}

/**
 * A store call that failed for a reason outside the caller's control. The
 * client sees `unavailable` with reason `STORE_UNAVAILABLE` and a retry delay
 * of 1 s, whatever the cause; `unreachable` tells the service's own code
 * whether the key's node was out of reach, which a per-IP limit may treat as
 * "no counter" (see the rate-limit interceptor) and nothing else may.
 *
 * @example
 * throw new StoreUnavailableError({ cause: err, unreachable: isUnreachableError(err) });
 */
export class StoreUnavailableError extends OtpError {
  readonly unreachable: boolean;

  constructor(options: StoreUnavailableOptions) {
    super("STORE_UNAVAILABLE", "the store is unavailable; retry shortly", {
      cause: options.cause,
      retryAfterMs: 1000,
    });
    this.unreachable = options.unreachable;
  }
}

/**
 * Tells whether `err` is a store failure because the node holding the key
 * could not be reached, as opposed to any other failure.
 */
export function isStoreUnreachable(err: unknown): boolean {
  return err instanceof StoreUnavailableError && err.unreachable;
}
