import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type DeliveryService,
  DeliveryStatus,
  type SendRequest,
} from "../../gen/otp/v1/delivery_pb.js";
import type { ChannelKind } from "../core/channel-kind.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { DeliveryStatus as StatusName } from "../delivery/channel.js";
import type {
  DeliveryView,
  SendInput,
  DeliveryService as Service,
} from "../delivery/delivery-service.js";
import type { DeliveryEventRecord, OutboxStore } from "../delivery/delivery-store.js";
import type { Dispatcher } from "../delivery/dispatcher.js";
import { deliveryErrors } from "../delivery/errors.js";
import type { EffectiveSettings } from "../tenancy/effective-settings.js";
import { callerKey, tenantScopeKey } from "./caller.js";
import { channelFromProto, channelToProto, optionalTimestamp } from "./convert.js";

/** Options for {@link createDeliveryHandlers}. */
export interface DeliveryHandlerOptions {
  /** The outbox as a call's tenant sees it (store/tenant-store.ts): its own messages only. */
  outbox: (scope: TenantScope | undefined) => OutboxStore;
  dispatcher: Dispatcher;
  /** Send, GetDelivery, WatchDelivery and CreateTelegramLink. */
  service: Service;
  /** False in production: ListOutbox is then refused. */
  outboxEnabled: boolean;
  now?: () => number;
}

const allChannels: ChannelKind[] = [
  "telegram",
  "sms",
  "whatsapp",
  "email",
  "outbox",
  "telegram_gateway",
  "voice",
];
const maxPageSize = 500;

const statuses: Record<StatusName, DeliveryStatus> = {
  queued: DeliveryStatus.QUEUED,
  sent: DeliveryStatus.SENT,
  delivered: DeliveryStatus.DELIVERED,
  failed: DeliveryStatus.FAILED,
  deleted: DeliveryStatus.DELETED,
};

function eventToProto(event: DeliveryEventRecord) {
  return {
    status: statuses[event.status],
    at: timestampFromMs(event.atMs),
    reason: event.reason,
    attempt: event.attempt,
  };
}

function deliveryToProto(d: DeliveryView) {
  return {
    id: d.id,
    channel: channelToProto(d.channel),
    recipientMasked: d.recipientMasked,
    status: statuses[d.status],
    history: d.history.map(eventToProto),
    challengeId: d.challengeId,
    createdAt: optionalTimestamp(d.createdAtMs),
    deleteAt: optionalTimestamp(d.deleteAtMs),
  };
}

/** The DeliveryService handlers: protobuf in, domain call, protobuf out. */
export function createDeliveryHandlers(
  options: DeliveryHandlerOptions,
): ServiceImpl<typeof DeliveryService> {
  return { ...deliveryHandlers(options.service), ...channelHandlers(options) };
}

type DeliveryHandlers = ServiceImpl<typeof DeliveryService>;

// Send, GetDelivery, WatchDelivery, CreateTelegramLink: the delivery domain's calls.
function deliveryHandlers(
  service: Service,
): Pick<DeliveryHandlers, "send" | "getDelivery" | "watchDelivery" | "createTelegramLink"> {
  return {
    async send(req, ctx) {
      const delivery = await service.send(
        sendInputFrom(req),
        // Sends are cut short in time for the answer to reach the caller; the
        // tenant's settings come from the cached credential.
        withSettings(ctx.values.get(callerKey)?.settings, {
          timeoutMs: ctx.timeoutMs(),
          scope: ctx.values.get(tenantScopeKey),
        }),
      );
      return { delivery: deliveryToProto(delivery) };
    },

    async getDelivery(req, ctx) {
      const view = await service.get(req.id, ctx.values.get(tenantScopeKey));
      return { delivery: deliveryToProto(view) };
    },

    async *watchDelivery(req, ctx) {
      const scope = ctx.values.get(tenantScopeKey);
      for await (const event of service.watch(req.id, ctx.signal, scope)) {
        yield { event: eventToProto(event) };
      }
    },

    async createTelegramLink(req, ctx) {
      const link = await service.createTelegramLink(req.accountId, ctx.values.get(tenantScopeKey));
      return { url: link.url, expiresAt: optionalTimestamp(link.expiresAtMs) };
    },
  };
}

// ListChannels and ListOutbox: what is configured, and the development outbox.
function channelHandlers(
  options: DeliveryHandlerOptions,
): Pick<DeliveryHandlers, "listChannels" | "listOutbox"> {
  const now = options.now ?? Date.now;
  return {
    async listChannels() {
      return { channels: await listChannelInfo(options.dispatcher) };
    },

    async listOutbox(req, ctx) {
      if (!options.outboxEnabled) throw deliveryErrors.outboxDisabled();
      if (req.pageSize < 0 || req.pageSize > maxPageSize) {
        throw deliveryErrors.pageSizeInvalid(maxPageSize);
      }
      const entries = await options.outbox(ctx.values.get(tenantScopeKey)).listOutbox(
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

function sendInputFrom(req: SendRequest): SendInput {
  const content =
    req.content.case === "text"
      ? { kind: "text" as const, text: req.content.value }
      : req.content.case === "otp"
        ? {
            kind: "otp" as const,
            code: req.content.value.code,
            ttlSeconds: req.content.value.ttlSeconds,
          }
        : { kind: "none" as const };
  return {
    channel: channelFromProto(req.channel),
    recipient: req.recipient,
    content,
    selfDestructSeconds: req.selfDestructSeconds,
    idempotencyKey: req.idempotencyKey,
    locale: req.locale,
  };
}

function withSettings<L extends { timeoutMs?: number; scope?: TenantScope | undefined }>(
  settings: EffectiveSettings | undefined,
  limits: L,
): L & { settings?: EffectiveSettings } {
  return settings === undefined ? limits : { ...limits, settings };
}

/**
 * Every channel as ListChannels reports it: configured, healthy (the
 * provider's own check), served by the outbox. GetSystemHealth reports the same.
 */
export async function listChannelInfo(dispatcher: Dispatcher) {
  const registered = new Map(dispatcher.channels().map((c) => [c.kind, c]));
  return Promise.all(
    allChannels.map(async (kind) => {
      const channel = registered.get(kind);
      const viaOutbox = channel !== undefined && dispatcher.viaOutbox(kind);
      return {
        channel: channelToProto(kind),
        configured: channel !== undefined && (kind === "outbox" || !viaOutbox),
        healthy: channel === undefined ? false : await channel.healthy().catch(() => false),
        servedByOutbox: viaOutbox && kind !== "outbox",
        description: channel?.description ?? "not configured",
      };
    }),
  );
}
