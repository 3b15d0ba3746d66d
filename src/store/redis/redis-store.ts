import { RateLimiterRedis } from "rate-limiter-flexible";
import { OtpError } from "../../core/otp-error.js";
import { isSealed, type RecipientVault } from "../../core/recipient-vault.js";
import { StoreUnavailableError } from "../../core/store-unavailable.js";
import type { AlphabetName } from "../../otp/alphabets.js";
import { consumeWith } from "../consume-with.js";
import type {
  CallCharges,
  ChallengeRecord,
  ConsumeOptions,
  CreateChallengeInput,
  CreateChallengeResult,
  DeliveryAttemptRecord,
  DeliveryRecord,
  LimitCharge,
  LimitRefusal,
  OutboxEntry,
  OutboxFilter,
  RateLimit,
  RateLimitResult,
  ReplaceCodeInput,
  ReplaceCodeResult,
  Store,
  TotpFactorRecord,
  VerifyInput,
  VerifyOutcome,
} from "../store.js";
import { pingEveryNode } from "./ping-every-node.js";
import {
  appendOutboxScript,
  cancelScript,
  createScript,
  deliveryCreateScript,
  deliveryEventScript,
  limitScript,
  refundScript,
  replaceCodeScript,
  setDeliveryAttemptsScript,
  totpCreateScript,
  totpFailureScript,
  totpRecoveryScript,
  totpUseStepScript,
  verifyScript,
} from "./scripts.js";
import { describeLayout, type RedisClient, type RedisTopology } from "./topology.js";
import { isUnreachableError } from "./unreachable.js";

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

type Reply = string[];

// Usage days are kept 40 days.
const usageRetentionMs = 40 * 86_400_000;

