import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { retryDelayMsOf } from "./otp-error.js";

/**
 * How {@link createRetryInterceptor} retries. Every field has a default.
 *
 * @example
 * const otp = createOtpClient({ baseUrl, protocol: "grpc", retry: { maxAttempts: 5, maxDelayMs: 5_000 } });
 */
export interface RetryOptions {
  /** Attempts in all, the first included. Defaults to 3; 1 turns retries off. */
  maxAttempts?: number;
  /** The delay before the first retry, before jitter. Defaults to 100 ms. */
  initialDelayMs?: number;
  /** The largest delay between two attempts. Defaults to 2,000 ms. */
  maxDelayMs?: number;
}

/**
 * Retries a call that failed with `unavailable` (the service, its store or a
 * network hop was briefly down), with exponential backoff and jitter, but
 * only when repeating the call cannot do anything twice:
 *
 * - methods the contract marks `NO_SIDE_EFFECTS` or `IDEMPOTENT`
 *   (`GetChallenge`, `ListChannels`, `ListOutbox`);
 * - calls whose request carries a non-empty `idempotency_key`
 *   (`Generate` with a key: the service returns the same challenge again).
 *
 * Everything else is tried once: `Verify` (a repeated wrong guess would
 * cost a second attempt), `Resend` (a second code and a second send),
 * `Cancel`, and `Generate` without a key. Other codes are never retried:
 * `resource_exhausted` means the caller must wait, which the error says
 * for how long. Retries share the call's deadline and stop when it is
 * reached or the call is aborted. SDK clients include this interceptor.
 *
 * @example
 * const transport = createGrpcTransport({
 *   baseUrl: "http://localhost:8080",
 *   interceptors: [createRetryInterceptor({ maxAttempts: 5 })],
 * });
 */
export function createRetryInterceptor(options: RetryOptions = {}): Interceptor {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
  const initialDelayMs = Math.max(0, options.initialDelayMs ?? 100);
  const maxDelayMs = Math.max(initialDelayMs, options.maxDelayMs ?? 2_000);
  return (next) => async (req) => {
    if (req.stream || maxAttempts === 1 || !isSafeToRetry(req)) {
      return next(req);
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await next(req);
      } catch (err) {
        const error = ConnectError.from(err);
        if (error.code !== Code.Unavailable || attempt >= maxAttempts || req.signal.aborted) {
          throw err;
        }
        const serverDelayMs = retryDelayMsOf(error) ?? 0;
        const delayMs = Math.max(
          serverDelayMs,
          backoffDelayMs(attempt, initialDelayMs, maxDelayMs, randomFraction()),
        );
        await sleep(delayMs, req.signal);
      }
    }
  };
}

/**
 * The delay before retry number `attempt` (1 for the first retry):
 * exponential growth capped at `maxDelayMs`, then "equal jitter", a random
 * point in the upper half, so that clients that failed together do not come
 * back together and no retry comes back at once.
 *
 * @example
 * backoffDelayMs(3, 100, 2_000, 0.5); // 300: half of 400, plus half of that half
 */
export function backoffDelayMs(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random: number,
): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/**
 * Tells whether a call may be sent again without risk of doing something
 * twice; see {@link createRetryInterceptor}.
 *
 * @example
 * isSafeToRetry({ method: OtpService.method.getChallenge, message }); // true
 */
export function isSafeToRetry(req: Pick<UnaryRequest, "method" | "message">): boolean {
  const level = req.method.idempotency;
  if (
    level === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    level === MethodOptions_IdempotencyLevel.IDEMPOTENT
  ) {
    return true;
  }
  const keyField = req.method.input.fields.find((field) => field.name === "idempotency_key");
  if (keyField === undefined) return false;
  const key = (req.message as Record<string, unknown>)[keyField.localName];
  return typeof key === "string" && key !== "";
}

// Web Crypto exists in browsers and in Node 20 alike; the service bans
// Math.random, and so does its SDK.
function randomFraction(): number {
  const [value = 0] = globalThis.crypto.getRandomValues(new Uint32Array(1));
  return value / 2 ** 32;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
