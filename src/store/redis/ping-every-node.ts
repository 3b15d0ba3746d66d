import { Cluster } from "ioredis";
import { clusterSlotCount, clusterSlotOf } from "./cluster-slot.js";
import type { RedisClient, RedisTopology } from "./topology.js";

/**
 * Resolves when every node that holds a share of the records answers, and
 * rejects with the first failure otherwise: every connection of a DB-index
 * or URL sharded layout, and for a Cluster every master named in the slot
 * map, with every slot assigned to one. The pings run in parallel, each
 * bounded by the topology's command timeout.
 *
 * A Cluster master is asked through a key in one of its own slots (`EXISTS`
 * of a key that never exists), not through a connection picked from the
 * client's pool (the key, under the store's prefix, is never written): ioredis drops a dead node's connection from its pool, and
 * routing by slot re-opens it, so a master that comes back is seen again
 * even when no other call has gone to it.
 */
export async function pingEveryNode(topology: RedisTopology, keyPrefix: string): Promise<void> {
  await Promise.all(topology.clients.map((client) => pingClient(client, keyPrefix)));
}

async function pingClient(client: RedisClient, keyPrefix: string): Promise<void> {
  if (!(client instanceof Cluster)) {
    await client.ping();
    return;
  }
  const keys = probeKeysByMaster(client.slots, keyPrefix);
  await Promise.all([...keys.values()].map((key) => client.exists(key)));
}

/**
 * One key per master (by its "host:port"), each hashing to a slot that
 * master serves; throws when a slot has no master (or the client has no
 * slot map yet).
 */
export function probeKeysByMaster(
  slots: readonly (readonly string[] | undefined)[],
  keyPrefix: string,
): Map<string, string> {
  const masters = new Set<string>();
  for (let slot = 0; slot < clusterSlotCount; slot++) {
    const master = slots[slot]?.[0];
    // Redis's own words, so the failure is classified as an unreachable node.
    if (master === undefined) throw new Error(`CLUSTERDOWN Hash slot ${slot} not served`);
    masters.add(master);
  }
  const keys = new Map<string, string>();
  // Hash tags tried in turn land on random slots: a few tries find each master.
  for (let n = 0; keys.size < masters.size; n++) {
    // Under the store's prefix, so an ACL limited to it allows the probe.
    const key = `${keyPrefix}readyz-probe:{${n}}`;
    const master = slots[clusterSlotOf(key)]?.[0] as string;
    if (!keys.has(master)) keys.set(master, key);
  }
  return keys;
}
