import type * as http from "node:http";
import type * as http2 from "node:http2";
import { cors } from "@connectrpc/connect";
import type { RequestHandler } from "./listener.js";

/** Options for {@link withCors}. */
export interface CorsOptions {
  /**
   * Origins allowed to call from a browser, matched exactly
   * (`"https://app.example.com"`); `"*"` allows every origin.
   */
  origins: string[];
  /** How long a browser may cache a preflight answer. Defaults to 2 hours, Chromium's cap. */
  maxAgeSeconds?: number;
  /**
   * Asked about an origin `origins` does not list, for example whether a live
   * publishable key names it. A failure counts as "not allowed".
   */
  isAllowed?: (origin: string) => Promise<boolean>;
}

// Headers our clients send on top of the protocol's own: the API key, bearer
// tokens and W3C trace context.
const allowedHeaders = [
  ...cors.allowedHeaders,
  "x-api-key",
  "authorization",
  "traceparent",
  "tracestate",
].join(", ");
const allowedMethods = cors.allowedMethods.join(", ");
// The request id is exposed too, so a page can quote it in a support request.
const exposedHeaders = [...cors.exposedHeaders, "x-request-id"].join(", ");

/**
 * Wraps a handler with CORS for browsers on other origins, which
 * `connectNodeAdapter` does not do itself. Preflight requests (`OPTIONS` with
 * `Access-Control-Request-Method`) from allowed origins are answered 204
 * with the methods and headers Connect, gRPC-web and our headers need;
 * from other origins, 403 without CORS headers. Other requests from allowed
 * origins get `Access-Control-Allow-Origin` and the exposed headers, so
 * gRPC-web can read `grpc-status`.
 *
 * @example
 * const handler = withCors(connectNodeAdapter({ routes }), { origins: ["https://app.example.com"] });
 */
export function withCors(handler: RequestHandler, options: CorsOptions): RequestHandler {
  const anyOrigin = options.origins.includes("*");
  const origins = new Set(options.origins);
  const maxAge = String(options.maxAgeSeconds ?? 7200);
  const listed = (origin: string) => anyOrigin || origins.has(origin);
  const { isAllowed } = options;

  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin !== "string") {
      handler(req, res);
      return;
    }
    if (listed(origin) || isAllowed === undefined) {
      answer(req, res, origin, listed(origin));
      return;
    }
    isAllowed(origin).then(
      (ok) => answer(req, res, origin, ok),
      () => answer(req, res, origin, false),
    );
  };

  function answer(
    req: Parameters<RequestHandler>[0],
    res: Parameters<RequestHandler>[1],
    origin: string,
    allowed: boolean,
  ): void {
    const preflight =
      req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (preflight) {
      const headers: http.OutgoingHttpHeaders = {
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      };
      if (!allowed) {
        writeEmpty(res, 403, headers);
        return;
      }
      writeEmpty(res, 204, {
        ...headers,
        "access-control-allow-origin": origin,
        "access-control-allow-methods": allowedMethods,
        "access-control-allow-headers": allowedHeaders,
        "access-control-max-age": maxAge,
      });
      return;
    }
    // Merged by Node into whatever the handler passes to writeHead.
    res.setHeader("vary", "Origin");
    if (allowed) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", exposedHeaders);
    }
    handler(req, res);
  }
}

function writeEmpty(
  res: http.ServerResponse | http2.Http2ServerResponse,
  status: number,
  headers: http.OutgoingHttpHeaders,
): void {
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) {
      res.setHeader(name, value);
    }
  }
  res.statusCode = status;
  res.end();
}
