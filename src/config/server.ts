import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import proxyAddr from "proxy-addr";
import {
  type Area,
  type Context,
  choice,
  flag,
  integer,
  type Mode,
  parsed,
  splitList,
  text,
  type Values,
} from "./schema.js";

// The names proxy-addr knows as ranges, besides IPs and CIDRs.
const namedRanges = ["loopback", "linklocal", "uniquelocal"];

/**
 * Parses `TRUSTED_PROXIES`: comma-separated IP addresses, CIDR ranges (also
 * written with a netmask, `10.0.0.0/255.0.0.0`) and the names `loopback`,
 * `linklocal` and `uniquelocal`. Empty text trusts no proxy. Throws an Error
 * naming the first bad entry; the caller adds the variable name.
 *
 * @example
 * parseTrustedProxies("loopback, 10.0.0.0/8"); // ["loopback", "10.0.0.0/8"]
 */
export function parseTrustedProxies(text: string): string[] {
  const entries = splitList(text);
  for (const entry of entries) {
    if (namedRanges.includes(entry)) continue;
    const slash = entry.lastIndexOf("/");
    const address = slash === -1 ? entry : entry.slice(0, slash);
    let valid = isIP(address) !== 0;
    // proxy-addr's own parser is more lenient ("10" reads as 0.0.0.10), so it
    // runs only after the strict check above, to catch a bad prefix or netmask.
    if (valid) {
      try {
        proxyAddr.compile(entry);
      } catch {
        valid = false;
      }
    }
    if (!valid) {
      throw new Error(
        `"${entry}" is not an IP address, a CIDR range such as 10.0.0.0/8, or one of ${namedRanges.join(", ")}`,
      );
    }
  }
  return entries;
}

/**
 * Parses `CORS_ORIGINS`: comma-separated origins such as
 * `https://app.example.com` (no path), or `*`. Throws naming each bad entry.
 */
export function parseOrigins(text: string): string[] {
  const origins = splitList(text);
  const bad = origins.filter((o) => o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o));
  if (bad.length > 0) {
    throw new Error(
      bad.map((o) => `"${o}" is not an origin like https://app.example.com (no path)`).join("; "),
    );
  }
  return origins;
}

/**
 * Parses `WORKERS`: `auto` (one per CPU) or a whole number from 1 to 64.
 */
export function parseWorkers(text: string): number {
  if (text === "auto") return availableParallelism();
  if (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 64) return Number(text);
  throw new Error(`must be "auto" or a whole number from 1 to 64, got "${text}"`);
}

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** The process, its port and what every HTTP request meets first. */
export const serverVariables = {
  NODE_ENV: choice(["production", "development", "test"], {
    default: "development",
    description:
      "`production` requires the secrets and keys, an API key on every call but health and reflection, and turns off the outbox and `/demo` (see [Production requirements](#production-requirements)). `test` behaves like `development`.",
  }),
  PORT: integer({
    default: 8080,
    min: 0,
    max: 65535,
    description: "The listening port of every protocol; `0` picks a free one.",
  }),
  HOST: text({
    defaultText: "`127.0.0.1`, or `0.0.0.0` in production",
    description: "The listening address.",
  }),
  WORKERS: parsed(parseWorkers, {
    type: "integer",
    defaultText: "`auto` in production with Redis, else `1`",
    allowed: "1..64, or `auto` (one per CPU)",
    description:
      "Processes sharing the port (`node:cluster`); the primary process only starts and watches them. More than one needs a Redis store and `TOKEN_SIGNING_KEYS`, so every process shares state and signs alike.",
  }),
  LOG_LEVEL: choice(logLevels, {
    default: "info",
    description: "The least severe log level written.",
  }),
  SHUTDOWN_GRACE_SECONDS: integer({
    default: 10,
    min: 0,
    max: 300,
    unit: "s",
    description: "How long SIGTERM waits for calls in flight.",
  }),
  MAX_REQUEST_BYTES: integer({
    default: 65_536,
    min: 1_024,
    max: 16 * 1024 * 1024,
    unit: "bytes",
    description:
      "The largest request message, counted before and after decompression. A larger one is `resource_exhausted` (`REQUEST_TOO_LARGE`), refused before it is inflated or parsed.",
  }),
  HTTP2_IDLE_TIMEOUT_SECONDS: integer({
    default: 300,
    min: 1,
    max: 86_400,
    unit: "s",
    description:
      "An HTTP/2 connection with no open stream for this long gets a GOAWAY and is closed.",
  }),
  CORS_ORIGINS: parsed(parseOrigins, {
    type: "list",
    fallback: "",
    defaultText: "none (no CORS headers)",
    allowed: "comma-separated origins such as `https://app.example.com` (no path), or `*`",
    description:
      "Browser origins allowed to call. The origins of publishable keys are answered anyway; never use `*` in production.",
  }),
  TRUSTED_PROXIES: parsed(parseTrustedProxies, {
    type: "list",
    fallback: "",
    defaultText: "none",
    allowed: "comma-separated IPs, CIDRs, `loopback`, `linklocal`, `uniquelocal`",
    description:
      "Proxies whose `X-Forwarded-For` is believed. Without it the caller's IP is the peer address; with it `X-Forwarded-For` is walked from the right, past trusted hops only. Behind a load balancer, set it, or every caller counts as the proxy's address.",
  }),
  DEV_OUTBOX: flag({
    defaultText: "`true` in development",
    production: "`true` is refused.",
    description:
      "The development outbox, which records messages for channels without a provider (`ListOutbox`); `false` leaves only the channels with a provider.",
  }),
  DEV_OUTBOX_RETENTION_SECONDS: integer({
    default: 3600,
    min: 1,
    max: 30 * 86_400,
    unit: "s",
    description: "How long outbox messages are kept.",
  }),
};

