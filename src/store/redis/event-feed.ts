import type { EventFeed } from "../../events/event-feed.js";
import type { ServiceEvent } from "../../events/event-types.js";
import { unavailable } from "./redis-context.js";
import type { RedisClient, RedisTopology } from "./topology.js";
import { waitingConnection } from "./waiting-connection.js";

type StreamItem = [id: string, fields: string[]];
type Listener = (events: readonly ServiceEvent[]) => void;

// How long one XREAD blocks; how many batches the stream keeps (about).
const blockMs = 2000;
const keptBatches = 200;

/**
 * The live event feed in a Redis Stream, `<prefix>events`: each flush of a
 * process is one `XADD` holding the whole batch as one JSON field, trimmed
 * to about two hundred batches (the feed is live only). Each process reads it with `XREAD BLOCK` on
 * one dedicated connection while it has listeners (as the audit trail's
 * watchers do), so every replica's batches reach every replica's watchers.
 * Live watchers are announced with a short-lived key.
 */
export function createRedisEventFeed(options: {
  topology: RedisTopology;
  keyPrefix: string;
}): EventFeed {
  const key = `${options.keyPrefix}events`;
  const watchedKey = `${options.keyPrefix}events-watched`;
  const client = options.topology.forKey(key);
  const watchedClient = options.topology.forKey(watchedKey);
  const listeners = new Set<Listener>();
  const reader = createFeedReader(client, key, listeners);
  let remote = { atMs: Number.NEGATIVE_INFINITY, watched: false };
  // This process's listeners, or other replicas' watchers as read within the last second.
  const watchedNow = () => {
    if (listeners.size > 0) return true;
    return Date.now() - remote.atMs < 1000 ? remote.watched : undefined;
  };
  return {
    async publish(events) {
      if (events.length === 0) return;
      try {
        await client.xadd(
          key,
          "MAXLEN",
          "~",
          String(keptBatches),
          "*",
          "b",
          JSON.stringify(events),
        );
      } catch (err) {
        throw unavailable(err);
      }
    },
    async listen(onEvents) {
      listeners.add(onEvents);
      if (!reader.running()) {
        let top: StreamItem[];
        try {
          top = (await client.xrevrange(key, "+", "-", "COUNT", 1)) as StreamItem[];
        } catch (err) {
          listeners.delete(onEvents);
          throw unavailable(err);
        }
        reader.start(top[0]?.[0] ?? "0-0");
      }
      return () => {
        listeners.delete(onEvents);
      };
    },
    async announceWatching(ttlMs) {
      try {
        await watchedClient.set(watchedKey, "1", "PX", String(ttlMs));
      } catch (err) {
        throw unavailable(err);
      }
    },
    watchedNow,
    async watched() {
      const known = watchedNow();
      if (known !== undefined) return known;
      try {
        remote = { atMs: Date.now(), watched: (await watchedClient.exists(watchedKey)) === 1 };
      } catch (err) {
        throw unavailable(err);
      }
      return remote.watched;
    },
    async close() {
      listeners.clear();
      reader.close();
    },
  };
}

// One dedicated connection per process reads the stream while anyone listens.
function createFeedReader(client: RedisClient, key: string, listeners: ReadonlySet<Listener>) {
  let reader: RedisClient | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  const connection = (): RedisClient => {
    // Queued while reconnecting, and allowed to block, unlike the layout's fail-fast connections.
    if (reader !== undefined) return reader;
    reader = waitingConnection(client, blockMs + 3000);
    return reader;
  };
  const loop = async (from: string) => {
    let last = from;
    while (!closed && listeners.size > 0) {
      try {
        const res = (await connection().xread(
          "COUNT",
          100,
          "BLOCK",
          blockMs,
          "STREAMS",
          key,
          last,
        )) as [string, StreamItem[]][] | null;
        for (const [, items] of res ?? []) {
          for (const [id, fields] of items) {
            last = id;
            const events = parseBatch(fields);
            if (events.length > 0) for (const listener of listeners) listener(events);
          }
        }
      } catch {
        // A dropped connection: wait, then read on from the last id seen.
        if (!closed) await new Promise((r) => setTimeout(r, 500));
      }
    }
    running = undefined;
  };
  return {
    running: () => running !== undefined,
    start(from: string) {
      running ??= loop(from);
    },
    close() {
      closed = true;
      reader?.disconnect();
    },
  };
}

function parseBatch(fields: string[]): ServiceEvent[] {
  const at = fields.indexOf("b");
  const body = at < 0 ? undefined : fields[at + 1];
  if (body === undefined) return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    return Array.isArray(parsed) ? (parsed as ServiceEvent[]) : [];
  } catch {
    return [];
  }
}
