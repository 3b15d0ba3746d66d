import { readFileSync } from "node:fs";
import type {
  ConsoleSessionRecord,
  ConsoleSessionStore,
} from "../../tenancy/console-session-store.js";
import { unavailable } from "./redis-context.js";
import type { RedisTopology } from "./topology.js";

const touchScript = readFileSync(new URL("./scripts/session-touch.lua", import.meta.url), "utf8");

/**
 * Console sessions in Redis, shared by every replica. One hash per session
 * (`record`, the JSON record, and `abs`, its absolute end), under the
 * SHA-256 of the session id, placed by a stable hash of its key. Redis
 * expires it when idle; the touch script (scripts/session-touch.lua) ends it
 * at its absolute end.
 */
export function createRedisConsoleSessionStore(options: {
  topology: RedisTopology;
  keyPrefix: string;
}): ConsoleSessionStore {
  const { topology } = options;
  const key = (idHash: string) => `${options.keyPrefix}console-session:${idHash}`;
  return {
    async create(idHash, record, idleMs) {
      const k = key(idHash);
      const ttl = Math.max(1, Math.min(idleMs, record.expiresAtMs - Date.now()));
      try {
        await topology
          .forKey(k)
          .multi()
          .hset(k, "record", JSON.stringify(record), "abs", String(record.expiresAtMs))
          .pexpire(k, ttl)
          .exec();
      } catch (err) {
        throw unavailable(err);
      }
    },
    async touch(idHash, nowMs, idleMs) {
      const k = key(idHash);
      try {
        const raw = (await topology
          .forKey(k)
          .eval(touchScript, 1, k, String(nowMs), String(idleMs))) as string | null;
        return raw === null ? undefined : (JSON.parse(raw) as ConsoleSessionRecord);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async delete(idHash) {
      const k = key(idHash);
      try {
        return (await topology.forKey(k).del(k)) > 0;
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
