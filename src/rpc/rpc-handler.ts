import { randomUUID } from "node:crypto";
import type { JsonValue } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createConnectRouter,
  createContextValues,
  type Interceptor,
  type MethodImplSpec,
} from "@connectrpc/connect";
import type {
  UniversalHandler,
  UniversalServerRequest,
  UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { isOtpError } from "../core/otp-error.js";
import type { Reason } from "../core/reasons.js";
import type { RequestHandler } from "../http/listener.js";
import { pathOf } from "../http/path-of.js";
import type { Logger } from "../telemetry/logger.js";
import {
  type ConnectUnary,
  type ConnectUnaryRequest,
  createConnectUnary,
  plainConnectFormat,
} from "./connect-unary.js";
import {
  createGrpcUnary,
  type GrpcUnary,
  type GrpcUnaryRequest,
  isPlainGrpc,
} from "./grpc-unary.js";
import { type CallState, callStateKey, requestIdHeader } from "./interceptors/error-interceptor.js";
import { logRpc, type RpcObserver } from "./interceptors/rpc-log-interceptor.js";
import { keepingSpecs } from "./method-specs.js";
import {
  errorResponse,
  protocolOf,
  readErrorResponse,
  type WireProtocol,
} from "./protocol-errors.js";
import { toConnectError } from "./to-connect-error.js";
import { readUnaryBody } from "./unary-body.js";
import { toUniversalRequest } from "./universal-request.js";
import { type Answer, answerUnread, canceled, type Level } from "./unread-request.js";
import { isWholeResponse, type WholeResponse, writeWholeResponse } from "./whole-response.js";

/** Options for {@link createRpcHandler}. */
export interface RpcHandlerOptions {
  routes: (router: ConnectRouter) => void;
  /** Outermost first; see router.ts. */
  interceptors: Interceptor[];
  /** Per-request context values (the client IP), set before anything runs. */
  contextValues: (req: Parameters<RequestHandler>[0]) => ContextValues;
  /**
   * Who the caller is, from the headers alone, before the body is read: the
   * value is put in the context for the interceptors, a thrown error answers
   * the call at once. See interceptors/auth-interceptor.ts `authenticate`.
   */
  authenticate: (procedure: string, headers: Headers, values: ContextValues) => Promise<void>;
  /** The largest request message, before and after decompression. */
  readMaxBytes: number;
  logger: Logger;
  /** Told of every call answered here rather than by the interceptors, for metrics. */
  observe: RpcObserver;
  /** Told the reason of every refusal answered here, for metrics. */
  onReason?: (reason: Reason, procedure: string) => void;
}

/**
 * The Node request handler for every RPC: `connectNodeAdapter`, plus what
 * must happen before Connect reads a request body.
 *
 * 1. Bounds: `readMaxBytes` caps a message before and after decompression
 *    (zlib stops inflating at the cap), so a compression bomb costs at most
 *    the cap; an oversize body is `resource_exhausted` unread.
 * 2. Credentials first: a call whose key is missing, unknown or not allowed
 *    is refused from its headers, before its body is read, decompressed or
 *    parsed.
 * 3. Every answer is traceable: each call gets its request id here, so a
 *    call that fails while Connect reads its body (truncated or illegal
 *    protobuf, a compressed frame without an encoding, an oversize message)
 *    is answered with `invalid_argument` (Connect says `internal`), carries
 *    `x-request-id`, and is logged once (without the body) and counted, like
 *    every call that reaches the interceptors.
 * 4. JSON is strict: a misspelled field or an unknown enum name is
 *    `invalid_argument`, not silently dropped.
 * 5. Unary gRPC and gRPC-web calls of uncompressed protobuf are read and
 *    answered by grpc-unary.ts, through the same interceptors, without
 *    Connect's streaming pipeline; the rest goes to Connect's handlers.
 */
export function createRpcHandler(options: RpcHandlerOptions): RequestHandler {
  const compressions = [compressionGzip, compressionBrotli];
  const jsonOptions = { ignoreUnknownFields: false };
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: options.readMaxBytes,
    acceptCompression: compressions,
    jsonOptions,
  });
  const specs = new Map<string, MethodImplSpec>();
  options.routes(keepingSpecs(router, specs));
  const paths = new Map<string, GuardedHandler>();
  for (const handler of router.handlers) {
    const spec = specs.get(handler.requestPath);
    const unary = (protocol: "grpc" | "grpc-web") =>
      spec?.kind === "unary"
        ? createGrpcUnary(spec, {
            protocol,
            interceptors: options.interceptors,
            readMaxBytes: options.readMaxBytes,
            compressions,
          })
        : undefined;
    const connect =
      spec?.kind === "unary"
        ? createConnectUnary(spec, {
            interceptors: options.interceptors,
            readMaxBytes: options.readMaxBytes,
            compressions,
            jsonOptions,
          })
        : undefined;
    paths.set(
      handler.requestPath,
      guard(handler, { grpc: unary("grpc"), "grpc-web": unary("grpc-web"), connect }, options),
    );
  }
  return (req, res) => {
    const handler = paths.get(pathOf(req.url));
    if (handler === undefined) {
      notFound(req, res);
      return;
    }
    const streaming = handler.method.methodKind !== "unary";
    const uReq = toUniversalRequest(req, res, options.contextValues(req), streaming);
    handler(uReq)
      .then((uRes) =>
        isWholeResponse(uRes)
          ? writeWholeResponse(uRes, res)
          : universalResponseToNodeResponse(uRes, res),
      )
      .catch((err: unknown) => {
        if (ConnectError.from(err).code === Code.Aborted) return;
        options.logger.warn({ err, procedure: handler.method.name }, "response not written");
      });
  };
}

