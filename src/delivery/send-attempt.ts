import { type Span, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { ChannelKind } from "../core/channel-kind.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import type { Channel, CodeContent, OutgoingMessage, SendOptions, SendReceipt } from "./channel.js";
import { type DeliveryError, failureReasonOf, isDeliveryError } from "./delivery-error.js";
import type { DeliveryRecord, DeliveryStore } from "./delivery-store.js";
import { maskRecipient } from "./mask.js";
import type { Templates } from "./templates.js";

/** What a message says: a code rendered from the channel's template, or free text. */
export type MessageContent =
  | { kind: "code"; code: CodeContent }
  | { kind: "text"; text: string; subject?: string };

/** The outcome of one send over one channel (`Dispatcher.attempt`). */
export type AttemptOutcome =
  | { ok: true; receipt: SendReceipt }
  | { ok: false; reason: string; attempts: number };

/**
 * Told of each send's outcome over a channel, with its target (holding the
 * full recipient: mask it before it goes anywhere), delivery id, the
 * challenge whose code it carried ("" for a Send), and the caller's tenant
 * (undefined for background work without one).
 */
export type DeliveryObserver = (
  channel: ChannelKind,
  outcome: "accepted" | "failed",
  target: TargetRecord,
  deliveryId: string,
  challengeId: string,
  tenantId: string | undefined,
) => void;

/** What a single send needs from the dispatcher that makes it. */
export interface SendDeps {
  byKind: ReadonlyMap<ChannelKind, Channel>;
  /** The store as the call's tenant sees it. */
  store: Pick<DeliveryStore, "createDelivery" | "appendDeliveryEvent">;
  /** The call's tenant; undefined for work that sees every tenant. */
  scope: TenantScope | undefined;
  templates: Templates;
  /** How long a delivery record stays readable, in milliseconds (plus any self-destruct delay). */
  retentionMs: number;
  tracer: Tracer;
  now: () => number;
  viaOutbox: (kind: ChannelKind) => boolean;
  observe?: DeliveryObserver;
  onError?: (channel: ChannelKind, err: unknown) => void;
  onRetry?: (channel: ChannelKind, err: DeliveryError, attempt: number, delayMs: number) => void;
}

/** The limits a caller may put on one send. */
export type AttemptLimits = Pick<SendOptions, "maxTotalMs" | "maxAttempts" | "signal">;

/**
 * Stores a new, queued delivery record for `target`, unless one with its id
 * exists (then "replay" for the same fingerprint, "conflict" otherwise).
 */
export function beginDelivery(
  deps: SendDeps,
  input: { id: string; target: TargetRecord; challengeId: string; idempotencyFingerprint: string },
): ReturnType<DeliveryStore["createDelivery"]> {
  const { id, target, challengeId, idempotencyFingerprint } = input;
  const createdAtMs = deps.now();
  const record: DeliveryRecord = {
    id,
    channel: target.channel,
    recipientMasked: maskRecipient(target.recipient),
    challengeId,
    createdAtMs,
    deleteAtMs: 0,
    providerMessageId: "",
    idempotencyFingerprint,
    // A self-destructing message stays readable until well after its deletion.
    retainUntilMs: createdAtMs + deps.retentionMs + target.selfDestructSeconds * 1000,
    events: [{ status: "queued", atMs: createdAtMs, reason: "", attempt: 0 }],
  };
  return deps.store.createDelivery(record);
}

/**
 * Sends over the target's channel and records the outcome on the delivery
 * `deliveryId`, inside one `delivery.send` span, so the provider's HTTP
 * calls, retries included, sit under it. Provider failures are in the
 * outcome, not thrown.
 */
export function attemptSend(
  deps: SendDeps,
  deliveryId: string,
  target: TargetRecord,
  content: MessageContent,
  challengeId: string,
  limits?: AttemptLimits,
): Promise<AttemptOutcome> {
  const message = messageFor(deps.templates, target, content, challengeId, deps.scope);
  return deps.tracer.startActiveSpan(
    "delivery.send",
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        "otp.channel": target.channel,
        "otp.delivery_id": deliveryId,
        "otp.via_outbox": deps.viaOutbox(target.channel),
      },
    },
    async (span): Promise<AttemptOutcome> => {
      const outcome = await sendOnce(deps, span, deliveryId, target.channel, message, limits);
      deps.observe?.(
        target.channel,
        outcome.ok ? "accepted" : "failed",
        target,
        deliveryId,
        challengeId,
        deps.scope?.tenantId,
      );
      describeOutcome(span, outcome);
      try {
        await recordOutcome(deps, deliveryId, outcome);
      } catch (err) {
        // The provider has the message either way; losing its status is
        // better than sending it twice, so the send stands.
        deps.onError?.(target.channel, err);
      } finally {
        span.end();
      }
      return outcome;
    },
  );
}

