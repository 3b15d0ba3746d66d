import type {
  EndpointHealth,
  WebhookAttemptRecord,
  WebhookEndpointRecord,
  WebhookStore,
} from "../../events/webhook-store.js";
import { unavailable } from "./redis-context.js";
import { evalScript, luaScript } from "./script-command.js";
import type { RedisTopology } from "./topology.js";

// KEYS[1] health hash. ARGV: id, ok (1/0), now. Returns failures, since.
const outcomeScript = luaScript(`
local nKey, sKey = ARGV[1] .. ':n', ARGV[1] .. ':since'
if ARGV[2] == '1' then
  redis.call('HDEL', KEYS[1], nKey, sKey)
  return {0, 0}
end
local n = redis.call('HINCRBY', KEYS[1], nKey, 1)
redis.call('HSETNX', KEYS[1], sKey, ARGV[3])
return {n, tonumber(redis.call('HGET', KEYS[1], sKey))}
`);

// How long the recent attempts of an endpoint are kept after the latest one.
const attemptsTtlMs = 7 * 86_400_000;

/**
 * The {@link WebhookStore} in Redis, under one hash tag: a hash of endpoints
 * (id -> JSON; configuration like tenants and keys, kept until deleted), a
 * hash of failure streaks changed by one Lua script per outcome, and a capped
 * list of recent attempts per endpoint that expires a week after its latest.
 */
export function createRedisWebhookStore(options: {
  topology: RedisTopology;
  keyPrefix: string;
}): WebhookStore {
  const tag = `${options.keyPrefix}{webhook-endpoints}`;
  const endpointsKey = `${tag}:all`;
  const healthKey = `${tag}:health`;
  const attemptsKey = (id: string) => `${tag}:attempts:${id}`;
  const client = options.topology.forKey(`${options.keyPrefix}webhook-endpoints`);
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  };
  const parse = (json: string | null | undefined) =>
    json === null || json === undefined ? undefined : (JSON.parse(json) as WebhookEndpointRecord);
  return {
    putEndpoint: (record) =>
      guard(async () => {
        await client.hset(endpointsKey, record.id, JSON.stringify(record));
      }),
    getEndpoint: (id) => guard(async () => parse(await client.hget(endpointsKey, id))),
    listEndpoints: (tenantId) =>
      guard(async () =>
        Object.values(await client.hgetall(endpointsKey))
          .map((json) => JSON.parse(json) as WebhookEndpointRecord)
          .filter((e) => tenantId === undefined || e.tenantId === tenantId)
          .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id)),
      ),
    deleteEndpoint: (id) =>
      guard(async () => {
        const replies = await client
          .multi()
          .hdel(endpointsKey, id)
          .hdel(healthKey, `${id}:n`, `${id}:since`)
          .del(attemptsKey(id))
          .exec();
        return Number(replies?.[0]?.[1] ?? 0) === 1;
      }),
    recordOutcome: (id, ok, nowMs) =>
      guard(async () => {
        const [n, since] = (await evalScript(
          client,
          outcomeScript,
          [healthKey],
          [id, ok ? "1" : "0", String(nowMs)],
        )) as [number, number];
        return { consecutiveFailures: Number(n), failingSinceMs: Number(since) };
      }),
    getHealth: (id) =>
      guard(async (): Promise<EndpointHealth> => {
        const [n, since] = await client.hmget(healthKey, `${id}:n`, `${id}:since`);
        return { consecutiveFailures: Number(n ?? 0), failingSinceMs: Number(since ?? 0) };
      }),
    recordAttempt: (endpointId, attempt, keep) =>
      guard(async () => {
        const key = attemptsKey(endpointId);
        await client
          .multi()
          .lpush(key, JSON.stringify(attempt))
          .ltrim(key, 0, keep - 1)
          .pexpire(key, attemptsTtlMs)
          .exec();
      }),
    listAttempts: (endpointId, limit) =>
      guard(async () =>
        (await client.lrange(attemptsKey(endpointId), 0, limit - 1)).map(
          (json) => JSON.parse(json) as WebhookAttemptRecord,
        ),
      ),
  };
}
