import type { JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import {
  Code,
  type ConnectError,
  createHandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import {
  type Compression,
  compressionNegotiate,
  createMethodSerializationLookup,
  invokeUnaryImplementation,
  type UniversalServerRequest,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  parseContentType,
  parseTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import type { UnarySpec } from "./grpc-unary.js";
import { asConnectError } from "./to-connect-error.js";
import type { WholeResponse } from "./whole-response.js";

/** What {@link createConnectUnary} needs besides the method. */
export interface ConnectUnaryOptions {
  /** Outermost first, the same list the Connect router runs. */
  interceptors: Interceptor[];
  /** The largest request message (the body is already bounded by it when it gets here). */
  readMaxBytes: number;
  /** Response compressions offered to a client that accepts them. */
  compressions: Compression[];
  /** The router's JSON options (unknown fields refused). */
  jsonOptions: Partial<JsonReadOptions & JsonWriteOptions>;
  /** Responses smaller than this are sent uncompressed (Connect's default). */
  compressMinBytes?: number;
}

/** A Connect unary request, parsed. */
export interface ConnectUnaryRequest {
  message: unknown;
  binary: boolean;
  /** From `connect-timeout-ms`. */
  timeoutMs: number | undefined;
}

/** The codec of a Connect unary request, from its content type. */
export type ConnectFormat = "json" | "proto";

/** A Connect unary call: its body parsed, then the method run on it. */
export interface ConnectUnary {
  /**
   * Parses a body already read whole (see unary-body.ts) and the deadline.
   * Throws a ConnectError saying what was wrong (invalid_argument: not the
   * method's input, or a malformed `connect-timeout-ms`); nothing has run
   * yet when it does.
   */
  read(req: UniversalServerRequest, body: Uint8Array, format: ConnectFormat): ConnectUnaryRequest;
  /** Runs the interceptors and the method; the answer is always a Connect unary response. */
  invoke(req: UniversalServerRequest, read: ConnectUnaryRequest): Promise<WholeResponse>;
}

/**
 * The codec of a request that can take the direct Connect unary path: a POST
 * whose content type is Connect's unary JSON or protobuf (`application/json`,
 * `application/proto`, with an optional charset) and whose body arrives
 * uncompressed; undefined for the rest (GET requests, compressed bodies,
 * streams, other content types), which stay with Connect's handler.
 *
 * @example
 * plainConnectFormat(uReq); // "json" for a fetch of `application/json`
 */
export function plainConnectFormat(req: UniversalServerRequest): ConnectFormat | undefined {
  if (req.method !== "POST" || req.header.has("content-encoding")) return undefined;
  const type = parseContentType(req.header.get("content-type"));
  if (type === undefined || type.stream) return undefined;
  return type.binary ? "proto" : "json";
}

/**
 * A Connect unary method answered without Connect's handler around it: the
 * body (read whole by the RPC handler) parsed with Connect's own
 * serializations, the implementation run through the same interceptors with
 * `invokeUnaryImplementation` and a context from `createHandlerContext`, and
 * the answer given whole: the message or the JSON error, the trailers as
 * `trailer-` headers, a `content-length`. What this leaves out of Connect's
 * handler is per-call overhead, not behaviour: a `new URL` of every request,
 * a copy of the method spec into a fresh object (`Object.assign`), the
 * trailers merged into a new Headers, and the body wrapped in an async
 * iterable that its writer then reads back (docs/hot-path.md, "Connect JSON
 * without the handler").
 *
 * @example
 * const unary = createConnectUnary(spec, { interceptors, readMaxBytes, compressions, jsonOptions });
 * const uRes = await unary.invoke(uReq, unary.read(uReq, body, "json"));
 */
export function createConnectUnary(spec: UnarySpec, options: ConnectUnaryOptions): ConnectUnary {
  // Connect's own defaults for what the options leave out (no write limit, 1 KiB).
  const limits = validateReadWriteMaxBytes(
    options.readMaxBytes,
    undefined,
    options.compressMinBytes,
  );
  const serialization = createMethodSerializationLookup(
    spec.method,
    undefined,
    options.jsonOptions,
    limits,
  );
  const compressMinBytes = limits.compressMinBytes;
  return {
    read(req, body, format) {
      const binary = format === "proto";
      const timeout = parseTimeout(req.header.get("connect-timeout-ms"), Number.MAX_SAFE_INTEGER);
      if (timeout.error !== undefined) throw timeout.error;
      const message = serialization.getI(binary).parse(body);
      return { message, binary, timeoutMs: timeout.timeoutMs };
    },
    async invoke(req, read) {
      const context = contextOf(spec, req, read);
      let status = 200;
      let body: Uint8Array;
      try {
        const output = await invokeUnaryImplementation(
          spec,
          context,
          read.message as never,
          options.interceptors,
        );
        body = serialization.getO(read.binary).serialize(output);
        context.abort();
      } catch (err) {
        context.abort(err);
        const error = asConnectError(err);
        status = codeToHttpStatus(error.code);
        body = errorBody(error, context.responseHeader, options.jsonOptions);
      }
      const accepted = req.header.get("accept-encoding");
      const compression =
        accepted === null || body.byteLength < compressMinBytes
          ? null
          : compressionNegotiate(options.compressions, null, accepted, "Accept-Encoding").response;
      if (compression !== null) {
        body = await compression.compress(body);
        context.responseHeader.set("content-encoding", compression.name);
      }
      const header = answerHeader(context.responseHeader, context.responseTrailer);
      header.set("content-length", String(body.byteLength));
      return { status, header, body };
    },
  };
}

// The call's context, from named fields (see grpc-unary.ts `contextOf` for why not a spread).
function contextOf(spec: UnarySpec, req: UniversalServerRequest, read: ConnectUnaryRequest) {
  return createHandlerContext({
    method: spec.method,
    service: spec.method.parent,
    requestMethod: req.method,
    protocolName: "connect",
    timeoutMs: read.timeoutMs,
    requestSignal: req.signal,
    requestHeader: req.header,
    url: req.url,
    responseHeader: {
      "content-type": read.binary ? contentTypeUnaryProto : contentTypeUnaryJson,
    },
    contextValues: req.contextValues,
  });
}

// An error answer is JSON whatever the request's codec, its metadata as headers.
function errorBody(
  error: ConnectError,
  header: Headers,
  jsonOptions: Partial<JsonWriteOptions>,
): Uint8Array {
  header.set("content-type", contentTypeUnaryJson);
  error.metadata.forEach((value, key) => {
    header.set(key, value);
  });
  return errorToJsonBytes(error, jsonOptions);
}

// The response headers, with the trailers as `trailer-` headers; copied only when there are trailers.
function answerHeader(header: Headers, trailer: Headers): Headers {
  let empty = true;
  trailer.forEach(() => {
    empty = false;
  });
  return empty ? header : trailerMux(header, trailer);
}
