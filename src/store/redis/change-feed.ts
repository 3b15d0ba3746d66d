import type { ChangeFeed } from "../../tenancy/change-feed.js";
import type { RedisClient, RedisTopology } from "./topology.js";
import { waitingConnection } from "./waiting-connection.js";

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
  // One connection per subscriber (the key cache, the fraud guard's settings), all closed together.
  const subscribers: RedisClient[] = [];
  return {
    async publish(topic) {
      await first.publish(channel, topic);
    },
    async subscribe(onChange, onGap) {
      // Queued until connected: the layout's connections fail fast instead,
      // which suits calls, not a listener that must come up with the process.
      const sub = waitingConnection(first);
      subscribers.push(sub);
      let connectedOnce = false;
      sub.on("message", (from: string, topic: string) => {
        if (from === channel) onChange(topic);
      });
      sub.on("ready", () => {
        if (connectedOnce) onGap();
        connectedOnce = true;
      });
      await sub.subscribe(channel);
    },
    async close() {
      for (const sub of subscribers.splice(0)) sub.disconnect();
    },
  };
}
