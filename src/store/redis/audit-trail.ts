import {
  type AuditEntry,
  type AuditFilter,
  type AuditInput,
  type AuditPage,
  type AuditPageRequest,
  type AuditRetention,
  type AuditTrail,
  auditBounds,
  auditIdTime,
  boundAuditInput,
  encodeAuditCursor,
  matchesAuditFilter,
  resumeAfter,
} from "../../audit/audit-trail.js";
import { unavailable } from "./redis-context.js";
import type { RedisClient, RedisTopology } from "./topology.js";
import { waitingConnection } from "./waiting-connection.js";

// A stream entry as ioredis returns it: the id, then field, value, field, value.
type StreamItem = [id: string, fields: string[]];

// How long one XREAD of the watcher blocks; its connection allows a few seconds more.
const blockMs = 2000;
// How many entries one XRANGE reads.
const batchSize = 200;

/**
 * The audit trail in a Redis Stream: one stream, `<prefix>audit`, on the node
 * its name hashes to (it is not keyed by a challenge, so it is placed like any
 * other service-wide key: one stable shard, or one Cluster slot). Each append
 * is one MULTI: `XADD ... MAXLEN maxEntries` and `XTRIM ... MINID <now -
 * retention>`, both exact, so the stream never holds more than the policy
 * keeps; reads skip what has aged out since the last append. Entry ids are
 * the stream's ids, so the time of an entry is the Redis server's clock.
 *
 * Live watching reads the stream with `XREAD BLOCK` on a dedicated
 * connection, one per process however many watchers it has; it resumes from
 * the last id it saw after a reconnect, so a watcher misses nothing the
 * stream still holds. Every replica's appends reach every replica's watchers.
 */
export function createRedisAuditTrail(
  options: AuditRetention & { topology: RedisTopology; keyPrefix: string; now?: () => number },
): AuditTrail {
  const now = options.now ?? Date.now;
  const key = `${options.keyPrefix}audit`;
  const client = options.topology.forKey(key);
  const watchers = createStreamWatchers(client, key);
  return {
    async append(input) {
      const bounded = boundAuditInput(input);
      const minId = String(Math.max(0, now() - options.retentionMs));
      const body = JSON.stringify(bounded);
      let id: string;
      try {
        const replies = await client
          .multi()
          .xadd(key, "MAXLEN", String(options.maxEntries), "*", "e", body)
          .xtrim(key, "MINID", minId)
          .exec();
        const [err, added] = replies?.[0] ?? [new Error("the transaction was discarded"), null];
        if (err !== null) throw err;
        id = String(added);
      } catch (err) {
        throw unavailable(err);
      }
      return { ...bounded, id, timeMs: auditIdTime(id) };
    },
    async list(filter, page) {
      const floor = now() - options.retentionMs;
      const kept = { ...filter, sinceMs: Math.max(filter.sinceMs ?? 0, floor) };
      try {
        return await listPage(client, key, kept, page);
      } catch (err) {
        throw unavailable(err);
      }
    },
    watch: (filter, onEntry) =>
      watchers.add((entry) => {
        if (matchesAuditFilter(entry, filter)) onEntry(entry);
      }),
    async claimOnce(claim, windowMs) {
      const claimKey = `${options.keyPrefix}audit-once:${claim}`;
      try {
        const set = await options.topology
          .forKey(claimKey)
          .set(claimKey, "1", "PX", String(windowMs), "NX");
        return set === "OK";
      } catch (err) {
        throw unavailable(err);
      }
    },
    close: () => watchers.close(),
  };
}

/** Reads a stream item back as an entry; undefined for one that is not ours. */
function toEntry([id, fields]: StreamItem): AuditEntry | undefined {
  const at = fields.indexOf("e");
  const body = at < 0 ? undefined : fields[at + 1];
  if (body === undefined) return undefined;
  try {
    return { ...(JSON.parse(body) as AuditInput), id, timeMs: auditIdTime(id) };
  } catch {
    return undefined;
  }
}

