import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../telemetry/logger.js";
import { callerKey } from "../caller.js";
import { procedureName } from "../procedure-name.js";
import { requestIdHeader } from "./error-interceptor.js";

/** Receives each finished call, for metrics: the tenant is the caller's when it was authenticated. */
export type RpcObserver = (
  procedure: string,
  status: string,
  seconds: number,
  tenantId?: string,
) => void;

/** The snake_case name of a Connect code, "ok" for success. */
export function codeName(code: Code | undefined): string {
  if (code === undefined) return "ok";
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase());
}

/**
 * Records one finished call: the `rpc` log line (procedure, Connect code,
 * duration, request id, and the reason when one is known) and the latency
 * observation. The interceptor below calls it for every call that reaches
 * the interceptors; the RPC handler (rpc-handler.ts) for those it answers
 * itself.
 */
export function logRpc(
  logger: Logger,
  observe: RpcObserver,
  call: {
    procedure: string;
    code: Code | undefined;
    started: bigint;
    requestId: string | null;
    reason?: string;
    level?: "info" | "warn";
    tenantId?: string;
  },
): void {
  const seconds = Number(process.hrtime.bigint() - call.started) / 1e9;
  const status = codeName(call.code);
  observe(call.procedure, status, seconds, call.tenantId);
  const level = call.level ?? "info";
  // Below the log level the line's fields are never built.
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      procedure: call.procedure,
      status,
      reason: call.reason,
      duration_ms: Math.round(seconds * 1e4) / 10,
      request_id: call.requestId ?? undefined,
    },
    "rpc",
  );
}

/**
 * Logs one line per call (procedure, Connect code, duration, request id) and
 * reports it to the metrics. It runs outside the error interceptor so that it
 * sees the code the client sees. It logs no request or response fields, which
 * is how codes and recipients stay out of the logs.
 */
export function createRpcLogInterceptor(logger: Logger, observe: RpcObserver): Interceptor {
  return (next) => async (req) => {
    const procedure = procedureName(req.method);
    const started = process.hrtime.bigint();
    const finish = (code: Code | undefined, requestId: string | null) =>
      logRpc(logger, observe, {
        procedure,
        code,
        started,
        requestId,
        tenantId: req.contextValues.get(callerKey)?.tenantId,
      });
    try {
      const res = await next(req);
      if (!res.stream) {
        finish(undefined, res.header.get(requestIdHeader));
        return res;
      }
      const source = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* source;
            finish(undefined, res.header.get(requestIdHeader));
          } catch (err) {
            const ce = ConnectError.from(err);
            finish(ce.code, ce.metadata.get(requestIdHeader));
            throw err;
          }
        })(),
      };
    } catch (err) {
      const ce = ConnectError.from(err);
      finish(ce.code, ce.metadata.get(requestIdHeader));
      throw err;
    }
  };
}
