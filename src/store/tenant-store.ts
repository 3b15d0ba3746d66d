import {
  currentTenant,
  knownOwned,
  rememberOwned,
  takeDeferredUsage,
} from "../core/tenant-scope.js";
import type { DeliveryStore, OutboxStore } from "../delivery/delivery-store.js";
import type { ChallengeStore } from "../otp/challenge-store.js";
import type { TotpStore } from "../totp/totp-store.js";
import type { CallCharges, Store } from "./store.js";

/** Records made before tenants existed, and anonymous development callers, belong here. */
const fallbackTenant = "default";

/** Options for {@link createTenantStore}. */
export interface TenantStoreOptions {
  /** Told when usage counted with a call's store step could not be written. */
  onUsageError?: (err: unknown) => void;
}

/**
 * Scopes a store to the tenant of the call in progress ({@link currentTenant}).
 * New records are stamped with that tenant; a record of another tenant reads
 * as missing, and a change to one is refused as if the id did not exist, so
 * another tenant's id answers `not_found` exactly as an unknown one does.
 * Rate-limit buckets get the tenant in their key. Background work
 * (self-destruct deletions, provider callbacks) runs outside any call and
 * sees every record, as it must.
 *
 * @example
 * const store = createTenantStore(createMemoryStore());
 */
export function createTenantStore(inner: Store, options: TenantStoreOptions = {}): Store {
  return {
    ...inner,
    description: inner.description,
    ...tenantChallenges(inner, options),
    consume(bucket, key, limit, consumeOptions) {
      return inner.consume(
        bucket,
        `${currentTenant() ?? fallbackTenant}:${key}`,
        limit,
        consumeOptions,
      );
    },
    ...tenantDeliveries(inner),
    ...tenantTotpFactors(inner),
    ...tenantOutbox(inner),
  };
}

/** Whether the record exists and belongs to the call's tenant (any record outside a call). */
function owns(record: { tenantId?: string } | undefined): boolean {
  const tenant = currentTenant();
  return (
    record !== undefined && (tenant === undefined || (record.tenantId ?? fallbackTenant) === tenant)
  );
}

/** The record stamped with the call's tenant (unchanged outside a call). */
function stamp<T extends { tenantId?: string }>(record: T): T {
  const tenant = currentTenant();
  return tenant === undefined ? record : { ...record, tenantId: tenant };
}

/**
 * A call's limits count in its tenant's buckets, and the usage counters it
 * deferred (deferUsage) ride along with its one store step.
 */
function scopeCharges(
  charges: CallCharges | undefined,
  atMs: number,
  options: TenantStoreOptions,
): CallCharges | undefined {
  const tenant = currentTenant();
  const counters = takeDeferredUsage();
  if (charges === undefined && counters.length === 0) return undefined;
  const prefix = `${tenant ?? fallbackTenant}:`;
  return {
    ...charges,
    limits: (charges?.limits ?? []).map((l) => ({ ...l, key: prefix + l.key })),
    ...(tenant === undefined || counters.length === 0
      ? {}
      : {
          usage: {
            tenantId: tenant,
            counters,
            atMs,
            ...(options.onUsageError === undefined ? {} : { onError: options.onUsageError }),
          },
        }),
  };
}

