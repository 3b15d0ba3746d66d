import { randomUUID } from "node:crypto";
import type { ChannelKind } from "../core/channel-kind.js";
import { OtpError } from "../core/otp-error.js";
import { idempotencySpace, type TenantScope } from "../core/tenant-scope.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import { validateIdempotencyKey } from "../otp/validate.js";
import type { MessageStyle } from "./channel.js";
import type { DeliveryEventRecord, DeliveryRecord, DeliveryStore } from "./delivery-store.js";
import { type DeliveryView, deliveryIdOf, sendFailureOf, viewOf } from "./delivery-view.js";
import { type Dispatcher, type SendQuotas, timeLeft } from "./dispatcher.js";
import { deliveryErrors } from "./errors.js";
import { accountIdPattern, openRecipientPolicy } from "./recipients.js";
import { fingerprintOf, type SendInput, validateContent } from "./send-content.js";
import {
  type GeoReport,
  type TargetRules,
  type TenantTargetPolicy,
  validateLocale,
  validateTarget,
} from "./targets.js";
import { watchDelivery } from "./watch-delivery.js";
import { type WithdrawOutcome, withdrawDelivery } from "./withdraw.js";

export {
  advancesStatus,
  type DeliveryView,
  deliveryStatusOf,
} from "./delivery-view.js";
// How a delivery reads (its view and status) and how it is watched live in
// delivery-view.ts and watch-delivery.ts; this module is Send and the wiring.
export type { SendInput } from "./send-content.js";

/** Makes Telegram deep links that link a chat to an account id. */
export interface TelegramLinker {
  /** A single-use `https://t.me/<bot>?start=<token>` link for `accountId` of `tenantId` (see telegram-links.ts), and when it expires. */
  create(accountId: string, tenantId: string): Promise<{ url: string; expiresAtMs: number }>;
}

/** Options for {@link createDeliveryService}. */
export interface DeliveryServiceOptions {
  /** The store of calls without a scope, and of every call unless `scoped` is given. */
  store: DeliveryStore;
  /** The store as one call's tenant sees it (store/tenant-store.ts). */
  scoped?: (scope: TenantScope) => DeliveryStore;
  dispatcher: Dispatcher;
  hasher: CodeHasher;
  /** Which recipients this service sends to, and defaults for targets. */
  targetRules?: Omit<TargetRules, "usable">;
  /**
   * Tells whether a provider reports further statuses for a message it
   * accepted (Twilio with status callbacks), so WatchDelivery keeps waiting.
   */
  reportsStatus?: (channel: ChannelKind) => boolean;
  /** Makes Telegram link tokens; undefined when Telegram is not configured. */
  telegramLinker?: TelegramLinker;
  /** How often WatchDelivery reads the store, in milliseconds; 200 by default. */
  watchPollMs?: number;
  /** The longest a WatchDelivery stream stays open, in milliseconds; 5 minutes by default. */
  watchMaxMs?: number;
  /** Aborts when the server shuts down: open watches then end with SHUTTING_DOWN, so clients reconnect elsewhere. */
  shutdown?: AbortSignal;
  onRateLimited?: (limit: string, tenantId: string | undefined) => void;
  /** Told of a number a tenant's report-only geo permission let through. */
  onGeoReport?: (channel: ChannelKind, country: string, tenantId: string) => void;
  now?: () => number;
}

/** The delivery domain behind `DeliveryService`: Send, GetDelivery, WatchDelivery. */
export interface DeliveryService {
  /**
   * Sends one message and returns its delivery. Retried requests with the
   * same idempotency key return the first delivery and send nothing. A
   * provider failure is a `DELIVERY_FAILED` error naming the delivery.
   */
  send(input: SendInput, limits?: SendLimits): Promise<DeliveryView>;
  /** `scope`, here and below: the caller's tenant, whose deliveries alone it finds. */
  get(id: string, scope?: TenantScope): Promise<DeliveryView>;
  /**
   * Yields the delivery's events, the past ones first, then new ones as the
   * store records them (read every `watchPollMs`, so events recorded by any
   * replica show up), until the delivery reaches a final status, nothing
   * more can happen to it, `signal` aborts or `watchMaxMs` passes; at
   * shutdown it fails with SHUTTING_DOWN.
   */
  watch(id: string, signal: AbortSignal, scope?: TenantScope): AsyncGenerator<DeliveryEventRecord>;
  /** A deep link that links a Telegram chat to `accountId` of the caller's tenant. */
  createTelegramLink(
    accountId: string,
    scope?: TenantScope,
  ): Promise<{ url: string; expiresAtMs: number }>;
  /**
   * Takes back the message of a delivery where its channel can (the
   * Telegram Gateway revokes it) and records a "deleted" event; for when
   * the challenge is verified, canceled or expires.
   */
  withdraw(id: string, signal?: AbortSignal, scope?: TenantScope): Promise<WithdrawOutcome>;
}

export type { WithdrawOutcome } from "./withdraw.js";

// What Send needs, resolved from the options once.
interface SendState {
  storeFor: (scope: TenantScope | undefined) => DeliveryStore;
  dispatcher: Dispatcher;
  hasher: CodeHasher;
  rules: TargetRules;
  now: () => number;
  onRateLimited?: ((limit: string, tenantId: string | undefined) => void) | undefined;
  onGeoReport?: DeliveryServiceOptions["onGeoReport"];
}

/**
 * What Send takes besides its input: the time left for the answer, and the
 * caller's tenant settings (channels, countries, brand and templates).
 */
