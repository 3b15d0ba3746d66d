import { currentTenant, knownOwned, rememberOwned } from "../core/tenant-scope.js";
import type { Store } from "./store.js";

/** Records made before tenants existed, and anonymous development callers, belong here. */
const fallbackTenant = "default";

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
export function createTenantStore(inner: Store): Store {
  const owns = (record: { tenantId?: string } | undefined): boolean => {
    const tenant = currentTenant();
    return (
      record !== undefined &&
      (tenant === undefined || (record.tenantId ?? fallbackTenant) === tenant)
    );
  };
  const stamp = <T extends { tenantId?: string }>(record: T): T => {
    const tenant = currentTenant();
    return tenant === undefined ? record : { ...record, tenantId: tenant };
  };
  // A change checks ownership with a read, unless this call has just read the record.
  const ownedChallenge = async (id: string, nowMs: number) =>
    knownOwned("challenge", id) || owns(await inner.getChallenge(id, nowMs));
  const ownedFactor = async (id: string, nowMs: number) =>
    knownOwned("factor", id) || owns(await inner.getTotpFactor(id, nowMs));

  return {
    ...inner,
    description: inner.description,

    async createChallenge(input) {
      const result = await inner.createChallenge({ record: stamp(input.record) });
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
    async verify(id, input) {
      return (await ownedChallenge(id, input.nowMs)) ? inner.verify(id, input) : undefined;
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

    consume(bucket, key, limit, options) {
      return inner.consume(bucket, `${currentTenant() ?? fallbackTenant}:${key}`, limit, options);
    },

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