/**
 * The Redis store: every challenge is one hash, every change one Lua script on
 * it, placed on its shard by its UUID (or in its cluster slot by a hash tag).
 * Redis failures surface as `STORE_UNAVAILABLE`, never as raw messages.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const { topology, keyPrefix, vault } = options;
  const codec = createRecipientCodec(vault);
  const maxOutbox = options.maxOutboxEntries ?? 1000;
  // The hash tag keeps every key of a challenge in one cluster slot.
  const challengeKey = (id: string) => `${keyPrefix}challenge:{${id}}`;
  const outboxKey = `${keyPrefix}outbox`;
  // A factor's hash and its recovery set share a hash tag: one slot, one script.
  const factorKeys = (id: string) => [
    `${keyPrefix}totp:{${id}}`,
    `${keyPrefix}totp:{${id}}:recovery`,
  ];
  const factorClient = (id: string) => topology.forKey(`totp:${id}`);
  const onFactor = (id: string, script: ScriptName, args: string[]) =>
    run(factorClient(id), script, factorKeys(id), args);
  const deliveryKeys = (id: string) => [
    `${keyPrefix}delivery:{${id}}`,
    `${keyPrefix}delivery:{${id}}:events`,
  ];
  const deliveryClient = (id: string) => topology.forKey(`delivery:${id}`);
  const onDelivery = (id: string, script: ScriptName, args: string[]) =>
    run(deliveryClient(id), script, deliveryKeys(id), args);

  for (const client of topology.clients) defineScripts(client);

  const run = async (
    client: RedisClient,
    script: ScriptName,
    key: string | string[],
    args: string[],
  ) => {
    try {
      return (await callScript(client, script, key, args)) as Reply;
    } catch (err) {
      throw unavailable(err);
    }
  };

  const providerIndexKeys = (channel: string, providerMessageId: string) =>
    vault
      .indexes("provider-message", `${channel}:${providerMessageId}`)
      .map((hash) => `${keyPrefix}delivery-provider:${channel}:${hash}`);

  const onChallenge = (id: string, script: ScriptName, args: string[]) =>
    run(topology.forChallenge(id), script, challengeKey(id), args);

  // On one Redis every key is on the one node: a call's limits and usage go
  // into its challenge script. Elsewhere only the counters kept beside the
  // challenge do; the rest are charged first, in parallel (see docs/hot-path.md).
  const foldsEverything = topology.layout.kind !== "cluster" && topology.clients.length === 1;
  const limitKey = (charge: LimitCharge, id: string) =>
    `${keyPrefix}ratelimit:${charge.bucket}:${charge.withChallenge ? tagChallenge(charge.key, id) : charge.key}`;
  const usageKey = (tenantId: string, atMs: number) =>
    `${keyPrefix}usage:${tenantId}:${new Date(atMs).toISOString().slice(0, 10)}`;

  // Limits whose counters live apart from the challenge, charged in parallel,
  // then judged in order as if charged one by one: the first failure or
  // refusal decides, and the hits counted after it are given back.
  const chargeApart = async (
    limits: LimitCharge[],
    onFailedOpen: CallCharges["onFailedOpen"],
  ): Promise<LimitRefusal | undefined> => {
    const placed = limits.map((charge) => ({
      charge,
      client: topology.forKey(`${charge.bucket}:${charge.key}`),
      key: limitKey(charge, ""),
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
        if (consumed <= charge.limit.points) continue;
        decided = { bucket: charge.bucket, retryAfterMs: Math.max(1, ttl) };
      }
      at = i;
      break;
    }
    if (decided === undefined) return undefined;
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
    return decided;
  };

  const countUsageApart = (usage: NonNullable<CallCharges["usage"]>) => {
    const key = usageKey(usage.tenantId, usage.atMs);
    const multi = topology.forKey(key).multi();
    for (const counter of usage.counters) multi.hincrby(key, counter, 1);
    multi
      .pexpire(key, usageRetentionMs)
      .exec()
      .catch((err: unknown) => usage.onError?.(unavailable(err)));
  };

  /**
   * Runs Generate's or Verify's script with the call's charges: one round
   * trip on a single Redis; elsewhere the limits kept apart first (in
   * parallel), then the script. Usage that cannot join the script is sent
   * alongside, never awaited.
   */
  const charged = async (
    id: string,
    script: "otpCreate" | "otpVerify",
    charges: CallCharges | undefined,
    args: string[],
  ): Promise<Reply | LimitRefusal> => {
    const limits = charges?.limits ?? [];
    const inScript = foldsEverything ? limits : limits.filter((l) => l.withChallenge === true);
    const apart = foldsEverything ? [] : limits.filter((l) => l.withChallenge !== true);
    const usage =
      charges?.usage !== undefined && charges.usage.counters.length > 0 ? charges.usage : undefined;
    const foldedUsage = foldsEverything ? usage : undefined;
    if (usage !== undefined && foldedUsage === undefined) countUsageApart(usage);
    if (apart.length > 0) {
      const refusal = await chargeApart(apart, charges?.onFailedOpen);
      if (refusal !== undefined) return refusal;
    }
    const keys = [challengeKey(id), ...inScript.map((l) => limitKey(l, id))];
    const head = [
      String(inScript.length),
      String(foldedUsage?.counters.length ?? 0),
      String(usageRetentionMs),
    ];
    for (const l of inScript) head.push(String(l.limit.points), String(l.limit.windowMs));
    if (foldedUsage !== undefined) {
      keys.push(usageKey(foldedUsage.tenantId, foldedUsage.atMs));
      head.push(...foldedUsage.counters);
    }
    const reply = await run(topology.forChallenge(id), script, keys, [...head, ...args]);
    if (reply[0] !== "refused") return reply;
    const refusedBy = inScript[Number(reply[1]) - 1] as LimitCharge;
    return { bucket: refusedBy.bucket, retryAfterMs: Math.max(1, Number(reply[2])) };
  };

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

  return {
    description: describeLayout(topology.layout),

    async createChallenge(input: CreateChallengeInput): Promise<CreateChallengeResult> {
      const { record } = input;
      const reply = await charged(record.id, "otpCreate", input.charges, [
        record.idempotencyFingerprint,
        String(record.retainUntilMs),
        ...toFields(record, codec),
      ]);
      if (!Array.isArray(reply)) return { kind: "refused", refusal: reply };
      switch (reply[0]) {
        case "created":
          return { kind: "created" };
        case "replay":
          return { kind: "replay", record: fromFields(record.id, reply.slice(1), codec) };
        default:
          return { kind: "conflict" };
      }
    },

    async getChallenge(id: string, nowMs: number) {
      let fields: Record<string, string>;
      try {
        fields = await topology.forChallenge(id).hgetall(challengeKey(id));
      } catch (err) {
        throw unavailable(err);
      }
      if (Object.keys(fields).length === 0) return undefined;
      const record = recordFrom(id, fields, codec);
      return nowMs >= record.retainUntilMs ? undefined : record;
    },

    async verify(id: string, input: VerifyInput) {
      const byAlphabet = input.candidatesByAlphabet;
      const candidates =
        byAlphabet === undefined
          ? input.candidateHmacs.map((hmac) => `*:${hmac}`)
          : Object.entries(byAlphabet).flatMap(([alphabet, hmacs]) =>
              (hmacs ?? []).map((hmac) => `${alphabet}:${hmac}`),
            );
      const reply = await charged(id, "otpVerify", input.charges, [
        String(input.nowMs),
        input.bindingHash,
        input.tenantId ?? "",
        ...candidates,
      ]);
      if (!Array.isArray(reply)) return { refused: reply };
      if (reply.length === 0) return undefined;
      return { outcome: reply[0] as VerifyOutcome, record: fromFields(id, reply.slice(1), codec) };
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
      ]);
      switch (reply[0]) {
        case "replaced":
          return { kind: "replaced", record: fromFields(id, reply.slice(1), codec) };
        case "not_pending":
          return { kind: "not_pending", record: fromFields(id, reply.slice(1), codec) };
        case "send_limit":
          return { kind: "send_limit" };
        case "cooldown":
          return { kind: "cooldown", retryAfterMs: Number(reply[1]) };
        default:
          return { kind: "not_found" };
      }
    },

    async setDeliveryAttempts(id: string, attempts: DeliveryAttemptRecord[]) {
      await onChallenge(id, "otpSetDeliveryAttempts", [JSON.stringify(attempts)]);
    },

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

    async createDelivery(record: DeliveryRecord) {
      const [first, ...rest] = record.events;
      const reply = await onDelivery(record.id, "otpDeliveryCreate", [
        record.idempotencyFingerprint,
        String(record.retainUntilMs),
        JSON.stringify(
          first ?? { status: "queued", atMs: record.createdAtMs, reason: "", attempt: 0 },
        ),
        "channel",
        record.channel,
        "recipient_masked",
        record.recipientMasked,
        "tenant",
        record.tenantId ?? "",
        "challenge_id",
        record.challengeId,
        "created_at",
        String(record.createdAtMs),
        "delete_at",
        String(record.deleteAtMs),
        "provider_id",
        codec.sealProviderId(record.id, record.providerMessageId),
        "idem_fp",
        record.idempotencyFingerprint,
        "retain_until",
        String(record.retainUntilMs),
      ]);
      if (reply[0] === "created") {
        for (const event of rest) await this.appendDeliveryEvent(record.id, event);
        return { kind: "created" };
      }
      if (reply[0] === "replay") {
        const existing = await this.getDelivery(record.id, record.createdAtMs);
        if (existing !== undefined) return { kind: "replay", record: existing };
      }
      return { kind: "conflict" };
    },

    async getDelivery(id: string, nowMs: number) {
      const [key, eventsKey] = deliveryKeys(id) as [string, string];
      const client = deliveryClient(id);
      let fields: Record<string, string>;
      let events: string[];
      try {
        [fields, events] = await Promise.all([
          client.hgetall(key),
          client.lrange(eventsKey, 0, -1),
        ]);
      } catch (err) {
        throw unavailable(err);
      }
      if (Object.keys(fields).length === 0) return undefined;
      const record: DeliveryRecord = {
        id,
        channel: (fields.channel ?? "outbox") as DeliveryRecord["channel"],
        ...(fields.tenant ? { tenantId: fields.tenant } : {}),
        recipientMasked: fields.recipient_masked ?? "",
        challengeId: fields.challenge_id ?? "",
        createdAtMs: Number(fields.created_at ?? "0"),
        deleteAtMs: Number(fields.delete_at ?? "0"),
        providerMessageId: codec.openProviderId(id, fields.provider_id ?? ""),
        idempotencyFingerprint: fields.idem_fp ?? "",
        retainUntilMs: Number(fields.retain_until ?? "0"),
        events: events.map((e) => JSON.parse(e)),
      };
      return nowMs >= record.retainUntilMs ? undefined : record;
    },

    async appendDeliveryEvent(id, event, providerMessageId, deleteAtMs) {
      const [channel, retainUntil] = await onDelivery(id, "otpDeliveryEvent", [
        JSON.stringify(event),
        codec.sealProviderId(id, providerMessageId ?? ""),
        deleteAtMs === undefined || deleteAtMs <= 0 ? "" : String(Math.floor(deleteAtMs)),
      ]);
      if (channel === undefined) return false;
      if (providerMessageId !== undefined && providerMessageId !== "") {
        // A Telegram message id names its chat: the key carries a keyed hash of it.
        const indexKey = providerIndexKeys(channel, providerMessageId)[0] as string;
        try {
          await topology.forKey(indexKey).set(indexKey, id, "PXAT", Number(retainUntil));
        } catch (err) {
          throw unavailable(err);
        }
      }
      return true;
    },

    async findDeliveryByProviderId(channel, providerMessageId) {
      try {
        for (const indexKey of providerIndexKeys(channel, providerMessageId)) {
          const id = await topology.forKey(indexKey).get(indexKey);
          if (id !== null) return id;
        }
        return undefined;
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

    async createTotpFactor(record: TotpFactorRecord) {
      const [key] = factorKeys(record.id);
      await run(factorClient(record.id), "otpTotpCreate", key as string, [
        String(record.retainUntilMs),
        "account_name",
        record.accountName,
        "tenant",
        record.tenantId ?? "",
        "issuer",
        record.issuer,
        "sealed_secret",
        record.sealedSecret,
        "state",
        record.state,
        "created_at",
        String(record.createdAtMs),
        "last_used_step",
        String(record.lastUsedStep),
        "failures",
        String(record.failures),
        "locked_until",
        String(record.lockedUntilMs),
        "retain_until",
        String(record.retainUntilMs),
      ]);
    },

    async getTotpFactor(id: string, nowMs: number) {
      const [key, recoveryKey] = factorKeys(id) as [string, string];
      const client = factorClient(id);
      let fields: Record<string, string>;
      let recovery: string[];
      try {
        [fields, recovery] = await Promise.all([client.hgetall(key), client.smembers(recoveryKey)]);
      } catch (err) {
        throw unavailable(err);
      }
      if (Object.keys(fields).length === 0) return undefined;
      const num = (name: string) => Number(fields[name] ?? "0");
      const record: TotpFactorRecord = {
        id,
        ...(fields.tenant ? { tenantId: fields.tenant } : {}),
        accountName: fields.account_name ?? "",
        issuer: fields.issuer ?? "",
        sealedSecret: fields.sealed_secret ?? "",
        state: fields.state === "confirmed" ? "confirmed" : "pending",
        createdAtMs: num("created_at"),
        lastUsedStep: num("last_used_step"),
        failures: num("failures"),
        lockedUntilMs: num("locked_until"),
        recoveryHashes: recovery,
        retainUntilMs: num("retain_until"),
      };
      return nowMs >= record.retainUntilMs ? undefined : record;
    },

    async useTotpStep(id, input) {
      const reply = await onFactor(id, "otpTotpUseStep", [
        String(input.nowMs),
        String(input.step),
        input.requireState,
        String(input.retainUntilMs),
        ...(input.recoveryHashes ?? []),
      ]);
      switch (reply[0]) {
        case "ok": {
          const record = await this.getTotpFactor(id, input.nowMs);
          return record === undefined ? { kind: "not_found" } : { kind: "ok", record };
        }
        case "locked":
          return { kind: "locked", lockedUntilMs: Number(reply[1]) };
        case "wrong_state":
          return { kind: "wrong_state", state: reply[1] === "confirmed" ? "confirmed" : "pending" };
        case "replayed":
          return { kind: "replayed" };
        default:
          return { kind: "not_found" };
      }
    },

    async recordTotpFailure(id, input) {
      const [key] = factorKeys(id);
      const reply = await run(factorClient(id), "otpTotpFailure", key as string, [
        String(input.nowMs),
        String(input.maxFailures),
        String(input.nowMs + input.lockoutMs),
      ]);
      switch (reply[0]) {
        case "counted":
          return { kind: "counted", remaining: Number(reply[1]), lockedUntilMs: Number(reply[2]) };
        case "locked":
          return { kind: "locked", lockedUntilMs: Number(reply[1]) };
        default:
          return { kind: "not_found" };
      }
    },

    async useTotpRecoveryCode(id, input) {
      const reply = await onFactor(id, "otpTotpRecovery", [
        String(input.nowMs),
        String(input.retainUntilMs),
        ...input.candidateHashes,
      ]);
      switch (reply[0]) {
        case "ok":
          return { kind: "ok", remaining: Number(reply[1]) };
        case "invalid":
          return { kind: "invalid" };
        case "locked":
          return { kind: "locked", lockedUntilMs: Number(reply[1]) };
        case "wrong_state":
          return { kind: "wrong_state", state: reply[1] === "confirmed" ? "confirmed" : "pending" };
        default:
          return { kind: "not_found" };
      }
    },

    async deleteTotpFactor(id: string) {
      try {
        return (await factorClient(id).del(...factorKeys(id))) > 0;
      } catch (err) {
        throw unavailable(err);
      }
    },

    async appendOutbox(entry: OutboxEntry, retentionMs: number) {
      // Each entry carries its own expiry, checked on read; the list expires with its newest entry.
      await run(topology.forKey(outboxKey), "otpAppendOutbox", outboxKey, [
        JSON.stringify(codec.sealOutbox(entry, entry.createdAtMs + retentionMs)),
        String(maxOutbox),
        String(retentionMs),
      ]);
    },

    async listOutbox(filter: OutboxFilter, nowMs: number) {
      let raw: string[];
      try {
        raw = await topology.forKey(outboxKey).lrange(outboxKey, 0, maxOutbox - 1);
      } catch (err) {
        throw unavailable(err);
      }
      const found: OutboxEntry[] = [];
      const recipientHashes =
        filter.recipient === undefined
          ? undefined
          : new Set(vault.indexes("outbox-recipient", filter.recipient));
      for (const line of raw) {
        const stored = JSON.parse(line) as StoredOutboxEntry;
        if (filter.tenantId !== undefined && (stored.tenantId ?? "default") !== filter.tenantId)
          continue;
        if (recipientHashes !== undefined && !recipientHashes.has(stored.recipientHash ?? ""))
          continue;
        if (filter.challengeId !== undefined && stored.challengeId !== filter.challengeId) continue;
        if (stored.untilMs !== undefined && nowMs >= stored.untilMs) continue;
        const entry = codec.openOutbox(stored);
        if (entry === undefined) continue; // sealed under a secret no longer configured
        found.push(entry);
        if (found.length >= filter.limit) break;
      }
      return found;
    },

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

const scripts = {
  otpCreate: createScript,
  otpVerify: verifyScript,
  otpCancel: cancelScript,
  otpReplaceCode: replaceCodeScript,
  otpSetDeliveryAttempts: setDeliveryAttemptsScript,
  otpAppendOutbox: appendOutboxScript,
  otpTotpCreate: totpCreateScript,
  otpTotpUseStep: totpUseStepScript,
  otpTotpFailure: totpFailureScript,
  otpTotpRecovery: totpRecoveryScript,
  otpDeliveryCreate: deliveryCreateScript,
  otpDeliveryEvent: deliveryEventScript,
  otpLimit: limitScript,
  otpRefund: refundScript,
} as const;
type ScriptName = keyof typeof scripts;

// ioredis sends each script by SHA and falls back to EVAL when Redis lacks it.
// Scripts that touch a factor and its recovery set take two keys; the rest one.
const twoKeyScripts = new Set<ScriptName>([
  "otpTotpUseStep",
  "otpTotpRecovery",
  "otpDeliveryCreate",
  "otpDeliveryEvent",
]);

// The hot path's scripts take the challenge, then the counters charged with it.
const variableKeyScripts = new Set<ScriptName>(["otpCreate", "otpVerify"]);

function defineScripts(client: RedisClient): void {
  for (const [name, lua] of Object.entries(scripts)) {
    const script = name as ScriptName;
    client.defineCommand(
      name,
      variableKeyScripts.has(script)
        ? { lua }
        : { numberOfKeys: twoKeyScripts.has(script) ? 2 : 1, lua },
    );
  }
}

function callScript(
  client: RedisClient,
  name: ScriptName,
  keys: string | string[],
  args: string[],
): Promise<unknown> {
  const command = (client as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[name];
  if (command === undefined) throw new Error(`script ${name} is not defined`);
  const keyList = typeof keys === "string" ? [keys] : keys;
  // A script without a fixed key count takes the count first.
  if (variableKeyScripts.has(name)) {
    return command.call(client, String(keyList.length), ...keyList, ...args);
  }
  return command.call(client, ...keyList, ...args);
}

function unavailable(err: unknown): OtpError {
  if (err instanceof OtpError) return err;
  return new StoreUnavailableError({ cause: err, unreachable: isUnreachableError(err) });
}

/**
 * Puts a challenge id's hash tag into a counter's key, so that in a Cluster
 * the counter shares the challenge's slot: `default:<uuid>` becomes
 * `default:{<uuid>}`, and a key without the id gets the tag appended.
 */
function tagChallenge(key: string, id: string): string {
  return key.endsWith(id) ? `${key.slice(0, -id.length)}{${id}}` : `${key}:{${id}}`;
}

function toFields(record: ChallengeRecord, codec: RecipientCodec): string[] {
  return [
    "code_hmac",
    record.codeHmac,
    "binding_hash",
    record.bindingHash,
    "alphabet",
    record.alphabet,
    "code_length",
    String(record.codeLength),
    "ttl",
    String(record.ttlSeconds),
    "max_attempts",
    String(record.maxAttempts),
    "attempts",
    String(record.attempts),
    "state",
    record.state,
    "created_at",
    String(record.createdAtMs),
    "expires_at",
    String(record.expiresAtMs),
    "verified_at",
    String(record.verifiedAtMs),
    "sends",
    String(record.sends),
    "last_sent_at",
    String(record.lastSentAtMs),
    "retain_until",
    String(record.retainUntilMs),
    "targets",
    codec.sealTargets(record.id, record.targets),
    "delivery_attempts",
    JSON.stringify(record.deliveryAttempts),
    "tenant",
    record.tenantId ?? "",
    "idem_fp",
    record.idempotencyFingerprint,
    "locale",
    record.locale ?? "",
  ];
}

function fromFields(id: string, flat: string[], codec: RecipientCodec): ChallengeRecord {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return recordFrom(id, fields, codec);
}

function recordFrom(id: string, f: Record<string, string>, codec: RecipientCodec): ChallengeRecord {
  const num = (name: string) => Number(f[name] ?? "0");
  return {
    id,
    codeHmac: f.code_hmac ?? "",
    bindingHash: f.binding_hash ?? "",
    alphabet: (f.alphabet ?? "numeric") as AlphabetName,
    codeLength: num("code_length"),
    ttlSeconds: num("ttl"),
    maxAttempts: num("max_attempts"),
    attempts: num("attempts"),
    state: (f.state ?? "pending") as ChallengeRecord["state"],
    createdAtMs: num("created_at"),
    expiresAtMs: num("expires_at"),
    verifiedAtMs: num("verified_at"),
    sends: num("sends"),
    lastSentAtMs: num("last_sent_at"),
    retainUntilMs: num("retain_until"),
    targets: codec.openTargets(id, f.targets ?? "[]"),
    deliveryAttempts: JSON.parse(f.delivery_attempts ?? "[]"),
    idempotencyFingerprint: f.idem_fp ?? "",
    ...(f.tenant ? { tenantId: f.tenant } : {}),
    ...(f.locale === undefined || f.locale === "" ? {} : { locale: f.locale }),
  };
}

/** An outbox entry as the list holds it: what filters need in the open, the rest sealed. */
interface StoredOutboxEntry {
  id: string;
  tenantId?: string;
  channel: OutboxEntry["channel"];
  challengeId: string;
  createdAtMs: number;
  untilMs?: number;
  /** A keyed hash of the recipient, for ListOutbox's filter. */
  recipientHash?: string;
  /** The recipient and the text, sealed (bound to the entry's id). */
  sealed?: string;
  /** The recipient and text of an entry written before sealing. */
  recipient?: string;
  text?: string;
}

/** How the Redis store turns recipients into stored values and back. */
interface RecipientCodec {
  sealTargets(challengeId: string, targets: ChallengeRecord["targets"]): string;
  openTargets(challengeId: string, stored: string): ChallengeRecord["targets"];
  sealProviderId(deliveryId: string, providerMessageId: string): string;
  openProviderId(deliveryId: string, stored: string): string;
  sealOutbox(entry: OutboxEntry, untilMs: number): StoredOutboxEntry;
  openOutbox(stored: StoredOutboxEntry): OutboxEntry | undefined;
}

// Values written before sealing (plain JSON, a plain provider id) are still read.
function createRecipientCodec(vault: RecipientVault): RecipientCodec {
  return {
    sealTargets: (challengeId, targets) =>
      targets.length === 0
        ? "[]"
        : vault.seal(JSON.stringify(targets), `challenge-targets:${challengeId}`),
    openTargets: (challengeId, stored) =>
      JSON.parse(
        isSealed(stored) ? vault.open(stored, `challenge-targets:${challengeId}`) : stored,
      ),
    // A Telegram provider id is "<chat id>:<message id>".
    sealProviderId: (deliveryId, providerMessageId) =>
      providerMessageId === ""
        ? ""
        : vault.seal(providerMessageId, `delivery-provider:${deliveryId}`),
    openProviderId: (deliveryId, stored) =>
      isSealed(stored) ? vault.open(stored, `delivery-provider:${deliveryId}`) : stored,
    sealOutbox: (entry, untilMs) => ({
      id: entry.id,
      ...(entry.tenantId === undefined ? {} : { tenantId: entry.tenantId }),
      channel: entry.channel,
      challengeId: entry.challengeId,
      createdAtMs: entry.createdAtMs,
      untilMs,
      recipientHash: vault.index("outbox-recipient", entry.recipient),
      sealed: vault.seal(
        JSON.stringify({ recipient: entry.recipient, text: entry.text }),
        `outbox:${entry.id}`,
      ),
    }),
    openOutbox(stored) {
      let content: { recipient: string; text: string };
      if (stored.sealed === undefined) {
        content = { recipient: stored.recipient ?? "", text: stored.text ?? "" };
      } else {
        try {
          content = JSON.parse(vault.open(stored.sealed, `outbox:${stored.id}`));
        } catch {
          return undefined;
        }
      }
      return {
        id: stored.id,
        ...(stored.tenantId === undefined ? {} : { tenantId: stored.tenantId }),
        channel: stored.channel,
        recipient: content.recipient,
        text: content.text,
        challengeId: stored.challengeId,
        createdAtMs: stored.createdAtMs,
      };
    },
  };
}
