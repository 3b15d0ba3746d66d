import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/** The IPv6 prefix length per-IP budgets use unless configured (`RATE_LIMIT_IPV6_PREFIX`). */
export const defaultIpv6PrefixLength = 64;

/**
 * The key of a caller's per-IP rate-limit bucket. An IPv4 address is its own
 * key. An IPv6 address is keyed by its network of `ipv6PrefixLength` bits
 * (the /64 by default), written `network/length`: one subscriber usually holds
 * a whole /64, so keying per /128 would give one caller 2^64 budgets. An
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 address, and a
 * zone id (`fe80::1%eth0`) is ignored. Anything that is not an address (such
 * as "unknown", when the peer could not be told) is returned unchanged, so
 * all such callers share one budget.
 *
 * Only the limit key is widened: logs keep the caller's full address.
 *
 * @example
 * ipLimitKey("2001:db8:5:1:abcd::1", 64); // "2001:db8:5:1::/64"
 * ipLimitKey("::ffff:192.0.2.1", 64);     // "192.0.2.1"
 */
export function ipLimitKey(address: string, ipv6PrefixLength = defaultIpv6PrefixLength): string {
  // Node's check is the strict one: ipaddr.js would also take "1" or "0x1.1.1.1".
  const family = isIP(address);
  if (family === 0) return address;
  if (family === 4) return address;
  const v6 = ipaddr.IPv6.parse(address);
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const bytes = v6.toByteArray();
  for (let bit = ipv6PrefixLength; bit < 128; bit++) {
    const i = bit >> 3;
    bytes[i] = (bytes[i] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${ipv6PrefixLength}`;
}
