import type {
  ChallengeRecord,
  ChallengeStore,
  CreateChallengeInput,
  CreateChallengeResult,
  DeliveryAttemptRecord,
  ReplaceCodeInput,
  ReplaceCodeResult,
  VerifyInput,
  VerifyOutcome,
} from "../../otp/challenge-store.js";
import {
  fromFields,
  challengeKey as keyOf,
  recordFrom,
  toFieldValues,
} from "./challenge-fields.js";
import { createCharger } from "./charges.js";
import type { RecipientCodec } from "./recipient-codec.js";
import { type RedisContext, type Reply, type ScriptName, unavailable } from "./redis-context.js";

/** The challenges: one hash each, every change one script on it, placed by the UUID. */
export function createRedisChallenges(ctx: RedisContext) {
  const { topology, keyPrefix, codec, run } = ctx;
  const charged = createCharger(ctx);
  const challengeKey = (id: string) => keyOf(keyPrefix, id);
  // Placed by its own key: in a Cluster, another slot than the challenge's.
  const indexKey = (digest: string) => `${keyPrefix}ridx:${digest}`;
  const onChallenge = (id: string, script: ScriptName, args: string[]) =>
    run(topology.forChallenge(id), script, challengeKey(id), args);
  const store: ChallengeStore = {
    async createChallenge(input: CreateChallengeInput): Promise<CreateChallengeResult> {
      const { record } = input;
      const reply = await charged(
        record.id,
        "otpCreate",
        input.charges,
        // The fingerprint and the expiry are among the values (create.lua reads them there).
        toFieldValues(record, codec),
        input.recipientIndex === undefined
          ? undefined
          : { keys: input.recipientIndex.map(indexKey), untilMs: record.retainUntilMs },
      );
      if (!Array.isArray(reply)) return { kind: "refused", refusal: reply };
      switch (reply[0]) {
        case "created":
          return reply[1] === undefined
            ? { kind: "created" }
            : { kind: "created", nearLimit: reply[1].split(",") };
        case "replay":
          return { kind: "replay", record: fromFields(record.id, reply, codec, 1) };
        default:
          return { kind: "conflict" };
      }
    },
    getChallenge: (id: string, nowMs: number) => readChallenge(ctx, id, nowMs),
    findByRecipient: (digest: string) => readIndex(ctx, indexKey(digest)),
    async verify(id: string, input: VerifyInput) {
      const args = [String(input.nowMs), input.bindingHash, input.tenantId ?? ""];
      pushCandidates(args, input);
      const reply = await charged(id, "otpVerify", input.charges, args);
      if (!Array.isArray(reply)) return { refused: reply };
      if (reply.length === 0) return undefined;
      return { outcome: reply[0] as VerifyOutcome, record: fromFields(id, reply, codec, 1) };
    },
    async cancel(id: string, nowMs: number) {
      const reply = await onChallenge(id, "otpCancel", [String(nowMs)]);
      return reply.length === 0 ? undefined : fromFields(id, reply, codec);
    },
    async replaceCode(id: string, input: ReplaceCodeInput): Promise<ReplaceCodeResult> {
      const reply = await onChallenge(id, "otpReplaceCode", [
        String(input.nowMs),
        input.codeHmac,
        String(input.cooldownMs),
        String(input.maxSends),
        String(input.retentionMs),
        input.keepLiveCode === true ? "1" : "0",
        input.sealedCode ?? "",
      ]);
      return replaceCodeResult(id, reply, codec);
    },
    async claimFallback(id: string, gen: number, nowMs: number) {
      const reply = await onChallenge(id, "otpFallbackClaim", [String(nowMs), String(gen)]);
      return reply.length === 0 ? undefined : fromFields(id, reply, codec);
    },
    async setDeliveryAttempts(id: string, attempts: DeliveryAttemptRecord[]) {
      await onChallenge(id, "otpSetDeliveryAttempts", [
        JSON.stringify(attempts),
        JSON.stringify(acceptedDeliveries(attempts)),
      ]);
    },
  };
  return store;
}

/** A challenge as its hash holds it, while it is retained. */
async function readChallenge(
  ctx: RedisContext,
  id: string,
  nowMs: number,
): Promise<ChallengeRecord | undefined> {
  let fields: Record<string, string>;
  try {
    fields = await ctx.topology.forChallenge(id).hgetall(keyOf(ctx.keyPrefix, id));
  } catch (err) {
    throw unavailable(err);
  }
  if (Object.keys(fields).length === 0) return undefined;
  const record = recordFrom(id, fields, ctx.codec);
  return nowMs >= record.retainUntilMs ? undefined : record;
}

/** The challenge id a recipient index key points at, if any (its own shard or slot). */
async function readIndex(ctx: RedisContext, key: string): Promise<string | undefined> {
  try {
    return (await ctx.topology.forKey(key).get(key)) ?? undefined;
  } catch (err) {
    throw unavailable(err);
  }
}

/** Adds the code HMACs Verify tries to `args`, each as `alphabet:hmac` (`*` when any alphabet will do). */
function pushCandidates(args: string[], input: VerifyInput): void {
  const byAlphabet = input.candidatesByAlphabet;
  if (byAlphabet === undefined) {
    for (const hmac of input.candidateHmacs) args.push(`*:${hmac}`);
    return;
  }
  for (const alphabet in byAlphabet) {
    for (const hmac of byAlphabet[alphabet as keyof typeof byAlphabet] ?? []) {
      args.push(`${alphabet}:${hmac}`);
    }
  }
}

/** The replace-code script's reply as a result. */
function replaceCodeResult(id: string, reply: Reply, codec: RecipientCodec): ReplaceCodeResult {
  switch (reply[0]) {
    case "replaced":
      return { kind: "replaced", record: fromFields(id, reply, codec, 1) };
    case "not_pending":
      return { kind: "not_pending", record: fromFields(id, reply, codec, 1) };
    case "send_limit":
      return { kind: "send_limit" };
    case "cooldown":
      return { kind: "cooldown", retryAfterMs: Number(reply[1]) };
    default:
      return { kind: "not_found" };
  }
}

/** The deliveries a send's attempts made, for withdrawing their messages later. */
function acceptedDeliveries(attempts: DeliveryAttemptRecord[]) {
  return attempts
    .filter((a) => a.status === "accepted" && a.deliveryId !== "")
    .map((a) => ({ channel: a.channel, deliveryId: a.deliveryId }));
}
