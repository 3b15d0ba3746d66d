import { ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { protocolOf } from "../protocol-errors.js";
import { codeName } from "./rpc-log-interceptor.js";

// Reads W3C trace context from Connect's request headers.
const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * Whether spans go anywhere: true once a tracer provider is registered (the
 * SDK started by otel-start.mjs, or a test's). The probe is the child of a
 * parent that was not sampled, so a real provider makes a span of its own
 * (a new span id) that it neither records nor exports; the no-op API just
 * hands the parent back.
 */
export function tracingEnabled(): boolean {
  const parent = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  };
  const probe = trace
    .getTracer("otp-service")
    .startSpan("probe", {}, trace.setSpanContext(ROOT_CONTEXT, parent));
  probe.end();
  return probe.spanContext().spanId !== parent.spanId;
}

// The `rpc.system` of each wire protocol (protocol-errors.ts tells them apart).
const rpcSystems = {
  grpc: "grpc",
  "grpc-web": "grpc_web",
  "connect-unary": "connect_rpc",
  "connect-stream": "connect_rpc",
} as const;

/**
 * Opens one SERVER span per RPC, whatever the protocol, named like
 * `otp.v1.OtpService/Verify`, as the child of the caller's `traceparent` when
 * there is one. Everything the handler does (Redis calls, provider HTTP calls)
 * runs inside it and becomes its children. The span carries the `rpc.*`
 * attributes and the Connect code; no request or response field, so no code,
 * recipient or secret, ever reaches it.
 *
 * Node's HTTP/2 server has no instrumentation, and the HTTP/1.1 one is told to
 * ignore incoming requests (see otel-start.mjs), so this is the only server span.
 */
export function createTracingInterceptor(): Interceptor {
  const tracer = trace.getTracer("otp-service");
  return (next) => async (req) => {
    const service = req.method.parent.typeName;
    const method = req.method.name;
    const system =
      rpcSystems[protocolOf(req.requestMethod, req.header.get("content-type")) ?? "connect-unary"];
    const parent = propagation.extract(context.active(), req.header, headerGetter);
    const span = tracer.startSpan(
      `${service}/${method}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": system === "connect_rpc" ? "connect_rpc" : "grpc",
          "rpc.service": service,
          "rpc.method": method,
          "rpc.protocol": system,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    const finish = (err: unknown) => {
      const code = err === undefined ? undefined : ConnectError.from(err).code;
      span.setAttribute("rpc.connect_rpc.error_code", codeName(code));
      span.setAttribute("rpc.grpc.status_code", code ?? 0);
      // Every Connect error marks the span, so a trace search for errors finds
      // refusals too; the code attribute tells a caller's mistake from ours.
      if (code !== undefined)
        span.setStatus({ code: SpanStatusCode.ERROR, message: codeName(code) });
      span.end();
    };
    try {
      const res = await context.with(active, () => next(req));
      if (!res.stream) {
        finish(undefined);
        return res;
      }
      return { ...res, message: endWithStream(res.message, finish) };
    } catch (err) {
      finish(err);
      throw err;
    }
  };
}

// A streaming call's span ends when its last message has gone, or when it fails.
async function* endWithStream<T>(
  source: AsyncIterable<T>,
  finish: (err: unknown) => void,
): AsyncIterable<T> {
  try {
    yield* source;
    finish(undefined);
  } catch (err) {
    finish(err);
    throw err;
  }
}
