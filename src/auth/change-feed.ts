import { Cluster, type Redis } from "ioredis";
import type { RedisTopology } from "../store/redis/topology.js";

/**
 * Tells every replica that something it may have cached changed: an API key
 * revoked, later a tenant's settings. Messages carry only an opaque topic
 * (such as `key:<hash of the key>`), never a secret.
 */
export interface ChangeFeed {
  /** Announces a change to every replica, this one included. */
  publish(topic: string): Promise<void>;
  /**
   * Calls `onChange` for every topic published from now on, and `onGap` when
   * messages may have been missed (the connection dropped and came back):
   * whoever caches should then forget everything.
   */
  subscribe(onChange: (topic: string) => void, onGap: () => void): Promise<void>;
  close(): Promise<void>;
}

/** The feed of a single process (the in-memory store): a change reaches only this process, which is all there is. */
export function createLocalChangeFeed(): ChangeFeed {
  const listeners: ((topic: string) => void)[] = [];
  return {
    async publish(topic) {
      for (const listener of listeners) listener(topic);
    },
    async subscribe(onChange) {
      listeners.push(onChange);
    },
    async close() {
      listeners.length = 0;
    },
  };
}

/**
 * The feed over Redis pub/sub, on the first connection of the layout: every
 * replica is configured with the same layout, so all of them publish and
 * listen on the same server (pub/sub ignores DB indices, and a Cluster
 * forwards PUBLISH to every node). A dedicated connection listens; after it
 * reconnects, `onGap` is told, since messages sent meanwhile are lost.
 */
export function createRedisChangeFeed(topology: RedisTopology, keyPrefix: string): ChangeFeed {
  const channel = `${keyPrefix}changes`;
  const first = topology.clients[0];
  if (first === undefined) throw new Error("a Redis layout has at least one connection");
  let subscriber: Redis | Cluster | undefined;
  return {
    async publish(topic) {
      await first.publish(channel, topic);
    },
    async subscribe(onChange, onGap) {
      // Queued until connected: the layout's connections fail fast instead,
      // which suits calls, not a listener that must come up with the process.
      const sub =
        first instanceof Cluster
          ? first.duplicate(undefined, {
              enableOfflineQueue: true,
              redisOptions: { ...first.options.redisOptions, enableOfflineQueue: true },
            })
          : first.duplicate({ enableOfflineQueue: true });
      subscriber = sub;
      let connectedOnce = false;
      sub.on("message", (from: string, topic: string) => {
        if (from === channel) onChange(topic);
      });
      sub.on("ready", () => {
        if (connectedOnce) onGap();
        connectedOnce = true;
      });
      // A lost subscription is a gap, reported on reconnect; never a crash.
      sub.on("error", () => {});
      await sub.subscribe(channel);
    },
    async close() {
      subscriber?.disconnect();
    },
  };
}
