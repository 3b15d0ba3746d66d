import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ChannelKind } from "../core/channel-kind.js";
import { OtpError } from "../core/otp-error.js";
import { canonicalJson } from "../otp/binding-hash.js";
import type { TargetRecord } from "../otp/challenge-store.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import { isUuid, validateIdempotencyKey } from "../otp/validate.js";
import type { DeliveryStatus } from "./channel.js";
import type { DeliveryEventRecord, DeliveryRecord, DeliveryStore } from "./delivery-store.js";
import { type Dispatcher, type MessageContent, timeLeft } from "./dispatcher.js";
import { deliveryErrors } from "./errors.js";
import { accountIdPattern, openRecipientPolicy } from "./recipients.js";
import { type TargetRules, validateLocale, validateTarget } from "./targets.js";

/** Send's input in plain types; "invalid" marks an enum value the service does not know. */
export interface SendInput {
  channel: ChannelKind | "invalid";
  recipient: string;
  content:
    | { kind: "text"; text: string }
    | { kind: "otp"; code: string; ttlSeconds: number }
    | { kind: "none" };
  selfDestructSeconds: number;
  idempotencyKey: string;
  locale: string;
}

/** A delivery as clients may see it: the recipient masked, the history in order. */
export interface DeliveryView {
  id: string;
  channel: ChannelKind;
  recipientMasked: string;
  /** The furthest status reached, whatever order the events arrived in. */
  status: DeliveryStatus;
  history: DeliveryEventRecord[];
  challengeId: string;
  createdAtMs: number;
  deleteAtMs: number;
}

/** Makes Telegram deep links that link a chat to an account id. */
export interface TelegramLinker {
  /** A single-use `https://t.me/<bot>?start=<token>` link for `accountId`, and when it expires. */
  create(accountId: string): Promise<{ url: string; expiresAtMs: number }>;
}

/** Options for {@link createDeliveryService}. */
export interface DeliveryServiceOptions {
  store: DeliveryStore;
  dispatcher: Dispatcher;
  hasher: CodeHasher;
  /** Which recipients this service sends to, and defaults for targets. */
  targetRules?: Omit<TargetRules, "usable">;
  /**
   * Tells whether a provider reports further statuses for a message it
   * accepted (Twilio with status callbacks), so WatchDelivery keeps waiting.
   */
  reportsStatus?: (channel: ChannelKind) => boolean;
  /** Makes Telegram link tokens; undefined when Telegram is not configured. */
  telegramLinker?: TelegramLinker;
  /** How often WatchDelivery reads the store, in milliseconds; 200 by default. */
  watchPollMs?: number;
  /** The longest a WatchDelivery stream stays open, in milliseconds; 5 minutes by default. */
  watchMaxMs?: number;
  /** Aborts when the server shuts down: open watches then end with SHUTTING_DOWN, so clients reconnect elsewhere. */
  shutdown?: AbortSignal;
  onRateLimited?: (limit: string) => void;
  now?: () => number;
}

/** The delivery domain behind `DeliveryService`: Send, GetDelivery, WatchDelivery. */
export interface DeliveryService {
  /**
   * Sends one message and returns its delivery. Retried requests with the
   * same idempotency key return the first delivery and send nothing. A
   * provider failure is a `DELIVERY_FAILED` error naming the delivery.
   */
  send(input: SendInput, limits?: { timeoutMs?: number }): Promise<DeliveryView>;
  get(id: string): Promise<DeliveryView>;
  /**
   * Yields the delivery's events, the past ones first, then new ones as the
   * store records them (read every `watchPollMs`, so events recorded by any
   * replica show up), until the delivery reaches a final status, nothing
   * more can happen to it, `signal` aborts or `watchMaxMs` passes; at
   * shutdown it fails with SHUTTING_DOWN.
   */
  watch(id: string, signal: AbortSignal): AsyncGenerator<DeliveryEventRecord>;
  /** A deep link that links a Telegram chat to `accountId`. */
  createTelegramLink(accountId: string): Promise<{ url: string; expiresAtMs: number }>;
}

