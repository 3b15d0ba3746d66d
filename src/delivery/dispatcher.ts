import { trace } from "@opentelemetry/api";
import type { ChannelKind } from "../core/channel-kind.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import type { Channel, CodeContent, SendOptions } from "./channel.js";
import {
  type Admission,
  type Admit,
  type DeliverDeps,
  type DeliverOptions,
  type DeliveryResult,
  deliverInOrder,
  type SendQuotas,
} from "./deliver-in-order.js";
import type { DeliveryError } from "./delivery-error.js";
import type { DeliveryStore } from "./delivery-store.js";
import {
  type AttemptOutcome,
  attemptSend,
  beginDelivery,
  type DeliveryObserver,
  type MessageContent,
} from "./send-attempt.js";
import { createTemplates, type Templates } from "./templates.js";

// A dispatcher is one send (send-attempt.ts) and a walk down the fallback
// targets (deliver-in-order.ts); this module keeps the interface and composes them.
export {
  type Admission,
  type Admit,
  type DeliverOptions,
  type DeliveryResult,
  type SendQuotas,
  timeLeft,
} from "./deliver-in-order.js";
export type { AttemptOutcome, DeliveryObserver, MessageContent } from "./send-attempt.js";

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions {
  channels: readonly Channel[];
  /** Channels served by the development outbox instead of a provider. */
  outboxStandIns?: readonly ChannelKind[];
  /** Where every delivery and its status history is recorded (by calls without a scope). */
  store: DeliveryStore;
  /** The store as one call's tenant sees it (store/tenant-store.ts); `store` for every call without it. */
  scoped?: (scope: TenantScope) => DeliveryStore;
  /** Renders the text of code messages for channels without templates of their own (the outbox); the built-in ones by default. */
  templates?: Templates;
  /** How long a delivery record stays readable, in milliseconds (plus any self-destruct delay); a day by default. */
  retentionMs?: number;
  /**
   * The retry budget of a target that has a fallback after it, in
   * milliseconds, so a dead first channel does not hold the fallback back
   * for the channel's whole budget. Unlimited by default.
   */
  fallbackBudgetMs?: number;
  observe?: DeliveryObserver;
  /**
   * Asks whether a target may be sent to now (the fraud guard, the
   * per-recipient quota): the one place every send is asked about before it
   * is made. A refused target is recorded as failed with reason
   * RATE_LIMITED (or its refusal's own reason), and the next target is tried.
   */
  admit?: Admit;
  /** Receives provider errors for logging; the client only ever sees a reason. */
  onError?: (channel: ChannelKind, err: unknown) => void;
  /** Told before each retry of a provider call, for logs. */
  onRetry?: (channel: ChannelKind, err: DeliveryError, attempt: number, delayMs: number) => void;
  now?: () => number;
}

/** Sends messages over channels and records what became of each. */
export interface Dispatcher {
  /** Asks the fraud guard and the per-recipient and per-tenant quotas whether a target may be sent to now. */
  admit(target: TargetRecord, quotas?: SendQuotas, scope?: TenantScope): Promise<Admission>;
  /** Tells whether a channel can be used at all. */
  has(kind: ChannelKind): boolean;
  /** The registered channels. */
  channels(): readonly Channel[];
  /** True when the outbox stands in for this channel. */
  viaOutbox(kind: ChannelKind): boolean;
  /**
   * Sends a code to each target in order until one channel accepts it; later
   * targets are recorded as skipped. Every target tried gets a delivery
   * record with its status history. Provider failures are in the result,
   * not thrown.
   */
  deliver(
    targets: readonly TargetRecord[],
    code: CodeContent,
    challengeId: string,
    options?: DeliverOptions,
  ): Promise<DeliveryResult>;
  /**
   * Stores a new, queued delivery record, unless one with its id exists
   * (then "replay" for the same fingerprint, "conflict" otherwise).
   */
  begin(
    input: {
      id: string;
      target: TargetRecord;
      challengeId: string;
      idempotencyFingerprint: string;
    },
    scope?: TenantScope,
  ): ReturnType<DeliveryStore["createDelivery"]>;
  /** Sends over the target's channel and records the outcome on the delivery `deliveryId`. */
  attempt(
    deliveryId: string,
    target: TargetRecord,
    content: MessageContent,
    challengeId: string,
    options?: Pick<SendOptions, "maxTotalMs" | "maxAttempts" | "signal">,
    scope?: TenantScope,
  ): Promise<AttemptOutcome>;
}

/**
 * Creates a {@link Dispatcher} over the given channel adapters. Each send is
 * one span (`delivery.send`), so the provider's HTTP calls, retries included,
 * sit under it in the trace of the RPC that asked for it.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const byKind = new Map<ChannelKind, Channel>(options.channels.map((c) => [c.kind, c]));
  const standIns = new Set(options.outboxStandIns ?? []);
  const viaOutbox = (kind: ChannelKind) => kind === "outbox" || standIns.has(kind);
  const deps: DeliverDeps = {
    byKind,
    store: options.store,
    scope: undefined,
    templates: options.templates ?? createTemplates(),
    retentionMs: options.retentionMs ?? 86_400_000,
    tracer: trace.getTracer("otp-service"),
    now: options.now ?? Date.now,
    viaOutbox,
    observe: options.observe,
    onError: options.onError,
    onRetry: options.onRetry,
    admit: options.admit,
    fallbackBudgetMs: options.fallbackBudgetMs,
  };
  const { scoped } = options;
  // A call's deps: the shared ones with its scope and its tenant's store on top.
  const forCall = (scope: TenantScope | undefined): DeliverDeps => {
    if (scope === undefined) return deps;
    const call: DeliverDeps = Object.create(deps);
    call.scope = scope;
    if (scoped !== undefined) call.store = scoped(scope);
    return call;
  };
  return {
    admit: (target, quotas, scope) =>
      options.admit === undefined
        ? Promise.resolve({ allowed: true, retryAfterMs: 0 })
        : options.admit(target, quotas, scope),
    has: (kind) => byKind.has(kind),
    channels: () => [...byKind.values()],
    viaOutbox,
    begin: (input, scope) => beginDelivery(forCall(scope), input),
    attempt: (deliveryId, target, content, challengeId, limits, scope) =>
      attemptSend(forCall(scope), deliveryId, target, content, challengeId, limits),
    deliver: (targets, code, challengeId, deliverOptions) =>
      deliverInOrder(forCall(deliverOptions?.scope), targets, code, challengeId, deliverOptions),
  };
}
