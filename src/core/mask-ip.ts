import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * A caller's address with its host part dropped, for security events and the
 * audit trail: the /24 of an IPv4 address, the /48 of an IPv6 one. An
 * IPv4-mapped IPv6 address is masked as IPv4; anything else reads "unknown".
 *
 * @example
 * maskIp("203.0.113.77"); // "203.0.113.0/24"
 * maskIp("2001:db8:5:1::9"); // "2001:db8:5::/48"
 */
export function maskIp(address: string): string {
  const family = isIP(address);
  if (family === 0) return "unknown";
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const bits = parsed.kind() === "ipv4" ? 24 : 48;
  const bytes = parsed.toByteArray();
  for (let bit = bits; bit < bytes.length * 8; bit++) {
    const i = bit >> 3;
    bytes[i] = (bytes[i] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${bits}`;
}