const maxTextLength = 4096;

// Later statuses win over earlier ones, whatever order providers report them in.
const rank: Record<DeliveryStatus, number> = {
  queued: 0,
  sent: 1,
  delivered: 2,
  failed: 2,
  deleted: 3,
};

/** The furthest status a delivery's events reached. */
export function deliveryStatusOf(events: readonly DeliveryEventRecord[]): DeliveryStatus {
  let status: DeliveryStatus = "queued";
  for (const event of events) if (rank[event.status] > rank[status]) status = event.status;
  return status;
}

/** True when an event with `next` status says something new after `current`. */
export function advancesStatus(current: DeliveryStatus, next: DeliveryStatus): boolean {
  return rank[next] > rank[current];
}

/** Creates the {@link DeliveryService}. */
export function createDeliveryService(options: DeliveryServiceOptions): DeliveryService {
  const { store, dispatcher, hasher } = options;
  const now = options.now ?? Date.now;
  const pollMs = options.watchPollMs ?? 200;
  const watchMaxMs = options.watchMaxMs ?? 300_000;
  const rules: TargetRules = {
    recipients: options.targetRules?.recipients ?? openRecipientPolicy,
    telegramSelfDestructDefaultSeconds:
      options.targetRules?.telegramSelfDestructDefaultSeconds ?? 0,
    usable: (channel) => dispatcher.has(channel),
  };

  const stop = (signal: AbortSignal) =>
    options.shutdown === undefined ? signal : AbortSignal.any([signal, options.shutdown]);

  const view = (record: DeliveryRecord): DeliveryView => ({
    id: record.id,
    channel: record.channel,
    recipientMasked: record.recipientMasked,
    status: deliveryStatusOf(record.events),
    history: record.events,
    challengeId: record.challengeId,
    createdAtMs: record.createdAtMs,
    deleteAtMs: record.deleteAtMs,
  });

  // A send that failed before any provider took the message; a failure
  // reported later by the provider (a status callback) is not one.
  const sendFailure = (record: DeliveryRecord) => {
    const last = record.events.at(-1);
    return record.providerMessageId === "" && last?.status === "failed" ? last.reason : undefined;
  };

  // Whether anything can still happen to a delivery.
  const settled = (record: DeliveryRecord): boolean => {
    const status = deliveryStatusOf(record.events);
    if (rank[status] >= 2) return true;
    if (status === "queued" && record.providerMessageId === "") return false; // being sent
    if (record.channel === "telegram") return record.deleteAtMs === 0;
    if (record.channel === "sms" || record.channel === "whatsapp") {
      return record.providerMessageId === "" || options.reportsStatus?.(record.channel) !== true;
    }
    return true;
  };

  const replayOrConflict = (record: DeliveryRecord, fingerprint: string): DeliveryView => {
    if (record.idempotencyFingerprint !== fingerprint)
      throw deliveryErrors.idempotencyKeyConflict();
    const failure = sendFailure(record);
    // A replay answers as the first call did.
    if (failure !== undefined)
      throw deliveryErrors.deliveryFailed(record.channel, failure, record.id);
    return view(record);
  };

  const validateContent = (input: SendInput): MessageContent => {
    const { content } = input;
    if (
      content.kind === "text" &&
      content.text.trim() !== "" &&
      [...content.text].length <= maxTextLength
    ) {
      return { kind: "text", text: content.text };
    }
    if (
      content.kind === "otp" &&
      /^[\x21-\x7e]{4,64}$/.test(content.code) &&
      Number.isInteger(content.ttlSeconds) &&
      content.ttlSeconds >= 1 &&
      content.ttlSeconds <= 86_400
    ) {
      const locale = validateLocale(input.locale);
      return {
        kind: "code",
        code: {
          code: content.code,
          ttlSeconds: content.ttlSeconds,
          ...(locale === "" ? {} : { locale }),
        },
      };
    }
    throw deliveryErrors.contentInvalid(maxTextLength);
  };

  const validateId = (id: string) => {
    if (!isUuid(id)) throw deliveryErrors.idInvalid();
    return id.toLowerCase();
  };

  return {
    async send(input, limits = {}) {
      const deadline =
        limits.timeoutMs === undefined ? undefined : performance.now() + limits.timeoutMs;
      const target: TargetRecord = validateTarget(input, rules);
      validateLocale(input.locale);
      const content = validateContent(input);
      validateIdempotencyKey(input.idempotencyKey);
      const key = input.idempotencyKey;
      const id = key === "" ? randomUUID() : hasher.deliveryIdForIdempotencyKey(key);
      // Keyed, so a stolen store cannot reverse it into the code it covers.
      const fingerprint =
        key === ""
          ? ""
          : hasher.digest(
              "send-request",
              canonicalJson({
                target: { ...target },
                content: content.kind === "text" ? { ...content } : { ...content.code },
              }),
            );
      if (key !== "") {
        const existing = await store.getDelivery(id, now());
        if (existing !== undefined) return replayOrConflict(existing, fingerprint);
      }
      // The same quotas as a code's delivery: per recipient, and the tenant's per channel.
      const admission = await dispatcher.admit(target);
      if (!admission.allowed) {
        options.onRateLimited?.("sends");
        throw new OtpError("RATE_LIMITED", "too many messages; retry later", {
          retryAfterMs: admission.retryAfterMs,
          metadata: { limit: "sends" },
        });
      }
      const created = await dispatcher.begin({
        id,
        target,
        challengeId: "",
        idempotencyFingerprint: fingerprint,
      });
      if (created.kind === "conflict") throw deliveryErrors.idempotencyKeyConflict();
      if (created.kind === "replay") return replayOrConflict(created.record, fingerprint);
      const budget = timeLeft(deadline);
      const outcome = await dispatcher.attempt(
        id,
        target,
        content,
        "",
        budget === undefined ? {} : { maxTotalMs: budget },
      );
      if (!outcome.ok) throw deliveryErrors.deliveryFailed(target.channel, outcome.reason, id);
      const record = await store.getDelivery(id, now());
      if (record === undefined) throw deliveryErrors.notFound();
      return view(record);
    },

    async get(rawId) {
      const id = validateId(rawId);
      const record = await store.getDelivery(id, now());
      if (record === undefined) throw deliveryErrors.notFound();
      return view(record);
    },

    async *watch(rawId, signal) {
      const id = validateId(rawId);
      let record = await store.getDelivery(id, now());
      if (record === undefined) throw deliveryErrors.notFound();
      const deadline = performance.now() + watchMaxMs;
      const wait = stop(signal);
      let sent = 0;
      for (;;) {
        while (sent < record.events.length) {
          yield record.events[sent] as DeliveryEventRecord;
          sent += 1;
        }
        if (settled(record) || signal.aborted) return;
        if (options.shutdown?.aborted === true) throw deliveryErrors.shuttingDown();
        const left = deadline - performance.now();
        if (left <= 0) return;
        try {
          await sleep(Math.min(pollMs, left), undefined, { signal: wait });
        } catch {
          if (signal.aborted) return; // the client went away
          throw deliveryErrors.shuttingDown();
        }
        const next = await store.getDelivery(id, now());
        if (next === undefined) return; // forgotten after its retention
        record = next;
      }
    },

    async createTelegramLink(accountId) {
      if (!accountIdPattern.test(accountId)) throw deliveryErrors.accountIdInvalid();
      if (options.telegramLinker === undefined) {
        throw deliveryErrors.channelNotConfigured("account_id", "telegram");
      }
      return options.telegramLinker.create(accountId);
    },
  };
}