/** Challenges: stamped, read as missing across tenants, changed only by their tenant. */
function tenantChallenges(inner: Store, options: TenantStoreOptions): ChallengeStore {
  // A change checks ownership with a read, unless this call has just read the record.
  const ownedChallenge = async (id: string, nowMs: number) =>
    knownOwned("challenge", id) || owns(await inner.getChallenge(id, nowMs));
  return {
    async createChallenge(input) {
      const charges = scopeCharges(input.charges, input.record.createdAtMs, options);
      const result = await inner.createChallenge({
        record: stamp(input.record),
        ...(charges === undefined ? {} : { charges }),
        ...(input.recipientIndex === undefined ? {} : { recipientIndex: input.recipientIndex }),
      });
      // Ids of idempotent requests are derived per tenant, so a clash here is the caller's own.
      if (result.kind === "replay" && !owns(result.record)) return { kind: "conflict" };
      if (result.kind !== "conflict") rememberOwned("challenge", input.record.id);
      return result;
    },
    async getChallenge(id, nowMs) {
      const record = await inner.getChallenge(id, nowMs);
      if (!owns(record)) return undefined;
      rememberOwned("challenge", id);
      return record;
    },
    // Index keys carry the tenant (otp/recipient-index.ts), and Verify checks ownership again.
    findByRecipient: (indexKey, nowMs) => inner.findByRecipient(indexKey, nowMs),
    // Ownership is checked inside the store's verify step: no read first.
    async verify(id, input) {
      const tenant = currentTenant();
      const charges = scopeCharges(input.charges, input.nowMs, options);
      const { charges: _unscoped, ...rest } = input;
      return inner.verify(id, {
        ...rest,
        ...(tenant === undefined ? {} : { tenantId: tenant }),
        ...(charges === undefined ? {} : { charges }),
      });
    },
    async cancel(id, nowMs) {
      return (await ownedChallenge(id, nowMs)) ? inner.cancel(id, nowMs) : undefined;
    },
    async replaceCode(id, input) {
      return (await ownedChallenge(id, input.nowMs))
        ? inner.replaceCode(id, input)
        : { kind: "not_found" };
    },
    async setDeliveryAttempts(id, attempts, nowMs) {
      if (await ownedChallenge(id, nowMs)) await inner.setDeliveryAttempts(id, attempts, nowMs);
    },
    async claimFallback(id, gen, nowMs) {
      return (await ownedChallenge(id, nowMs)) ? inner.claimFallback(id, gen, nowMs) : undefined;
    },
  };
}

/** Deliveries: stamped, read as missing across tenants; provider lookups stay global. */
function tenantDeliveries(inner: Store): Omit<DeliveryStore, "findDeliveryByProviderId"> {
  return {
    async createDelivery(record) {
      const result = await inner.createDelivery(stamp(record));
      if (result.kind === "replay" && !owns(result.record)) return { kind: "conflict" };
      if (result.kind !== "conflict") rememberOwned("delivery", record.id);
      return result;
    },
    async getDelivery(id, nowMs) {
      const record = await inner.getDelivery(id, nowMs);
      if (!owns(record)) return undefined;
      rememberOwned("delivery", id);
      return record;
    },
    async appendDeliveryEvent(id, event, providerMessageId, deleteAtMs) {
      if (
        currentTenant() !== undefined &&
        !knownOwned("delivery", id) &&
        !owns(await inner.getDelivery(id, event.atMs))
      ) {
        return false;
      }
      return inner.appendDeliveryEvent(id, event, providerMessageId, deleteAtMs);
    },
  };
}

/** TOTP factors: stamped, read as missing across tenants, changed only by their tenant. */
function tenantTotpFactors(inner: Store): TotpStore {
  const ownedFactor = async (id: string, nowMs: number) =>
    knownOwned("factor", id) || owns(await inner.getTotpFactor(id, nowMs));
  return {
    async createTotpFactor(record) {
      await inner.createTotpFactor(stamp(record));
      rememberOwned("factor", record.id);
    },
    async getTotpFactor(id, nowMs) {
      const record = await inner.getTotpFactor(id, nowMs);
      if (!owns(record)) return undefined;
      rememberOwned("factor", id);
      return record;
    },
    async useTotpStep(id, input) {
      return (await ownedFactor(id, input.nowMs))
        ? inner.useTotpStep(id, input)
        : { kind: "not_found" };
    },
    async recordTotpFailure(id, input) {
      return (await ownedFactor(id, input.nowMs))
        ? inner.recordTotpFailure(id, input)
        : { kind: "not_found" };
    },
    async useTotpRecoveryCode(id, input) {
      return (await ownedFactor(id, input.nowMs))
        ? inner.useTotpRecoveryCode(id, input)
        : { kind: "not_found" };
    },
    async deleteTotpFactor(id) {
      return (await ownedFactor(id, Date.now())) ? inner.deleteTotpFactor(id) : false;
    },
  };
}

/** The outbox: entries stamped, and a call lists only its tenant's. */
function tenantOutbox(inner: Store): OutboxStore {
  return {
    appendOutbox(entry, retentionMs) {
      return inner.appendOutbox(stamp(entry), retentionMs);
    },
    listOutbox(filter, nowMs) {
      const tenant = currentTenant();
      return inner.listOutbox(
        tenant === undefined ? filter : { ...filter, tenantId: tenant },
        nowMs,
      );
    },
  };
}
