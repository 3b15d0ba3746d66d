import { getEventListeners, setMaxListeners } from "node:events";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

// One signal for every unary call: it never aborts. Connect links each call's
// own signal to it and unlinks it when the call ends (context.abort() in its
// handlers' finally), so listeners come and go; 0 lifts Node's warning at 10.
const unarySignal = new AbortController().signal;
setMaxListeners(0, unarySignal);

/** How many calls are linked to the shared unary signal right now; for the test that none stays linked. */
export function linkedUnaryCalls(): number {
  return getEventListeners(unarySignal, "abort").length;
}

// What a Host header may hold before it is put into a URL (RFC 3986 reg-name,
// IPv4, bracketed IPv6, a port). Anything else is replaced, not parsed.
const plainAuthority = /^[A-Za-z0-9.\-_~[\]:]{1,255}$/;

/**
 * Connect's request view of a Node request, built more cheaply than
 * `universalRequestFromNodeRequest` from `@connectrpc/connect-node`, which
 * this replaces on the hot path (see docs/hot-path.md for the measurement):
 *
 * - the URL is put together as a string rather than parsed with `new URL`
 *   (Connect parses it again itself only where it reads query parameters);
 * - a unary call gets one shared signal that never aborts, instead of an
 *   AbortController per call that is aborted, with a freshly built
 *   DOMException and its stack trace, when the response closes after every
 *   call. A unary call whose client goes away runs to its end and its answer
 *   is dropped, as before; Connect still aborts the call's own signal on its
 *   deadline and at shutdown. Streams keep a signal of their own that aborts
 *   when the client goes away, so an abandoned stream ends at once.
 *
 * @example
 * const uReq = toUniversalRequest(req, res, values, method.methodKind !== MethodKind.Unary);
 */
export function toUniversalRequest(
  req: NodeRequest,
  res: NodeResponse,
  contextValues: ContextValues,
  streaming: boolean,
): UniversalServerRequest {
  const encrypted = "encrypted" in req.socket && req.socket.encrypted === true;
  const host = "authority" in req ? req.authority : req.headers.host;
  const authority = host !== undefined && plainAuthority.test(host) ? host : "localhost";
  return {
    httpVersion: req.httpVersion,
    method: req.method ?? "",
    url: `${encrypted ? "https" : "http"}://${authority}${req.url ?? "/"}`,
    header: toHeaders(req.headers),
    body: req as AsyncIterable<Uint8Array>,
    signal: streaming ? abortOnClientGone(req, res) : unarySignal,
    contextValues,
  };
}

/** Node's incoming headers as fetch Headers, without HTTP/2 pseudo-headers. */
function toHeaders(nodeHeaders: http.IncomingHttpHeaders): Headers {
  const header = new Headers();
  for (const key in nodeHeaders) {
    if (key.charCodeAt(0) === 58 /* ":" */) continue;
    const value = nodeHeaders[key];
    if (typeof value === "string") header.append(key, value);
    else if (value !== undefined) for (const v of value) header.append(key, v);
  }
  return header;
}

// Aborts when the call's exchange closes, as Connect's adapter does: the
// HTTP/2 stream (the request closes with it), or the HTTP/1.1 response (the
// request closes as soon as its body is read), or a broken connection. Once
// the stream has ended this changes nothing; before, it ends it at once.
function abortOnClientGone(req: NodeRequest, res: NodeResponse): AbortSignal {
  const controller = new AbortController();
  const onGone = () => controller.abort(new ConnectError("the client went away", Code.Canceled));
  if ("stream" in req) req.once("close", onGone);
  else res.once("close", onGone);
  req.once("error", onGone);
  return controller.signal;
}
