import { randomUUID } from "node:crypto";
import type { ChannelKind, DeliveryAttemptRecord, TargetRecord } from "../store/store.js";
import type { Channel } from "./channel.js";
import { maskRecipient } from "./mask.js";

/** Reports the outcome of each send, for metrics. */
export type DeliveryObserver = (channel: ChannelKind, outcome: "accepted" | "failed") => void;

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions {
  channels: readonly Channel[];
  /** Channels served by the development outbox instead of a provider. */
  outboxStandIns?: readonly ChannelKind[];
  observe?: DeliveryObserver;
  /**
   * Asks whether a target may be sent to now (the per-recipient quota). A
   * refused target is recorded as failed with reason RATE_LIMITED, and the
   * next target is tried.
   */
  admit?: (target: TargetRecord) => Promise<{ allowed: boolean; retryAfterMs: number }>;
  /** Receives provider errors for logging; the client only ever sees a reason. */
  onError?: (channel: ChannelKind, err: unknown) => void;
}

/** Sends a message to a list of targets, each a fallback for the ones before it. */
export interface Dispatcher {
  /** Tells whether a channel can be used at all. */
  has(kind: ChannelKind): boolean;
  /** The registered channels. */
  channels(): readonly Channel[];
  /** True when the outbox stands in for this channel. */
  viaOutbox(kind: ChannelKind): boolean;
  /**
   * Tries each target in order until one channel accepts the message; later
   * targets are recorded as skipped. Provider failures are in the result,
   * not thrown.
   */
  deliver(
    targets: readonly TargetRecord[],
    render: (target: TargetRecord) => string,
    challengeId: string,
  ): Promise<DeliveryResult>;
}

/** What {@link Dispatcher.deliver} did. */
export interface DeliveryResult {
  attempts: DeliveryAttemptRecord[];
  /** When targets were refused by their quota, the shortest wait before one would be admitted. */
  retryAfterMs: number;
}

/** Creates a {@link Dispatcher} over the given channel adapters. */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const byKind = new Map<ChannelKind, Channel>(options.channels.map((c) => [c.kind, c]));
  const standIns = new Set(options.outboxStandIns ?? []);
  return {
    has: (kind) => byKind.has(kind),
    channels: () => [...byKind.values()],
    viaOutbox: (kind) => kind === "outbox" || standIns.has(kind),
    async deliver(targets, render, challengeId) {
      const attempts: DeliveryAttemptRecord[] = [];
      let accepted = false;
      let retryAfterMs = 0;
      for (const target of targets) {
        const base = {
          channel: target.channel,
          recipientMasked: maskRecipient(target.recipient),
          viaOutbox: target.channel === "outbox" || standIns.has(target.channel),
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
        try {
          await channel.send(
            {
              recipient: target.recipient,
              text: render(target),
              challengeId,
              selfDestructSeconds: target.selfDestructSeconds,
            },
            deliveryId,
          );
          accepted = true;
          options.observe?.(target.channel, "accepted");
          attempts.push({ ...base, status: "accepted", deliveryId, errorReason: "" });
        } catch (err) {
          options.observe?.(target.channel, "failed");
          options.onError?.(target.channel, err);
          attempts.push({ ...base, status: "failed", deliveryId, errorReason: "DELIVERY_FAILED" });
        }
      }
      return { attempts, retryAfterMs };
    },
  };
}
