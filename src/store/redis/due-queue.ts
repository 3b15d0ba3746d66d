import type { ClaimedItem, DueQueue } from "../../events/due-queue.js";
import { unavailable } from "./redis-context.js";
import { evalScript, luaScript } from "./script-command.js";
import type { RedisTopology } from "./topology.js";

// KEYS, all under one hash tag: 1 due (zset, score due ms), 2 leased (zset,
// score lease end), 3 bodies (hash), 4 claim counts (hash), 5 since (hash),
// 6 kept (zset of completed items, score forget-at ms).
const touch = `
local function touch(untilMs)
  for i = 1, 6 do redis.call('PEXPIREAT', KEYS[i], untilMs) end
end
local function queued(id)
  return redis.call('ZSCORE', KEYS[1], id) or redis.call('ZSCORE', KEYS[2], id)
end
`;

// ARGV: now, keep-until, then id, body, due triples.
const addScript = `${touch}
local n = 0
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if not queued(id) then
    redis.call('ZREM', KEYS[6], id)
    redis.call('HSET', KEYS[3], id, ARGV[i + 1])
    redis.call('HSET', KEYS[5], id, ARGV[1])
    redis.call('ZADD', KEYS[1], ARGV[i + 2], id)
    n = n + 1
  end
end
touch(ARGV[2])
return n
`;

// ARGV: now, limit, lease end, keep-until. Lapsed leases return to due, kept
// items past their time are forgotten, then up to limit due items are leased.
const claimScript = `${touch}
local now = ARGV[1]
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], now, id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 200)) do
  redis.call('ZREM', KEYS[6], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
end
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], ARGV[3], id)
  local claim = redis.call('HINCRBY', KEYS[4], id, 1)
  table.insert(out, id)
  table.insert(out, redis.call('HGET', KEYS[3], id) or '')
  table.insert(out, tostring(claim))
  table.insert(out, redis.call('HGET', KEYS[5], id) or now)
end
if #out > 0 then touch(ARGV[4]) end
return out
`;

// ARGV: id, claim. The claim is current when the item is leased under it.
const ownedCheck = `
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
`;

// ARGV: id, claim, now, keep ms, keep-until.
const completeScript = `${touch}${ownedCheck}
if tonumber(ARGV[4]) > 0 then
  redis.call('ZADD', KEYS[6], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
else
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
end
touch(ARGV[5])
return 1
`;

// ARGV: id, claim, due, keep-until.
const retryScript = `${touch}${ownedCheck}
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
touch(ARGV[4])
return 1
`;

// ARGV: id, now, keep-until. A replay starts its attempts again from 1 (a
// claimer of the finished item, if one were still alive, holds a lapsed lease:
// its claim never matches a leased item again before that lease ends).
const replayScript = `${touch}
if not redis.call('ZSCORE', KEYS[6], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[1])
touch(ARGV[3])
return 1
`;

const scripts = {
  otpDueAdd: luaScript(addScript),
  otpDueClaim: luaScript(claimScript),
  otpDueComplete: luaScript(completeScript),
  otpDueRetry: luaScript(retryScript),
  otpDueReplay: luaScript(replayScript),
} as const;
type ScriptName = keyof typeof scripts;

/** Options for {@link createRedisDueQueue}. */
export interface RedisDueQueueOptions {
  topology: RedisTopology;
  keyPrefix: string;
  /** Names the queue inside the prefix, for example "webhooks". */
  name: string;
  /** How long a claim lasts; longer than the work a claim does (a webhook's timeout). */
  leaseMs: number;
  /** How long the keys outlive the latest write: longer than any item waits or is kept. */
  retentionMs: number;
}

/**
 * The {@link DueQueue} in Redis: six keys under one hash tag (one Cluster
 * slot, one shard picked by the queue's name): a sorted set of due items, a
 * sorted set of leased items (score = end of lease), hashes of bodies, claim
 * counts and first-added times, and a sorted set of completed items kept for
 * replay. Every change is one Lua script, so any number of replicas claim
 * concurrently and each claim goes to exactly one; a claim number fences a
 * claimer whose lease lapsed. Items survive restarts; every key carries an
 * expiry pushed forward by each write.
 */
export function createRedisDueQueue(options: RedisDueQueueOptions): DueQueue {
  const tag = `${options.keyPrefix}{${options.name}}`;
  const keys = ["due", "leased", "body", "claims", "since", "kept"].map((k) => `${tag}:${k}`);
  const client = options.topology.forKey(`${options.keyPrefix}${options.name}`);
  const run = async (script: ScriptName, args: string[]): Promise<unknown> => {
    try {
      return await evalScript(client, scripts[script], keys, args);
    } catch (err) {
      throw unavailable(err);
    }
  };
  const keepUntil = (nowMs: number) => String(nowMs + options.retentionMs);
  return {
    async add(items, nowMs) {
      if (items.length === 0) return;
      const args = [String(nowMs), keepUntil(nowMs)];
      for (const item of items) args.push(item.id, item.body, String(Math.floor(item.dueMs)));
      await run("otpDueAdd", args);
    },
    async claim(nowMs, limit) {
      if (limit <= 0) return [];
      const reply = (await run("otpDueClaim", [
        String(nowMs),
        String(limit),
        String(nowMs + options.leaseMs),
        keepUntil(nowMs + options.leaseMs),
      ])) as string[];
      const out: ClaimedItem[] = [];
      for (let i = 0; i + 3 < reply.length; i += 4) {
        out.push({
          id: reply[i] as string,
          body: reply[i + 1] as string,
          claim: Number(reply[i + 2]),
          sinceMs: Number(reply[i + 3]),
        });
      }
      return out;
    },
    async complete(id, claim, nowMs, keepMs) {
      const args = [id, String(claim), String(nowMs), String(keepMs), keepUntil(nowMs + keepMs)];
      return (await run("otpDueComplete", args)) === 1;
    },
    async retry(id, claim, dueMs) {
      const args = [id, String(claim), String(Math.floor(dueMs)), keepUntil(dueMs)];
      return (await run("otpDueRetry", args)) === 1;
    },
    async replay(id, nowMs) {
      return (await run("otpDueReplay", [id, String(nowMs), keepUntil(nowMs)])) === 1;
    },
    async get(id) {
      try {
        return (await client.hget(keys[2] as string, id)) ?? undefined;
      } catch (err) {
        throw unavailable(err);
      }
    },
    async size() {
      try {
        const [due, leased] = await Promise.all([
          client.zcard(keys[0] as string),
          client.zcard(keys[1] as string),
        ]);
        return due + leased;
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
