import { Cluster } from "ioredis";
import {
  type FraudBlock,
  type FraudQuery,
  type FraudStore,
  fraudRetentionMs,
  maxActiveBlocks,
  windowBucketStarts,
} from "../../fraud/fraud-store.js";
import type { FraudCounts } from "../../fraud/thresholds.js";
import { clusterSlotOf } from "./cluster-slot.js";
import { unavailable } from "./redis-context.js";
import type { RedisClient, RedisTopology } from "./topology.js";

/** Options for {@link createRedisFraudStore}. */
export interface RedisFraudStoreOptions {
  topology: RedisTopology;
  /** Namespaces every key, for example "otp:"; the same prefix as the store. */
  keyPrefix: string;
}

/**
 * {@link FraudStore} in Redis. Counts: one hash per tenant and minute,
 * `fraud:{<tenant>}:<minute start>`, fields `s|<prefix>` (sends) and
 * `v|<prefix>` (verified), expiring {@link fraudRetentionMs} after the
 * minute; a tenant's hashes share its hash tag and are placed by a stable
 * hash of the tenant, so a flush is one MULTI per tenant and a window read
 * one pipeline per node, on a single Redis, shards and a Cluster alike.
 * Blocks: one sorted set `fraud:blocks`, member `<tenant>|<prefix>`, score
 * the end of the block, expiring with its last block.
 */
export function createRedisFraudStore(options: RedisFraudStoreOptions): FraudStore {
  const { topology, keyPrefix } = options;
  const countsKey = (tenantId: string, start: number) => `${keyPrefix}fraud:{${tenantId}}:${start}`;
  const clientFor = (tenantId: string) => topology.forKey(`fraud:${tenantId}`);
  const blocksKey = `${keyPrefix}fraud:blocks`;
  const blocksClient = () => topology.forKey("fraud:blocks");

  return {
    async add(batch) {
      try {
        await Promise.all(
          [...batch].map(async ([tenantId, buckets]) => {
            const multi = clientFor(tenantId).multi();
            for (const [start, prefixes] of buckets) {
              const key = countsKey(tenantId, start);
              for (const [prefix, n] of prefixes) {
                if (n.sends !== 0) multi.hincrby(key, `s|${prefix}`, n.sends);
                if (n.verified !== 0) multi.hincrby(key, `v|${prefix}`, n.verified);
              }
              multi.pexpireat(key, start + fraudRetentionMs);
            }
            const replies = await multi.exec();
            const failed = replies?.find(([err]) => err !== null)?.[0];
            if (failed) throw failed;
          }),
        );
      } catch (err) {
        throw unavailable(err);
      }
    },
    async sums(queries, nowMs) {
      try {
        return await readSums(queries, nowMs, clientFor, countsKey);
      } catch (err) {
        throw unavailable(err);
      }
    },
    block: (block, nowMs) => recordBlock(blocksClient(), blocksKey, block, nowMs),
    activeBlocks: (nowMs) => readBlocks(blocksClient(), blocksKey, nowMs),
  };
}

/** Adds a block to the sorted set of blocks; true when none was active for its prefix. */
async function recordBlock(
  client: RedisClient,
  blocksKey: string,
  block: FraudBlock,
  nowMs: number,
): Promise<boolean> {
  const member = `${block.tenantId}|${block.prefix}`;
  try {
    const replies = await client
      .multi()
      .zremrangebyscore(blocksKey, "-inf", nowMs)
      .zscore(blocksKey, member)
      .zadd(blocksKey, "GT", block.untilMs, member)
      // A new key gets the block's end; an older one only ever a later end.
      .pexpireat(blocksKey, block.untilMs, "NX")
      .pexpireat(blocksKey, block.untilMs, "GT")
      .exec();
    const failed = replies?.find(([err]) => err !== null)?.[0];
    if (failed) throw failed;
    return replies?.[1]?.[1] === null;
  } catch (err) {
    throw unavailable(err);
  }
}