// One page: reads batches in the page's order until it is full, the range is
// done, or scanPerCall entries were read (then the cursor resumes after them).
async function listPage(
  client: RedisClient,
  key: string,
  filter: AuditFilter & { sinceMs: number },
  page: AuditPageRequest,
): Promise<AuditPage> {
  const oldestFirst = page.oldestFirst === true;
  const after = resumeAfter(page);
  let low = after !== undefined && oldestFirst ? `(${after}` : String(filter.sinceMs);
  let high =
    after !== undefined && !oldestFirst
      ? `(${after}`
      : filter.untilMs === undefined
        ? "+"
        : String(Math.max(0, filter.untilMs - 1));
  const out: AuditEntry[] = [];
  let scanned = 0;
  let lastScanned: string | undefined;
  for (;;) {
    const count = Math.min(batchSize, auditBounds.scanPerCall - scanned);
    if (count === 0 && lastScanned !== undefined) {
      return { entries: out, nextCursor: encodeAuditCursor(lastScanned, oldestFirst) };
    }
    const batch = (
      oldestFirst
        ? await client.xrange(key, low, high, "COUNT", count)
        : await client.xrevrange(key, high, low, "COUNT", count)
    ) as StreamItem[];
    for (const item of batch) {
      scanned++;
      lastScanned = item[0];
      const entry = toEntry(item);
      if (entry === undefined || !matchesAuditFilter(entry, filter)) continue;
      out.push(entry);
      if (out.length === page.size) {
        return { entries: out, nextCursor: encodeAuditCursor(entry.id, oldestFirst) };
      }
    }
    if (batch.length < count || lastScanned === undefined) {
      return { entries: out, nextCursor: undefined };
    }
    if (oldestFirst) low = `(${lastScanned}`;
    else high = `(${lastScanned}`;
  }
}

/**
 * The live readers of one process: one dedicated connection reads the stream
 * with `XREAD BLOCK` while anyone watches, and hands each entry to every
 * watcher. It starts from the newest id there is when the first watcher
 * comes, and stops when the last one leaves.
 */
function createStreamWatchers(
  client: RedisClient,
  key: string,
): {
  add(onEntry: (entry: AuditEntry) => void): Promise<() => void>;
  close(): Promise<void>;
} {
  const listeners = new Set<(entry: AuditEntry) => void>();
  let reader: RedisClient | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const connection = (): RedisClient => {
    // Queued while reconnecting, and allowed to block: unlike the layout's
    // connections, which fail fast, this one only waits for entries.
    if (reader !== undefined) return reader;
    reader = waitingConnection(client, blockMs + 3000);
    return reader;
  };

  const loop = async (from: string) => {
    await readStream({ connection, key, from, listeners, closed: () => closed });
    running = undefined;
  };

  return {
    async add(onEntry) {
      listeners.add(onEntry);
      if (running === undefined) {
        // Positioned before the watcher is told it is watching: nothing appended after is missed.
        let top: StreamItem[];
        try {
          top = (await client.xrevrange(key, "+", "-", "COUNT", 1)) as StreamItem[];
        } catch (err) {
          listeners.delete(onEntry);
          throw unavailable(err);
        }
        running ??= loop(top[0]?.[0] ?? "0-0");
      }
      return () => {
        listeners.delete(onEntry);
      };
    },
    async close() {
      closed = true;
      listeners.clear();
      reader?.disconnect();
    },
  };
}

// Reads the stream from `from` on while anyone listens, handing each entry to every listener.
async function readStream(reader: {
  connection: () => RedisClient;
  key: string;
  from: string;
  listeners: ReadonlySet<(entry: AuditEntry) => void>;
  closed: () => boolean;
}): Promise<void> {
  const { listeners } = reader;
  let last = reader.from;
  while (!reader.closed() && listeners.size > 0) {
    try {
      const res = (await reader
        .connection()
        .xread("COUNT", 100, "BLOCK", blockMs, "STREAMS", reader.key, last)) as
        | [string, StreamItem[]][]
        | null;
      for (const [, items] of res ?? []) {
        for (const item of items) {
          last = item[0];
          const entry = toEntry(item);
          if (entry !== undefined) for (const listener of listeners) listener(entry);
        }
      }
    } catch {
      // A dropped connection: wait, then read on from the last id seen.
      if (!reader.closed()) await new Promise((r) => setTimeout(r, 500));
    }
  }
}
