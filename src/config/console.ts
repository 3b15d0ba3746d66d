import ipaddr from "ipaddr.js";
import { parseLimit, type RateLimit } from "./limits.js";
import {
  type Area,
  type Context,
  flag,
  integer,
  type Mode,
  parsed,
  splitList,
  type Values,
} from "./schema.js";

/**
 * Parses `CONSOLE_ALLOWED_CIDRS`: comma-separated CIDR ranges (`10.0.0.0/8`,
 * `2001:db8::/32`) or single addresses (taken as /32 or /128), read with
 * ipaddr.js. Empty text allows every address. Throws naming the first bad entry.
 *
 * @example
 * parseCidrList("10.0.0.0/8, 192.0.2.7"); // ["10.0.0.0/8", "192.0.2.7/32"]
 */
export function parseCidrList(text: string): string[] {
  return splitList(text).map((entry) => {
    try {
      if (entry.includes("/")) {
        const [address, prefix] = ipaddr.parseCIDR(entry);
        return `${address.toString()}/${prefix}`;
      }
      if (!ipaddr.isValid(entry)) throw new Error("not an address");
      const address = ipaddr.parse(entry);
      return `${address.toString()}/${address.kind() === "ipv4" ? 32 : 128}`;
    } catch {
      throw new Error(`"${entry}" is not an IP address or a CIDR range such as 10.0.0.0/8`);
    }
  });
}

/** The operator console at /console, and its sign-in. */
export const consoleVariables = {
  CONSOLE_TRUST_PROXY_TLS: flag({
    defaultText: "`false`",
    production:
      "Without it the console is off: `/console` answers 503 and no session can be opened (the banner and the log say so).",
    description:
      "Set to `true` when a proxy in front terminates TLS, so the console's session cookie only ever crosses HTTPS. The service itself speaks plain HTTP; in production the console is served only with this set (see [Console](console.md#behind-tls)).",
  }),
  CONSOLE_ALLOWED_CIDRS: parsed(parseCidrList, {
    type: "list",
    fallback: "",
    defaultText: "every address",
    allowed: "comma-separated CIDR ranges or addresses, IPv4 or IPv6",
    description:
      "Networks allowed to load `/console`, sign in, and make calls with a console session; others get 403. The address is the caller's as `TRUSTED_PROXIES` tells it. Calls with an API key or `ADMIN_TOKEN` as a bearer token are not affected.",
  }),
  CONSOLE_SESSION_IDLE_MINUTES: integer({
    default: 15,
    min: 1,
    max: 720,
    unit: "min",
    description: "A console session unused for this long ends.",
  }),
  CONSOLE_SESSION_MAX_HOURS: integer({
    default: 8,
    min: 1,
    max: 72,
    unit: "h",
    description: "A console session ends this long after sign-in, however much it is used.",
  }),
  RATE_LIMIT_CONSOLE_SIGN_IN: parsed(parseLimit, {
    type: "limit",
    fallback: "10/15m",
    allowed: "`<count>/<window>` (window in `s`, `m`, `h`; 1 s to 24 h), or `off`",
    description:
      "Console sign-in attempts per caller IP (`console_sign_in`), right or wrong; over it, sign-in answers 429 with `Retry-After` until the window ends.",
  }),
};

/** The console area of the reference. */
export const consoleArea: Area = {
  title: "Operator console",
  summary:
    "The console at `/console` signs in with `ADMIN_TOKEN` or a tenant's admin-scoped secret key and holds a server-side session in an HttpOnly cookie ([Console](console.md)).",
  variables: consoleVariables,
};

/** The console part of {@link Config}. */
export interface ConsoleConfig {
  /** False in production without CONSOLE_TRUST_PROXY_TLS: /console answers 503 and no session opens. */
  enabled: boolean;
  /** True when a TLS-terminating proxy is in front (the cookie is always Secure then). */
  trustProxyTls: boolean;
  /** Normalised CIDR ranges allowed to use the console; empty allows every address. */
  allowedCidrs: string[];
  sessionIdleMs: number;
  sessionMaxMs: number;
  signInLimit: RateLimit | "off";
}

/** Builds the console part; production serves it only behind a proxy that terminates TLS. */
export function readConsole(
  v: Values<typeof consoleVariables>,
  ctx: Pick<Context, "mode">,
): ConsoleConfig {
  const trustProxyTls = v.CONSOLE_TRUST_PROXY_TLS === true;
  const mode: Mode = ctx.mode;
  return {
    enabled: mode !== "production" || trustProxyTls,
    trustProxyTls,
    allowedCidrs: v.CONSOLE_ALLOWED_CIDRS,
    sessionIdleMs: v.CONSOLE_SESSION_IDLE_MINUTES * 60_000,
    sessionMaxMs: v.CONSOLE_SESSION_MAX_HOURS * 3_600_000,
    signInLimit: v.RATE_LIMIT_CONSOLE_SIGN_IN,
  };
}
