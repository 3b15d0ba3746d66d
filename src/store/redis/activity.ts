import { Cluster } from "ioredis";
import {
  type ActivityStore,
  bucketStart,
  bucketStarts,
  type CounterBucket,
  type Resolution,
  retentionMs,
} from "../../activity/activity-store.js";
import { clusterSlotOf } from "./cluster-slot.js";
import { unavailable } from "./redis-context.js";
import type { RedisClient, RedisTopology } from "./topology.js";

/** Options for {@link createRedisActivityStore}. */
export interface RedisActivityStoreOptions {
  topology: RedisTopology;
  /** Namespaces every key, for example "otp:"; the same prefix as the store. */
  keyPrefix: string;
}

/**
 * {@link ActivityStore} in Redis: one hash per bucket, counter name ->
 * count. An hour's hash and its minutes' hashes share the hour as hash tag
 * (`activity:{<hour start>}:h`, `activity:{<hour start>}:m:<minute start>`)
 * and are placed by a stable hash of the hour, so one flush is one MULTI of
 * HINCRBY and PEXPIREAT on one node (two at an hour's turn), on a single
 * Redis, DB-index or URL shards and a Cluster alike.
 */
export function createRedisActivityStore(options: RedisActivityStoreOptions): ActivityStore {
  const { topology, keyPrefix } = options;
  const tag = (hourStart: number) => `${keyPrefix}activity:{${hourStart}}`;
  const keyOf = (resolution: Resolution, start: number) =>
    resolution === "hour" ? `${tag(start)}:h` : `${tag(bucketStart("hour", start))}:m:${start}`;
  const clientFor = (hourStart: number) => topology.forKey(`activity:${hourStart}`);

  return {
    async add(batch) {
      const byHour = new Map<number, [number, ReadonlyMap<string, number>][]>();
      for (const entry of batch) {
        const hour = bucketStart("hour", entry[0]);
        const group = byHour.get(hour);
        if (group === undefined) byHour.set(hour, [entry]);
        else group.push(entry);
      }
      try {
        await Promise.all(
          [...byHour].map(async ([hour, minutes]) => {
            const multi = clientFor(hour).multi();
            const hourCounts = new Map<string, number>();
            for (const [minute, counts] of minutes) {
              const key = keyOf("minute", minute);
              for (const [field, n] of counts) {
                multi.hincrby(key, field, n);
                hourCounts.set(field, (hourCounts.get(field) ?? 0) + n);
              }
              multi.pexpireat(key, minute + retentionMs.minute);
            }
            const hourKey = keyOf("hour", hour);
            for (const [field, n] of hourCounts) multi.hincrby(hourKey, field, n);
            multi.pexpireat(hourKey, hour + retentionMs.hour);
            const replies = await multi.exec();
            const failed = replies?.find(([err]) => err !== null)?.[0];
            if (failed) throw failed;
          }),
        );
      } catch (err) {
        throw unavailable(err);
      }
    },
    async read(resolution, fromMs, toMs) {
      const starts = bucketStarts(resolution, fromMs, toMs);
      let hashes: Record<string, string>[];
      try {
        hashes = await readHashes(
          starts.map((start) => ({
            client: clientFor(bucketStart("hour", start)),
            key: keyOf(resolution, start),
          })),
        );
      } catch (err) {
        throw unavailable(err);
      }
      const found: CounterBucket[] = [];
      hashes.forEach((hash, i) => {
        const counts = new Map<string, number>();
        for (const [field, value] of Object.entries(hash)) counts.set(field, Number(value));
        if (counts.size > 0) found.push({ startMs: starts[i] as number, counts });
      });
      return found;
    },
  };
}

/**
 * HGETALL of many keys, one pipeline per node: a month of hour buckets is
 * 720 keys, and a pipeline per node keeps that to one round trip each. In a
 * Cluster, keys are grouped by the master serving their slot.
 */
async function readHashes(
  reads: { client: RedisClient; key: string }[],
): Promise<Record<string, string>[]> {
  const groups = new Map<unknown, { client: RedisClient; indexes: number[] }>();
  reads.forEach(({ client, key }, i) => {
    const node =
      client instanceof Cluster ? (client.slots[clusterSlotOf(key)]?.[0] ?? key) : client;
    let group = groups.get(node);
    if (group === undefined) {
      group = { client, indexes: [] };
      groups.set(node, group);
    }
    group.indexes.push(i);
  });
  const out = new Array<Record<string, string>>(reads.length);
  await Promise.all(
    [...groups.values()].map(async ({ client, indexes }) => {
      const pipeline = client.pipeline();
      for (const i of indexes) pipeline.hgetall((reads[i] as { key: string }).key);
      const replies = (await pipeline.exec()) ?? [];
      indexes.forEach((i, n) => {
        const [err, value] = replies[n] ?? [new Error("no reply"), undefined];
        if (err) throw err;
        out[i] = value as Record<string, string>;
      });
    }),
  );
  return out;
}
