import type { RequestHandler } from "./listener.js";
import { pathOf } from "./path-of.js";

/**
 * Serves the public keys that check verification tokens at
 * `GET /.well-known/jwks.json`; every other request goes to `handler`.
 *
 * @example
 * const handler = withJwks(connect, () => signer.jwks());
 */
export function withJwks(handler: RequestHandler, jwks: () => object): RequestHandler {
  const body = () => JSON.stringify(jwks());
  return (req, res) => {
    const path = pathOf(req.url);
    if (path === "/.well-known/jwks.json" && (req.method === "GET" || req.method === "HEAD")) {
      const text = body();
      res.statusCode = 200;
      res.setHeader("content-type", "application/jwk-set+json");
      res.setHeader("cache-control", "public, max-age=300");
      res.setHeader("content-length", Buffer.byteLength(text));
      if (req.method === "HEAD") res.end();
      else res.end(text);
      return;
    }
    handler(req, res);
  };
}