export interface SendLimits {
  timeoutMs?: number;
  settings?: TenantTargetPolicy & MessageStyle & { limits: SendQuotas };
  /** The caller's tenant (core/tenant-scope.ts); undefined: a call that sees every tenant. */
  scope?: TenantScope;
}

/** Creates the {@link DeliveryService}. */
export function createDeliveryService(options: DeliveryServiceOptions): DeliveryService {
  const { store, scoped, dispatcher, hasher } = options;
  const now = options.now ?? Date.now;
  const storeFor = (scope: TenantScope | undefined) =>
    scope === undefined || scoped === undefined ? store : scoped(scope);
  const state: SendState = {
    storeFor,
    dispatcher,
    hasher,
    now,
    onRateLimited: options.onRateLimited,
    onGeoReport: options.onGeoReport,
    rules: {
      recipients: options.targetRules?.recipients ?? openRecipientPolicy,
      telegramSelfDestructDefaultSeconds:
        options.targetRules?.telegramSelfDestructDefaultSeconds ?? 0,
      usable: (channel) => dispatcher.has(channel),
    },
  };
  const watchDeps = (scope: TenantScope | undefined) => ({
    store: storeFor(scope),
    now,
    pollMs: options.watchPollMs ?? 200,
    maxMs: options.watchMaxMs ?? 300_000,
    shutdown: options.shutdown,
    reportsStatus: options.reportsStatus,
  });
  return {
    send: (input, limits = {}) => sendMessage(state, input, limits),
    async get(rawId, scope) {
      const record = await storeFor(scope).getDelivery(deliveryIdOf(rawId), now());
      if (record === undefined) throw deliveryErrors.notFound();
      return viewOf(record);
    },
    watch: (rawId, signal, scope) => watchDelivery(watchDeps(scope), rawId, signal),
    withdraw: (rawId, signal, scope) =>
      withdrawDelivery(
        { store: storeFor(scope), channels: () => dispatcher.channels(), now },
        deliveryIdOf(rawId),
        signal,
      ),
    async createTelegramLink(accountId, scope) {
      if (!accountIdPattern.test(accountId)) throw deliveryErrors.accountIdInvalid();
      if (options.telegramLinker === undefined) {
        throw deliveryErrors.channelNotConfigured("account_id", "telegram");
      }
      return options.telegramLinker.create(accountId, scope?.tenantId ?? "default");
    },
  };
}

// Send: validates, answers a replay as the first call did, asks the quotas,
// then records and makes one attempt over the target's channel.
async function sendMessage(
  state: SendState,
  input: SendInput,
  limits: SendLimits,
): Promise<DeliveryView> {
  const { dispatcher, now } = state;
  const { settings, scope } = limits;
  const store = state.storeFor(scope);
  const deadline =
    limits.timeoutMs === undefined ? undefined : performance.now() + limits.timeoutMs;
  const target: TargetRecord = validateTarget(
    input,
    state.rules,
    "",
    settings,
    geoReportOf(state, scope),
  );
  validateLocale(input.locale);
  const content = validateContent(input, settings);
  validateIdempotencyKey(input.idempotencyKey);
  const key = input.idempotencyKey;
  const id =
    key === ""
      ? randomUUID()
      : state.hasher.deliveryIdForIdempotencyKey(key, idempotencySpace(scope));
  const fingerprint = key === "" ? "" : fingerprintOf(state.hasher, target, content);
  if (key !== "") {
    const existing = await store.getDelivery(id, now());
    if (existing !== undefined) return replayOrConflict(existing, fingerprint);
  }
  // The same quotas as a code's delivery: per recipient, and the tenant's per channel.
  const admission = await dispatcher.admit(target, settings?.limits, scope);
  // A refusal with its own error (the fraud guard's) answers with it.
  if (!admission.allowed && admission.refusal !== undefined) throw admission.refusal;
  if (!admission.allowed) {
    state.onRateLimited?.("sends", scope?.tenantId);
    throw new OtpError("RATE_LIMITED", "too many messages; retry later", {
      retryAfterMs: admission.retryAfterMs,
      metadata: { limit: "sends" },
    });
  }
  const created = await dispatcher.begin(
    { id, target, challengeId: "", idempotencyFingerprint: fingerprint },
    scope,
  );
  if (created.kind === "conflict") throw deliveryErrors.idempotencyKeyConflict();
  if (created.kind === "replay") return replayOrConflict(created.record, fingerprint);
  const budget = timeLeft(deadline);
  const outcome = await dispatcher.attempt(
    id,
    target,
    content,
    "",
    budget === undefined ? {} : { maxTotalMs: budget },
    scope,
  );
  if (!outcome.ok) throw deliveryErrors.deliveryFailed(target.channel, outcome.reason, id);
  const record = await store.getDelivery(id, now());
  if (record === undefined) throw deliveryErrors.notFound();
  return viewOf(record);
}

// The geo report of the caller's tenant; Send is not on the hot path, so one closure is fine.
function geoReportOf(state: SendState, scope: TenantScope | undefined): GeoReport | undefined {
  const report = state.onGeoReport;
  if (report === undefined) return undefined;
  const tenantId = scope?.tenantId ?? "default";
  return (channel, country) => report(channel, country, tenantId);
}

function replayOrConflict(record: DeliveryRecord, fingerprint: string): DeliveryView {
  if (record.idempotencyFingerprint !== fingerprint) throw deliveryErrors.idempotencyKeyConflict();
  const failure = sendFailureOf(record);
  // A replay answers as the first call did.
  if (failure !== undefined)
    throw deliveryErrors.deliveryFailed(record.channel, failure, record.id);
  return viewOf(record);
}
