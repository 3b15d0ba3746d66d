import type { Readable } from "node:stream";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createHandlerContext,
  type Interceptor,
  type MethodImplSpec,
} from "@connectrpc/connect";
import {
  type Compression,
  compressionNegotiate,
  invokeUnaryImplementation,
  type UniversalServerRequest,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";
import {
  contentTypeProto,
  grpcStatusOk,
  parseTimeout,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import {
  contentTypeProto as contentTypeWebProto,
  trailerFlag,
  trailerSerialize,
} from "@connectrpc/connect/protocol-grpc-web";
import { envelope, flagsCompressed, readSingleEnvelope } from "./grpc-envelope.js";
import { asConnectError } from "./to-connect-error.js";
import type { WholeResponse } from "./whole-response.js";

/** What {@link createGrpcUnary} needs besides the method. */
export interface GrpcUnaryOptions {
  /** gRPC (trailers as HTTP trailers) or gRPC-web (trailers as the body's last frame). */
  protocol: "grpc" | "grpc-web";
  /** Outermost first, the same list the Connect router runs. */
  interceptors: Interceptor[];
  /** The largest request message; a larger one is refused before it is read. */
  readMaxBytes: number;
  /** Response compressions offered to a client that accepts them. */
  compressions: Compression[];
  /** Responses smaller than this are sent uncompressed (Connect's default). */
  compressMinBytes?: number;
}

/** A unary gRPC request, read. */
export interface GrpcUnaryRequest {
  message: unknown;
  /** From `grpc-timeout`. */
  timeoutMs: number | undefined;
}

/** A unary gRPC call: its request read, then the method run on it. */
export interface GrpcUnary {
  readonly protocol: "grpc" | "grpc-web";
  /**
   * Reads and parses the one request message and the deadline. Rejects with
   * a ConnectError whose code says what was wrong (resource_exhausted:
   * larger than the limit; invalid_argument: malformed, or a malformed
   * `grpc-timeout`; canceled: the client went away); nothing has run yet
   * when it does.
   */
  read(req: UniversalServerRequest): Promise<GrpcUnaryRequest>;
  /** Runs the interceptors and the method; the answer is always a gRPC response. */
  invoke(req: UniversalServerRequest, read: GrpcUnaryRequest): Promise<WholeResponse>;
}

/** A unary method and its implementation. */
export type UnarySpec = Extract<MethodImplSpec, { kind: "unary" }>;

/**
 * Whether a request can take the unary gRPC path: a POST of
 * `application/grpc` or `application/grpc+proto` (gRPC-web:
 * `application/grpc-web` or `application/grpc-web+proto`) with an
 * uncompressed body. JSON and text payloads and compressed requests stay
 * with Connect's handlers, which inflate them within the same bound.
 *
 * @example
 * isPlainGrpc(uReq, "grpc"); // true for grpc-js's requests
 */
export function isPlainGrpc(req: UniversalServerRequest, protocol: "grpc" | "grpc-web"): boolean {
  if (req.method !== "POST") return false;
  const type = req.header.get("content-type");
  const plain =
    protocol === "grpc"
      ? type === "application/grpc" || type === "application/grpc+proto"
      : type === "application/grpc-web" || type === "application/grpc-web+proto";
  if (!plain) return false;
  const encoding = req.header.get("grpc-encoding");
  return encoding === null || encoding === "identity";
}

/**
 * A unary gRPC method answered without Connect's streaming pipeline: the
 * request body is read with two listeners into one buffer, its single
 * envelope checked and parsed, the implementation run through the same
 * interceptors with `invokeUnaryImplementation` and a context from
 * `createHandlerContext`, exactly as Connect's gRPC handler does, and the
 * answer is one envelope followed by the trailers. Connect's handler pipes
 * every call through a chain of async generators (split, decompress, parse,
 * invoke, serialize, compress, join); for a one-message call that chain was
 * about two thirds of a gRPC call's CPU and most of what it left for the
 * full garbage collections (docs/hot-path.md, "Unary gRPC without the
 * pipeline").
 *
 * @example
 * const unary = createGrpcUnary(spec, { interceptors, readMaxBytes: 65_536, compressions: [] });
 * const uRes = await unary.invoke(uReq, await unary.read(uReq));
 */
export function createGrpcUnary(spec: UnarySpec, options: GrpcUnaryOptions): GrpcUnary {
  const method = spec.method;
  const wire: Wire = {
    web: options.protocol === "grpc-web",
    compressMinBytes: validateReadWriteMaxBytes(undefined, undefined, options.compressMinBytes)
      .compressMinBytes,
  };
  return {
    protocol: options.protocol,
    read: (req) => readRequest(method, req, options.readMaxBytes),
    invoke(req, read) {
      const context = contextOf(spec, options.protocol, wire, req, read);
      const accepted = req.header.get("grpc-accept-encoding");
      const compression =
        accepted === null
          ? null
          : compressionNegotiate(options.compressions, null, accepted, "grpc-accept-encoding")
              .response;
      if (compression !== null) context.responseHeader.set("grpc-encoding", compression.name);
      return invokeUnaryImplementation(spec, context, read.message as never, options.interceptors)
        .then((output) => frame(wire, 0, toBinary(method.output, output), compression))
        .then(
          (message) => {
            context.abort();
            return respond(wire, context, message, compression);
          },
          (err: unknown) => {
            context.abort(err);
            setTrailerStatus(context.responseTrailer, asConnectError(err));
            return respond(wire, context, undefined, compression);
          },
        );
    },
  };
}

// The call's context. Its init names each field: built as `{ ...spec, … }`,
// each call's object spread made V8 build new hidden classes (maps, which
// live in the old generation), about 3 KB a call left for the full
// collections to sweep (V8's sampling heap profiler; docs/hot-path.md).
function contextOf(
  spec: UnarySpec,
  protocol: "grpc" | "grpc-web",
  wire: Wire,
  req: UniversalServerRequest,
  read: GrpcUnaryRequest,
) {
  return createHandlerContext({
    method: spec.method,
    service: spec.method.parent,
    requestMethod: req.method,
    protocolName: protocol,
    timeoutMs: read.timeoutMs,
    requestSignal: req.signal,
    requestHeader: req.header,
    url: req.url,
    responseHeader: { "content-type": wire.web ? contentTypeWebProto : contentTypeProto },
    responseTrailer: { "grpc-status": grpcStatusOk },
    contextValues: req.contextValues,
  });
}

interface Wire {
  web: boolean;
  compressMinBytes: number;
}

// The deadline and the one message, or the reason there is none.
async function readRequest(
  method: UnarySpec["method"],
  req: UniversalServerRequest,
  readMaxBytes: number,
): Promise<GrpcUnaryRequest> {
  const timeout = parseTimeout(req.header.get("grpc-timeout"), Number.MAX_SAFE_INTEGER);
  if (timeout.error !== undefined) throw timeout.error;
  const bytes = await readSingleEnvelope(req.body as Readable, readMaxBytes);
  try {
    return { message: fromBinary(method.input, bytes), timeoutMs: timeout.timeoutMs };
  } catch (err) {
    throw new ConnectError(
      `cannot decode ${method.input.typeName} from binary`,
      Code.InvalidArgument,
      undefined,
      undefined,
      err,
    );
  }
}

// One frame, compressed when the client accepts it and it is large enough.
async function frame(
  wire: Wire,
  flags: number,
  data: Uint8Array,
  compression: Compression | null,
): Promise<Uint8Array> {
  return compression !== null && data.byteLength >= wire.compressMinBytes
    ? envelope(flags | flagsCompressed, await compression.compress(data))
    : envelope(flags, data);
}

// gRPC sends the trailers as HTTP trailers, gRPC-web as the body's last frame.
async function respond(
  wire: Wire,
  context: { responseHeader: Headers; responseTrailer: Headers },
  message: Uint8Array | undefined,
  compression: Compression | null,
): Promise<WholeResponse> {
  const header = context.responseHeader;
  if (!wire.web) {
    const body = message ?? noBytes;
    return { status: 200, header, body, trailer: context.responseTrailer };
  }
  const trailer = await frame(
    wire,
    trailerFlag,
    trailerSerialize(context.responseTrailer),
    compression,
  );
  return {
    status: 200,
    header,
    body: message === undefined ? trailer : Buffer.concat([message, trailer]),
  };
}

const noBytes = new Uint8Array(0);
