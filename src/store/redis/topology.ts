import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RedisLayout } from "../../config/index.js";
import { coalesceWrites } from "./coalesced-writes.js";
import { shardIndexForKey, shardIndexForUuid } from "./shard-index.js";

// The layout is what REDIS_* configure, so config/ owns its type.
export type { RedisLayout };

/** Timeouts that keep a call from hanging while Redis is away. */
export interface RedisTimeouts {
  /** Longest wait for one command, in milliseconds. */
  commandTimeoutMs: number;
  /** Longest wait for a connection, in milliseconds. */
  connectTimeoutMs: number;
}

/** A client that can run our commands: one Redis connection or a Cluster. */
export type RedisClient = Redis | Cluster;

/** The connections of a layout, and the rule that picks one for a key. */
export interface RedisTopology {
  readonly layout: RedisLayout;
  readonly clients: readonly RedisClient[];
  /** The client holding a challenge. */
  forChallenge(id: string): RedisClient;
  /** The client holding state keyed by something other than a challenge UUID. */
  forKey(key: string): RedisClient;
  /** Resolves once every connection is ready; rejects after the connect timeout. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the connections of a layout. A DB-index range gets one connection per
 * index, each opened on its own database: no `SELECT` ever runs on a shared
 * connection, which is what broke the seed service's sharding.
 */
function openClients(layout: RedisLayout, timeouts: RedisTimeouts): RedisClient[] {
  const options: RedisOptions = {
    lazyConnect: true,
    // Fail at once while disconnected instead of queueing: calls answer
    // `unavailable` quickly during an outage, and nothing waits unbounded.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeouts.commandTimeoutMs,
    connectTimeout: timeouts.connectTimeoutMs,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  };
  switch (layout.kind) {
    case "single":
      return [new Redis(layout.url, options)];
    case "db-range": {
      const clients: RedisClient[] = [];
      for (let db = layout.first; db <= layout.last; db++) {
        clients.push(new Redis(layout.url, { ...options, db }));
      }
      return clients;
    }
    case "urls":
      return layout.urls.map((url) => new Redis(url, options));
    case "cluster":
      return [
        new Cluster(layout.nodes, {
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
          redisOptions: {
            maxRetriesPerRequest: 0,
            commandTimeout: timeouts.commandTimeoutMs,
            connectTimeout: timeouts.connectTimeoutMs,
          },
        }),
      ];
  }
}

/**
 * The connections of a layout, each sending the commands of one loop turn in
 * one write (coalesced-writes.ts), and how a call picks the one it needs.
 */
export function createRedisTopology(layout: RedisLayout, timeouts: RedisTimeouts): RedisTopology {
  const clients = openClients(layout, timeouts);
  // Errors surface on the calls that meet them; the event would only crash the process.
  for (const client of clients) {
    client.on("error", () => {});
    coalesceWrites(client);
  }
  const pick = (index: number) => clients[index] as RedisClient;
  // One connection (one Redis, or a Cluster, which places keys itself): nothing to hash per call.
  const only = clients.length === 1 ? (clients[0] as RedisClient) : undefined;
  return {
    layout,
    clients,
    forChallenge: (id) => only ?? pick(shardIndexForUuid(id, clients.length)),
    forKey: (key) => only ?? pick(shardIndexForKey(key, clients.length)),
    async ready() {
      const deadline = timeouts.connectTimeoutMs;
      await Promise.all(
        clients.map(async (client) => {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("redis connect timed out")), deadline);
          });
          try {
            await Promise.race([client.connect(), timeout]);
          } finally {
            clearTimeout(timer);
          }
        }),
      );
    },
    async close() {
      await Promise.all(
        clients.map(async (client) => {
          try {
            await client.quit();
          } catch {
            client.disconnect();
          }
        }),
      );
    },
  };
}

/** Describes a layout for the banner, without credentials. */
export function describeLayout(layout: RedisLayout): string {
  const safe = (url: string) => {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  };
  switch (layout.kind) {
    case "single":
      return `redis ${safe(layout.url)}`;
    case "db-range":
      return `redis ${safe(layout.url)}, ${layout.last - layout.first + 1} shards on DB ${layout.first}-${layout.last}`;
    case "urls":
      return `redis, ${layout.urls.length} shards (${layout.urls.map(safe).join(", ")})`;
    case "cluster":
      return `redis cluster (seeds ${layout.nodes.map((n) => `${n.host}:${n.port}`).join(", ")})`;
  }
}
