import type * as http from "node:http";
import type * as http2 from "node:http2";
import { isIP } from "node:net";
import { type ContextValues, createContextKey, createContextValues } from "@connectrpc/connect";
import proxyAddr from "proxy-addr";

/** An incoming request over HTTP/1.1 or HTTP/2, as `connectNodeAdapter` receives it. */
export type IncomingRequest = http.IncomingMessage | http2.Http2ServerRequest;

/** Tells the address of the caller of a request. */
export type ClientIpResolver = (req: IncomingRequest) => string;

/**
 * The context key that holds the caller's IP address for the current call.
 * It reads "unknown" until {@link clientIpContextValues} has set it, and when
 * the peer address cannot be told (the connection is already gone).
 */
export const clientIpKey = createContextKey<string>("unknown", { description: "client IP" });

/**
 * Creates a function that tells the IP address of a request's caller, for
 * per-address limits. With no trusted proxies it is the peer address of the
 * connection and `X-Forwarded-For` is ignored, since any client can send it.
 * With trusted proxies (entries as accepted by `parseTrustedProxies` in `config/`) it
 * walks `X-Forwarded-For` from the right, past trusted hops only, and answers
 * the first address no trusted proxy vouches for beyond. IPv4-mapped IPv6
 * addresses are given as IPv4, so one caller has one key whichever way it came.
 * Works for HTTP/1.1 and HTTP/2 requests alike.
 *
 * @example
 * const clientIp = createClientIpResolver(["loopback", "10.0.0.0/8"]);
 * clientIp(req); // "203.0.113.7" when the local proxy forwarded a call from it
 */
export function createClientIpResolver(trustedProxies: string[]): ClientIpResolver {
  if (trustedProxies.length === 0) {
    // Nobody to believe: the peer, without building proxy-addr's view (every call pays for it).
    return (req) => {
      const peer = peerAddress(req);
      return (peer === undefined ? undefined : normalizeIp(peer)) ?? clientIpKey.defaultValue;
    };
  }
  const trust = proxyAddr.compile(trustedProxies);
  return (req) => {
    const peer = peerAddress(req);
    if (peer === undefined) return clientIpKey.defaultValue;
    const header = req.headers["x-forwarded-for"];
    // proxy-addr reads only these two things. Handing it this view rather than
    // the request spares it the difference between HTTP/1.1 and HTTP/2 requests.
    const view = {
      headers: { "x-forwarded-for": Array.isArray(header) ? header.join(",") : header },
      socket: { remoteAddress: peer },
    } as unknown as http.IncomingMessage;
    // [peer, ...trusted hops, client], nearest first.
    const hops = proxyAddr.all(view, trust);
    // A trusted proxy that forwarded something other than an address is
    // answered for itself: the key stays an address, and a short one.
    for (let i = hops.length - 1; i >= 0; i--) {
      const address = normalizeIp(hops[i] ?? "");
      if (address !== undefined) return address;
    }
    return clientIpKey.defaultValue;
  };
}

/**
 * Returns a `contextValues` function for `connectNodeAdapter` that sets
 * {@link clientIpKey} for each call, so interceptors and handlers can read it.
 *
 * @example
 * connectNodeAdapter({ routes, interceptors, contextValues: clientIpContextValues(clientIp) });
 */
export function clientIpContextValues(
  resolve: ClientIpResolver,
): (req: IncomingRequest) => ContextValues {
  return (req) => createContextValues().set(clientIpKey, resolve(req));
}

function peerAddress(req: IncomingRequest): string | undefined {
  try {
    // An HTTP/2 request's socket is a proxy that throws once its session is gone.
    return req.socket?.remoteAddress;
  } catch {
    return undefined;
  }
}

const mappedIpv4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const bracketedIpv6 = /^\[([^\]]+)\](?::\d{1,5})?$/;

/**
 * Gives an address in one spelling: IPv4-mapped IPv6 as IPv4, lower case,
 * without the port some proxies append. Undefined when it is not an address.
 */
function normalizeIp(raw: string): string | undefined {
  let address = raw.trim();
  address = ipv4WithPort.exec(address)?.[1] ?? bracketedIpv6.exec(address)?.[1] ?? address;
  address = mappedIpv4.exec(address)?.[1] ?? address;
  return isIP(address) === 0 ? undefined : address.toLowerCase();
}
