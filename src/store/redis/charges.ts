import { OtpError } from "../../core/otp-error.js";
import type { CallCharges, LimitCharge, LimitRefusal } from "../../tenancy/limit-store.js";
import { usageRetentionMs, utcDay } from "../usage-day.js";
import { challengeKey, tagChallenge } from "./challenge-fields.js";
import { callScript, type RedisContext, type Reply, unavailable } from "./redis-context.js";
import { isUnreachableError } from "./unreachable.js";

/** The key of a tenant's usage counters for the UTC day of `atMs`. */
export function usageKey(keyPrefix: string, tenantId: string, atMs: number): string {
  return `${keyPrefix}usage:${tenantId}:${utcDay(atMs)}`;
}

/** Recipient index entries a Generate points at its challenge (create.lua). */
export interface IndexWrite {
  keys: string[];
  untilMs: number;
}

/** Runs Generate's or Verify's script with the call's charges (see {@link createCharger}). */
export type ChargedScript = (
  id: string,
  script: "otpCreate" | "otpVerify",
  charges: CallCharges | undefined,
  args: string[],
  index?: IndexWrite,
) => Promise<Reply | LimitRefusal>;

/**
 * Charges a call's limits and usage with its challenge script: one round
 * trip on a single Redis; elsewhere the limits kept apart first (in
 * parallel), then the script. Usage that cannot join the script is sent
 * alongside, never awaited (see docs/hot-path.md).
 */
export function createCharger(ctx: RedisContext): ChargedScript {
  const { topology, keyPrefix, run } = ctx;
  // On one Redis every key is on the one node: a call's limits and usage go
  // into its challenge script. Elsewhere only the counters kept beside the
  // challenge do; the rest are charged first, in parallel (see docs/hot-path.md).
  const foldsEverything = topology.layout.kind !== "cluster" && topology.clients.length === 1;
  return async (
    id: string,
    script: "otpCreate" | "otpVerify",
    charges: CallCharges | undefined,
    args: string[],
    index?: IndexWrite,
  ): Promise<Reply | LimitRefusal> => {
    const limits = charges?.limits ?? none;
    const inScript = foldsEverything ? limits : limits.filter((l) => l.withChallenge === true);
    const apart = foldsEverything ? none : limits.filter((l) => l.withChallenge !== true);
    const usage =
      charges?.usage !== undefined && charges.usage.counters.length > 0 ? charges.usage : undefined;
    const foldedUsage = foldsEverything ? usage : undefined;
    if (usage !== undefined && foldedUsage === undefined) countUsageApart(ctx, usage);
    let near: readonly string[] = noNames;
    if (apart.length > 0) {
      const charged = await chargeApart(ctx, apart, charges?.onFailedOpen);
      if (charged.refusal !== undefined) return charged.refusal;
      near = charged.near;
    }
    const keys = [challengeKey(keyPrefix, id)];
    for (const l of inScript) keys.push(limitKey(keyPrefix, l, id));
    const head = [
      String(inScript.length),
      String(foldedUsage?.counters.length ?? 0),
      String(usageRetentionMs),
    ];
    for (const l of inScript) head.push(String(l.limit.points), String(l.limit.windowMs));
    if (foldedUsage !== undefined) {
      keys.push(usageKey(keyPrefix, foldedUsage.tenantId, foldedUsage.atMs));
      head.push(...foldedUsage.counters);
    }
    let indexed: Promise<unknown> | undefined;
    if (script === "otpCreate") {
      // create.lua's index arguments come before the challenge's field values.
      const inside = foldsEverything ? (index?.keys ?? []) : [];
      keys.push(...inside);
      args.unshift(String(inside.length), String(index?.untilMs ?? 0), id);
      // Elsewhere an index key lives on its own shard or slot: written beside the create, in the same trip.
      if (!foldsEverything && index !== undefined && index.keys.length > 0) {
        indexed = writeIndexApart(ctx, index, id);
      }
    }
    // The script's arguments: the head, then the call's own (one array, not a copy of both).
    for (const arg of args) head.push(arg);
    const ran = run(topology.forChallenge(id), script, keys, head);
    const reply = indexed === undefined ? await ran : (await Promise.all([ran, indexed]))[0];
    if (reply[0] === "created") return createdReply(reply, inScript, near);
    if (reply[0] !== "refused") return reply;
    const refusedBy = inScript[Number(reply[1]) - 1] as LimitCharge;
    return { bucket: refusedBy.bucket, retryAfterMs: Math.max(1, Number(reply[2])) };
  };
}

