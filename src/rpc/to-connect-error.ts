import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb.js";
import type { OtpError } from "../core/otp-error.js";
import { errorDomain, type Reason, reasonCodes } from "../core/reasons.js";

/**
 * Turns a domain error into the ConnectError a client sees: the code from the
 * reason table, an `ErrorInfo` detail with the reason, and a `RetryInfo`
 * detail when the client should wait.
 */
export function toConnectError(err: OtpError): ConnectError {
  const metadata: Record<string, string> = { ...err.metadata };
  if (err.field !== undefined) metadata.field = err.field;
  return connectErrorFor(err.reason, err.message, metadata, err.retryAfterMs);
}

/**
 * What a method threw, as the error its client is sent: a ConnectError as it
 * is, anything else `internal` with the error kept as its cause (what
 * Connect's own handlers do).
 *
 * @example
 * setTrailerStatus(trailer, asConnectError(err));
 */
export function asConnectError(err: unknown): ConnectError {
  return err instanceof ConnectError
    ? err
    : new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

/** Builds a ConnectError for a reason, with its typed details. */
export function connectErrorFor(
  reason: Reason,
  message: string,
  metadata: Record<string, string> = {},
  retryAfterMs?: number,
): ConnectError {
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, { reason, domain: errorDomain, metadata }),
    },
  ];
  // A refused field is also told the standard way, for clients that read
  // google.rpc.BadRequest rather than our ErrorInfo metadata.
  if (metadata.field !== undefined && reasonCodes[reason] === Code.InvalidArgument) {
    details.push({
      desc: BadRequestSchema,
      value: create(BadRequestSchema, {
        fieldViolations: [{ field: metadata.field, description: message, reason }],
      }),
    });
  }
  if (retryAfterMs !== undefined) {
    details.push({
      desc: RetryInfoSchema,
      value: create(RetryInfoSchema, {
        retryDelay: durationFromMs(Math.max(0, Math.ceil(retryAfterMs))),
      }),
    });
  }
  // What the client is told, not where it was thrown: no stack trace (see
  // OtpError's constructor for what one costs).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ConnectError(message, reasonCodes[reason], undefined, details);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
