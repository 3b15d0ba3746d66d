import type { FraudOverrides } from "../fraud/thresholds.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import type { ChangeFeed } from "../tenancy/change-feed.js";
import type { TenantSettings } from "../tenancy/tenant-settings.js";

/** A tenant's fraud guard settings as the guard's overrides; undefined keeps the service's. */
export function fraudOverridesOf(settings: TenantSettings | undefined): FraudOverrides | undefined {
  const g = settings?.fraudGuard;
  if (g === undefined) return undefined;
  const out: FraudOverrides = {};
  if (g.mode !== "") out.mode = g.mode;
  if (g.minSends > 0) out.minSends = g.minSends;
  if (g.minVerifyPercent > 0) out.minVerifyRate = g.minVerifyPercent / 100;
  if (g.windowSeconds > 0) out.windowMs = g.windowSeconds * 1000;
  if (g.cooldownSeconds > 0) out.cooldownMs = g.cooldownSeconds * 1000;
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * Each tenant's fraud guard settings in process memory, for the guard's
 * synchronous `thresholdsFor`: a tenant is read from the admin store the
 * first time the guard asks for it (until then the service's thresholds
 * apply), and read again whenever the change feed says the tenant changed,
 * on every replica. No call waits for a read.
 */
export function createFraudOverrides(options: {
  admin: Pick<AdminStore, "getTenant">;
  feed: Pick<ChangeFeed, "subscribe">;
  onError: (err: unknown) => void;
  /** The most tenants remembered; past it, tenants are read as the service's thresholds. */
  max?: number;
}): (tenantId: string) => FraudOverrides | undefined {
  const max = options.max ?? 10_000;
  const known = new Map<string, FraudOverrides | undefined>();
  const load = (tenantId: string) => {
    options.admin
      .getTenant(tenantId)
      .then((tenant) => known.set(tenantId, fraudOverridesOf(tenant?.settings)), options.onError);
  };
  void options.feed
    .subscribe(
      (topic) => {
        if (!topic.startsWith("tenant:")) return;
        const tenantId = topic.slice("tenant:".length);
        if (known.has(tenantId)) load(tenantId);
      },
      // Messages may have been missed: read every known tenant again.
      () => {
        for (const tenantId of known.keys()) load(tenantId);
      },
    )
    .catch(options.onError);
  return (tenantId) => {
    if (!known.has(tenantId) && known.size < max) {
      known.set(tenantId, undefined);
      load(tenantId);
    }
    return known.get(tenantId);
  };
}
