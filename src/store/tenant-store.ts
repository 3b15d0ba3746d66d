// Over 300 lines because: the store's every method is listed here, each
// with the tenant rule it follows, so that a new store method cannot slip
// past the tenant check without being written here first. It is one class,
// not a module per record kind, because a call gets one object whose
// prototype holds every method; split, it would take mixins or a copy of
// each part's methods per call.
import {
  knownOwned,
  rememberOwned,
  type TenantScope,
  takeDeferredUsage,
} from "../core/tenant-scope.js";
import type {
  DeliveryEventRecord,
  DeliveryRecord,
  OutboxEntry,
  OutboxFilter,
} from "../delivery/delivery-store.js";
import type {
  ChallengeRecord,
  CreateChallengeInput,
  CreateChallengeResult,
  DeliveryAttemptRecord,
  ReplaceCodeInput,
  ReplaceCodeResult,
  VerifyInput,
  VerifyStepResult,
} from "../otp/challenge-store.js";
import {
  type ConsumeOptions,
  chargesWithLimits,
  type LimitCharge,
  type RateLimit,
  type RateLimitResult,
  type UsageCharge,
} from "../tenancy/limit-store.js";
import type {
  TotpFactorRecord,
  TotpFailureResult,
  TotpRecoveryResult,
  TotpUseResult,
  UseTotpStepInput,
} from "../totp/totp-store.js";
import type { CallCharges, ChannelKind, Store } from "./store.js";

/** Records made before tenants existed, and anonymous development callers, belong here. */
const fallbackTenant = "default";

/** Options for {@link createTenantStore}. */
export interface TenantStoreOptions {
  /** Told when usage counted with a call's store step could not be written. */
  onUsageError?: (err: unknown) => void;
}

/** The store as each call sees it, and as background work sees it. */
export interface TenantStores {
  /** The store of background work (deletions, callbacks, timers): every record, nothing stamped. */
  readonly unscoped: Store;
  /**
   * The store of one call: new records stamped with its tenant, another
   * tenant's records missing. One small object per call; undefined gives
   * {@link unscoped}.
   */
  scoped(scope: TenantScope | undefined): Store;
}

/**
 * Scopes a store to the tenant of a call ({@link TenantScope}). New records
 * are stamped with that tenant; a record of another tenant reads as missing,
 * and a change to one is refused as if the id did not exist, so another
 * tenant's id answers `not_found` exactly as an unknown one does. Rate-limit
 * buckets get the tenant in their key. Background work (self-destruct
 * deletions, provider callbacks) has no scope and sees every record, as it must.
 *
 * @example
 * const stores = createTenantStore(createMemoryStore());
 * const store = stores.scoped(newTenantScope("ten_a"));
 */
export function createTenantStore(inner: Store, options: TenantStoreOptions = {}): TenantStores {
  const unscoped = new ScopedStore(inner, undefined, options);
  return {
    unscoped,
    scoped: (scope) => (scope === undefined ? unscoped : new ScopedStore(inner, scope, options)),
  };
}

/** The tenant a record belongs to; records from before tenants are the fallback's. */
const tenantOf = (record: { tenantId?: string }) => record.tenantId ?? fallbackTenant;

// One per call: its methods live on the prototype, so a call allocates the
// object and nothing else. Tenant ids stamped and passed on are the scope's.
class ScopedStore implements Store {
  readonly description: string;

  constructor(
    private readonly inner: Store,
    private readonly scope: TenantScope | undefined,
    private readonly options: TenantStoreOptions,
  ) {
    this.description = inner.description;
  }

  // The store and its usage counters are not a tenant's.
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  incrementUsage(tenantId: string, counter: string, atMs: number): Promise<void> {
    return this.inner.incrementUsage(tenantId, counter, atMs);
  }
  getUsage(tenantId: string, days: string[]) {
    return this.inner.getUsage(tenantId, days);
  }

  /** Rate-limit buckets are the tenant's own. */
  consume(
    bucket: string,
    key: string,
    limit: RateLimit,
    options?: ConsumeOptions,
  ): Promise<RateLimitResult> {
    return this.inner.consume(bucket, `${this.tenant}:${key}`, limit, options);
  }

  // ---- Challenges: stamped, read as missing across tenants, changed only by their tenant.

  async createChallenge(input: CreateChallengeInput): Promise<CreateChallengeResult> {
    const charges = this.charges(input.charges, input.record.createdAtMs);
    const scoped: CreateChallengeInput = { record: this.stamp(input.record) };
    if (charges !== undefined) scoped.charges = charges;
    if (input.recipientIndex !== undefined) scoped.recipientIndex = input.recipientIndex;
    const result = await this.inner.createChallenge(scoped);
    return this.created("challenge", input.record.id, result);
  }

