import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { type OtpErrorReason, otpErrorDomain } from "./reasons.js";

// Marks OtpError instances, so that `instanceof` also works when an
// application ends up with two copies of the SDK.
const brand = Symbol.for("@otp/sdk/OtpError");

/**
 * The error every SDK client call rejects with. It is a `ConnectError` (so
 * `err.code`, `err.metadata` and `err.findDetails()` work as usual, and
 * `err.name` stays `"ConnectError"` for Connect's own checks) with the
 * service's typed details read out:
 *
 * - `reason`: the `ErrorInfo` reason, such as `"RATE_LIMITED"`; `undefined`
 *   when the error did not come from the service itself (a network failure,
 *   a deadline, a proxy's error page);
 * - `retryDelayMs`: the `RetryInfo` delay, set on limits;
 * - `info`: the `ErrorInfo` metadata, for example `{ field: "ttl_seconds" }`.
 *
 * @example
 * try {
 *   await otp.resend({ id });
 * } catch (err) {
 *   if (isOtpError(err, "RESEND_COOLDOWN")) showCountdown(err.retryDelayMs ?? 30_000);
 *   else throw err;
 * }
 */
export class OtpError extends ConnectError {
  /** The machine-readable reason from the `ErrorInfo` detail, if the service sent one. */
  readonly reason: OtpErrorReason | (string & {}) | undefined;
  /** How long to wait before trying again, from the `RetryInfo` detail, in milliseconds. */
  readonly retryDelayMs: number | undefined;
  /** Safe, machine-readable facts from the `ErrorInfo` detail, such as the field at fault. */
  readonly info: Readonly<Record<string, string>>;

  /**
   * Creates an error; clients make these from what the service sent, and
   * tests may make their own.
   *
   * @example
   * new OtpError("slow down", Code.ResourceExhausted, { reason: "RATE_LIMITED", retryDelayMs: 1000 });
   */
  constructor(
    message: string,
    code: Code = Code.Unknown,
    options: {
      reason?: string;
      retryDelayMs?: number;
      info?: Record<string, string>;
      metadata?: ConstructorParameters<typeof ConnectError>[2];
      cause?: unknown;
    } = {},
  ) {
    super(message, code, options.metadata, undefined, options.cause);
    this.reason = options.reason;
    this.retryDelayMs = options.retryDelayMs;
    this.info = Object.freeze({ ...options.info });
    Object.defineProperty(this, brand, { value: true });
  }

  /** True for errors made by this class, in any copy of the SDK. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && brand in value;
  }
}

/**
 * Turns anything a call threw into an {@link OtpError}, reading the
 * `ErrorInfo` and `RetryInfo` details. SDK clients do this for you; use it
 * for errors from a raw Connect client or transport.
 *
 * @example
 * const err = toOtpError(caught);
 * console.log(err.code, err.reason, err.retryDelayMs);
 */
export function toOtpError(err: unknown): OtpError {
  if (err instanceof OtpError) return err;
  const connectError = ConnectError.from(err);
  const info = connectError
    .findDetails(ErrorInfoSchema)
    .find((detail) => detail.domain === otpErrorDomain);
  const otpError = new OtpError(connectError.rawMessage, connectError.code, {
    reason: info?.reason,
    info: info?.metadata,
    retryDelayMs: retryDelayMsOf(connectError),
    metadata: connectError.metadata,
    cause: connectError.cause,
  });
  otpError.details = connectError.details;
  if (connectError.stack !== undefined) otpError.stack = connectError.stack;
  return otpError;
}

/**
 * Tells whether `err` is an {@link OtpError} and, when a reason is given,
 * whether it carries that reason. Narrows the type, so `err.retryDelayMs`
 * and `err.info` are at hand.
 *
 * @example
 * if (isOtpError(err, "RATE_LIMITED")) {
 *   retryAt = Date.now() + (err.retryDelayMs ?? 60_000);
 * }
 */
export function isOtpError(err: unknown): err is OtpError;
export function isOtpError<R extends OtpErrorReason>(
  err: unknown,
  reason: R,
): err is OtpError & { readonly reason: R };
export function isOtpError(err: unknown, reason?: OtpErrorReason): err is OtpError {
  return err instanceof OtpError && (reason === undefined || err.reason === reason);
}

/** Reads the `RetryInfo` delay of an error, in milliseconds (internal to the SDK). */
export function retryDelayMsOf(error: ConnectError): number | undefined {
  const delay = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  if (delay === undefined) return undefined;
  return Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1_000_000);
}
