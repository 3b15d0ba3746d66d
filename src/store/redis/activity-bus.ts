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
 * PUBLISH per batch; events that arrive are re-read field by field and
 * bounded (activity-event.ts).
 *
 * Watchers are announced twice: a PUBLISH on `<prefix>activity-watching`,
 * which every replica hears at once, and a short-lived key for the replicas
 * that ask later (activity-feed.ts `live`). One dedicated connection per
 * replica listens to both channels.
 */
export function createRedisActivityBus(topology: RedisTopology, keyPrefix: string): ActivityBus {
  const channel = `${keyPrefix}activity`;
  const watchingChannel = `${keyPrefix}activity-watching`;
  const watchedKey = `${keyPrefix}activity-watched`;
  const first = topology.clients[0];
  if (first === undefined) throw new Error("a Redis layout has at least one connection");
  let subscriber: RedisClient | undefined;
  const handlers = new Map<string, (message: string) => void>();
  const subscribe = async (to: string, handler: (message: string) => void) => {
    if (subscriber === undefined) {
      const sub = waitingConnection(first);
      sub.on("message", (from: string, message: string) => handlers.get(from)?.(message));
      subscriber = sub;
    }
    handlers.set(to, handler);
    await subscriber.subscribe(to);
  };
  return {
    async send(batch) {
      await first.publish(channel, JSON.stringify({ e: batch.events, d: batch.dropped }));
    },
    async listen(onBatch) {
      await subscribe(channel, (message) => {
        const batch = readBatch(message);
        if (batch !== undefined) onBatch(batch);
      });
    },
    async announceWatching(ttlMs) {
      await Promise.all([
        first.set(watchedKey, "1", "PX", ttlMs),
        first.publish(watchingChannel, "1"),
      ]);
    },
    async watched() {
      return (await first.exists(watchedKey)) === 1;
    },
    async onWatching(onAnnounced) {
      await subscribe(watchingChannel, () => onAnnounced());
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
