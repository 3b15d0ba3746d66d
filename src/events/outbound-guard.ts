import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * True for an address a webhook may reach when private destinations are not
 * allowed: a public unicast address. Loopback, private (RFC 1918, unique
 * local), link-local, carrier-grade NAT, multicast, unspecified and reserved
 * ranges are refused; an IPv4-mapped IPv6 address is judged as its IPv4.
 *
 * @example
 * isPublicAddress("127.0.0.1"); // false
 * isPublicAddress("93.184.216.34"); // true
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === "unicast";
}

/** Thrown through the HTTP client when a destination resolves to a refused address. */
export class AddressRefusedError extends Error {
  override readonly name = "AddressRefusedError";
  readonly code = "ADDRESS_REFUSED";
}

/**
 * A `lookup` for node:http(s) that resolves the host, checks every address
 * it resolves to, and hands the socket only checked addresses: the socket
 * connects to the very address checked, so a DNS answer that changes between
 * the check and the connection (rebinding) cannot reach a private address.
 * With `allowPrivate` every address passes (development, tests).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, found) => {
      if (err !== null) {
        callback(err, "", 0);
        return;
      }
      const addresses = found as unknown as LookupAddress[];
      if (!allowPrivate && addresses.some((a) => !isPublicAddress(a.address))) {
        callback(new AddressRefusedError("the destination resolves to a refused address"), "", 0);
        return;
      }
      if (options.all === true) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0];
      if (first === undefined) callback(new Error("no address"), "", 0);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * Checks a webhook URL when it is saved: http or https only (https only when
 * `requireHttps`), no credentials, at most 2000 characters; a literal IP
 * address must be public unless `allowPrivate`. Host names are checked again
 * at every send, against what they resolve to then. Returns the normalised
 * URL, or a reason it is refused.
 */
export function checkWebhookUrl(
  raw: string,
  rules: { allowPrivate: boolean; requireHttps: boolean },
): { url: string } | { refused: string } {
  if (raw.length === 0 || raw.length > 2000) return { refused: "url must be 1 to 2000 characters" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { refused: "url is not an absolute URL" };
  }
  const schemes = rules.requireHttps ? ["https:"] : ["https:", "http:"];
  if (!schemes.includes(url.protocol)) {
    return { refused: `url must use ${rules.requireHttps ? "https" : "http or https"}` };
  }
  if (url.username !== "" || url.password !== "")
    return { refused: "url must hold no credentials" };
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (ipaddr.isValid(host) && !rules.allowPrivate && !isPublicAddress(host)) {
    return { refused: "url points at a private, loopback or link-local address" };
  }
  if (!rules.allowPrivate && host.toLowerCase() === "localhost") {
    return { refused: "url points at a private, loopback or link-local address" };
  }
  return { url: url.toString() };
}
