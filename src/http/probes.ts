import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { RequestHandler } from "./listener.js";
import { pathOf } from "./path-of.js";

/** Options for {@link withProbes}. */
export interface ProbeOptions {
  /** Whether the service can take traffic now (store reachable, not shutting down). */
  ready: () => Promise<boolean>;
  /** The current metrics, for example `Metrics.render`. */
  metrics: () => Promise<{ contentType: string; body: string }>;
}

/**
 * Wraps a handler with the plain HTTP endpoints that orchestrators and
 * scrapers call: `GET /healthz` (200 while the process is up), `GET /readyz`
 * (200 or 503 from `ready`) and `GET /metrics` (Prometheus text). Every other
 * request goes to `handler`.
 *
 * @example
 * const handler = withProbes(connectNodeAdapter({ routes }), { ready, metrics: metrics.render });
 */
export function withProbes(handler: RequestHandler, options: ProbeOptions): RequestHandler {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      handler(req, res);
      return;
    }
    switch (pathOf(req.url)) {
      case "/healthz":
        json(res, 200, { status: "ok" });
        return;
      case "/readyz":
        options.ready().then(
          (ready) => json(res, ready ? 200 : 503, { status: ready ? "ready" : "not_ready" }),
          () => json(res, 503, { status: "not_ready" }),
        );
        return;
      case "/metrics":
        options.metrics().then(
          ({ contentType, body }) => send(res, 200, contentType, body),
          () => send(res, 500, "text/plain; charset=utf-8", "metrics unavailable\n"),
        );
        return;
      default:
        handler(req, res);
    }
  };
}

function json(
  res: http.ServerResponse | http2.Http2ServerResponse,
  status: number,
  body: unknown,
): void {
  send(res, status, "application/json", JSON.stringify(body));
}

function send(
  res: http.ServerResponse | http2.Http2ServerResponse,
  status: number,
  contentType: string,
  body: string,
): void {
  res.statusCode = status;
  res.setHeader("content-type", contentType);
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", Buffer.byteLength(body));
  // HEAD gets the headers only; Node drops the body itself for http1, not for http2.
  if (res.req.method === "HEAD") {
    res.end();
  } else {
    res.end(body);
  }
}
