import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { DeliveryService } from "../../gen/otp/v1/delivery_pb.js";
import { channelToProto } from "../proto-mapping.js";
import type { ChannelKind, Store } from "../store/store.js";
import type { Dispatcher } from "./dispatcher.js";
import { deliveryErrors } from "./errors.js";

/** Options for {@link createDeliveryHandlers}. */
export interface DeliveryHandlerOptions {
  store: Store;
  dispatcher: Dispatcher;
  /** False in production: ListOutbox is then refused. */
  outboxEnabled: boolean;
  now?: () => number;
}

const allChannels: ChannelKind[] = ["telegram", "sms", "whatsapp", "email", "outbox"];
const maxPageSize = 500;

/** The DeliveryService handlers. */
export function createDeliveryHandlers(
  options: DeliveryHandlerOptions,
): Partial<ServiceImpl<typeof DeliveryService>> {
  const now = options.now ?? Date.now;
  return {
    async listChannels() {
      const registered = new Map(options.dispatcher.channels().map((c) => [c.kind, c]));
      const channels = await Promise.all(
        allChannels.map(async (kind) => {
          const channel = registered.get(kind);
          const viaOutbox = channel !== undefined && options.dispatcher.viaOutbox(kind);
          return {
            channel: channelToProto(kind),
            configured: channel !== undefined && (kind === "outbox" || !viaOutbox),
            healthy: channel === undefined ? false : await channel.healthy().catch(() => false),
            servedByOutbox: viaOutbox && kind !== "outbox",
            description: channel?.description ?? "not configured",
          };
        }),
      );
      return { channels };
    },

    async listOutbox(req) {
      if (!options.outboxEnabled) throw deliveryErrors.outboxDisabled();
      if (req.pageSize < 0 || req.pageSize > maxPageSize) {
        throw deliveryErrors.pageSizeInvalid(maxPageSize);
      }
      const entries = await options.store.listOutbox(
        {
          recipient: req.recipient === "" ? undefined : req.recipient,
          challengeId: req.challengeId === "" ? undefined : req.challengeId.toLowerCase(),
          limit: req.pageSize === 0 ? 50 : req.pageSize,
        },
        now(),
      );
      return {
        messages: entries.map((e) => ({
          id: e.id,
          channel: channelToProto(e.channel),
          recipient: e.recipient,
          text: e.text,
          challengeId: e.challengeId,
          createdAt: timestampFromMs(e.createdAtMs),
        })),
      };
    },
  };
}
