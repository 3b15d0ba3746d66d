import type { AuditRecorder, SecurityEvent } from "../audit/audit-recorder.js";
import { createCodeSeal } from "../core/code-seal.js";
import { createSecretBox } from "../core/secret-box.js";
import { newTenantScope, type TenantScope } from "../core/tenant-scope.js";
import { createDeliveryService, type DeliveryService } from "../delivery/delivery-service.js";
import type { FraudGuard } from "../fraud/fraud-guard.js";
import {
  type ChallengeService,
  type ChallengeServiceOptions,
  createChallengeService,
  type OtpObserver,
} from "../otp/challenge-service.js";
import type { ChallengeRecord } from "../otp/challenge-store.js";
import { createTokenSigner, generateSigningKey, type TokenSigner } from "../tokens/token-signer.js";
import { createTotpService, type TotpService } from "../totp/totp-service.js";
import type { AppContext } from "./app-context.js";
import type { DeliveryParts } from "./delivery.js";
import { fraudFallbackTenant } from "./fraud.js";

/** The domain services the RPC handlers call. */
export interface Domains {
  challenges: ChallengeService;
  deliveries: DeliveryService;
  signer: TokenSigner;
  totp: TotpService;
  /** Withdraws the messages that carried a challenge's code, where their channel can. */
  withdrawSent: (record: ChallengeRecord) => void;
}

/** Builds the domain services on the store, the dispatcher and the keys the config holds. */
export async function buildDomains(
  app: AppContext,
  delivery: DeliveryParts,
  options: {
    watchPollMs: number | undefined;
    shutdown: AbortSignal;
    audit: AuditRecorder;
    fraud?: FraudGuard | undefined;
  },
): Promise<Domains> {
  const { config, store, hasher, metrics, now } = app;
  const { dispatcher, targetRules, providers } = delivery;
  const d = config.delivery;
  const geoReported = geoReporter(app, options.audit);
  const deliveries = createDeliveryService({
    store,
    scoped: app.stores.scoped,
    dispatcher,
    hasher,
    targetRules,
    reportsStatus: providers.reportsStatus,
    telegramLinker: providers.telegramLinker,
    watchPollMs: options.watchPollMs,
    watchMaxMs: d.watchMaxSeconds * 1000,
    shutdown: options.shutdown,
    onRateLimited: (limit, tenantId) => metrics.rateLimited(limit, tenantId),
    onGeoReport: geoReported,
    now,
  });
  const withdrawSent = withdrawSentMessages(app, delivery, deliveries);
  const challenges = createChallengeService({
    store,
    scoped: app.stores.scoped,
    hasher,
    dispatcher,
    targetRules,
    resendCooldownSeconds: config.resendCooldownSeconds,
    maxSends: config.maxSendsPerChallenge,
    retentionSeconds: config.challengeRetentionSeconds,
    now,
    observer: {
      ...challengeObserver(app, options, withdrawSent),
      geoReported,
    },
    verifyPerChallenge: config.rateLimits.verifyPerChallenge,
    limitStore: store,
    codeSeal: createCodeSeal(config.hmacSecrets),
    newCodePerSend: config.resendNewCode,
    ...challengeTimers(app, delivery),
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
    scoped: app.stores.scoped,
    box: createSecretBox(config.totp.encryptionKeys),
    hasher,
    defaultIssuer: config.totp.issuer,
    window: config.totp.window,
    maxFailures: config.totp.maxFailures,
    lockoutSeconds: config.totp.lockoutSeconds,
    pendingSeconds: config.totp.pendingSeconds,
    retentionSeconds: config.totp.retentionSeconds,
    now,
    // A lock-out is a security event, as a challenge's is.
    onLockedOut: (factorId, tenantId) =>
      options.audit.recordSecurityEvent(lockedOut("totp", factorId, tenantId)),
  });

  return { challenges, deliveries, signer, totp, withdrawSent };
}

/**
 * The durable timers of challenges, in queues every replica polls: fallbacks
 * on silence, and withdrawals at expiry on channels that take a message back
 * on request but not by themselves at the code's expiry (the Telegram
 * Gateway; a Telegram bot message self-destructs then).
 */
