import type { AuditRecorder } from "../audit/audit-recorder.js";
import type { AuditInput } from "../audit/audit-trail.js";
import { createFraudGuard, type FraudDecision, type FraudGuard } from "../fraud/fraud-guard.js";
import type { FraudStore } from "../fraud/fraud-store.js";
import {
  type FraudOverrides,
  type FraudThresholds,
  resolveThresholds,
} from "../fraud/thresholds.js";
import { createMemoryFraudStore } from "../store/memory/fraud.js";
import { createRedisFraudStore } from "../store/redis/fraud.js";
import type { AppContext } from "./app-context.js";

/** The tenant of records and calls made before tenants existed, as the tenant store names it. */
export const fraudFallbackTenant = "default";

/**
 * Opens the guard against SMS pumping beside the store (Redis when the
 * store is Redis, so every replica sums the same windows and sees the same
 * blocks), or nothing when FRAUD_GUARD=off. Its decisions are counted in
 * the metrics, written to the audit trail as security events by the
 * system actor "fraud-guard" (which the activity feed shows), and emitted
 * as events (`fraud.prefix_blocked`, `fraud.prefix_would_block`) to the
 * tenant's webhooks and WatchEvents. `overridesFor` is where tenant settings will put
 * their thresholds; today every tenant has the service-wide ones.
 */
export function openFraudGuard(
  app: Pick<AppContext, "config" | "opened" | "metrics" | "logger" | "now" | "events">,
  audit: AuditRecorder,
  overridesFor: (tenantId: string) => FraudOverrides | undefined = () => undefined,
): FraudGuard | undefined {
  const { config, opened, metrics, logger, now } = app;
  const f = config.fraud;
  if (f.mode === "off") return undefined;
  const serviceWide: FraudThresholds = {
    mode: f.mode,
    windowMs: f.windowMs,
    minSends: f.minSends,
    minVerifyRate: f.minVerifyRate,
    cooldownMs: f.cooldownMs,
  };
  const store: FraudStore =
    opened.redis === undefined
      ? createMemoryFraudStore({ now })
      : createRedisFraudStore(opened.redis);
  return createFraudGuard({
    store,
    thresholdsFor: (tenantId) => resolveThresholds(serviceWide, overridesFor(tenantId)),
    prefixDigits: f.prefixDigits,
    evaluateMs: f.evaluateMs,
    now,
    onDecision: (decision) => {
      metrics.fraudDecision(
        decision.mode,
        decision.mode === "enforce" ? "block" : "would_block",
        decision.country,
      );
      // Appended as is: blocks are few (one per tenant, prefix and cool-down, reported
      // by the one replica that made it), and recordSecurityEvent's once-per-target
      // filter would fold two tenants' blocks of one prefix into one entry.
      void audit.record(auditEntry(decision));
      app.events.emitter.emit(
        decision.mode === "enforce" ? "fraud.prefix_blocked" : "fraud.prefix_would_block",
        decision.tenantId,
        {
          prefix: decision.prefix,
          country: decision.country,
          sends: decision.counts.sends,
          verified: decision.counts.verified,
          until_ms: decision.untilMs,
        },
      );
      logger.warn(
        {
          tenant_id: decision.tenantId,
          prefix: decision.prefix,
          mode: decision.mode,
          sends: decision.counts.sends,
          verified: decision.counts.verified,
        },
        "fraud guard: destination prefix blocked",
      );
    },
    onSend: (mode, decision, country) => metrics.fraudDecision(mode, decision, country),
    onError: (err) => logger.warn({ err }, "fraud guard: store call failed; retried next round"),
  });
}

/** The audit entry of a block: the prefix is the target, never a number. */
function auditEntry(decision: FraudDecision): AuditInput {
  return {
    actor: { kind: "system", id: "fraud-guard" },
    tenantId: decision.tenantId,
    action: decision.mode === "enforce" ? "fraud.prefix_blocked" : "fraud.prefix_would_block",
    target: decision.prefix,
    // A report-mode block refuses nothing: it is audited as what happened, a success.
    outcome: decision.mode === "enforce" ? "refused" : "success",
    requestId: "",
    sourceAddress: "unknown",
    details: {
      country: decision.country,
      sends: String(decision.counts.sends),
      verified: String(decision.counts.verified),
      until: new Date(decision.untilMs).toISOString(),
    },
  };
}
