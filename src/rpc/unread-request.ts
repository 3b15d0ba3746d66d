import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { Reason } from "../core/reasons.js";
import { connectErrorFor } from "./to-connect-error.js";

/** The log level of an answer the RPC handler gives itself. */
export type Level = "info" | "warn";
/** Logs, counts and encodes an answer the RPC handler gives itself. */
export type Answer = (
  error: ConnectError,
  reason: Reason | undefined,
  level: Level,
) => UniversalServerResponse;

/** The error of a call whose client went away before it was read. */
export const canceled = (): ConnectError =>
  new ConnectError("the call was canceled", Code.Canceled);

/**
 * A request that could not be read (too large, malformed, cut off, a bad
 * deadline) answered as the caller's error: `resource_exhausted` or
 * `invalid_argument` with a reason, naming the offending JSON field when
 * there is one; `canceled` when the client went away.
 *
 * @example
 * return answerUnread(ConnectError.from(err), answer);
 */
export function answerUnread(error: ConnectError, answer: Answer): UniversalServerResponse {
  if (error.code === Code.Canceled) return answer(canceled(), undefined, "info");
  const reason = requestReason(error.code);
  const field = fieldOf(error.rawMessage);
  const message =
    field === undefined
      ? requestMessage(reason)
      : `field "${field}" is unknown or has an invalid value`;
  return answer(
    connectErrorFor(reason, message, field === undefined ? {} : { field }),
    reason,
    "warn",
  );
}

// What a failure while reading a request means for the caller.
function requestReason(code: Code): Reason {
  if (code === Code.ResourceExhausted) return "REQUEST_TOO_LARGE";
  if (code === Code.Unimplemented) return "ENCODING_UNSUPPORTED";
  return "REQUEST_MALFORMED";
}

/**
 * The field a JSON decoding error names (protobuf-es says `key "ttlSecondz"
 * is unknown` or `cannot decode field otp.v1.GenerateRequest.alphabet`). Only
 * the name is kept: the rest of the text can quote the value sent, which may
 * be a code.
 */
export function fieldOf(message: string): string | undefined {
  const unknownKey = /key "([A-Za-z0-9_.-]{1,64})" is unknown/.exec(message);
  if (unknownKey !== null) return unknownKey[1];
  return /decode field [A-Za-z0-9_.]*\.([A-Za-z0-9_]{1,64}) from JSON/.exec(message)?.[1];
}

// The body is never echoed: it may hold a code or a recipient.
function requestMessage(reason: Reason): string {
  switch (reason) {
    case "REQUEST_TOO_LARGE":
      return "the request message is larger than this server accepts";
    case "ENCODING_UNSUPPORTED":
      return "the request uses a compression this server does not accept";
    default:
      return "the request message could not be read as the method's input";
  }
}