  async getChallenge(id: string, nowMs: number): Promise<ChallengeRecord | undefined> {
    return this.read("challenge", id, await this.inner.getChallenge(id, nowMs));
  }

  /** Index keys carry the tenant (otp/recipient-index.ts), and Verify checks ownership again. */
  findByRecipient(indexKey: string, nowMs: number): Promise<string | undefined> {
    return this.inner.findByRecipient(indexKey, nowMs);
  }

  /** Ownership is checked inside the store's verify step: no read first. */
  verify(id: string, input: VerifyInput): Promise<VerifyStepResult | undefined> {
    const charges = this.charges(input.charges, input.nowMs);
    // One copy of the input, its charges replaced by the scoped ones (none
    // are made only when the input had none); field by field, not a spread,
    // so a field added to VerifyInput must be copied here too.
    const scoped: VerifyInput = {
      candidateHmacs: input.candidateHmacs,
      bindingHash: input.bindingHash,
      nowMs: input.nowMs,
    };
    if (input.candidatesByAlphabet !== undefined) {
      scoped.candidatesByAlphabet = input.candidatesByAlphabet;
    }
    if (input.tenantId !== undefined) scoped.tenantId = input.tenantId;
    if (charges !== undefined) scoped.charges = charges;
    if (this.scope !== undefined) scoped.tenantId = this.scope.tenantId;
    return this.inner.verify(id, scoped);
  }

  async cancel(id: string, nowMs: number): Promise<ChallengeRecord | undefined> {
    return (await this.ownsChallenge(id, nowMs)) ? this.inner.cancel(id, nowMs) : undefined;
  }

  async replaceCode(id: string, input: ReplaceCodeInput): Promise<ReplaceCodeResult> {
    return (await this.ownsChallenge(id, input.nowMs))
      ? this.inner.replaceCode(id, input)
      : { kind: "not_found" };
  }

  async setDeliveryAttempts(
    id: string,
    attempts: DeliveryAttemptRecord[],
    nowMs: number,
  ): Promise<void> {
    if (await this.ownsChallenge(id, nowMs)) {
      await this.inner.setDeliveryAttempts(id, attempts, nowMs);
    }
  }

  async claimFallback(id: string, gen: number, nowMs: number) {
    return (await this.ownsChallenge(id, nowMs))
      ? this.inner.claimFallback(id, gen, nowMs)
      : undefined;
  }

  // ---- Deliveries: stamped, read as missing across tenants; provider lookups stay global.

  async createDelivery(record: DeliveryRecord) {
    return this.created("delivery", record.id, await this.inner.createDelivery(this.stamp(record)));
  }

  async getDelivery(id: string, nowMs: number): Promise<DeliveryRecord | undefined> {
    return this.read("delivery", id, await this.inner.getDelivery(id, nowMs));
  }

  async appendDeliveryEvent(
    id: string,
    event: DeliveryEventRecord,
    providerMessageId?: string,
    deleteAtMs?: number,
  ): Promise<boolean> {
    const { scope } = this;
    if (
      scope !== undefined &&
      !knownOwned(scope, "delivery", id) &&
      !this.owns(await this.inner.getDelivery(id, event.atMs))
    ) {
      return false;
    }
    return this.inner.appendDeliveryEvent(
      id,
      event,
      providerMessageId,
      deleteAtMs,
      scope?.tenantId,
    );
  }

  findDeliveryByProviderId(channel: ChannelKind, providerMessageId: string) {
    return this.inner.findDeliveryByProviderId(channel, providerMessageId);
  }

  // ---- TOTP factors: stamped, read as missing across tenants, changed only by their tenant.

  async createTotpFactor(record: TotpFactorRecord): Promise<void> {
    await this.inner.createTotpFactor(this.stamp(record));
    rememberOwned(this.scope, "factor", record.id);
  }

  async getTotpFactor(id: string, nowMs: number): Promise<TotpFactorRecord | undefined> {
    return this.read("factor", id, await this.inner.getTotpFactor(id, nowMs));
  }

  async useTotpStep(id: string, input: UseTotpStepInput): Promise<TotpUseResult> {
    return (await this.ownsFactor(id, input.nowMs))
      ? this.inner.useTotpStep(id, input)
      : { kind: "not_found" };
  }

  async recordTotpFailure(
    id: string,
    input: { nowMs: number; maxFailures: number; lockoutMs: number },
  ): Promise<TotpFailureResult> {
    if (!(await this.ownsFactor(id, input.nowMs))) return { kind: "not_found" };
    return this.inner.recordTotpFailure(
      id,
      this.scope === undefined ? input : { ...input, tenantId: this.scope.tenantId },
    );
  }

