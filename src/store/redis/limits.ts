import { RateLimiterRedis } from "rate-limiter-flexible";
import type {
  ConsumeOptions,
  LimitStore,
  RateLimit,
  RateLimitResult,
  UsageStore,
} from "../../tenancy/limit-store.js";
import { consumeWith } from "../consume-with.js";
import { usageRetentionMs } from "../usage-day.js";
import { tagChallenge } from "./challenge-fields.js";
import { usageKey as keyOf } from "./charges.js";
import { type RedisContext, unavailable } from "./redis-context.js";
import type { RedisClient } from "./topology.js";

/** Rate limits outside the hot path (rate-limiter-flexible) and the usage counters. */
export function createRedisLimits(ctx: RedisContext) {
  const { topology, keyPrefix } = ctx;
  const usageKey = (tenantId: string, atMs: number) => keyOf(keyPrefix, tenantId, atMs);
  const limiters = new Map<string, RateLimiterRedis>();
  const limiterFor = (client: RedisClient, index: number, bucket: string, limit: RateLimit) => {
    const name = `${index}:${bucket}:${limit.points}/${limit.windowMs}`;
    let limiter = limiters.get(name);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${keyPrefix}ratelimit:${bucket}`,
        points: limit.points,
        duration: limit.windowMs / 1000,
        // No in-memory fallback: a limit that silently stops being shared is no limit.
        rejectIfRedisNotReady: true,
      });
      limiters.set(name, limiter);
    }
    return limiter;
  };

  const store: LimitStore & UsageStore = {
    async consume(
      bucket: string,
      key: string,
      limit: RateLimit,
      options: ConsumeOptions = {},
    ): Promise<RateLimitResult> {
      const { withChallenge } = options;
      const client =
        withChallenge === undefined
          ? topology.forKey(`${bucket}:${key}`)
          : topology.forChallenge(withChallenge);
      const index = topology.clients.indexOf(client);
      try {
        return await consumeWith(
          limiterFor(client, index, bucket, limit),
          withChallenge === undefined ? key : tagChallenge(key, withChallenge),
        );
      } catch (err) {
        throw unavailable(err);
      }
    },
    async incrementUsage(tenantId: string, counter: string, atMs: number) {
      const key = usageKey(tenantId, atMs);
      const client = topology.forKey(key);
      try {
        await client.multi().hincrby(key, counter, 1).pexpire(key, usageRetentionMs).exec();
      } catch (err) {
        throw unavailable(err);
      }
    },
    async getUsage(tenantId: string, days: string[]) {
      try {
        const rows = await Promise.all(
          days.map(async (day) => {
            const key = `${keyPrefix}usage:${tenantId}:${day}`;
            const fields = await topology.forKey(key).hgetall(key);
            return [
              day,
              Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Number(v)])),
            ];
          }),
        );
        return Object.fromEntries(rows);
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
  return store;
}
