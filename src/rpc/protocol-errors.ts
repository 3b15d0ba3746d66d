import { Code, ConnectError } from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  readAllBytes,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  createEndStreamSerialization,
  endStreamFlag,
  errorFromJsonBytes,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/** The wire protocol of a request, told by its content type. */
export type WireProtocol = "grpc" | "grpc-web" | "connect-unary" | "connect-stream";

/**
 * Tells the protocol of a request from its content type (and method: a
 * Connect GET is unary). Undefined for content types no protocol serves, which
 * the Connect handlers answer with 415 themselves.
 *
 * @example
 * protocolOf("POST", "application/grpc+proto"); // "grpc"
 */
export function protocolOf(method: string, contentType: string | null): WireProtocol | undefined {
  if (method === "GET") return "connect-unary";
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  if (type.startsWith("application/connect+")) return "connect-stream";
  if (type.startsWith("application/json") || type.startsWith("application/proto")) {
    return "connect-unary";
  }
  return undefined;
}

/**
 * Answers a request with `error`, encoded the way its protocol carries
 * errors: a Connect unary error is a JSON body with an HTTP status, a Connect
 * stream ends with an end-stream message, gRPC answers trailers-only, and
 * gRPC-web puts the trailers in the body. Used for refusals made before the
 * Connect handler reads the body (credentials), where no handler can encode
 * the error for us.
 */
export function errorResponse(
  protocol: WireProtocol,
  contentType: string | null,
  error: ConnectError,
): UniversalServerResponse {
  const header = new Headers();
  error.metadata.forEach((value, key) => {
    header.set(key, value);
  });
  switch (protocol) {
    case "connect-unary":
      header.set("content-type", "application/json");
      return {
        status: codeToHttpStatus(error.code),
        header,
        body: createAsyncIterable([errorToJsonBytes(error, {})]),
      };
    case "connect-stream": {
      const json = !(contentType ?? "").includes("proto");
      header.set("content-type", json ? "application/connect+json" : "application/connect+proto");
      const end = createEndStreamSerialization({}).serialize({ metadata: new Headers(), error });
      return {
        status: 200,
        header,
        body: createAsyncIterable([encodeEnvelope(endStreamFlag, end)]),
      };
    }
    case "grpc": {
      header.set("content-type", contentType ?? "application/grpc");
      const trailer = new Headers();
      setTrailerStatus(trailer, error);
      return { status: 200, header, body: createAsyncIterable([]), trailer };
    }
    case "grpc-web": {
      header.set("content-type", contentType ?? "application/grpc-web+proto");
      const trailer = new Headers();
      setTrailerStatus(trailer, error);
      return {
        status: 200,
        header,
        body: createAsyncIterable([encodeEnvelope(trailerFlag, trailerSerialize(trailer))]),
      };
    }
  }
}

/**
 * Reads the error out of a response a Connect handler wrote for a call that
 * failed before any interceptor ran (a body that could not be read,
 * decompressed or parsed). Undefined when the response carries no error the
 * protocol lets us read back (it is then passed on as it is).
 */
export async function readErrorResponse(
  protocol: WireProtocol,
  res: UniversalServerResponse,
): Promise<ConnectError | undefined> {
  switch (protocol) {
    case "connect-unary": {
      if (res.status === 200 || res.body === undefined) return undefined;
      const bytes = await readAllBytes(res.body, 1 << 20);
      try {
        return errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Unknown));
      } catch {
        return undefined;
      }
    }
    case "grpc":
      return res.trailer === undefined ? undefined : findTrailerError(res.trailer);
    case "grpc-web": {
      if (res.body === undefined) return undefined;
      const bytes = await readAllBytes(res.body, 1 << 20);
      // A failed call's body is one envelope: the trailers.
      if (bytes.length < 5 || ((bytes[0] ?? 0) & trailerFlag) !== trailerFlag) return undefined;
      return findTrailerError(trailerParse(bytes.subarray(5)));
    }
    case "connect-stream":
      return undefined;
  }
}
