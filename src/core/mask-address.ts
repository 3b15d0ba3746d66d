import ipaddr from "ipaddr.js";

/**
 * Masks a caller's IP address for the audit trail: an IPv4 address keeps its
 * /24 network, an IPv6 address its /48, so an entry tells which network a
 * call came from without naming the host. Anything that is not an address
 * (such as "unknown", when the peer could not be told) reads "unknown".
 *
 * @example
 * maskAddress("203.0.113.7"); // "203.0.113.0/24"
 * maskAddress("2001:db8:1:2::5"); // "2001:db8:1::/48"
 */
export function maskAddress(address: string): string {
  if (!ipaddr.isValid(address)) return "unknown";
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === "ipv4") {
    const [a, b, c] = (parsed as ipaddr.IPv4).octets;
    return `${a}.${b}.${c}.0/24`;
  }
  const parts = (parsed as ipaddr.IPv6).parts.map((part, i) => (i < 3 ? part : 0));
  return `${new ipaddr.IPv6(parts).toString()}/48`;
}
