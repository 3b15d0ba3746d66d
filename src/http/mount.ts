import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "./listener.js";
import { pathOf } from "./path-of.js";

/** A plain HTTP endpoint served on the RPC port, such as a provider's webhook. */
export interface Mount {
  /** The exact path, without query, for example "/telegram/webhook/3f9c". */
  path: string;
  /** Serves the request; rejections answer 500. */
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}

/**
 * Serves each mount's path with its handler (any method: the handler
 * answers 405 itself) and passes every other request to `handler`.
 * Provider webhooks (Telegram updates, Twilio status callbacks) come in over
 * HTTP/1.1; an HTTP/2 request gets the compatibility objects, which speak
 * the same API for what these handlers use.
 *
 * @example
 * const handler = withMounts(connect, [{ path: "/twilio/status", handler: twilioStatus }]);
 */
export function withMounts(handler: RequestHandler, mounts: readonly Mount[]): RequestHandler {
  if (mounts.length === 0) return handler;
  const byPath = new Map(mounts.map((m) => [m.path, m.handler]));
  return (req, res) => {
    const mounted = byPath.get(pathOf(req.url));
    if (mounted === undefined) {
      handler(req, res);
      return;
    }
    const nodeRes = res as ServerResponse;
    Promise.resolve(mounted(req as IncomingMessage, nodeRes)).catch(() => {
      if (!nodeRes.headersSent) nodeRes.writeHead(500);
      nodeRes.end();
    });
  };
}
