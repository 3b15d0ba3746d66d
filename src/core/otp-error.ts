import type { Reason } from "./reasons.js";

/** Details an {@link OtpError} may carry to the client. */
export interface OtpErrorOptions {
  /** The request field at fault, for input errors (for example `ttl_seconds`). */
  field?: string;
  /** How long the client should wait before retrying, for limits. */
  retryAfterMs?: number;
  /** Further safe, machine-readable facts; never codes, secrets or full recipients. */
  metadata?: Record<string, string>;
  /** The underlying error, kept for logs only and never sent to the client. */
  cause?: unknown;
}

/**
 * An error the domain raises on purpose. Its message is written for a client to
 * read, so it must never include a code, secret or recipient.
 *
 * @example
 * throw new OtpError("TTL_INVALID", "ttl_seconds must be between 1 and 3600", { field: "ttl_seconds" });
 */
export class OtpError extends Error {
  override readonly name = "OtpError";
  readonly reason: Reason;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly metadata: Record<string, string>;

  constructor(reason: Reason, message: string, options: OtpErrorOptions = {}) {
    // A refusal the domain makes on purpose (a limit, a wrong code, a bad
    // field) gets no stack trace: capturing one, through the call's awaits,
    // cost more than ten microseconds a refusal, paid on every call of a
    // flood that limits refuse. One that wraps a cause keeps its trace.
    const stackTraceLimit = Error.stackTraceLimit;
    if (options.cause === undefined) Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.reason = reason;
    this.field = options.field;
    this.retryAfterMs = options.retryAfterMs;
    this.metadata = options.metadata ?? {};
  }
}

/** Tells whether `err` is an {@link OtpError}, optionally with the given reason. */
export function isOtpError(err: unknown, reason?: Reason): err is OtpError {
  return err instanceof OtpError && (reason === undefined || err.reason === reason);
}
