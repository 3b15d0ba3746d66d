import type { ChannelKind } from "../../core/channel-kind.js";
import type { Channel, OutgoingMessage } from "../channel.js";
import type { OutboxStore } from "../delivery-store.js";

/** Options for {@link createOutboxChannel}. */
export interface OutboxChannelOptions {
  store: OutboxStore;
  /** The channel this outbox stands in for; "outbox" for the outbox itself. */
  kind: ChannelKind;
  /** How long recorded messages stay readable, in milliseconds. */
  retentionMs: number;
  now?: () => number;
}

/**
 * The development outbox: records each message in the store, readable through
 * `DeliveryService.ListOutbox`, instead of sending it. It can stand in for any
 * channel that has no provider configured, so a sign-in flow works end to end
 * on a laptop. Production refuses it.
 */
export function createOutboxChannel(options: OutboxChannelOptions): Channel {
  const now = options.now ?? Date.now;
  return {
    kind: options.kind,
    description:
      options.kind === "outbox"
        ? "development outbox"
        : "development outbox (no provider configured)",
    async send(message: OutgoingMessage, deliveryId: string) {
      await options.store.appendOutbox(
        {
          id: deliveryId,
          channel: options.kind,
          recipient: message.recipient,
          text: message.text,
          challengeId: message.challengeId,
          createdAtMs: now(),
          // Listed to its tenant alone (store/tenant-store.ts).
          ...(message.tenantId === undefined ? {} : { tenantId: message.tenantId }),
        },
        options.retentionMs,
      );
    },
    healthy: async () => true,
  };
}