  async useTotpRecoveryCode(
    id: string,
    input: { candidateHashes: string[]; nowMs: number; retainUntilMs: number },
  ): Promise<TotpRecoveryResult> {
    return (await this.ownsFactor(id, input.nowMs))
      ? this.inner.useTotpRecoveryCode(id, input)
      : { kind: "not_found" };
  }

  async deleteTotpFactor(id: string): Promise<boolean> {
    return (await this.ownsFactor(id, Date.now()))
      ? this.inner.deleteTotpFactor(id, this.scope?.tenantId)
      : false;
  }

  // ---- The outbox: entries stamped, and a call lists only its tenant's.

  appendOutbox(entry: OutboxEntry, retentionMs: number): Promise<void> {
    return this.inner.appendOutbox(this.stamp(entry), retentionMs);
  }

  listOutbox(filter: OutboxFilter, nowMs: number): Promise<OutboxEntry[]> {
    const { scope } = this;
    return this.inner.listOutbox(
      scope === undefined ? filter : { ...filter, tenantId: scope.tenantId },
      nowMs,
    );
  }

  // ---- The tenant rules.

  private get tenant(): string {
    return this.scope?.tenantId ?? fallbackTenant;
  }

  /** Whether the record exists and belongs to the call's tenant (any record outside a call). */
  private owns(record: { tenantId?: string } | undefined): boolean {
    return (
      record !== undefined && (this.scope === undefined || tenantOf(record) === this.scope.tenantId)
    );
  }

  /**
   * The record stamped with the call's tenant (unchanged outside a call, and
   * when the domain made it with the tenant already: no copy).
   */
  private stamp<T extends { tenantId?: string }>(record: T): T {
    const { scope } = this;
    return scope === undefined || record.tenantId === scope.tenantId
      ? record
      : { ...record, tenantId: scope.tenantId };
  }

  /** A record read: the call's tenant's (and remembered as such), or missing. */
  private read<T extends { tenantId?: string }>(kind: string, id: string, record: T | undefined) {
    if (!this.owns(record)) return undefined;
    rememberOwned(this.scope, kind, id);
    return record;
  }

  /**
   * What a create answered, as the call's tenant sees it: ids of idempotent
   * requests are derived per tenant, so a replay of another tenant's record
   * is a clash, answered as a conflict.
   */
  private created<R extends { kind: string; record?: { tenantId?: string } }>(
    kind: string,
    id: string,
    result: R,
  ): R | { kind: "conflict" } {
    if (result.kind === "replay" && !this.owns(result.record)) return { kind: "conflict" };
    if (result.kind !== "conflict") rememberOwned(this.scope, kind, id);
    return result;
  }

  // A change checks ownership with a read, unless this call has just read the record.
  private async ownsChallenge(id: string, nowMs: number): Promise<boolean> {
    return (
      knownOwned(this.scope, "challenge", id) || this.owns(await this.inner.getChallenge(id, nowMs))
    );
  }

  private async ownsFactor(id: string, nowMs: number): Promise<boolean> {
    return (
      knownOwned(this.scope, "factor", id) || this.owns(await this.inner.getTotpFactor(id, nowMs))
    );
  }

  /**
   * A call's limits count in its tenant's buckets, and the usage counters it
   * deferred (deferUsage) ride along with its one store step.
   */
  private charges(charges: CallCharges | undefined, atMs: number): CallCharges | undefined {
    const { scope } = this;
    const counters = takeDeferredUsage(scope);
    if (charges === undefined && counters.length === 0) return undefined;
    // Built field by field, without object spreads: a spread's copy was one
    // of the per-call objects that outlived the young generation (docs/hot-path.md).
    const prefix = `${this.tenant}:`;
    const limits: LimitCharge[] = [];
    for (const limit of charges?.limits ?? []) {
      const copy: LimitCharge = {
        bucket: limit.bucket,
        key: prefix + limit.key,
        limit: limit.limit,
      };
      if (limit.failOpen !== undefined) copy.failOpen = limit.failOpen;
      if (limit.withChallenge !== undefined) copy.withChallenge = limit.withChallenge;
      limits.push(copy);
    }
    const scoped = chargesWithLimits(charges, limits);
    if (scope !== undefined && counters.length > 0) {
      const usage: UsageCharge = { tenantId: scope.tenantId, counters, atMs };
      const onError = this.options.onUsageError;
      if (onError !== undefined) usage.onError = onError;
      scoped.usage = usage;
    }
    return scoped;
  }
}
