import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { isOtpError } from "../errors/otp-error.js";
import type { Reason } from "../errors/reasons.js";
import { connectErrorFor, toConnectError } from "../errors/to-connect-error.js";
import type { Logger } from "../logger.js";

/** The response header and error metadata key that carries the request id. */
export const requestIdHeader = "x-request-id";

/**
 * The outermost interceptor. Gives every call a request id, turns domain
 * errors into Connect errors with typed details, passes Connect errors
 * through, and turns anything else into an opaque `internal` error that names
 * only the request id: a raw message may hold data a client must not see.
 */
export function createErrorInterceptor(
  logger: Logger,
  onReason?: (reason: Reason, procedure: string) => void,
): Interceptor {
  const convert = (
    err: unknown,
    requestId: string,
    procedure: string,
    signal: AbortSignal,
  ): ConnectError => {
    let out: ConnectError;
    if (isOtpError(err)) {
      onReason?.(err.reason, procedure);
      if (err.reason === "STORE_UNAVAILABLE") {
        logger.warn({ err: err.cause, request_id: requestId, procedure }, "store unavailable");
      }
      out = toConnectError(err);
    } else if (err instanceof ConnectError && err.code !== Code.Unknown) {
      out = err;
    } else if (signal.aborted) {
      // The client went away mid-call; nothing failed on our side.
      logger.debug({ request_id: requestId, procedure }, "client canceled");
      out = new ConnectError("the call was canceled", Code.Canceled);
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
    const requestId = randomUUID();
    const procedure = `${req.method.parent.typeName}/${req.method.name}`;
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
            throw convert(err, requestId, procedure, req.signal);
          }
        })(),
      };
    } catch (err) {
      throw convert(err, requestId, procedure, req.signal);
    }
  };
}
