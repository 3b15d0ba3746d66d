import { readEvent } from "../../activity/activity-event.js";
import type { ActivityBatch, ActivityBus } from "../../activity/activity-feed.js";
import type { RedisClient, RedisTopology } from "./topology.js";
import { waitingConnection } from "./waiting-connection.js";

// A batch from another replica is read up to this many events.
const maxEventsPerBatch = 5_000;

/**
 * The activity feed's bus over Redis pub/sub, on the first connection of the
 * layout (as the change feed: every replica has the same layout, pub/sub
 * ignores DB indices, and a Cluster forwards PUBLISH to every node). One
 * PUBLISH per batch; a dedicated connection listens, and events that arrive
 * are re-read field by field and bounded (activity-event.ts).
 */
export function createRedisActivityBus(topology: RedisTopology, keyPrefix: string): ActivityBus {
  const channel = `${keyPrefix}activity`;
  const first = topology.clients[0];
  if (first === undefined) throw new Error("a Redis layout has at least one connection");
  let subscriber: RedisClient | undefined;
  return {
    async send(batch) {
      await first.publish(channel, JSON.stringify({ e: batch.events, d: batch.dropped }));
    },
    async listen(onBatch) {
      const sub = waitingConnection(first);
      subscriber = sub;
      sub.on("message", (from: string, message: string) => {
        if (from !== channel) return;
        const batch = readBatch(message);
        if (batch !== undefined) onBatch(batch);
      });
      await sub.subscribe(channel);
    },
    async close() {
      subscriber?.disconnect();
    },
  };
}

function readBatch(message: string): ActivityBatch | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const { e, d } = raw as { e?: unknown; d?: unknown };
  if (!Array.isArray(e)) return undefined;
  const events = [];
  for (const item of e.slice(0, maxEventsPerBatch)) {
    const event = readEvent(item);
    if (event !== undefined) events.push(event);
  }
  const dropped = typeof d === "number" && Number.isSafeInteger(d) && d > 0 ? d : 0;
  return { events, dropped: dropped + Math.max(0, e.length - maxEventsPerBatch) };
}
