import { type Area, integer, parsed, type Values } from "./schema.js";

/** A limit: at most `points` hits per `windowMs`. */
export interface RateLimit {
  points: number;
  windowMs: number;
}

/**
 * Where `+tag` sub-addressing is stripped when recipients are compared for
 * limits: "all" domains, a set of domains, or none.
 */
export type PlusTagDomains = "all" | ReadonlySet<string>;

/** Gmail's domains: one mailbox, whose `+tags` (and dots) are always folded. */
export const gmailDomains: ReadonlySet<string> = new Set(["gmail.com", "googlemail.com"]);

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

const maxPoints = 1_000_000;
const minWindowMs = unitMs.s;
const maxWindowMs = 24 * unitMs.h;

// <count>/<n><unit>, the n optional; spaces allowed around every part.
const limitPattern = /^\s*(\d+)\s*\/\s*(\d*)\s*([smh])\s*$/;

const acceptedForm =
  'must be <count>/<window> such as 10/1m, 60/m, 5/1h or 100/30s (count 1 to 1000000, window 1s to 24h), or "off"';

/**
 * Parses a rate limit written `<count>/<window>`, where the window is a number
 * followed by `s`, `m` or `h` (a bare unit means one of it), or the word `off`.
 * Throws an Error saying what is accepted; the caller adds the variable name.
 *
 * @example
 * parseLimit("10/1m"); // { points: 10, windowMs: 60_000 }
 * parseLimit("60/m"); // { points: 60, windowMs: 60_000 }
 * parseLimit("off"); // "off"
 */
export function parseLimit(text: string): RateLimit | "off" {
  if (text.trim() === "off") return "off";
  const match = limitPattern.exec(text);
  if (match === null) throw new Error(`${acceptedForm}, got "${text}"`);
  const [, count = "", amount = "", unit = "s"] = match;
  const points = Number(count);
  const windowMs = (amount === "" ? 1 : Number(amount)) * unitMs[unit as keyof typeof unitMs];
  if (points < 1 || points > maxPoints || windowMs < minWindowMs || windowMs > maxWindowMs) {
    throw new Error(`${acceptedForm}, got "${text}"`);
  }
  return { points, windowMs };
}

/**
 * Parses the value of RATE_LIMIT_PLUS_TAG_DOMAINS: "*" for every domain,
 * "off" for none but Gmail's (whose sub-addressing is always folded), or a
 * comma-separated list of domains. Throws on something that is not a domain.
 *
 * @example
 * parsePlusTagDomains("gmail.com, fastmail.com"); // Set {"gmail.com", "googlemail.com", "fastmail.com"}
 */
export function parsePlusTagDomains(value: string): PlusTagDomains {
  const trimmed = value.trim().toLowerCase();
  if (trimmed === "*") return "all";
  if (trimmed === "off") return new Set(gmailDomains);
  const domains = trimmed
    .split(",")
    .map((d) => d.trim().replace(/\.+$/, ""))
    .filter((d) => d !== "");
  if (domains.length === 0) throw new Error('must be "*", "off" or a list of domains');
  for (const domain of domains) {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain)) {
      throw new Error(`"${domain}" is not a domain like example.com`);
    }
  }
  return new Set([...gmailDomains, ...domains]);
}

const limitForm = "`<count>/<window>` (window in `s`, `m`, `h`; 1 s to 24 h), or `off`";

const limit = (fallback: string, description: string) =>
  parsed(parseLimit, { type: "limit", fallback, allowed: limitForm, description });

