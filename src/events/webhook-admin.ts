import { randomBytes } from "node:crypto";
import { boundedText } from "../core/bounded-text.js";
import { OtpError } from "../core/otp-error.js";
import type { SecretBox } from "../core/secret-box.js";
import type { DueQueue } from "./due-queue.js";
import { isEventType, newEvent, webhookPayload } from "./event-types.js";
import { checkWebhookUrl } from "./outbound-guard.js";
import { messageItemId, type WebhookMessage } from "./webhook-fanout.js";
import type {
  EndpointHealth,
  WebhookAttemptRecord,
  WebhookEndpointRecord,
  WebhookStore,
} from "./webhook-store.js";

/** The bounds of what an endpoint holds. */
export const webhookLimits = {
  endpointsPerTenant: 10,
  eventTypes: 32,
  description: { min: 0, max: 200 },
  /** Secrets signing at once (the current one and rotated-out ones). */
  secrets: 5,
  overlap: { defaultMs: 86_400_000, maxMs: 7 * 86_400_000 },
  attempts: { default: 50, max: 100 },
} as const;

/** What an endpoint change asks for; unset fields stay as they are. */
export interface EndpointPatch {
  url?: string;
  eventTypes?: string[];
  description?: string;
  enabled?: boolean;
}

/** An endpoint with its failure streak, as listings show it. */
export type EndpointView = WebhookEndpointRecord & { health: EndpointHealth };

/** Options for {@link createWebhookAdmin}. */
export interface WebhookAdminOptions {
  store: WebhookStore;
  messages: Pick<DueQueue, "add" | "replay">;
  box: SecretBox;
  /** Whether URLs may point at private addresses, and whether they must be https. */
  rules: { allowPrivate: boolean; requireHttps: boolean };
  /** Told of every change, so this process's fan-out reads endpoints afresh. */
  onChange?: () => void;
  now?: () => number;
}

const invalid = (field: string, why: string) =>
  new OtpError("WEBHOOK_ENDPOINT_INVALID", why, { field });
const notFound = () =>
  new OtpError("WEBHOOK_ENDPOINT_NOT_FOUND", "no webhook endpoint has this id");

/** A new signing secret in the Standard Webhooks form: "whsec_" and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

// The checks and helpers every operation shares.
function adminContext(options: WebhookAdminOptions) {
  const { store, box } = options;
  const now = options.now ?? Date.now;
  return {
    store,
    now,
    changed: () => options.onChange?.(),
    url(raw: string) {
      const checked = checkWebhookUrl(raw, options.rules);
      if ("refused" in checked) throw invalid("url", checked.refused);
      return checked.url;
    },
    eventTypes(raw: readonly string[]) {
      if (raw.length > webhookLimits.eventTypes || raw.some((t) => !isEventType(t))) {
        throw invalid(
          "event_types",
          "event_types must name known event types (see docs/webhooks.md)",
        );
      }
      return [...new Set(raw)];
    },
    description(raw: string) {
      const text = boundedText(raw, webhookLimits.description);
      if (text === undefined)
        throw invalid("description", "description must be at most 200 characters");
      return text;
    },
    sealSecret: (endpointId: string, secret: string, nowMs: number) => ({
      id: `whs_${randomBytes(4).toString("hex")}`,
      sealed: box.seal(secret, endpointId),
      createdAtMs: nowMs,
      expiresAtMs: 0,
    }),
    async existing(id: string, tenantId?: string) {
      const endpoint = id === "" || id.length > 64 ? undefined : await store.getEndpoint(id);
      if (endpoint === undefined || (tenantId !== undefined && endpoint.tenantId !== tenantId)) {
        throw notFound();
      }
      return endpoint;
    },
    view: async (e: WebhookEndpointRecord): Promise<EndpointView> => ({
      ...e,
      health: await store.getHealth(e.id),
    }),
  };
}
type AdminContext = ReturnType<typeof adminContext>;

/**
 * Webhook endpoints as AdminService manages them: checked URLs and event
 * types, secrets made here and stored only sealed (shown once, on create and
 * rotate), rotation with an overlap, test and replay messages.
 */
export function createWebhookAdmin(options: WebhookAdminOptions) {
  const c = adminContext(options);
  return {
    /** The endpoint, or WEBHOOK_ENDPOINT_NOT_FOUND (also for another tenant's, when `tenantId` is given). */
    get: (id: string, tenantId?: string) => c.existing(id, tenantId).then(c.view),
    list: async (tenantId: string) =>
      Promise.all((await c.store.listEndpoints(tenantId)).map(c.view)),
    async attempts(id: string, limit: number, tenantId?: string): Promise<WebhookAttemptRecord[]> {
      await c.existing(id, tenantId);
      return c.store.listAttempts(id, limit);
    },
    async remove(id: string, tenantId?: string) {
      const endpoint = await c.existing(id, tenantId);
      await c.store.deleteEndpoint(id);
      c.changed();
      return endpoint;
    },
    ...endpointChanges(c),
    ...endpointMessages(c, options.messages),
  };
}