// {"created", buckets brought to 80 %}: the script's limit indexes as bucket names, with those charged apart.
function createdReply(
  reply: Reply,
  inScript: readonly LimitCharge[],
  near: readonly string[],
): Reply {
  // The usual answer: no bucket near its limit.
  if (near.length === 0 && (reply[1] ?? "") === "") return reply.length === 1 ? reply : ["created"];
  const inside = (reply[1] ?? "")
    .split(",")
    .filter((i) => i !== "")
    .map((i) => (inScript[Number(i) - 1] as LimitCharge).bucket);
  const all = [...near, ...inside];
  return all.length === 0 ? ["created"] : ["created", all.join(",")];
}

const none: readonly LimitCharge[] = [];
const noNames: readonly string[] = [];

/** The counter key of a limit; a per-challenge limit's key carries the challenge's hash tag. */
function limitKey(keyPrefix: string, charge: LimitCharge, id: string): string {
  return `${keyPrefix}ratelimit:${charge.bucket}:${charge.withChallenge ? tagChallenge(charge.key, id) : charge.key}`;
}

/**
 * Charges limits whose counters live apart from the challenge, in parallel,
 * then judges them in order as if charged one by one: the first failure or
 * refusal decides, and the hits counted after it are given back.
 */
async function chargeApart(
  ctx: RedisContext,
  limits: readonly LimitCharge[],
  onFailedOpen: CallCharges["onFailedOpen"],
): Promise<{ refusal?: LimitRefusal; near: string[] }> {
  const near: string[] = [];
  const placed = limits.map((charge) => ({
    charge,
    client: ctx.topology.forKey(`${charge.bucket}:${charge.key}`),
    key: limitKey(ctx.keyPrefix, charge, ""),
  }));
  const settled = await Promise.allSettled(
    placed.map(({ charge, client, key }) =>
      callScript(client, "otpLimit", key, [
        String(charge.limit.points),
        String(charge.limit.windowMs),
      ]),
    ),
  );
  let decided: LimitRefusal | OtpError | undefined;
  let at = placed.length;
  for (const [i, outcome] of settled.entries()) {
    const { charge } = placed[i] as (typeof placed)[number];
    if (outcome.status === "rejected") {
      // Only an unreachable node, and only for a fail-open limit, lets the call through.
      if (charge.failOpen === true && isUnreachableError(outcome.reason)) {
        onFailedOpen?.(charge.bucket, unavailable(outcome.reason));
        continue;
      }
      decided = unavailable(outcome.reason);
    } else {
      const [consumed, ttl] = (outcome.value as number[]).map(Number) as [number, number];
      if (consumed === Math.ceil(charge.limit.points * 0.8)) near.push(charge.bucket);
      if (consumed <= charge.limit.points) continue;
      decided = { bucket: charge.bucket, retryAfterMs: Math.max(1, ttl) };
    }
    at = i;
    break;
  }
  if (decided === undefined) return { near };
  await Promise.all(
    placed
      .slice(at + 1)
      .map(({ client, key }, j) =>
        settled[at + 1 + j]?.status === "fulfilled"
          ? callScript(client, "otpRefund", key, []).catch(() => {})
          : undefined,
      ),
  );
  if (decided instanceof OtpError) throw decided;
  return { refusal: decided, near };
}

/** Points recipient index keys kept apart from the challenge at it (shards, Cluster). */
async function writeIndexApart(ctx: RedisContext, index: IndexWrite, id: string): Promise<void> {
  try {
    await Promise.all(
      index.keys.map((key) => ctx.topology.forKey(key).set(key, id, "PXAT", index.untilMs)),
    );
  } catch (err) {
    throw unavailable(err);
  }
}

/** Counts usage that cannot join the challenge script: sent alongside, never awaited. */
function countUsageApart(ctx: RedisContext, usage: NonNullable<CallCharges["usage"]>): void {
  const key = usageKey(ctx.keyPrefix, usage.tenantId, usage.atMs);
  const multi = ctx.topology.forKey(key).multi();
  for (const counter of usage.counters) multi.hincrby(key, counter, 1);
  multi
    .pexpire(key, usageRetentionMs)
    .exec()
    .catch((err: unknown) => usage.onError?.(unavailable(err)));
}
