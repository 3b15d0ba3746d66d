import type { RecipientVault } from "../../core/recipient-vault.js";
import type { Store } from "../store.js";
import { createRedisChallenges } from "./challenges.js";
import { createRedisDeliveries } from "./deliveries.js";
import { createRedisLimits } from "./limits.js";
import { createRedisOutbox } from "./outbox.js";
import { pingEveryNode } from "./ping-every-node.js";
import { createRedisContext, unavailable } from "./redis-context.js";
import { describeLayout, type RedisTopology } from "./topology.js";
import { createRedisTotpFactors } from "./totp-factors.js";

/** Options for {@link createRedisStore}. */
export interface RedisStoreOptions {
  topology: RedisTopology;
  /** Namespaces every key, for example "otp:". */
  keyPrefix: string;
  /** The most outbox messages kept. */
  maxOutboxEntries?: number;
  /**
   * Seals recipients inside records and hashes them in key names and
   * filters, so that no key name or value holds one in the clear.
   */
  vault: RecipientVault;
}

/**
 * The Redis store: one module per record kind (challenges.ts, deliveries.ts,
 * totp-factors.ts, outbox.ts, limits.ts), each change one Lua script
 * (scripts.ts, scripts/*.lua) on keys placed by the challenge's UUID or a
 * stable hash of their own key (topology.ts). Redis failures surface as
 * `STORE_UNAVAILABLE`, never as raw messages.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const { topology, keyPrefix } = options;
  const ctx = createRedisContext(options);
  return {
    description: describeLayout(topology.layout),
    ...createRedisChallenges(ctx),
    ...createRedisLimits(ctx),
    ...createRedisDeliveries(ctx),
    ...createRedisTotpFactors(ctx),
    ...createRedisOutbox(ctx, options.maxOutboxEntries ?? 1000),
    async ping() {
      try {
        await pingEveryNode(topology, keyPrefix);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async close() {
      await topology.close();
    },
  };
}