// Create, update and rotate.
function endpointChanges(c: AdminContext) {
  return {
    async create(input: {
      tenantId: string;
      url: string;
      eventTypes: string[];
      description: string;
    }) {
      const record: WebhookEndpointRecord = {
        id: `whe_${randomBytes(8).toString("hex")}`,
        tenantId: input.tenantId,
        url: c.url(input.url),
        eventTypes: c.eventTypes(input.eventTypes),
        description: c.description(input.description),
        secrets: [],
        createdAtMs: c.now(),
        disabledAtMs: 0,
        disabledReason: "",
      };
      const count = (await c.store.listEndpoints(input.tenantId)).length;
      if (count >= webhookLimits.endpointsPerTenant) {
        throw new OtpError("WEBHOOK_ENDPOINT_LIMIT", "the tenant has the most endpoints allowed", {
          metadata: { max: String(webhookLimits.endpointsPerTenant) },
        });
      }
      const secret = newWebhookSecret();
      record.secrets.push(c.sealSecret(record.id, secret, record.createdAtMs));
      await c.store.putEndpoint(record);
      c.changed();
      return { endpoint: await c.view(record), secret };
    },

    async update(id: string, patch: EndpointPatch, tenantId?: string) {
      const endpoint = await c.existing(id, tenantId);
      const next = { ...endpoint };
      if (patch.url !== undefined) next.url = c.url(patch.url);
      if (patch.eventTypes !== undefined) next.eventTypes = c.eventTypes(patch.eventTypes);
      if (patch.description !== undefined) next.description = c.description(patch.description);
      if (patch.enabled === true && endpoint.disabledAtMs !== 0) {
        next.disabledAtMs = 0;
        next.disabledReason = "";
        await c.store.recordOutcome(id, true, c.now());
      } else if (patch.enabled === false && endpoint.disabledAtMs === 0) {
        next.disabledAtMs = c.now();
        next.disabledReason = "disabled by an admin";
      }
      await c.store.putEndpoint(next);
      c.changed();
      return c.view(next);
    },

    async rotate(id: string, overlapMs: number, tenantId?: string) {
      if (
        !Number.isInteger(overlapMs) ||
        overlapMs < 0 ||
        overlapMs > webhookLimits.overlap.maxMs
      ) {
        throw invalid("overlap_seconds", "overlap_seconds must be 0 (24 hours) to 604800 (7 days)");
      }
      const endpoint = await c.existing(id, tenantId);
      const nowMs = c.now();
      const until = nowMs + (overlapMs === 0 ? webhookLimits.overlap.defaultMs : overlapMs);
      // Earlier secrets sign until the overlap ends (or sooner, if they were set to); lapsed ones go.
      const kept = endpoint.secrets
        .filter((s) => s.expiresAtMs === 0 || s.expiresAtMs > nowMs)
        .map((s) => ({
          ...s,
          expiresAtMs: s.expiresAtMs === 0 ? until : Math.min(s.expiresAtMs, until),
        }))
        .slice(-(webhookLimits.secrets - 1));
      const secret = newWebhookSecret();
      const next = { ...endpoint, secrets: [...kept, c.sealSecret(id, secret, nowMs)] };
      await c.store.putEndpoint(next);
      c.changed();
      return { endpoint: await c.view(next), secret };
    },
  };
}

// SendTestWebhook and ReplayWebhookEvent.
function endpointMessages(c: AdminContext, messages: Pick<DueQueue, "add" | "replay">) {
  return {
    /** Queues a "webhook.test" event to one endpoint, due now; answers its message id. */
    async sendTest(id: string, tenantId?: string) {
      const endpoint = await c.existing(id, tenantId);
      const event = newEvent("webhook.test", endpoint.tenantId, c.now(), { endpoint_id: id });
      const message: WebhookMessage = {
        endpointId: id,
        tenantId: endpoint.tenantId,
        eventId: event.id,
        eventType: event.type,
        payload: webhookPayload(event),
      };
      const item = {
        id: messageItemId(id, event.id),
        body: JSON.stringify(message),
        dueMs: c.now(),
      };
      await messages.add([item], c.now());
      return { endpoint, messageId: event.id };
    },

    /** Sends a finished message again, with its webhook-id unchanged. */
    async replay(id: string, messageId: string, tenantId?: string) {
      const endpoint = await c.existing(id, tenantId);
      if (
        messageId.length > 64 ||
        !(await messages.replay(messageItemId(id, messageId), c.now()))
      ) {
        throw new OtpError("WEBHOOK_MESSAGE_NOT_FOUND", "no finished message with this id is kept");
      }
      return endpoint;
    },
  };
}

/** The endpoint administration {@link createWebhookAdmin} makes. */
export type WebhookAdmin = ReturnType<typeof createWebhookAdmin>;
