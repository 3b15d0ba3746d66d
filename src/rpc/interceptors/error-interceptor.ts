import { randomUUID } from "node:crypto";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type Interceptor,
} from "@connectrpc/connect";
import { isOtpError, OtpError } from "../../core/otp-error.js";
import type { Reason } from "../../core/reasons.js";
import type { Logger } from "../../telemetry/logger.js";
import { callerKey } from "../caller.js";
import { procedureName } from "../procedure-name.js";
import { connectErrorFor, toConnectError } from "../to-connect-error.js";

/** The response header and error metadata key that carries the request id. */
export const requestIdHeader = "x-request-id";

/**
 * What the RPC handler knows of a call before its body is read: the request
 * id every answer carries, and whether the call reached the interceptors (a
 * call that did not failed while its body was read or parsed).
 */
export interface CallState {
  requestId: string;
  intercepted: boolean;
}

/** The context key of the {@link CallState}; undefined outside the RPC handler (in-memory tests). */
export const callStateKey = createContextKey<CallState | undefined>(undefined, {
  description: "call state",
});

/**
 * The outermost interceptor. Gives every call a request id, turns domain
 * errors into Connect errors with typed details, passes Connect errors
 * through, and turns anything else into an opaque `internal` error that names
 * only the request id: a raw message may hold data a client must not see.
 */
export function createErrorInterceptor(
  logger: Logger,
  onReason?: (reason: Reason, procedure: string, tenantId?: string) => void,
): Interceptor {
  const convert = (
    err: unknown,
    requestId: string,
    procedure: string,
    call: { signal: AbortSignal; contextValues: ContextValues },
  ): ConnectError => {
    let out: ConnectError;
    if (isOtpError(err)) {
      onReason?.(err.reason, procedure, call.contextValues.get(callerKey)?.tenantId);
      if (err.reason === "STORE_UNAVAILABLE") {
        // Name and message only: ioredis hangs the command's arguments on its
        // errors, and those can hold key names and sealed values.
        logger.warn(
          { err: driverError(err.cause), request_id: requestId, procedure },
          "store unavailable",
        );
      }
      out = toConnectError(err);
    } else if (err instanceof ConnectError && err.code !== Code.Unknown) {
      out = err;
    } else if (call.signal.aborted) {
      // The deadline passed or the client went away mid-call; nothing failed on our side.
      // (Read only here: a call's signal is made when first read; docs/hot-path.md.)
      logger.debug({ request_id: requestId, procedure }, "call ended early");
      out = endedBy(call.signal.reason, requestId);
    } else {
      logger.error({ err, request_id: requestId, procedure }, "unexpected failure");
      out = connectErrorFor("INTERNAL", `internal error (request id ${requestId})`, {
        request_id: requestId,
      });
    }
    out.metadata.set(requestIdHeader, requestId);
    return out;
  };

  return (next) => async (req) => {
    const state = req.contextValues.get(callStateKey);
    let requestId: string;
    if (state === undefined) {
      requestId = randomUUID();
    } else {
      state.intercepted = true;
      requestId = state.requestId;
    }
    const procedure = procedureName(req.method);
    if (req.stream) {
      // A streamed request is parsed while the handler reads it: a message
      // that does not parse is the caller's error, not ours.
      req = { ...req, message: callerErrors(req.message) };
    }
    try {
      const res = await next(req);
      res.header.set(requestIdHeader, requestId);
      if (!res.stream) return res;
      const source = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* source;
          } catch (err) {
            throw convert(err, requestId, procedure, req);
          }
          // A stream that stopped because its deadline passed or its client
          // left ends with that code, not with a success it never had.
          if (req.signal.aborted) throw endedBy(req.signal.reason, requestId);
        })(),
      };
    } catch (err) {
      throw convert(err, requestId, procedure, req);
    }
  };
}

// Why an aborted call ended: its deadline passed, or its client went away (or
// the server shut down, which the handlers answer themselves).
function endedBy(reason: unknown, requestId: string): ConnectError {
  const out =
    reason instanceof ConnectError && reason.code === Code.DeadlineExceeded
      ? new ConnectError("the deadline passed", Code.DeadlineExceeded)
      : new ConnectError("the call was canceled", Code.Canceled);
  out.metadata.set(requestIdHeader, requestId);
  return out;
}

// Errors raised while reading a request stream are about the request.
async function* callerErrors<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* source;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Internal) {
      throw new OtpError("REQUEST_MALFORMED", "the request message could not be parsed");
    }
    throw err;
  }
}

// What may be logged of a driver error: its class, message and code.
function driverError(err: unknown): { type: string; message: string; code?: string } | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    message: err.message,
    ...(typeof code === "string" ? { code } : {}),
  };
}