/** Rate limits and tenant quotas, kept in the store and shared by every process. */
export const limitVariables = {
  RATE_LIMIT_GENERATE_PER_IP: limit(
    "10/1m",
    "`Generate` and `Resend` calls per caller IP and tenant (bucket `generate_ip`), for anonymous development callers; secret keys have no per-IP limit and publishable keys have their own.",
  ),
  RATE_LIMIT_VERIFY_PER_IP: limit(
    "60/1m",
    "`Verify` calls per caller IP and tenant (`verify_ip`), for anonymous development callers, as above.",
  ),
  RATE_LIMIT_VERIFY_PER_CHALLENGE: limit(
    "20/1m",
    "`Verify` calls per challenge id (`verify_challenge`), counted before the lookup, so unknown ids are refused alike.",
  ),
  RATE_LIMIT_SENDS_PER_RECIPIENT: limit(
    "5/1h",
    "Messages per recipient and tenant (`sends_recipient`), every spelling of one mailbox or number counted as one (see `RATE_LIMIT_PLUS_TAG_DOMAINS`). An over-quota target is recorded as failed with `RATE_LIMITED` and the next target is tried. A tenant's settings may set its own.",
  ),
  RATE_LIMIT_PUBLISHABLE_PER_IP: limit(
    "5/1m",
    "Calls made with a publishable key, per caller IP, in place of the two per-IP limits above: `Generate` (`generate_ip_publishable`) and `Verify` (`verify_ip_publishable`) each; a tenant's settings may set its own.",
  ),
  TENANT_QUOTA_GENERATE: limit(
    "3000/1m",
    "`Generate` and `Resend` calls per tenant, from any address (`tenant_generate`); a tenant's settings may set its own.",
  ),
  TENANT_QUOTA_SENDS_PER_CHANNEL: limit(
    "10000/24h",
    "Messages per tenant and channel (`sends`), counted when a message is admitted, before the provider is called; a tenant's settings may set its own.",
  ),
  RATE_LIMIT_IPV6_PREFIX: integer({
    default: 64,
    min: 32,
    max: 128,
    unit: "bits",
    description:
      "How many leading bits of an IPv6 caller address count as one caller for the per-IP limits: by default every address in a /64 shares one budget. IPv4-mapped IPv6 addresses count as their IPv4 address.",
  }),
  RATE_LIMIT_PLUS_TAG_DOMAINS: parsed(parsePlusTagDomains, {
    type: "list",
    fallback: "*",
    allowed: "`*` (every domain), `off` (none), or comma-separated domains",
    description:
      "Where `+tags` are dropped when email addresses are counted for `RATE_LIMIT_SENDS_PER_RECIPIENT` (the message still goes to the address as given). Gmail's `+tags` and dots are always dropped.",
  }),
};

/** The limits area of the reference. */
export const limitsArea: Area = {
  title: "Rate limits and quotas",
  summary:
    "Limits live in the store, so every worker and instance on one Redis shares one budget; they fail closed. Each counts in fixed windows: a window starts with its first counted call, so `24h` is not a calendar day. `off` turns a limit off.",
  variables: limitVariables,
};

/** The limits of {@link Config}. */
export interface RateLimitsConfig {
  generatePerIp: RateLimit | "off";
  verifyPerIp: RateLimit | "off";
  verifyPerChallenge: RateLimit | "off";
  sendsPerRecipient: RateLimit | "off";
  publishablePerIp: RateLimit | "off";
  tenantGenerate: RateLimit | "off";
  tenantSendsPerChannel: RateLimit | "off";
  /** Leading bits of an IPv6 address that make one caller for per-IP limits (32..128). */
  ipv6PrefixLength: number;
}

/** Builds the limits from their parsed variables. */
export function readRateLimits(v: Values<typeof limitVariables>): RateLimitsConfig {
  return {
    generatePerIp: v.RATE_LIMIT_GENERATE_PER_IP,
    verifyPerIp: v.RATE_LIMIT_VERIFY_PER_IP,
    verifyPerChallenge: v.RATE_LIMIT_VERIFY_PER_CHALLENGE,
    sendsPerRecipient: v.RATE_LIMIT_SENDS_PER_RECIPIENT,
    publishablePerIp: v.RATE_LIMIT_PUBLISHABLE_PER_IP,
    tenantGenerate: v.TENANT_QUOTA_GENERATE,
    tenantSendsPerChannel: v.TENANT_QUOTA_SENDS_PER_CHANNEL,
    // One subscriber usually holds a whole /64; per /128 it would have 2^64 budgets.
    ipv6PrefixLength: v.RATE_LIMIT_IPV6_PREFIX,
  };
}
