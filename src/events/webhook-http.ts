import http from "node:http";
import https from "node:https";
import { guardedLookup } from "./outbound-guard.js";

/** What one POST of a webhook came to. */
export interface PostResult {
  /** The HTTP status; 0 when no response came. */
  status: number;
  /** "" on a response; otherwise "timeout", "address_refused", "connection_failed". */
  error: string;
  durationMs: number;
}

/** Options for {@link createWebhookPoster}. */
export interface PosterOptions {
  /** Whether private, loopback and link-local destinations may be reached. */
  allowPrivate: boolean;
  /** The whole request, connection to last byte read, in milliseconds. */
  timeoutMs: number;
  /** The most response bytes read; the rest is discarded. */
  maxResponseBytes: number;
}

/**
 * Makes the function that POSTs a webhook: node:http(s) with the guarded
 * lookup (outbound-guard.ts), so the socket connects only to an address that
 * was checked; redirects are never followed (a 3xx is a failed attempt); the
 * whole exchange is cut at `timeoutMs`; at most `maxResponseBytes` of the
 * answer are read.
 */
export function createWebhookPoster(
  options: PosterOptions,
): (url: string, headers: Record<string, string>, body: string) => Promise<PostResult> {
  const lookup = guardedLookup(options.allowPrivate);
  // No keep-alive pool: each attempt resolves and checks its destination afresh.
  return (url, headers, body) =>
    new Promise<PostResult>((resolve) => {
      const started = performance.now();
      const target = new URL(url);
      const client = target.protocol === "https:" ? https : http;
      let settled = false;
      const done = (status: number, error: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, error, durationMs: Math.round(performance.now() - started) });
      };
      const req = client.request(
        target,
        {
          method: "POST",
          lookup,
          agent: false,
          headers: {
            ...headers,
            "content-type": "application/json",
            "content-length": String(Buffer.byteLength(body)),
            "user-agent": "otp-platform-webhooks/1",
          },
        },
        (res) => {
          let read = 0;
          res.on("data", (chunk: Buffer) => {
            read += chunk.length;
            if (read > options.maxResponseBytes) {
              res.destroy();
              done(res.statusCode ?? 0, "");
            }
          });
          res.on("end", () => done(res.statusCode ?? 0, ""));
          res.on("error", () => done(res.statusCode ?? 0, ""));
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        done(0, "timeout");
      }, options.timeoutMs);
      req.on("error", (err: Error & { code?: string }) =>
        done(0, err.code === "ADDRESS_REFUSED" ? "address_refused" : "connection_failed"),
      );
      req.end(body);
    });
}
