import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../gen/otp/v1/admin_pb.js";
import type { AuditRecorder } from "../audit/audit-recorder.js";
import { OtpError } from "../core/otp-error.js";
import type { EventFeed } from "../events/event-feed.js";
import { isEventType } from "../events/event-types.js";
import { watchEvents } from "../events/watch-events.js";
import { type WebhookAdmin, webhookLimits } from "../events/webhook-admin.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import { tenantOrThrow } from "./admin-convert.js";
import { ownTenantOrThrow } from "./admin-usage.js";
import { adminChange } from "./audit-context.js";
import { defaultTenantId } from "./caller.js";
import {
  attemptToProto,
  changeScope,
  endpointToProto,
  eventToProto,
  readableTenant,
} from "./webhook-convert.js";

/** What the webhook handlers need. */
export interface WebhookHandlerDeps {
  admin: AdminStore;
  webhooks: WebhookAdmin;
  feed: Pick<EventFeed, "listen" | "announceWatching">;
  audit: AuditRecorder;
  /** Aborts when the server shuts down: open watches end with SHUTTING_DOWN. */
  shutdown?: AbortSignal;
}

type WebhookHandlers = Pick<
  ServiceImpl<typeof AdminService>,
  | "createWebhookEndpoint"
  | "listWebhookEndpoints"
  | "updateWebhookEndpoint"
  | "rotateWebhookSecret"
  | "deleteWebhookEndpoint"
  | "listWebhookAttempts"
  | "sendTestWebhook"
  | "replayWebhookEvent"
  | "watchEvents"
>;

// Only the host goes into the trail: a URL's path or query may hold a token.
const hostOf = (url: string) => new URL(url).host;

type Record_ = (
  values: Parameters<typeof adminChange>[0],
  tenantId: string,
  action: string,
  target: string,
  details?: Record<string, string>,
) => Promise<void>;

/**
 * The webhook endpoints and WatchEvents of AdminService. Changes take the
 * admin credential and are audited; listings and the stream also take a
 * tenant's admin-read key, bound to its own tenant.
 */
export function createWebhookHandlers(deps: WebhookHandlerDeps): WebhookHandlers {
  const record: Record_ = (values, tenantId, action, target, details = {}) =>
    deps.audit.record(adminChange(values, { tenantId, action, target, details }));
  return {
    ...changeHandlers(deps, record),
    ...moreChangeHandlers(deps, record),
    ...readHandlers(deps),
  };
}

// CreateWebhookEndpoint, UpdateWebhookEndpoint, RotateWebhookSecret.
function changeHandlers(deps: WebhookHandlerDeps, record: Record_) {
  const { webhooks } = deps;
  return {
    async createWebhookEndpoint(req, ctx) {
      // "default" holds anonymous development callers: never created, yet it has events.
      const asked = ownTenantOrThrow(ctx, req.tenantId);
      const tenant =
        asked === defaultTenantId
          ? { id: defaultTenantId }
          : await tenantOrThrow(deps.admin, asked);
      const made = await webhooks.create({
        tenantId: tenant.id,
        url: req.url,
        eventTypes: req.eventTypes,
        description: req.description,
      });
      await record(ctx.values, tenant.id, "webhook.created", made.endpoint.id, {
        host: hostOf(made.endpoint.url),
        event_types: made.endpoint.eventTypes.join(",").slice(0, 200) || "*",
      });
      return { endpoint: endpointToProto(made.endpoint), secret: made.secret };
    },

    async updateWebhookEndpoint(req, ctx) {
      const endpoint = await webhooks.update(
        req.endpointId,
        {
          ...(req.url === undefined ? {} : { url: req.url }),
          ...(req.replaceEventTypes ? { eventTypes: req.eventTypes } : {}),
          ...(req.description === undefined ? {} : { description: req.description }),
          ...(req.enabled === undefined ? {} : { enabled: req.enabled }),
        },
        changeScope(ctx),
      );
      const details: Record<string, string> = { host: hostOf(endpoint.url) };
      if (req.enabled !== undefined) details.enabled = String(req.enabled);
      await record(ctx.values, endpoint.tenantId, "webhook.updated", endpoint.id, details);
      return { endpoint: endpointToProto(endpoint) };
    },

    async rotateWebhookSecret(req, ctx) {
      const rotated = await webhooks.rotate(
        req.endpointId,
        req.overlapSeconds * 1000,
        changeScope(ctx),
      );
      await record(
        ctx.values,
        rotated.endpoint.tenantId,
        "webhook.secret_rotated",
        rotated.endpoint.id,
        {
          overlap_seconds: String(req.overlapSeconds),
        },
      );
      return { endpoint: endpointToProto(rotated.endpoint), secret: rotated.secret };
    },
  } satisfies Partial<WebhookHandlers>;
}