// gRPC clients expect an unknown method as grpc-status 12, not a bare 404.
function notFound(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]): void {
  const type = String(req.headers["content-type"] ?? "");
  if (req.method === "POST" && type.startsWith("application/grpc")) {
    res.writeHead(200, {
      "content-type": type,
      "grpc-status": String(Code.Unimplemented),
      "grpc-message": encodeURIComponent(`unknown method ${req.url ?? ""}`),
    });
    res.end();
    return;
  }
  res.writeHead(404);
  res.end();
}

// The calls a route answers without Connect's handler (grpc-unary.ts, connect-unary.ts).
interface Direct {
  grpc: GrpcUnary | undefined;
  "grpc-web": GrpcUnary | undefined;
  connect: ConnectUnary | undefined;
}

// A route's handler: Connect's, with what runs before it, answering some
// calls itself (whole, see grpc-unary.ts).
type GuardedHandler = UniversalHandler &
  ((req: UniversalServerRequest) => Promise<UniversalServerResponse | WholeResponse>);

function guard(
  handler: UniversalHandler,
  direct: Direct,
  options: RpcHandlerOptions,
): GuardedHandler {
  const procedure = `${handler.service.typeName}/${handler.method.name}`;
  const unary = handler.method.methodKind === "unary";
  const guarded = async (
    req: UniversalServerRequest,
  ): Promise<UniversalServerResponse | WholeResponse> => {
    const started = process.hrtime.bigint();
    const values = req.contextValues ?? createContextValues();
    const state: CallState = { requestId: randomUUID(), intercepted: false };
    values.set(callStateKey, state);
    const protocol = protocolOf(req.method, req.header.get("content-type"));
    // For what never reaches the interceptors: refusals and unreadable bodies.
    const answer: Answer = (error, reason, level) =>
      answerHere(options, req, { procedure, protocol, started, state, error, reason, level });
    try {
      await options.authenticate(procedure, req.header, values);
    } catch (err) {
      if (!isOtpError(err)) throw err;
      return answer(toConnectError(err), err.reason, "info");
    }
    // The adapter always passes context values; a copy is made only without them.
    let call = req.contextValues === values ? req : { ...req, contextValues: values };
    // A unary gRPC or gRPC-web call of a protobuf message, uncompressed: read
    // and answered here, without Connect's streaming pipeline (grpc-unary.ts).
    const grpcUnary = protocol === "grpc" || protocol === "grpc-web" ? direct[protocol] : undefined;
    if (grpcUnary !== undefined && isPlainGrpc(call, grpcUnary.protocol)) {
      let read: GrpcUnaryRequest;
      try {
        read = await grpcUnary.read(call);
      } catch (err) {
        return answerUnread(ConnectError.from(err), answer);
      }
      return grpcUnary.invoke(call, read);
    }
    // A Connect unary body of a declared, bounded length is read here in one
    // go; Connect parses a buffer body as is (see unary-body.ts).
    const body =
      unary && protocol === "connect-unary" ? readUnaryBody(req, options.readMaxBytes) : undefined;
    if (body !== undefined) {
      let bytes: Uint8Array;
      try {
        bytes = await body;
      } catch {
        return answer(canceled(), undefined, "info");
      }
      // Parsed and answered without Connect's handler (connect-unary.ts).
      const format = direct.connect === undefined ? undefined : plainConnectFormat(call);
      if (direct.connect !== undefined && format !== undefined) {
        let read: ConnectUnaryRequest;
        try {
          read = direct.connect.read(call, bytes, format);
        } catch (err) {
          return answerUnread(ConnectError.from(err), answer);
        }
        return direct.connect.invoke(call, read);
      }
      call = { ...call, body: bytes as unknown as JsonValue };
    }
    const res = await handler(call);
    if (state.intercepted) return res;
    // The call never reached the interceptors: Connect refused it while reading
    // its body, or it is not a call at all (a wrong method or content type).
    if (res.status === 405) {
      return { ...res, header: withHeader(res.header, "allow", handler.allowedMethods.join(", ")) };
    }
    if (protocol === undefined || res.status === 415) return res;
    const error = await readErrorResponse(protocol, res);
    if (error === undefined) return res;
    return answerUnread(req.signal.aborted ? canceled() : error, answer);
  };
  return Object.assign(guarded, handler);
}

// Logs, counts and encodes an answer the RPC handler gives itself (a refused
// credential, a body that could not be read), with the call's request id.
function answerHere(
  options: RpcHandlerOptions,
  req: UniversalServerRequest,
  call: {
    procedure: string;
    protocol: WireProtocol | undefined;
    started: bigint;
    state: CallState;
    error: ConnectError;
    reason: Reason | undefined;
    level: Level;
  },
): UniversalServerResponse {
  const { error, reason, procedure } = call;
  error.metadata.set(requestIdHeader, call.state.requestId);
  if (reason !== undefined) options.onReason?.(reason, procedure);
  logRpc(options.logger, options.observe, {
    procedure,
    code: error.code,
    started: call.started,
    requestId: call.state.requestId,
    reason,
    level: call.level,
  });
  return call.protocol === undefined
    ? { status: 415 }
    : errorResponse(call.protocol, req.header.get("content-type"), error);
}

function withHeader(header: Headers | undefined, name: string, value: string): Headers {
  const out = new Headers(header);
  out.set(name, value);
  return out;
}

export type { WireProtocol };
