import { RateLimiterMemory } from "rate-limiter-flexible";
import { applyCancel, applyReplaceCode, applyVerify } from "../../otp/challenge-transitions.js";
import { applyTotpFailure, applyTotpRecovery, applyTotpStep } from "../../totp/totp-transitions.js";
import { consumeWith } from "../consume-with.js";
import type {
  CallCharges,
  ChallengeRecord,
  CreateChallengeInput,
  CreateChallengeResult,
  DeliveryAttemptRecord,
  DeliveryRecord,
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

const usageRetentionMs = 40 * 86_400_000;

/** Options for {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** The clock used to drop expired records; the service's clock by default. */
  now?: () => number;
  /** How often expired records are swept away, in milliseconds. */
  sweepIntervalMs?: number;
  /** The most outbox messages kept; older ones are dropped first. */
  maxOutboxEntries?: number;
}

/** The memory store, which can also tell how much it holds. */
export interface MemoryStore extends Store {
  /**
   * How many records it holds, of every kind (challenges, factors,
   * deliveries, provider ids, outbox messages, usage days): for tests and
   * diagnostics. Expired ones are swept every `sweepIntervalMs`.
   */
  recordCount(): number;
}

/**
 * The embedded default store: all state in this process, with the same
 * behaviour as the Redis store. Every method runs to completion without
 * awaiting, which is what makes each one atomic here.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const now = options.now ?? Date.now;
  const maxOutbox = options.maxOutboxEntries ?? 1000;
  const challenges = new Map<string, ChallengeRecord>();
  const factors = new Map<string, TotpFactorRecord>();
  const deliveries = new Map<string, DeliveryRecord>();
  const usage = new Map<string, Map<string, number>>();
  const providerIndex = new Map<string, { id: string; untilMs: number }>();
  const liveFactor = (id: string, nowMs: number): TotpFactorRecord | undefined => {
    const record = factors.get(id);
    if (record !== undefined && nowMs >= record.retainUntilMs) {
      factors.delete(id);
      return undefined;
    }
    return record;
  };
  let outbox: { entry: OutboxEntry; untilMs: number }[] = [];

  const live = (id: string, nowMs: number): ChallengeRecord | undefined => {
    const record = challenges.get(id);
    if (record === undefined) return undefined;
    if (nowMs >= record.retainUntilMs) {
      challenges.delete(id);
      return undefined;
    }
    return record;
  };

  const sweep = () => {
    const nowMs = now();
    for (const [id, record] of challenges) if (nowMs >= record.retainUntilMs) challenges.delete(id);
    for (const [id, record] of factors) if (nowMs >= record.retainUntilMs) factors.delete(id);
    for (const [id, record] of deliveries) if (nowMs >= record.retainUntilMs) deliveries.delete(id);
    for (const [key, entry] of providerIndex) if (nowMs >= entry.untilMs) providerIndex.delete(key);
    outbox = outbox.filter((o) => nowMs < o.untilMs);
    // Usage days are kept 40 days, as Redis keeps them.
    const oldest = new Date(nowMs - usageRetentionMs).toISOString().slice(0, 10);
    for (const key of usage.keys()) if ((key.split("\0")[1] ?? "") < oldest) usage.delete(key);
  };
  const timer = setInterval(sweep, options.sweepIntervalMs ?? 30_000);
  timer.unref();

  const limiters = new Map<string, RateLimiterMemory>();
  const limiterFor = (bucket: string, limit: RateLimit) => {
    const name = `${bucket}:${limit.points}/${limit.windowMs}`;
    let limiter = limiters.get(name);
    if (limiter === undefined) {
      limiter = new RateLimiterMemory({
        keyPrefix: bucket,
        points: limit.points,
        duration: limit.windowMs / 1000,
      });
      limiters.set(name, limiter);
    }
    return limiter;
  };

  const addUsage = (tenantId: string, counter: string, atMs: number) => {
    const key = `${tenantId}\0${new Date(atMs).toISOString().slice(0, 10)}`;
    const day = usage.get(key) ?? new Map<string, number>();
    day.set(counter, (day.get(counter) ?? 0) + 1);
    usage.set(key, day);
  };

  // Usage first (a refused call is still a call), then each limit in order;
  // the first one over its limit refuses, and the ones after it are not charged.
  const charge = async (charges: CallCharges | undefined): Promise<LimitRefusal | undefined> => {
    if (charges === undefined) return undefined;
    const { usage: counted } = charges;
    if (counted !== undefined) {
      for (const counter of counted.counters) addUsage(counted.tenantId, counter, counted.atMs);
    }
    for (const limit of charges.limits) {
      const result = await consumeWith(limiterFor(limit.bucket, limit.limit), limit.key);
      if (!result.allowed) return { bucket: limit.bucket, retryAfterMs: result.retryAfterMs };
    }
    return undefined;
  };
  const ownedBy = (record: ChallengeRecord, tenantId: string | undefined) =>
    tenantId === undefined || (record.tenantId ?? "default") === tenantId;

  // Records handed out are copies, so callers cannot change stored state by accident.
  const copy = (record: ChallengeRecord): ChallengeRecord => structuredClone(record);

  return {
    description: "memory (in-process, not shared, lost on restart)",

    async createChallenge(input: CreateChallengeInput): Promise<CreateChallengeResult> {
      const { record } = input;
      const refusal = await charge(input.charges);
      if (refusal !== undefined) return { kind: "refused", refusal };
      const existing = live(record.id, record.createdAtMs);
      if (existing !== undefined) {
        const same =
          existing.idempotencyFingerprint !== "" &&
          existing.idempotencyFingerprint === record.idempotencyFingerprint;
        return same ? { kind: "replay", record: copy(existing) } : { kind: "conflict" };
      }
      challenges.set(record.id, copy(record));
      return { kind: "created" };
    },

    async getChallenge(id: string, nowMs: number) {
      const record = live(id, nowMs);
      return record === undefined ? undefined : copy(record);
    },

    async verify(id: string, input: VerifyInput) {
      const refused = await charge(input.charges);
      if (refused !== undefined) return { refused };
      const record = live(id, input.nowMs);
      if (record === undefined || !ownedBy(record, input.tenantId)) return undefined;
      const result: { outcome: VerifyOutcome; record: ChallengeRecord } = applyVerify(
        record,
        input,
      );
      challenges.set(id, result.record);
      return { outcome: result.outcome, record: copy(result.record) };
    },

    async cancel(id: string, nowMs: number) {
      const record = live(id, nowMs);
      if (record === undefined) return undefined;
      const next = applyCancel(record, nowMs);
      challenges.set(id, next);
      return copy(next);
    },

    async replaceCode(id: string, input: ReplaceCodeInput): Promise<ReplaceCodeResult> {
      const record = live(id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const result = applyReplaceCode(record, input);
      if (result.kind === "replaced") {
        challenges.set(id, result.record);
        return { kind: "replaced", record: copy(result.record) };
      }
      return result;
    },

    async setDeliveryAttempts(id: string, attempts: DeliveryAttemptRecord[], nowMs: number) {
      const record = live(id, nowMs);
      if (record !== undefined) challenges.set(id, { ...record, deliveryAttempts: [...attempts] });
    },

    async consume(bucket: string, key: string, limit: RateLimit): Promise<RateLimitResult> {
      return consumeWith(limiterFor(bucket, limit), key);
    },

    async createDelivery(record) {
      const existing = deliveries.get(record.id);
      if (existing !== undefined && now() < existing.retainUntilMs) {
        const same =
          existing.idempotencyFingerprint !== "" &&
          existing.idempotencyFingerprint === record.idempotencyFingerprint;
        return same ? { kind: "replay", record: structuredClone(existing) } : { kind: "conflict" };
      }
      deliveries.set(record.id, structuredClone(record));
      return { kind: "created" };
    },

    async getDelivery(id, nowMs) {
      const record = deliveries.get(id);
      if (record === undefined || nowMs >= record.retainUntilMs) return undefined;
      return structuredClone(record);
    },

    async appendDeliveryEvent(id, event, providerMessageId, deleteAtMs) {
      const record = deliveries.get(id);
      if (record === undefined) return false;
      record.events.push({ ...event });
      if (deleteAtMs !== undefined && deleteAtMs > 0) record.deleteAtMs = Math.floor(deleteAtMs);
      if (providerMessageId !== undefined && providerMessageId !== "") {
        record.providerMessageId = providerMessageId;
        providerIndex.set(`${record.channel}:${providerMessageId}`, {
          id,
          untilMs: record.retainUntilMs,
        });
      }
      return true;
    },

    async findDeliveryByProviderId(channel, providerMessageId) {
      const entry = providerIndex.get(`${channel}:${providerMessageId}`);
      return entry === undefined || now() >= entry.untilMs ? undefined : entry.id;
    },

    async incrementUsage(tenantId, counter, atMs) {
      addUsage(tenantId, counter, atMs);
    },

    async getUsage(tenantId, days) {
      return Object.fromEntries(
        days.map((d) => [d, Object.fromEntries(usage.get(`${tenantId}\0${d}`) ?? [])]),
      );
    },

    async createTotpFactor(record) {
      factors.set(record.id, structuredClone(record));
    },

    async getTotpFactor(id, nowMs) {
      const record = liveFactor(id, nowMs);
      return record === undefined ? undefined : structuredClone(record);
    },

    async useTotpStep(id, input) {
      const record = liveFactor(id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const applied = applyTotpStep(record, input);
      factors.set(id, applied.record);
      return applied.result.kind === "ok"
        ? { kind: "ok", record: structuredClone(applied.record) }
        : applied.result;
    },

    async recordTotpFailure(id, input) {
      const record = liveFactor(id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const applied = applyTotpFailure(record, input);
      factors.set(id, applied.record);
      return applied.result;
    },

    async useTotpRecoveryCode(id, input) {
      const record = liveFactor(id, input.nowMs);
      if (record === undefined) return { kind: "not_found" };
      const applied = applyTotpRecovery(record, input);
      factors.set(id, applied.record);
      return applied.result;
    },

    async deleteTotpFactor(id) {
      return factors.delete(id);
    },

    async appendOutbox(entry: OutboxEntry, retentionMs: number) {
      outbox.push({ entry: { ...entry }, untilMs: entry.createdAtMs + retentionMs });
      if (outbox.length > maxOutbox) outbox = outbox.slice(outbox.length - maxOutbox);
    },

    async listOutbox(filter: OutboxFilter, nowMs: number) {
      const found: OutboxEntry[] = [];
      for (let i = outbox.length - 1; i >= 0 && found.length < filter.limit; i--) {
        const item = outbox[i];
        if (item === undefined || nowMs >= item.untilMs) continue;
        const { entry } = item;
        if (filter.tenantId !== undefined && (entry.tenantId ?? "default") !== filter.tenantId)
          continue;
        if (filter.recipient !== undefined && entry.recipient !== filter.recipient) continue;
        if (filter.challengeId !== undefined && entry.challengeId !== filter.challengeId) continue;
        found.push({ ...entry });
      }
      return found;
    },

    recordCount: () =>
      challenges.size +
      factors.size +
      deliveries.size +
      providerIndex.size +
      outbox.length +
      usage.size,

    async ping() {},

    async close() {
      clearInterval(timer);
    },
  };
}
