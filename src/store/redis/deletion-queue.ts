import {
  type DeletionQueue,
  defaultDeletionLeaseMs,
  deletionMember,
  parseDeletionMember,
} from "../../delivery/telegram/deletion-queue.js";
import { evalScript, luaScript } from "./script-command.js";
import type { RedisTopology } from "./topology.js";

/** Options for {@link createRedisDeletionQueue}. */
export interface RedisDeletionQueueOptions {
  topology: RedisTopology;
  /** Namespaces every key, for example "otp:"; the same prefix as the store. */
  keyPrefix: string;
  /** Names the queue inside the prefix; "telegram-deletions" by default. */
  name?: string;
  /** How long a claim lasts before the item is due again, in milliseconds. */
  leaseMs?: number;
  /**
   * How long the keys outlive their latest item, in milliseconds; 48 hours by
   * default, since Telegram refuses to delete a bot's message after that.
   */
  retentionMs?: number;
}

/**
 * KEYS[1] due set, KEYS[2] leased set. ARGV[1] member, ARGV[2] due ms,
 * ARGV[3] now ms, ARGV[4] keep the due set until (ms). Moves the item into the
 * due set (out of the leased set, if it was there).
 */
const scheduleScript = `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 or tonumber(ARGV[3]) + ttl < tonumber(ARGV[4]) then
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
end
return 1
`;

/**
 * KEYS[1] due set, KEYS[2] leased set. ARGV[1] now ms, ARGV[2] limit,
 * ARGV[3] lease ends (ms), ARGV[4] keep the due set until, ARGV[5] keep the
 * leased set until. First returns lapsed leases to the due set (their claimer
 * died), then moves up to `limit` due items to the leased set and returns them.
 */
const claimScript = `
local now = tonumber(ARGV[1])
local function extend(key, untilMs)
  local ttl = redis.call('PTTL', key)
  if ttl == -1 or now + ttl < tonumber(untilMs) then
    redis.call('PEXPIREAT', key, untilMs)
  end
end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, member in ipairs(lapsed) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZADD', KEYS[1], ARGV[1], member)
end
if #lapsed > 0 then extend(KEYS[1], ARGV[4]) end
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(items) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('ZADD', KEYS[2], ARGV[3], member)
end
if #items > 0 then extend(KEYS[2], ARGV[5]) end
return items
`;

/**
 * KEYS[1] due set, KEYS[2] leased set. ARGV[1] member, ARGV[2] due ms,
 * ARGV[3] now ms, ARGV[4] keep the due set until. Gives a leased item back.
 */
const releaseScript = `
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 or tonumber(ARGV[3]) + ttl < tonumber(ARGV[4]) then
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
end
return 1
`;

const scripts = {
  otpDeletionSchedule: luaScript(scheduleScript),
  otpDeletionClaim: luaScript(claimScript),
  otpDeletionRelease: luaScript(releaseScript),
} as const;
type ScriptName = keyof typeof scripts;

/**
 * The {@link DeletionQueue} in Redis: a sorted set of due items (score = due
 * time) and a sorted set of leased items (score = end of lease), under one
 * hash tag so both sit in one Cluster slot, on the shard that
 * `topology.forKey` picks for the queue's name. Each change is one Lua script,
 * so any number of instances can claim concurrently and each item goes to
 * exactly one of them; items survive a restart of every instance.
 *
 * Both keys always carry an expiry: each write pushes it to the latest item's
 * due time (or lease end) plus the retention.
 */
export function createRedisDeletionQueue(options: RedisDeletionQueueOptions): DeletionQueue {
  const name = options.name ?? "telegram-deletions";
  const leaseMs = options.leaseMs ?? defaultDeletionLeaseMs;
  const retentionMs = options.retentionMs ?? 48 * 3600 * 1000;
  const dueKey = `${options.keyPrefix}{${name}}:due`;
  const leasedKey = `${options.keyPrefix}{${name}}:leased`;
  const client = options.topology.forKey(`${options.keyPrefix}${name}`);

  const run = async (script: ScriptName, args: string[]): Promise<unknown> => {
    try {
      return await evalScript(client, scripts[script], [dueKey, leasedKey], args);
    } catch (err) {
      throw new Error("deletion queue: Redis call failed", { cause: err });
    }
  };

  return {
    async schedule(item, dueMs) {
      const nowMs = Date.now();
      await run("otpDeletionSchedule", [
        deletionMember(item),
        String(Math.floor(dueMs)),
        String(nowMs),
        String(Math.max(dueMs, nowMs) + retentionMs),
      ]);
    },
    async claimDue(nowMs, limit) {
      if (limit <= 0) return [];
      const leaseEnds = nowMs + leaseMs;
      const reply = (await run("otpDeletionClaim", [
        String(nowMs),
        String(limit),
        String(leaseEnds),
        String(nowMs + retentionMs),
        String(leaseEnds + retentionMs),
      ])) as string[];
      return reply.map(parseDeletionMember);
    },
    async complete(item) {
      const member = deletionMember(item);
      try {
        await client.multi().zrem(leasedKey, member).zrem(dueKey, member).exec();
      } catch (err) {
        throw new Error("deletion queue: Redis call failed", { cause: err });
      }
    },
    async release(item, dueMs) {
      const nowMs = Date.now();
      await run("otpDeletionRelease", [
        deletionMember(item),
        String(Math.floor(dueMs)),
        String(nowMs),
        String(Math.max(dueMs, nowMs) + retentionMs),
      ]);
    },
    async size() {
      try {
        const [due, leased] = await Promise.all([client.zcard(dueKey), client.zcard(leasedKey)]);
        return due + leased;
      } catch (err) {
        throw new Error("deletion queue: Redis call failed", { cause: err });
      }
    },
  };
}
