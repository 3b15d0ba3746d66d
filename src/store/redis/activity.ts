import {
  type ActivityStore,
  bucketStart,
  bucketStarts,
  type CounterBucket,
  type Resolution,
  retentionMs,
} from "../../activity/activity-store.js";
import { unavailable } from "./redis-context.js";
import type { RedisTopology } from "./topology.js";

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
        hashes = await Promise.all(
          starts.map((start) =>
            clientFor(bucketStart("hour", start)).hgetall(keyOf(resolution, start)),
          ),
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
