import type * as http from "node:http";
import type * as http2 from "node:http2";

/**
 * An answer held whole in memory, written in one go: what the unary gRPC
 * path (grpc-unary.ts) gives back. Connect's `universalResponseToNodeResponse`
 * reads a body through an async iterator and then waits for an `end` event
 * that Node's responses never emit, so each call's response stayed reachable
 * from its Node response until that was collected; this writes the head, the
 * body and the trailers and is done.
 */
export interface WholeResponse {
  status: number;
  header: Headers;
  body: Uint8Array;
  /** HTTP trailers (gRPC); gRPC-web carries its trailers in the body. */
  trailer?: Headers;
}

type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** Whether an answer is a {@link WholeResponse}. */
export function isWholeResponse(res: object): res is WholeResponse {
  return "body" in res && res.body instanceof Uint8Array;
}

/**
 * Writes a whole answer to a Node response (HTTP/1.1 or HTTP/2). A response
 * whose client has gone is left alone: there is nobody to write to.
 *
 * @example
 * writeWholeResponse({ status: 200, header, body: frame, trailer }, res);
 */
export function writeWholeResponse(answer: WholeResponse, res: NodeResponse): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(answer.status, toNodeHeaders(answer.header));
  if (answer.trailer !== undefined) res.addTrailers(toNodeHeaders(answer.trailer));
  res.end(answer.body);
}

/** Fetch Headers as a Node header object; `set-cookie` keeps its separate values. */
export function toNodeHeaders(header: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  header.forEach((value, key) => {
    out[key] = value;
  });
  if (out["set-cookie"] !== undefined) out["set-cookie"] = header.getSetCookie();
  return out;
}
