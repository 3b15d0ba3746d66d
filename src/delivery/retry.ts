import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pRetry, { AbortError } from "p-retry";
import type { RetryPolicy } from "../config/index.js";
import type { ChannelKind } from "../core/channel-kind.js";
import { DeliveryError, isDeliveryError } from "./delivery-error.js";

// The policy's shape is the configuration's (DELIVERY_RETRY_*), so config/ owns it.
export type { RetryPolicy };

/** The policy used unless a channel is given another: up to 4 attempts within 10 seconds. */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  maxTotalMs: 10_000,
};

/**
 * A policy narrowed for one send: at most `maxTotalMs` and `maxAttempts`
 * when they are given and smaller than the policy's own.
 *
 * @example
 * narrowPolicy(defaultRetryPolicy, { maxTotalMs: 3_000 }).maxTotalMs; // 3000
 */
export function narrowPolicy(
  policy: RetryPolicy,
  limits: { maxTotalMs?: number; maxAttempts?: number } = {},
): RetryPolicy {
  return {
    ...policy,
    maxTotalMs: Math.min(policy.maxTotalMs, limits.maxTotalMs ?? Number.POSITIVE_INFINITY),
    maxAttempts: Math.max(
      1,
      Math.min(policy.maxAttempts, limits.maxAttempts ?? Number.POSITIVE_INFINITY),
    ),
  };
}

/** What one attempt gets to work with. */
export interface AttemptContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts when the total time is up or the caller cancels; pass it to the SDK call. */
  signal: AbortSignal;
  /** Time left before the total time is up. */
  remainingMs(): number;
}

/** Options for {@link withRetry}. */
export interface WithRetryOptions {
  /** The channel, for the errors raised here. */
  channel: ChannelKind;
  /** Cancels the send (for example at shutdown). */
  signal?: AbortSignal;
  /** Called before each wait, for logs and metrics. */
  onRetry?: (err: DeliveryError, attempt: number, delayMs: number) => void;
  /** Draws a whole number in [0, maxExclusive); `crypto.randomInt` by default. */
  random?: (maxExclusive: number) => number;
}

/**
 * Runs `attempt` until it succeeds, retrying {@link DeliveryError}s marked
 * retryable with exponential backoff and full jitter: before retry n the wait
 * is drawn uniformly from [0, min(maxDelayMs, baseDelayMs * 2^(n-1))], and is
 * at least the provider's `retryAfterMs`. A permanent error fails at once. It
 * gives up with the last error when attempts or time run out, or when the
 * provider asks for a wait longer than the time left.
 *
 * Any other error thrown by `attempt` is a bug in the adapter (it should have
 * classified it) and fails at once as a permanent "INTERNAL", without its
 * message, which could quote a request body.
 *
 * @example
 * const sid = await withRetry((ctx) => sendOnce(ctx.signal), policy, { channel: "sms" });
 */
export async function withRetry<T>(
  attempt: (context: AttemptContext) => Promise<T>,
  policy: RetryPolicy,
  options: WithRetryOptions,
): Promise<T> {
  const random = options.random ?? randomInt;
  const started = performance.now();
  const remainingMs = () => policy.maxTotalMs - (performance.now() - started);
  const deadline = AbortSignal.timeout(Math.max(1, Math.ceil(policy.maxTotalMs)));
  const signal =
    options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
  let attempts = 0;
  try {
    return await pRetry(
      async (n) => {
        attempts = n;
        try {
          return await attempt({ attempt: n, signal, remainingMs });
        } catch (err) {
          const classified = classify(err, options.channel, signal, options.signal);
          // p-retry stops at once on AbortError and rethrows the error inside.
          if (!classified.retryable) throw new AbortError(classified);
          throw classified;
        }
      },
      {
        retries: policy.maxAttempts - 1,
        // p-retry's own waits are off (its `randomize` jitters between 1x and
        // 2x, not full jitter, and cannot honour Retry-After); the wait happens
        // in shouldRetry below, which p-retry awaits before the next attempt.
        minTimeout: 0,
        randomize: false,
        maxRetryTime: policy.maxTotalMs,
        signal: options.signal,
        unref: true,
        shouldRetry: async ({ error, retriesConsumed }) => {
          if (!isDeliveryError(error)) return false;
          const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retriesConsumed);
          const delayMs = Math.max(random(Math.floor(window) + 1), error.retryAfterMs ?? 0);
          if (delayMs >= remainingMs()) return false;
          options.onRetry?.(error, retriesConsumed + 1, delayMs);
          if (delayMs > 0) {
            try {
              await sleep(delayMs, undefined, { signal, ref: false });
            } catch {
              return false;
            }
          }
          return true;
        },
      },
    );
  } catch (err) {
    const final = classify(err, options.channel, signal, options.signal);
    final.attempts = Math.max(attempts, 1);
    throw final;
  }
}

function classify(
  err: unknown,
  channel: ChannelKind,
  signal: AbortSignal,
  callerSignal: AbortSignal | undefined,
): DeliveryError {
  if (callerSignal?.aborted === true) {
    return new DeliveryError(channel, "DELIVERY_CANCELED", { retryable: true });
  }
  // A call cut short by the time budget fails as whatever the SDK made of
  // the abort (often a network error); the reason is the timeout.
  if (signal.aborted && (!isDeliveryError(err) || err.retryable)) {
    return new DeliveryError(channel, "PROVIDER_TIMEOUT", { retryable: true });
  }
  if (isDeliveryError(err)) return err;
  return new DeliveryError(channel, "INTERNAL", { retryable: false });
}
