import { createKeyExpiryWatch, type KeyExpiryWatch } from "../audit/key-expiry.js";
import { newTenantScope } from "../core/tenant-scope.js";
import type { FallbackTimer } from "../otp/fallback.js";
import { effectiveSettings } from "../tenancy/effective-settings.js";
import type { AdminParts } from "./admin.js";
import type { AppContext } from "./app-context.js";
import type { Domains } from "./domains.js";
import { startTimerPoller } from "./timer-poller.js";

// The durable timers every replica polls: keys' expiries for the audit
// trail, fallbacks on silence, and codes that expired unused.

/** Audits API keys as their expiry passes, from a timer queue every replica shares. */
export function startKeyExpiryWatch(app: AppContext, adminParts: AdminParts): KeyExpiryWatch {
  const watch = createKeyExpiryWatch({
    queue: app.events.keyExpiries,
    audit: adminParts.audit,
    findKey: async (tenantId, keyId) =>
      (await adminParts.admin.listApiKeys(tenantId)).find((k) => k.id === keyId),
    pollMs: app.config.webhooks.pollMs,
    now: app.now,
    onError: (err) =>
      app.logger.warn(
        { cause: err instanceof Error ? err.name : "error" },
        "key expiry not audited",
      ),
  });
  watch.start();
  return watch;
}

/** Fallbacks on silence: any replica claims a due timer, once (otp/fallback.ts). */
export function startFallbacks(
  app: AppContext,
  domains: Domains,
  adminParts: AdminParts,
): { stop(): Promise<void> } {
  return startTimerPoller({
    queue: app.events.fallbacks,
    run: async (body) => {
      const timer = JSON.parse(body) as FallbackTimer;
      // The tenant's settings as they are now: its templates, brand and send quotas.
      const tenant = await adminParts.admin.getTenant(timer.tenantId);
      const settings = effectiveSettings(tenant?.settings);
      await domains.challenges.runFallback(timer, settings);
    },
    pollMs: Math.min(250, app.config.webhooks.pollMs),
    now: app.now,
    onError: (err) =>
      app.logger.warn({ cause: err instanceof Error ? err.name : "error" }, "fallback not sent"),
  });
}

/**
 * Codes that expired unused: any replica claims the timer once and takes
 * back the messages still out (a Telegram Gateway message is revoked); a
 * code sent again with a later expiry waits for that expiry's own timer.
 */
export function startCodeExpiries(app: AppContext, domains: Domains): { stop(): Promise<void> } {
  return startTimerPoller({
    queue: app.events.codeExpiries,
    run: async (body) => {
      const timer = JSON.parse(body) as { challengeId: string; tenantId: string };
      const store = app.stores.scoped(newTenantScope(timer.tenantId));
      const record = await store.getChallenge(timer.challengeId, app.now());
      const unused = record?.state === "pending" && app.now() >= record.expiresAtMs;
      if (record !== undefined && unused) domains.withdrawSent(record);
    },
    pollMs: Math.min(250, app.config.webhooks.pollMs),
    now: app.now,
    onError: (err) =>
      app.logger.warn(
        { cause: err instanceof Error ? err.name : "error" },
        "expired code not withdrawn",
      ),
  });
}
