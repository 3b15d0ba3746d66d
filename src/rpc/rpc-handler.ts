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
import { type CallState, callStateKey, requestIdHeader } from "./interceptors/error-interceptor.js";
import { logRpc, type RpcObserver } from "./interceptors/rpc-log-interceptor.js";
import {
  errorResponse,
  protocolOf,
  readErrorResponse,
  type WireProtocol,
} from "./protocol-errors.js";
import { connectErrorFor, toConnectError } from "./to-connect-error.js";
import { readUnaryBody } from "./unary-body.js";
import { toUniversalRequest } from "./universal-request.js";

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
 */
export function createRpcHandler(options: RpcHandlerOptions): RequestHandler {
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: options.readMaxBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    jsonOptions: { ignoreUnknownFields: false },
  });
  options.routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) {
    paths.set(handler.requestPath, guard(handler, options));
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
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
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

function guard(handler: UniversalHandler, options: RpcHandlerOptions): UniversalHandler {
  const procedure = `${handler.service.typeName}/${handler.method.name}`;
  const unary = handler.method.methodKind === "unary";
  const guarded = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const started = process.hrtime.bigint();
    const values = req.contextValues ?? createContextValues();
    const state: CallState = { requestId: randomUUID(), intercepted: false };
    values.set(callStateKey, state);
    const protocol = protocolOf(req.method, req.header.get("content-type"));
    // For what never reaches the interceptors: refusals and unreadable bodies.
    const answer = (error: ConnectError, reason: Reason | undefined, level: "info" | "warn") =>
      answerHere(options, req, { procedure, protocol, started, state, error, reason, level });
    try {
      await options.authenticate(procedure, req.header, values);
    } catch (err) {
      if (!isOtpError(err)) throw err;
      return answer(toConnectError(err), err.reason, "info");
    }
    // The adapter always passes context values; a copy is made only without them.
    let call = req.contextValues === values ? req : { ...req, contextValues: values };
    // A Connect unary body of a declared, bounded length is read here in one
    // go; Connect parses a buffer body as is (see unary-body.ts).
    const body =
      unary && protocol === "connect-unary" ? readUnaryBody(req, options.readMaxBytes) : undefined;
    if (body !== undefined) {
      try {
        call = { ...call, body: (await body) as unknown as JsonValue };
      } catch {
        return answer(new ConnectError("the call was canceled", Code.Canceled), undefined, "info");
      }
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
    if (req.signal.aborted) {
      return answer(new ConnectError("the call was canceled", Code.Canceled), undefined, "info");
    }
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
    level: "info" | "warn";
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

function withHeader(header: Headers | undefined, name: string, value: string): Headers {
  const out = new Headers(header);
  out.set(name, value);
  return out;
}

export type { WireProtocol };
