/** The longest origin accepted: a 253-character host, the scheme and a port fit well within it. */
export const webOriginMaxLength = 300;

/**
 * Checks that text is a browser origin exactly as a browser sends it in the
 * `Origin` header: `http` or `https`, a host, an optional non-default port,
 * lower case, with no user, path, query, fragment or trailing slash. Returns
 * the origin, or undefined. A stored origin in any other spelling could never
 * match a request's header, so it is refused rather than kept.
 *
 * @example
 * webOrigin("https://shop.example.com:8443"); // "https://shop.example.com:8443"
 * webOrigin("https://Shop.example.com/");     // undefined
 */
export function webOrigin(text: string): string | undefined {
  if (text.length > webOriginMaxLength) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  // A URL with a user, path, query or fragment has an origin other than its text.
  return url.origin === text ? text : undefined;
}