function challengeTimers(
  app: AppContext,
  delivery: DeliveryParts,
): Pick<ChallengeServiceOptions, "expiryWithdrawals" | "fallbackTimers"> {
  const { now } = app;
  const revokedAtExpiry = new Set<string>(
    delivery.channels.filter((c) => c.withdraw && c.kind !== "telegram").map((c) => c.kind),
  );
  return {
    expiryWithdrawals: {
      needed: (channel) => revokedAtExpiry.has(channel),
      set: (timer, dueMs) =>
        app.events.codeExpiries.add(
          [{ id: `${timer.challengeId}:${dueMs}`, body: JSON.stringify(timer), dueMs }],
          now(),
        ),
    },
    fallbackTimers: {
      set: (timer, dueMs) =>
        app.events.fallbacks.add(
          [{ id: `${timer.challengeId}:${timer.gen}`, body: JSON.stringify(timer), dueMs }],
          now(),
        ),
    },
  };
}

/**
 * What the service does when a challenge changes: metrics, the activity
 * feed, the audit trail, withdrawals, and the fraud guard's verified codes.
 */
function challengeObserver(
  app: AppContext,
  options: { audit: AuditRecorder; fraud?: FraudGuard | undefined },
  withdrawSent: (record: ChallengeRecord) => void,
): OtpObserver {
  const { audit } = options;
  const { metrics } = app;
  return {
    generated: (alphabet, record) => {
      metrics.challengeGenerated(alphabet);
      app.activity.generated(record);
    },
    verified: (outcome, record) => {
      metrics.verification(outcome);
      app.activity.verified(outcome, record);
      if (outcome === "verified") {
        withdrawSent(record);
        countVerified(options.fraud, record);
      }
      // A lock-out is a security event: once per challenge and minute at most.
      if (outcome === "attempts_exhausted") {
        audit.recordSecurityEvent(lockedOut("challenge", record.id, record.tenantId ?? ""));
      }
    },
    canceled: (record) => withdrawSent(record),
    rateLimited: (limit, tenantId) => metrics.rateLimited(limit, tenantId),
  };
}

/**
 * A used code does not outlive its use: the messages that carried it are
 * taken back where the channel can (a Telegram bot message deleted, a
 * Gateway message revoked), after the answer and never holding it up.
 */
function withdrawSentMessages(
  app: AppContext,
  delivery: DeliveryParts,
  deliveries: DeliveryService,
): (record: ChallengeRecord) => void {
  const withdrawable = new Set(delivery.channels.filter((c) => c.withdraw).map((c) => c.kind));
  const failed = (channel: string, cause: string) =>
    app.logger.warn({ channel, cause }, "message not withdrawn");
  return (record) => {
    // The challenge's own tenant: its deliveries, and the events their withdrawal emits.
    let scope: TenantScope | undefined;
    for (const sent of record.sentDeliveries ?? []) {
      if (!withdrawable.has(sent.channel)) continue;
      scope ??= newTenantScope(record.tenantId ?? "default");
      deliveries.withdraw(sent.deliveryId, undefined, scope).then(
        (outcome) => {
          if (outcome.kind === "failed") failed(sent.channel, outcome.reason);
        },
        // The error's name only: a store error carries the command's keys.
        (err: unknown) => failed(sent.channel, err instanceof Error ? err.name : "error"),
      );
    }
  };
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
  return (channel: string, country: string, tenantId: string) => {
    app.metrics.geoReported(channel, country);
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

/**
 * Tells the fraud guard of a verified code, at the target whose send was
 * accepted (the one the person read it from), else the first.
 */
function countVerified(fraud: FraudGuard | undefined, record: ChallengeRecord): void {
  if (fraud === undefined) return;
  const index = record.deliveryAttempts.findIndex((a) => a.status === "accepted");
  const target = record.targets[Math.max(index, 0)];
  if (target !== undefined)
    fraud.verified(record.tenantId ?? fraudFallbackTenant, target.recipient);
}