/** The server area of the reference. */
export const serverArea: Area = {
  title: "Server and HTTP",
  summary: "The process, the one port every protocol shares, and what each request meets first.",
  variables: serverVariables,
};

/** The log levels pino knows. */
export type LogLevel = (typeof logLevels)[number];

/** The server part of {@link Config}. */
export interface ServerConfig {
  port: number;
  host: string;
  /** Origins allowed to call from a browser; "*" allows any. */
  corsOrigins: string[];
  /** True when the development outbox records messages (never in production). */
  outboxEnabled: boolean;
  outboxRetentionSeconds: number;
  shutdownGraceMs: number;
  /** The largest request message accepted, before and after decompression (`MAX_REQUEST_BYTES`). */
  maxRequestBytes: number;
  /** How long an HTTP/2 connection may stay without a stream before it is closed (`HTTP2_IDLE_TIMEOUT_SECONDS`). */
  http2IdleTimeoutMs: number;
  logLevel: LogLevel;
  /** Proxies whose X-Forwarded-For is believed when finding the caller's IP. */
  trustedProxies: string[];
  /** Processes sharing the port; more than one needs a shared (Redis) store. */
  workers: number;
  /** True when `workers` was chosen as one per CPU because WORKERS was unset (production with Redis). */
  workersAuto: boolean;
}

/** The mode NODE_ENV selects; anything but "production" is development. */
export function modeOf(v: Values<typeof serverVariables>): Mode {
  return v.NODE_ENV === "production" ? "production" : "development";
}

/** Builds the server part, checking what relates its variables to the mode and the store. */
export function readServer(v: Values<typeof serverVariables>, ctx: Context): ServerConfig {
  if (ctx.mode === "production" && v.DEV_OUTBOX === true) {
    ctx.problem("DEV_OUTBOX", "the development outbox is refused when NODE_ENV=production");
  }
  // Production with a shared store uses every core unless told otherwise.
  const workersAuto = v.WORKERS === undefined && ctx.mode === "production" && ctx.redisConfigured;
  const workers = v.WORKERS ?? (workersAuto ? availableParallelism() : 1);
  if (workers > 1 && !ctx.redisConfigured) {
    ctx.problem(
      "WORKERS",
      `${workers} processes need a shared store; the in-memory store serves one process (set REDIS_URL, or WORKERS=1)`,
    );
  }
  if (workers > 1 && !ctx.isSet("TOKEN_SIGNING_KEYS")) {
    ctx.problem(
      "TOKEN_SIGNING_KEYS",
      "required with WORKERS > 1, so every process signs with the same keys",
    );
  }
  return {
    port: v.PORT,
    host: v.HOST ?? (ctx.mode === "production" ? "0.0.0.0" : "127.0.0.1"),
    corsOrigins: v.CORS_ORIGINS,
    outboxEnabled: ctx.mode === "development" && v.DEV_OUTBOX !== false,
    outboxRetentionSeconds: v.DEV_OUTBOX_RETENTION_SECONDS,
    shutdownGraceMs: v.SHUTDOWN_GRACE_SECONDS * 1000,
    maxRequestBytes: v.MAX_REQUEST_BYTES,
    http2IdleTimeoutMs: v.HTTP2_IDLE_TIMEOUT_SECONDS * 1000,
    logLevel: v.LOG_LEVEL,
    trustedProxies: v.TRUSTED_PROXIES,
    workers,
    workersAuto,
  };
}