/** The active blocks, those that end last first, at most {@link maxActiveBlocks}. */
async function readBlocks(
  client: RedisClient,
  blocksKey: string,
  nowMs: number,
): Promise<FraudBlock[]> {
  let flat: string[];
  try {
    flat = await client.zrevrangebyscore(
      blocksKey,
      "+inf",
      `(${nowMs}`,
      "WITHSCORES",
      "LIMIT",
      0,
      maxActiveBlocks,
    );
  } catch (err) {
    throw unavailable(err);
  }
  const blocks: FraudBlock[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const member = flat[i] as string;
    const bar = member.lastIndexOf("|");
    blocks.push({
      tenantId: member.slice(0, bar),
      prefix: member.slice(bar + 1),
      untilMs: Number(flat[i + 1]),
    });
  }
  return blocks;
}

/**
 * The window sums of every query: per tenant, one HMGET of its prefixes'
 * fields per minute of the window, sent as one pipeline per node (in a
 * Cluster, per master serving the tenant's slot).
 */
async function readSums(
  queries: readonly FraudQuery[],
  nowMs: number,
  clientFor: (tenantId: string) => RedisClient,
  countsKey: (tenantId: string, start: number) => string,
): Promise<FraudCounts[]> {
  const byTenant = new Map<string, { prefixes: string[]; windowMs: number }>();
  for (const q of queries) {
    const group = byTenant.get(q.tenantId);
    if (group === undefined)
      byTenant.set(q.tenantId, { prefixes: [q.prefix], windowMs: q.windowMs });
    else {
      if (!group.prefixes.includes(q.prefix)) group.prefixes.push(q.prefix);
      group.windowMs = Math.max(group.windowMs, q.windowMs);
    }
  }
  // tenant -> bucket start -> prefix -> counts, as read.
  const read = new Map<string, Map<number, Map<string, FraudCounts>>>();
  const nodes = new Map<
    unknown,
    { client: RedisClient; reads: [string, string[]][]; done: ((reply: unknown) => void)[] }
  >();
  for (const [tenantId, { prefixes, windowMs }] of byTenant) {
    const client = clientFor(tenantId);
    const buckets = new Map<number, Map<string, FraudCounts>>();
    read.set(tenantId, buckets);
    const fields = prefixes.flatMap((p) => [`s|${p}`, `v|${p}`]);
    for (const start of windowBucketStarts(nowMs, windowMs)) {
      const key = countsKey(tenantId, start);
      const node =
        client instanceof Cluster ? (client.slots[clusterSlotOf(key)]?.[0] ?? key) : client;
      let group = nodes.get(node);
      if (group === undefined) {
        group = { client, reads: [], done: [] };
        nodes.set(node, group);
      }
      group.reads.push([key, fields]);
      group.done.push((reply) => {
        const values = reply as (string | null)[];
        const counts = new Map<string, FraudCounts>();
        prefixes.forEach((p, i) => {
          counts.set(p, {
            sends: Number(values[2 * i] ?? 0),
            verified: Number(values[2 * i + 1] ?? 0),
          });
        });
        buckets.set(start, counts);
      });
    }
  }
  await Promise.all(
    [...nodes.values()].map(async ({ client, reads, done }) => {
      const pipeline = client.pipeline();
      for (const [key, fields] of reads) pipeline.hmget(key, ...fields);
      const replies = (await pipeline.exec()) ?? [];
      done.forEach((take, n) => {
        const [err, value] = replies[n] ?? [new Error("no reply"), undefined];
        if (err) throw err;
        take(value);
      });
    }),
  );
  return queries.map(({ tenantId, prefix, windowMs }) => {
    const sum = { sends: 0, verified: 0 };
    const buckets = read.get(tenantId);
    for (const start of windowBucketStarts(nowMs, windowMs)) {
      const c = buckets?.get(start)?.get(prefix);
      if (c === undefined) continue;
      sum.sends += c.sends;
      sum.verified += c.verified;
    }
    return sum;
  });
}
