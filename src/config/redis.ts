import {
  type Area,
  type Context,
  integer,
  parsed,
  splitList,
  text,
  type Values,
} from "./schema.js";

/** Where Redis state lives, as configured. */
export type RedisLayout =
  | { kind: "single"; url: string }
  | { kind: "db-range"; url: string; first: number; last: number }
  | { kind: "urls"; urls: string[] }
  | { kind: "cluster"; nodes: { host: string; port: number }[] };

/** The Redis part of {@link Config}. */
export interface RedisConfig {
  layout: RedisLayout;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
}

/** The variables that choose a Redis store; any of them set means Redis. */
export const redisLayoutNames = ["REDIS_URL", "REDIS_SHARD_URLS", "REDIS_CLUSTER_NODES"] as const;

// The URL may hold a password: the message names the variable, never the value.
const redisUrl = (value: string) => {
  const protocol = URL.canParse(value) ? new URL(value).protocol : "";
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new Error("must be a redis:// or rediss:// URL");
  }
  return value;
};

const dbRange = (value: string) => {
  const match = /^(\d+)-(\d+)$/.exec(value);
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (match === null || first > last || last > 15) {
    throw new Error(`must be <first>-<last> DB indices within 0-15, got "${value}"`);
  }
  return { first, last };
};

const clusterNodes = (value: string) => {
  const parsed = splitList(value).map((n) => /^([^:\s]+):(\d{1,5})$/.exec(n));
  if (parsed.length === 0 || parsed.some((m) => m === null)) {
    throw new Error(`must be comma-separated host:port seeds, got "${value}"`);
  }
  return parsed.map((m) => ({ host: m?.[1] as string, port: Number(m?.[2]) }));
};

/** Where state lives: unset, the in-memory store of one process. */
export const redisVariables = {
  REDIS_URL: parsed(redisUrl, {
    type: "URL",
    secret: true,
    defaultText: "unset (the in-memory store)",
    allowed: "`redis://` or `rediss://` URL",
    description: "One Redis. The URL may hold a password; messages show only the host.",
  }),
  REDIS_DB_RANGE: parsed(dbRange, {
    type: "range",
    defaultText: "unset",
    allowed: "`<first>-<last>` within 0-15, e.g. `2-5`",
    needs: ["REDIS_URL"],
    description:
      "Shards over these DB indices of `REDIS_URL` (which then names no DB), one connection per index, never `SELECT`.",
  }),
  REDIS_SHARD_URLS: parsed((value) => splitList(value).map(redisUrl), {
    type: "list",
    secret: true,
    defaultText: "unset",
    allowed: "comma-separated `redis://` or `rediss://` URLs",
    description: "One Redis server per shard, in the order listed.",
  }),
  REDIS_CLUSTER_NODES: parsed(clusterNodes, {
    type: "list",
    defaultText: "unset",
    allowed: "comma-separated `host:port` seeds",
    description: "The seeds of a Redis Cluster; hash tags keep a challenge's keys in one slot.",
  }),
  REDIS_KEY_PREFIX: text({ default: "otp:", description: "The prefix of every Redis key." }),
  REDIS_COMMAND_TIMEOUT_MS: integer({
    default: 1000,
    min: 50,
    max: 60_000,
    unit: "ms",
    description:
      "The longest wait for one Redis command; a call that meets a slow or absent Redis fails with `STORE_UNAVAILABLE`.",
  }),
  REDIS_CONNECT_TIMEOUT_MS: integer({
    default: 5000,
    min: 100,
    max: 120_000,
    unit: "ms",
    description: "The longest wait for the connections at start-up (exit status 69 after it).",
  }),
};

/** The Redis area of the reference. */
export const redisArea: Area = {
  title: "Redis",
  summary:
    "One of four layouts: `REDIS_URL` alone, `REDIS_URL` with `REDIS_DB_RANGE`, `REDIS_SHARD_URLS`, or `REDIS_CLUSTER_NODES`. Only one of `REDIS_URL`, `REDIS_SHARD_URLS` and `REDIS_CLUSTER_NODES` may be set. With none, state lives in the memory of one process.",
  variables: redisVariables,
};

/** Builds the Redis layout; undefined means the in-memory store. */
export function readRedis(v: Values<typeof redisVariables>, ctx: Context): RedisConfig | undefined {
  const given = redisLayoutNames.filter((name) => ctx.isSet(name));
  if (given.length > 1) {
    ctx.problem(given.join(", "), `set only one of ${redisLayoutNames.join(", ")}`);
    return undefined;
  }
  const layout = readLayout(v, ctx);
  if (layout === undefined) return undefined;
  return {
    layout,
    keyPrefix: v.REDIS_KEY_PREFIX,
    commandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS,
    connectTimeoutMs: v.REDIS_CONNECT_TIMEOUT_MS,
  };
}

function readLayout(v: Values<typeof redisVariables>, ctx: Context): RedisLayout | undefined {
  const url = v.REDIS_URL;
  if (url !== undefined) {
    const range = v.REDIS_DB_RANGE;
    if (range === undefined)
      return ctx.isSet("REDIS_DB_RANGE") ? undefined : { kind: "single", url };
    if (new URL(url).pathname.length > 1) {
      ctx.problem("REDIS_URL", "must not name a DB index when REDIS_DB_RANGE is set");
      return undefined;
    }
    return { kind: "db-range", url, ...range };
  }
  if (v.REDIS_SHARD_URLS !== undefined) return { kind: "urls", urls: v.REDIS_SHARD_URLS };
  if (v.REDIS_CLUSTER_NODES !== undefined) return { kind: "cluster", nodes: v.REDIS_CLUSTER_NODES };
  return undefined;
}
