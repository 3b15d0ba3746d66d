import type { AuditRecorder, SecurityEvent } from "../audit/audit-recorder.js";
import { createCodeSeal } from "../core/code-seal.js";
import { createSecretBox } from "../core/secret-box.js";
import { currentTenant } from "../core/tenant-scope.js";
import { createDeliveryService, type DeliveryService } from "../delivery/delivery-service.js";
import { type ChallengeService, createChallengeService } from "../otp/challenge-service.js";
import { createTokenSigner, generateSigningKey, type TokenSigner } from "../tokens/token-signer.js";
import { createTotpService, type TotpService } from "../totp/totp-service.js";
import type { AppContext } from "./app-context.js";
import type { DeliveryParts } from "./delivery.js";

/** The domain services the RPC handlers call. */
export interface Domains {
  challenges: ChallengeService;
  deliveries: DeliveryService;
  signer: TokenSigner;
  totp: TotpService;
}

/** Builds the domain services on the store, the dispatcher and the keys the config holds. */
export async function buildDomains(
  app: AppContext,
  delivery: DeliveryParts,
  options: { watchPollMs: number | undefined; shutdown: AbortSignal; audit: AuditRecorder },
): Promise<Domains> {
  const { config, store, hasher, metrics, now } = app;
  const { dispatcher, targetRules, providers } = delivery;
  const d = config.delivery;
  const geoReported = geoReporter(app, options.audit);
  const challenges = createChallengeService({
    store,
    hasher,
    dispatcher,
    targetRules,
    resendCooldownSeconds: config.resendCooldownSeconds,
    maxSends: config.maxSendsPerChallenge,
    retentionSeconds: config.challengeRetentionSeconds,
    now,
    observer: {
      generated: (alphabet, record) => {
        metrics.challengeGenerated(alphabet);
        app.activity.generated(record);
      },
      verified: (outcome, record) => {
        metrics.verification(outcome);
        app.activity.verified(outcome, record);
        // A lock-out is a security event: once per challenge and minute at most.
        if (outcome === "attempts_exhausted") {
          options.audit.recordSecurityEvent(
            lockedOut("challenge", record.id, record.tenantId ?? ""),
          );
        }
      },
      rateLimited: (limit) => metrics.rateLimited(limit),
      geoReported,
    },
    verifyPerChallenge: config.rateLimits.verifyPerChallenge,
    limitStore: store,
    codeSeal: createCodeSeal(config.hmacSecrets),
    newCodePerSend: config.resendNewCode,
  });
  const deliveries = createDeliveryService({
    store,
    dispatcher,
    hasher,
    targetRules,
    reportsStatus: providers.reportsStatus,
    telegramLinker: providers.telegramLinker,
    watchPollMs: options.watchPollMs,
    watchMaxMs: d.watchMaxSeconds * 1000,
    shutdown: options.shutdown,
    onRateLimited: (limit) => metrics.rateLimited(limit),
    onGeoReport: geoReported,
    now,
  });

  const signingKeys = config.tokens.signingKeys ?? [await generateSigningKey()];
  const signer = await createTokenSigner({
    keys: signingKeys,
    issuer: config.tokens.issuer,
    audience: config.tokens.audience,
    ttlSeconds: config.tokens.ttlSeconds,
    bindingSecret: config.hmacSecrets[0] as string,
  });
  const totp = createTotpService({
    store,
    box: createSecretBox(config.totp.encryptionKeys),
    hasher,
    defaultIssuer: config.totp.issuer,
    window: config.totp.window,
    maxFailures: config.totp.maxFailures,
    lockoutSeconds: config.totp.lockoutSeconds,
    pendingSeconds: config.totp.pendingSeconds,
    retentionSeconds: config.totp.retentionSeconds,
    now,
  });

  return { challenges, deliveries, signer, totp };
}

/** The audit entry of a challenge or TOTP factor that refuses further codes. */
function lockedOut(kind: "challenge" | "totp", id: string, tenantId: string): SecurityEvent {
  return {
    actor: { kind: "system", id: kind },
    tenantId,
    action: `${kind}.locked_out`,
    target: id,
    outcome: "refused",
  };
}

/**
 * What a tenant's report-only geo permission reports: a metric per number,
 * and an audit entry at most once a minute per tenant, channel and country.
 */
function geoReporter(app: AppContext, audit: AuditRecorder) {
  return (channel: string, country: string) => {
    app.metrics.geoReported(channel, country);
    const tenantId = currentTenant() ?? "";
    audit.recordSecurityEvent({
      actor: { kind: "system", id: "geo-permissions" },
      tenantId,
      action: "geo.report_only",
      target: `${tenantId}/${channel}/${country || "unknown"}`,
      outcome: "success",
      details: { channel, country },
    });
  };
}