// DeleteWebhookEndpoint, SendTestWebhook, ReplayWebhookEvent.
function moreChangeHandlers(deps: WebhookHandlerDeps, record: Record_) {
  const { webhooks } = deps;
  return {
    async deleteWebhookEndpoint(req, ctx) {
      const endpoint = await webhooks.remove(req.endpointId, changeScope(ctx));
      await record(ctx.values, endpoint.tenantId, "webhook.deleted", endpoint.id);
      return {};
    },

    async sendTestWebhook(req, ctx) {
      const sent = await webhooks.sendTest(req.endpointId, changeScope(ctx));
      await record(ctx.values, sent.endpoint.tenantId, "webhook.test_sent", sent.endpoint.id, {
        message_id: sent.messageId,
      });
      return { messageId: sent.messageId };
    },

    async replayWebhookEvent(req, ctx) {
      const endpoint = await webhooks.replay(req.endpointId, req.messageId, changeScope(ctx));
      await record(ctx.values, endpoint.tenantId, "webhook.replayed", endpoint.id, {
        message_id: req.messageId.slice(0, 64),
      });
      return { messageId: req.messageId };
    },
  } satisfies Partial<WebhookHandlers>;
}

// ListWebhookEndpoints, ListWebhookAttempts, WatchEvents.
function readHandlers(deps: WebhookHandlerDeps) {
  const { webhooks } = deps;
  return {
    async listWebhookEndpoints(req, ctx) {
      const tenantId = readableTenant(ctx, req.tenantId, false) as string;
      return { endpoints: (await webhooks.list(tenantId)).map(endpointToProto) };
    },

    async listWebhookAttempts(req, ctx) {
      const size = req.pageSize === 0 ? webhookLimits.attempts.default : req.pageSize;
      if (!Number.isInteger(size) || size < 1 || size > webhookLimits.attempts.max) {
        throw new OtpError("PAGE_SIZE_INVALID", "page_size must be 0 (50) or 1 to 100", {
          field: "page_size",
        });
      }
      const tenantId = readableTenant(ctx, "", true);
      const attempts = await webhooks.attempts(req.endpointId, size, tenantId);
      return { attempts: attempts.map(attemptToProto) };
    },

    async *watchEvents(req, ctx) {
      if (req.tenantId.length > 64) {
        throw new OtpError("EVENT_FILTER_INVALID", "tenant_id must be at most 64 characters", {
          field: "tenant_id",
        });
      }
      if (req.types.length > 32 || req.types.some((t) => !isEventType(t))) {
        throw new OtpError("EVENT_FILTER_INVALID", "types must name known event types", {
          field: "types",
        });
      }
      const tenantId = readableTenant(ctx, req.tenantId, true);
      const events = watchEvents(
        deps.feed,
        { tenantId, types: req.types },
        { signal: ctx.signal, shutdown: deps.shutdown },
      );
      for await (const event of events) yield { event: eventToProto(event) };
    },
  } satisfies Partial<WebhookHandlers>;
}
