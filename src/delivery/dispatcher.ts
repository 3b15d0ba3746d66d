import { randomUUID } from "node:crypto";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ChannelKind } from "../core/channel-kind.js";
import type { DeliveryAttemptRecord, TargetRecord } from "../otp/challenge-store.js";
import type { Channel, CodeContent, OutgoingMessage, SendOptions, SendReceipt } from "./channel.js";
import { type DeliveryError, failureReasonOf, isDeliveryError } from "./delivery-error.js";
import type { DeliveryRecord, DeliveryStore } from "./delivery-store.js";
import { maskRecipient } from "./mask.js";
import { createTemplates, type Templates } from "./templates.js";

/** Reports the outcome of each send, for metrics. */
export type DeliveryObserver = (channel: ChannelKind, outcome: "accepted" | "failed") => void;

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions {
  channels: readonly Channel[];
  /** Channels served by the development outbox instead of a provider. */
  outboxStandIns?: readonly ChannelKind[];
  /** Where every delivery and its status history is recorded. */
  store: DeliveryStore;
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
   * Asks whether a target may be sent to now (the per-recipient quota). A
   * refused target is recorded as failed with reason RATE_LIMITED, and the
   * next target is tried.
   */
  admit?: (target: TargetRecord) => Promise<{ allowed: boolean; retryAfterMs: number }>;
  /** Receives provider errors for logging; the client only ever sees a reason. */
  onError?: (channel: ChannelKind, err: unknown) => void;
  /** Told before each retry of a provider call, for logs. */
  onRetry?: (channel: ChannelKind, err: DeliveryError, attempt: number, delayMs: number) => void;
  now?: () => number;
}

/** What a message says: a code rendered from the channel's template, or free text. */
export type MessageContent =
  | { kind: "code"; code: CodeContent }
  | { kind: "text"; text: string; subject?: string };

/** The outcome of {@link Dispatcher.attempt}. */
export type AttemptOutcome =
  | { ok: true; receipt: SendReceipt }
  | { ok: false; reason: string; attempts: number };

/** Sends messages over channels and records what became of each. */
export interface Dispatcher {
  /** Asks the per-recipient and per-tenant quotas whether a target may be sent to now. */
  admit(target: TargetRecord): Promise<{ allowed: boolean; retryAfterMs: number }>;
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
  begin(input: {
    id: string;
    target: TargetRecord;
    challengeId: string;
    idempotencyFingerprint: string;
  }): ReturnType<DeliveryStore["createDelivery"]>;
  /** Sends over the target's channel and records the outcome on the delivery `deliveryId`. */
  attempt(
    deliveryId: string,
    target: TargetRecord,
    content: MessageContent,
    challengeId: string,
    options?: Pick<SendOptions, "maxTotalMs" | "maxAttempts" | "signal">,
  ): Promise<AttemptOutcome>;
}

/** Options for {@link Dispatcher.deliver}. */
export interface DeliverOptions {
  /**
   * How long the caller waits for the answer, in milliseconds (the RPC's
   * deadline): sends are cut short so that the answer, with every attempt
   * recorded, still reaches it.
   */
  timeoutMs?: number;
}

/**
 * The time left before a caller's deadline, for one more send, keeping a
 * little for recording the outcome and answering; undefined without one.
 */
export function timeLeft(deadline: number | undefined): number | undefined {
  if (deadline === undefined) return undefined;
  return Math.max(1, deadline - performance.now() - answerMarginMs);
}

// Time kept back from a caller's deadline to record the outcome and answer.
const answerMarginMs = 250;

/** What {@link Dispatcher.deliver} did. */
export interface DeliveryResult {
  attempts: DeliveryAttemptRecord[];
  /** When targets were refused by their quota, the shortest wait before one would be admitted. */
  retryAfterMs: number;
}

