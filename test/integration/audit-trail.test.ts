import type { AuditRetention, AuditTrail } from "../../src/audit/audit-trail.js";
import { createMemoryAuditTrail } from "../../src/store/memory/audit-trail.js";
import { createRedisAuditTrail } from "../../src/store/redis/audit-trail.js";
import type { RedisLayout } from "../../src/store/redis/topology.js";
import { describeAuditTrailContract } from "../contract/audit-trail-contract.js";
import { useRedisLayouts } from "../support/redis-layouts.js";

const redis = useRedisLayouts();
const { layouts } = redis;

async function trailOn(
  layout: RedisLayout,
  keyPrefix: string,
  retention: AuditRetention,
): Promise<AuditTrail> {
  const topology = await redis.topologyOf(layout);
  return createRedisAuditTrail({ topology, keyPrefix, ...retention });
}

describeAuditTrailContract("memory", async (retention) => {
  const trail = createMemoryAuditTrail(retention);
  return { trail, another: async () => trail };
});

for (const [name, layout] of Object.entries(layouts)) {
  describeAuditTrailContract(name, async (retention) => {
    // Two replicas: each opens its own connections to the same layout and prefix.
    const keyPrefix = redis.nextPrefix("audit");
    const trail = await trailOn(layout(), keyPrefix, retention);
    return { trail, another: () => trailOn(layout(), keyPrefix, retention) };
  });
}
