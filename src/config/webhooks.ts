import type { Mode } from "./schema.js";
import { type Area, flag, integer, type Values } from "./schema.js";

/** Outbound events: the batched flush, webhook delivery, retries and the SSRF rules. */
export const webhookVariables = {
  EVENT_FLUSH_MS: integer({
    default: 150,
    min: 10,
    max: 5000,
    unit: "ms",
    description:
      "How often each process writes the events it buffered, in one batch (live feed and webhook queue); events of the last interval are lost if the process dies.",
  }),
  WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: flag({
    defaultText: "`true` in development, `false` in production",
    description:
      "Whether webhook URLs may reach private, loopback and link-local addresses (checked at every send, against every address the host resolves to).",
  }),
  WEBHOOK_TIMEOUT_MS: integer({
    default: 10_000,
    min: 100,
    max: 60_000,
    unit: "ms",
    description: "The most one webhook attempt may take, connection to the last byte read.",
  }),
  WEBHOOK_POLL_MS: integer({
    default: 1000,
    min: 10,
    max: 60_000,
    unit: "ms",
    description: "How often each process claims due webhook messages and expiry timers.",
  }),
  WEBHOOK_RETRY_BASE_MS: integer({
    default: 5000,
    min: 10,
    max: 600_000,
    unit: "ms",
    description:
      "The first retry delay; each later one is four times longer (with jitter), up to `WEBHOOK_RETRY_MAX_DELAY_SECONDS`.",
  }),
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: integer({
    default: 14_400,
    min: 1,
    max: 86_400,
    unit: "s",
    description: "The longest delay between two attempts of one message.",
  }),
  WEBHOOK_RETRY_FOR_HOURS: integer({
    default: 26,
    min: 1,
    max: 168,
    unit: "h",
    description: "How long a message is retried after its first attempt before it is given up.",
  }),
  WEBHOOK_DISABLE_AFTER_FAILURES: integer({
    default: 100,
    min: 1,
    max: 100_000,
    description:
      "An endpoint is disabled after this many failed attempts in a row that have also lasted `WEBHOOK_DISABLE_AFTER_HOURS`.",
  }),
  WEBHOOK_DISABLE_AFTER_HOURS: integer({
    default: 24,
    min: 0,
    max: 720,
    unit: "h",
    description: "How long an endpoint must have failed without a success before it is disabled.",
  }),
};

/** The webhooks area of the reference. */
export const webhookArea: Area = {
  title: "Events and webhooks",
  summary:
    "Signed outbound events ([Webhooks](webhooks.md)): how often events are flushed, how webhooks are retried and disabled, and which destinations they may reach.",
  variables: webhookVariables,
};

/** The webhooks part of {@link Config}. */
export interface WebhookConfig {
  flushMs: number;
  allowPrivateDestinations: boolean;
  timeoutMs: number;
  pollMs: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  retryForMs: number;
  disableAfterFailures: number;
  disableAfterMs: number;
}

/** Reads the webhooks area. */
export function readWebhooks(v: Values<typeof webhookVariables>, mode: Mode): WebhookConfig {
  return {
    flushMs: v.EVENT_FLUSH_MS,
    allowPrivateDestinations: v.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS ?? mode !== "production",
    timeoutMs: v.WEBHOOK_TIMEOUT_MS,
    pollMs: v.WEBHOOK_POLL_MS,
    retryBaseMs: v.WEBHOOK_RETRY_BASE_MS,
    retryMaxDelayMs: v.WEBHOOK_RETRY_MAX_DELAY_SECONDS * 1000,
    retryForMs: v.WEBHOOK_RETRY_FOR_HOURS * 3_600_000,
    disableAfterFailures: v.WEBHOOK_DISABLE_AFTER_FAILURES,
    disableAfterMs: v.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
  };
}
