import { createHash } from "node:crypto";

/**
 * The shard of a challenge, compatible with the seed service: the unsigned
 * 32-bit big-endian value of the UUID's last 4 bytes, modulo the shard count.
 *
 * @example
 * shardIndexForUuid("9b2f0c1e-7d4a-4b8e-9f00-00000000000a", 4); // 10 % 4 = 2
 */
export function shardIndexForUuid(id: string, shardCount: number): number {
  const hex = id.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error("shardIndexForUuid needs a UUID");
  return Number.parseInt(hex.slice(24), 16) % shardCount;
}

/**
 * The shard of state that has no challenge UUID (rate-limit buckets, the
 * outbox): a stable hash of its own key, the same in every process.
 */
export function shardIndexForKey(key: string, shardCount: number): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) % shardCount;
}