// The message a channel is handed: code messages carry the code, so channels
// with templates of their own render it; the text is the built-in rendering.
function messageFor(
  templates: Templates,
  target: TargetRecord,
  content: MessageContent,
  challengeId: string,
  scope: TenantScope | undefined,
): OutgoingMessage {
  return {
    recipient: target.recipient,
    ...(scope === undefined ? {} : { tenantId: scope.tenantId }),
    text:
      content.kind === "text" ? content.text : templates.render(target.channel, content.code).text,
    challengeId,
    selfDestructSeconds: selfDestructOf(target, content),
    ...(content.kind === "code" ? { code: content.code } : {}),
    ...(content.kind === "text" && content.subject !== undefined
      ? { subject: content.subject }
      : {}),
  };
}

// A code does not outlive its use: a Telegram message carrying one is deleted
// when the code expires, or sooner when the target asks for it.
function selfDestructOf(target: TargetRecord, content: MessageContent): number {
  const asked = target.selfDestructSeconds;
  if (target.channel !== "telegram" || content.kind !== "code") return asked;
  const ttl = Math.max(1, Math.ceil(content.code.ttlSeconds));
  return asked === 0 ? ttl : Math.min(asked, ttl);
}

// Calls the channel, turning any failure into an outcome with its reason.
async function sendOnce(
  deps: SendDeps,
  span: Span,
  deliveryId: string,
  kind: ChannelKind,
  message: OutgoingMessage,
  limits: AttemptLimits | undefined,
): Promise<AttemptOutcome> {
  const channel = deps.byKind.get(kind);
  try {
    if (channel === undefined) throw new Error(`no ${kind} channel`);
    const receipt = await channel.send(message, deliveryId, {
      ...limits,
      onRetry: (err, n, delayMs) => {
        span.addEvent("retry", { attempt: n, delay_ms: delayMs, reason: err.reason });
        deps.onRetry?.(kind, err, n, delayMs);
      },
    });
    return { ok: true, receipt: receipt ?? { providerMessageId: "", status: "sent", attempts: 1 } };
  } catch (err) {
    deps.onError?.(kind, err);
    return {
      ok: false,
      reason: failureReasonOf(err),
      attempts: isDeliveryError(err) ? err.attempts : 1,
    };
  }
}

function describeOutcome(span: Span, outcome: AttemptOutcome): void {
  span.setAttribute("otp.outcome", outcome.ok ? "accepted" : "failed");
  span.setAttribute(
    "otp.attempts",
    outcome.ok ? (outcome.receipt.attempts ?? 1) : outcome.attempts,
  );
  if (!outcome.ok) {
    span.setAttribute("otp.reason", outcome.reason);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
  }
}

async function recordOutcome(
  deps: SendDeps,
  deliveryId: string,
  outcome: AttemptOutcome,
): Promise<void> {
  if (outcome.ok) {
    const { receipt } = outcome;
    await deps.store.appendDeliveryEvent(
      deliveryId,
      { status: receipt.status, atMs: deps.now(), reason: "", attempt: receipt.attempts ?? 1 },
      receipt.providerMessageId === "" ? undefined : receipt.providerMessageId,
      receipt.deleteAtMs,
    );
  } else {
    await deps.store.appendDeliveryEvent(deliveryId, {
      status: "failed",
      atMs: deps.now(),
      reason: outcome.reason,
      attempt: outcome.attempts,
    });
  }
}
