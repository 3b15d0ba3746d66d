import type { ChannelKind } from "../core/channel-kind.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { Channel } from "../delivery/channel.js";
import {
  type Admission,
  createDispatcher,
  type Dispatcher,
  type SendQuotas,
} from "../delivery/dispatcher.js";
import { createOutboxChannel } from "../delivery/outbox/outbox-channel.js";
import { recipientIdentity } from "../delivery/recipient-identity.js";
import type { RecipientPolicy } from "../delivery/recipients.js";
import { createTemplates } from "../delivery/templates.js";
import type { FraudGuard } from "../fraud/fraud-guard.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import type { AppContext } from "./app-context.js";
import { fraudFallbackTenant } from "./fraud.js";
import { createProviders, type Providers } from "./providers.js";

const providerChannels: ChannelKind[] = [
  "telegram",
  "sms",
  "whatsapp",
  "email",
  "telegram_gateway",
  "voice",
];

/** The channels, the dispatcher that sends through them, and the rules targets follow. */
export interface DeliveryParts {
  providers: Providers;
  channels: Channel[];
  dispatcher: Dispatcher;
  targetRules: { recipients: RecipientPolicy; telegramSelfDestructDefaultSeconds: number };
}

/**
 * Builds delivery: the providers the config names, the development outbox
 * standing in for every other channel (in production those are unavailable),
 * and the dispatcher with the fraud guard (when on) and its per-recipient
 * and per-tenant send budgets.
 */
export async function buildDelivery(app: AppContext, fraud?: FraudGuard): Promise<DeliveryParts> {
  const { config, store, logger, metrics, now, vault, countUsage } = app;
  // Providers serve the channels they are configured for. In development the
  // outbox stands in for every other channel; in production those are unavailable.
  const d = config.delivery;
  const templates = createTemplates({
    overrides: d.templateOverrides,
    defaultLocale: d.defaultLocale,
  });
  const recipients: RecipientPolicy = {
    sms: { allowedCountries: d.smsAllowedCountries },
    whatsapp: { allowedCountries: d.whatsappAllowedCountries },
  };
  const providers = await createProviders({
    config: d,
    store,
    redis: app.opened.redis,
    hasher: app.hasher,
    vault,
    templates,
    recipients,
    logger,
    metrics,
    leader: app.leader,
    now,
    onStatusReport: (delivery, status) => app.activity.reported(delivery, status),
  });
  const channels: Channel[] = [...providers.channels];
  const provided = new Set(channels.map((c) => c.kind));
  const standIns = config.outboxEnabled ? providerChannels.filter((k) => !provided.has(k)) : [];
  if (config.outboxEnabled) {
    for (const kind of ["outbox", ...standIns] as const) {
      channels.push(
        createOutboxChannel({
          store,
          kind,
          retentionMs: config.outboxRetentionSeconds * 1000,
          now,
        }),
      );
    }
  }
  const dispatcher = createDispatcher({
    channels,
    outboxStandIns: standIns,
    store,
    scoped: app.stores.scoped,
    templates,
    retentionMs: d.retentionSeconds * 1000,
    fallbackBudgetMs: d.fallbackBudgetMs,
    observe: (channel, outcome, target, deliveryId, challengeId, tenantId) => {
      metrics.delivery(channel, outcome, tenantId);
      app.activity.delivered(channel, outcome, target, deliveryId, tenantId);
      if (outcome === "accepted") countUsage(`sends:${channel}`, tenantId);
      // Codes of challenges are what the guard weighs against verifications.
      if (outcome === "accepted" && challengeId !== "") {
        fraud?.sent(tenantId ?? fraudFallbackTenant, target.recipient);
      }
    },
    onError: (channel, err) => logger.warn({ channel, err }, "delivery failed"),
    onRetry: (channel, err, attempt, delayMs) =>
      logger.info({ channel, attempt, delay_ms: delayMs, reason: err.reason }, "delivery retry"),
    admit: (target, quotas, scope) => admitSend(app, target, quotas, scope, fraud),
    now,
  });
  const targetRules = {
    recipients,
    telegramSelfDestructDefaultSeconds: d.telegram?.selfDestructDefaultSeconds ?? 0,
  };

  return { providers, channels, dispatcher, targetRules };
}

/**
 * Whether one more message may go to this target: not to a prefix the fraud
 * guard blocked (in enforce mode), then the per-recipient budget
 * (every spelling of one mailbox or number counted as one, keyed by a keyed
 * hash) and the tenant's daily quota for the channel.
 */
async function admitSend(
  app: AppContext,
  target: TargetRecord,
  quotas: SendQuotas | undefined,
  scope: TenantScope | undefined,
  fraud: FraudGuard | undefined,
): Promise<Admission> {
  // First the fraud guard: process memory only, and a refused send spends no quota.
  const refusal = fraud?.check(
    scope?.tenantId ?? fraudFallbackTenant,
    target.recipient,
    target.channel,
  );
  if (refusal !== undefined) {
    return { allowed: false, retryAfterMs: refusal.retryAfterMs ?? 0, refusal };
  }
  const { config, vault } = app;
  // The tenant's buckets: the scoped store keys them by tenant.
  const store = app.stores.scoped(scope);
  // A tenant's own quotas (its settings) in place of the service's.
  const sendsPerRecipient = quotas?.sendsPerRecipient ?? config.rateLimits.sendsPerRecipient;
  const tenantSendsPerChannel =
    quotas?.tenantSendsPerChannel ?? config.rateLimits.tenantSendsPerChannel;
  if (sendsPerRecipient !== "off") {
    // Every spelling of one mailbox or number shares one budget, keyed by a keyed hash.
    const identity = recipientIdentity(target.recipient, {
      plusTagDomains: config.plusTagDomains,
    });
    const byRecipient = await store.consume(
      "sends_recipient",
      vault.index("limit-recipient", identity),
      sendsPerRecipient,
    );
    if (!byRecipient.allowed) return byRecipient;
  }
  // The tenant's daily quota per channel; the tenant-scoped store keys it by tenant.
  if (tenantSendsPerChannel === "off") return { allowed: true, retryAfterMs: 0 };
  return store.consume(`tenant_sends_${target.channel}`, "all", tenantSendsPerChannel);
}
