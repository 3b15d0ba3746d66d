import ipaddr from "ipaddr.js";
import { OtpError } from "../core/otp-error.js";
import type { ConsoleAuth, ConsoleSession } from "../tenancy/console-auth.js";

/** The session cookie's name over plain HTTP to localhost (development). */
export const consoleCookie = "otp_console";

/**
 * The session cookie's name wherever it is `Secure`: the `__Host-` prefix
 * makes the browser refuse it unless it is Secure, has `Path=/` and no
 * `Domain`, so a sibling subdomain cannot plant a session of its own.
 */
export const secureConsoleCookie = "__Host-otp_console";

/** The header that carries a session's CSRF token on every call made with the cookie. */
export const csrfHeader = "x-csrf-token";

/** Reads request headers by lower-case name, as `Headers` does. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * Tells whether an address is inside one of `cidrs` (normalised ranges from
 * `parseCidrList` in config/); an empty list allows every address. IPv4-mapped
 * IPv6 addresses are read as IPv4, and anything that is not an address is
 * outside every range.
 *
 * @example
 * const allowed = createNetworkCheck(["10.0.0.0/8"]);
 * allowed("10.1.2.3"); // true
 */
export function createNetworkCheck(cidrs: readonly string[]): (ip: string) => boolean {
  if (cidrs.length === 0) return () => true;
  const ranges = cidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  return (ip) => {
    if (!ipaddr.isValid(ip)) return false;
    const address = ipaddr.process(ip);
    return ranges.some(
      ([network, bits]) =>
        network.kind() === address.kind() &&
        (address as ipaddr.IPv4).match(network as ipaddr.IPv4, bits),
    );
  };
}

/** The value of one cookie in a `Cookie` header, or undefined. */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (header === null || header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Why a request does not come from the console's own origin, or undefined
 * when it does: a browser's `Sec-Fetch-Site` other than `same-origin`, an
 * `Origin` whose host is not the request's `Host`, or, unless `readOnly`, a
 * missing `Origin` (browsers send it with every POST and DELETE, and not with
 * a same-origin GET).
 */
export function crossSiteReason(headers: HeaderReader, readOnly = false): string | undefined {
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return "cross_site";
  const origin = headers.get("origin");
  if (origin === null && readOnly) return undefined;
  const host = headers.get("host") ?? headers.get(":authority");
  if (origin === null || host === null || !URL.canParse(origin)) return "cross_site";
  return new URL(origin).host === host.toLowerCase() ? undefined : "cross_site";
}

/** What {@link createConsoleGate} is built from. */
export interface ConsoleGateOptions {
  auth: ConsoleAuth;
  /** False in production without CONSOLE_TRUST_PROXY_TLS: no page, no session. */
  enabled: boolean;
  /** CONSOLE_ALLOWED_CIDRS, normalised; empty allows every address. */
  allowedCidrs: readonly string[];
  /** A TLS-terminating proxy is in front: the cookie is always `Secure`. */
  trustProxyTls: boolean;
  sessionMaxMs: number;
}

/** The console's checks, shared by its pages and by AdminService calls made with its cookie. */
export interface ConsoleGate {
  readonly enabled: boolean;
  readonly auth: ConsoleAuth;
  /** Whether an address may use the console (CONSOLE_ALLOWED_CIDRS). */
  allows(ip: string): boolean;
  /** Whether this call should be authenticated by its console cookie rather than a bearer token. */
  usesSession(procedure: string, headers: HeaderReader): boolean;
  /**
   * The session behind a call's cookie, after every check a cookie needs:
   * the address allowed, the call from the console's own origin, the
   * session's CSRF token in {@link csrfHeader}, the session live. Reads
   * headers only, so it runs before the body is read. A refusal throws
   * `UNAUTHENTICATED` (no live session) or `PERMISSION_DENIED` with `need`.
   */
  sessionForCall(headers: HeaderReader, ip: string): Promise<ConsoleSession>;
  /** The session id the request's cookie holds, under the name the request's host uses, or "". */
  sessionIdOf(headers: HeaderReader): string;
  /** The `Set-Cookie` value that holds a new session, `Secure` unless served to localhost. */
  sessionCookie(sessionId: string, host: string | null): string;
  /** The `Set-Cookie` value that removes the session cookie. */
  clearedCookie(host: string | null): string;
}

const noSession = () =>
  new OtpError("UNAUTHENTICATED", "a valid API key is required (Authorization: Bearer <key>)");
const refused = (need: string) =>
  new OtpError("PERMISSION_DENIED", "this console session may not make this call", {
    metadata: { need },
  });

/**
 * The console's session checks (see {@link ConsoleGate}).
 *
 * @example
 * const gate = createConsoleGate({ auth, enabled: true, allowedCidrs: [], trustProxyTls: false, sessionMaxMs });
 */
export function createConsoleGate(options: ConsoleGateOptions): ConsoleGate {
  const { auth } = options;
  const allows = createNetworkCheck(options.allowedCidrs);
  const secureFor = (host: string | null) => options.trustProxyTls || !isLocalHost(host);
  const attributes = (host: string | null) =>
    `Path=/; HttpOnly; SameSite=Strict${secureFor(host) ? "; Secure" : ""}`;
  const nameFor = (host: string | null) => (secureFor(host) ? secureConsoleCookie : consoleCookie);
  const sessionIdOf = (headers: HeaderReader) =>
    readCookie(headers.get("cookie"), nameFor(headers.get("host"))) ?? "";
  return {
    enabled: options.enabled,
    auth,
    allows,
    sessionIdOf,
    usesSession(procedure, headers) {
      return (
        options.enabled &&
        procedure.startsWith("otp.v1.AdminService/") &&
        headers.get("authorization") === null &&
        sessionIdOf(headers) !== ""
      );
    },
    async sessionForCall(headers, ip) {
      const sessionId = sessionIdOf(headers);
      if (!allows(ip)) {
        auth.refused("network", ip);
        throw refused("allowed network");
      }
      if (crossSiteReason(headers) !== undefined) {
        auth.refused("cross_site", ip);
        throw refused("same origin");
      }
      if (!auth.checkCsrf(sessionId, headers.get(csrfHeader) ?? "")) {
        auth.refused("csrf", ip);
        throw refused("csrf token");
      }
      const session = await auth.resolve(sessionId);
      if (session === undefined) throw noSession();
      return session;
    },
    sessionCookie(sessionId, host) {
      return `${nameFor(host)}=${sessionId}; ${attributes(host)}; Max-Age=${Math.floor(options.sessionMaxMs / 1000)}`;
    },
    clearedCookie(host) {
      return `${nameFor(host)}=; ${attributes(host)}; Max-Age=0`;
    },
  };
}

// The browser treats these as secure contexts over plain HTTP; nothing else is.
function isLocalHost(host: string | null): boolean {
  if (host === null) return false;
  const name = host.replace(/:\d+$/, "").toLowerCase();
  return (
    name === "localhost" || name.endsWith(".localhost") || name === "127.0.0.1" || name === "[::1]"
  );
}