/**
 * Creates a {@link Dispatcher} over the given channel adapters. Each send is
 * one span (`delivery.send`), so the provider's HTTP calls, retries included,
 * sit under it in the trace of the RPC that asked for it.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const byKind = new Map<ChannelKind, Channel>(options.channels.map((c) => [c.kind, c]));
  const standIns = new Set(options.outboxStandIns ?? []);
  const now = options.now ?? Date.now;
  const { store } = options;
  const templates = options.templates ?? createTemplates();
  const retentionMs = options.retentionMs ?? 86_400_000;
  const tracer = trace.getTracer("otp-service");
  const viaOutbox = (kind: ChannelKind) => kind === "outbox" || standIns.has(kind);

  const begin: Dispatcher["begin"] = ({ id, target, challengeId, idempotencyFingerprint }) => {
    const createdAtMs = now();
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
      retainUntilMs: createdAtMs + retentionMs + target.selfDestructSeconds * 1000,
      events: [{ status: "queued", atMs: createdAtMs, reason: "", attempt: 0 }],
    };
    return store.createDelivery(record);
  };

  const attempt: Dispatcher["attempt"] = (deliveryId, target, content, challengeId, limits) => {
    const channel = byKind.get(target.channel);
    const message: OutgoingMessage = {
      recipient: target.recipient,
      text:
        content.kind === "text"
          ? content.text
          : templates.render(target.channel, content.code).text,
      challengeId,
      selfDestructSeconds: target.selfDestructSeconds,
      ...(content.kind === "code" ? { code: content.code } : {}),
      ...(content.kind === "text" && content.subject !== undefined
        ? { subject: content.subject }
        : {}),
    };
    return tracer.startActiveSpan(
      "delivery.send",
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "otp.channel": target.channel,
          "otp.delivery_id": deliveryId,
          "otp.via_outbox": viaOutbox(target.channel),
        },
      },
      async (span): Promise<AttemptOutcome> => {
        let outcome: AttemptOutcome;
        try {
          if (channel === undefined) throw new Error(`no ${target.channel} channel`);
          const receipt = await channel.send(message, deliveryId, {
            ...limits,
            onRetry: (err, n, delayMs) => {
              span.addEvent("retry", { attempt: n, delay_ms: delayMs, reason: err.reason });
              options.onRetry?.(target.channel, err, n, delayMs);
            },
          });
          outcome = {
            ok: true,
            receipt: receipt ?? { providerMessageId: "", status: "sent", attempts: 1 },
          };
        } catch (err) {
          options.onError?.(target.channel, err);
          outcome = {
            ok: false,
            reason: failureReasonOf(err),
            attempts: isDeliveryError(err) ? err.attempts : 1,
          };
        }
        options.observe?.(target.channel, outcome.ok ? "accepted" : "failed");
        span.setAttribute("otp.outcome", outcome.ok ? "accepted" : "failed");
        span.setAttribute(
          "otp.attempts",
          outcome.ok ? (outcome.receipt.attempts ?? 1) : outcome.attempts,
        );
        if (!outcome.ok) {
          span.setAttribute("otp.reason", outcome.reason);
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.reason });
        }
        try {
          await record(deliveryId, outcome);
        } catch (err) {
          // The provider has the message either way; losing its status is
          // better than sending it twice, so the send stands.
          options.onError?.(target.channel, err);
        } finally {
          span.end();
        }
        return outcome;
      },
    );
  };

  const record = async (deliveryId: string, outcome: AttemptOutcome) => {
    if (outcome.ok) {
      const { receipt } = outcome;
      await store.appendDeliveryEvent(
        deliveryId,
        { status: receipt.status, atMs: now(), reason: "", attempt: receipt.attempts ?? 1 },
        receipt.providerMessageId === "" ? undefined : receipt.providerMessageId,
        receipt.deleteAtMs,
      );
    } else {
      await store.appendDeliveryEvent(deliveryId, {
        status: "failed",
        atMs: now(),
        reason: outcome.reason,
        attempt: outcome.attempts,
      });
    }
  };

  return {
    admit: (target) =>
      options.admit === undefined
        ? Promise.resolve({ allowed: true, retryAfterMs: 0 })
        : options.admit(target),
    has: (kind) => byKind.has(kind),
    channels: () => [...byKind.values()],
    viaOutbox,
    begin,
    attempt,
    async deliver(targets, code, challengeId, deliverOptions = {}) {
      const deadline =
        deliverOptions.timeoutMs === undefined
          ? undefined
          : performance.now() + deliverOptions.timeoutMs;
      const attempts: DeliveryAttemptRecord[] = [];
      let accepted = false;
      let retryAfterMs = 0;
      for (const [index, target] of targets.entries()) {
        const base = {
          channel: target.channel,
          recipientMasked: maskRecipient(target.recipient),
          viaOutbox: viaOutbox(target.channel),
        };
        if (accepted) {
          attempts.push({ ...base, status: "skipped", deliveryId: "", errorReason: "" });
          continue;
        }
        const channel = byKind.get(target.channel);
        if (channel === undefined) {
          attempts.push({
            ...base,
            status: "failed",
            deliveryId: "",
            errorReason: "CHANNEL_NOT_CONFIGURED",
          });
          continue;
        }
        if (options.admit !== undefined) {
          const admission = await options.admit(target);
          if (!admission.allowed) {
            retryAfterMs =
              retryAfterMs === 0
                ? admission.retryAfterMs
                : Math.min(retryAfterMs, admission.retryAfterMs);
            attempts.push({
              ...base,
              status: "failed",
              deliveryId: "",
              errorReason: "RATE_LIMITED",
            });
            continue;
          }
        }
        const deliveryId = randomUUID();
        await begin({ id: deliveryId, target, challengeId, idempotencyFingerprint: "" });
        // With a fallback waiting, a channel gets a shorter budget, and a
        // channel that is failing right now gets a single try.
        const hasFallback = index < targets.length - 1;
        const budgets = [hasFallback ? options.fallbackBudgetMs : undefined, timeLeft(deadline)];
        const limits = {
          ...(budgets.some((b) => b !== undefined)
            ? { maxTotalMs: Math.min(...budgets.map((b) => b ?? Number.POSITIVE_INFINITY)) }
            : {}),
          ...(hasFallback && !(await channel.healthy().catch(() => false))
            ? { maxAttempts: 1 }
            : {}),
        };
        const outcome = await attempt(
          deliveryId,
          target,
          { kind: "code", code },
          challengeId,
          limits,
        );
        if (outcome.ok) {
          accepted = true;
          attempts.push({ ...base, status: "accepted", deliveryId, errorReason: "" });
        } else {
          attempts.push({ ...base, status: "failed", deliveryId, errorReason: outcome.reason });
        }
      }
      return { attempts, retryAfterMs };
    },
  };
}
