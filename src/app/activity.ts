import {
  type ActivityEvent,
  type ActivityFeed,
  createActivityFeed,
  createLocalActivityBus,
} from "../activity/activity-feed.js";
import { type ActivityRecorder, createActivityRecorder } from "../activity/activity-recorder.js";
import { type ActivityService, createActivityService } from "../activity/activity-service.js";
import { countryOf } from "../activity/country.js";
import { memoryStoreNodes, type StoreNodes } from "../activity/system-health.js";
import type { DeliveryRecord } from "../delivery/delivery-store.js";
import { maskRecipient } from "../delivery/mask.js";
import type { ChallengeRecord, TargetRecord } from "../otp/challenge-store.js";
import { createMemoryActivityStore } from "../store/memory/activity.js";
import { createRedisActivityStore } from "../store/redis/activity.js";
import { createRedisActivityBus } from "../store/redis/activity-bus.js";
import { createRedisStoreNodes } from "../store/redis/store-nodes.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { OpenedStore } from "./open-store.js";
import { replicaName } from "./system-info.js";

/** An administrator's change, as the activity feed shows it. */
export interface AdminActivity {
  /** The tenant acted on; "" for service-wide changes. */
  tenantId: string;
  /** What was done, for example "tenant.create" or "key.revoke". */
  action: string;
  /** What it was done to, for example a tenant or key id; never a secret. */
  target: string;
  /** Who did it: "operator" or a key id. */
  actor: string;
  /** How it ended, for example "ok" or a reason. */
  outcome: string;
}

/** The console's data: counters, the live feed, and what health reads. */
export interface ActivityParts {
  recorder: ActivityRecorder;
  feed: ActivityFeed;
  service: ActivityService;
  nodes: StoreNodes;
  replica: string;
  /** Counts and shows a created challenge. */
  generated(record: ChallengeRecord): void;
  /** Counts and shows a verification's outcome. */
  verified(outcome: string, record: ChallengeRecord): void;
  /** Shows a send's outcome (counted through the metrics, see {@link withActivity}). */
  delivered(
    channel: string,
    outcome: string,
    target: TargetRecord,
    deliveryId: string,
    tenantId: string | undefined,
  ): void;
  /** Shows a status a provider reported for a delivery. */
  reported(delivery: DeliveryRecord, status: string): void;
  /** Counts a finished RPC for the caller's tenant. */
  rpc(procedure: string, status: string, seconds: number, tenantId: string | undefined): void;
  /** Counts a refusal by its reason. */
  refused(reason: string, tenantId: string | undefined): void;
  /** Shows an administrator's change in the feed; the audit trail calls it. */
  publishAdmin(event: AdminActivity): void;
  /** Flushes what is counted and queued, and stops. */
  close(): Promise<void>;
}

/** Options for {@link openActivity}. */
export interface ActivityOptions {
  logger: Logger;
  now: () => number;
  /** How often counters are written; 1,000 ms by default. */
  flushMs?: number;
}

const tenantOr = (tenantId: string | undefined) =>
  tenantId === undefined || tenantId === "" ? "-" : tenantId;

/** Where the counters, the feed and the node list live: beside the opened store. */
function backends(opened: OpenedStore) {
  const redis = opened.redis;
  if (redis === undefined) {
    return {
      store: createMemoryActivityStore(),
      bus: createLocalActivityBus(),
      nodes: memoryStoreNodes(),
    };
  }
  const { topology, keyPrefix } = redis;
  return {
    store: createRedisActivityStore({ topology, keyPrefix }),
    bus: createRedisActivityBus(topology, keyPrefix),
    nodes: createRedisStoreNodes(topology, keyPrefix),
  };
}

/** An event with nothing set but its kind, time, tenant, outcome and replica. */
function baseEvent(
  kind: ActivityEvent["kind"],
  atMs: number,
  tenantId: string,
  outcome: string,
  replica: string,
): ActivityEvent {
  return {
    kind,
    atMs,
    tenantId,
    outcome,
    channel: "",
    recipientMasked: "",
    challengeId: "",
    replica,
    action: "",
    target: "",
    actor: "",
  };
}

/**
 * Builds the activity counters and feed beside the opened store: Redis when
 * the store is Redis (every replica adds to the same buckets and hears the
 * same feed), process memory otherwise.
 */
export function openActivity(opened: OpenedStore, options: ActivityOptions): ActivityParts {
  const { logger, now } = options;
  const { store, bus, nodes } = backends(opened);
  const recorder = createActivityRecorder({
    store,
    now,
    flushMs: options.flushMs,
    onError: (err) =>
      logger.warn({ err }, "activity counters not written; kept for the next flush"),
  });
  const feed = createActivityFeed({
    bus,
    onError: (err) => logger.warn({ err }, "activity events not sent"),
  });
  const replica = replicaName();
  // One segment object, filled per call: the recorder reads it and keeps nothing.
  const segment = { tenantId: "", channel: "", country: "", expiresAtMs: 0 };
  const challenge = (kind: "generate" | "verify", outcome: string, record: ChallengeRecord) => {
    const target = record.targets[0];
    segment.tenantId = tenantOr(record.tenantId);
    segment.channel = target?.channel ?? "none";
    segment.country = countryOf(target?.recipient);
    segment.expiresAtMs = record.expiresAtMs;
    if (kind === "generate") recorder.generated(segment);
    else recorder.verified(segment, outcome);
    // The live feed's event is made only while someone watches it.
    if (!feed.live()) return;
    const e = baseEvent(kind, now(), segment.tenantId, outcome, replica);
    e.channel = segment.channel;
    e.recipientMasked = target === undefined ? "" : maskRecipient(target.recipient);
    e.challengeId = record.id;
    feed.publish(e);
  };

  return {
    recorder,
    feed,
    service: createActivityService(store, now),
    nodes,
    replica,
    generated: (record) => challenge("generate", "created", record),
    verified: (outcome, record) => challenge("verify", outcome, record),
    delivered(channel, outcome, target, deliveryId, tenantId) {
      if (!feed.live()) return;
      const e = baseEvent("delivery", now(), tenantOr(tenantId), outcome, replica);
      e.channel = channel;
      e.recipientMasked = maskRecipient(target.recipient);
      e.target = deliveryId;
      feed.publish(e);
    },
    reported(delivery, status) {
      if (!feed.live()) return;
      const e = baseEvent("delivery", now(), delivery.tenantId ?? "default", status, replica);
      e.channel = delivery.channel;
      e.recipientMasked = delivery.recipientMasked;
      e.challengeId = delivery.challengeId;
      e.target = delivery.id;
      feed.publish(e);
    },
    rpc: (procedure, status, seconds, tenantId) =>
      recorder.rpc(tenantOr(tenantId), procedure, status, seconds),
    refused: (reason, tenantId) => recorder.refused(tenantOr(tenantId), reason),
    publishAdmin(a) {
      if (!feed.live()) return;
      const e = baseEvent("admin", now(), a.tenantId, a.outcome, replica);
      e.action = a.action;
      e.target = a.target;
      e.actor = a.actor;
      feed.publish(e);
    },
    async close() {
      await Promise.all([recorder.close(), feed.close()]);
      await bus.close();
    },
  };
}

/**
 * The metrics, also counting deliveries and rate-limit refusals into the
 * activity counters (and refusals into the feed) at the very same calls, so
 * the console's figures agree with `/metrics`. The tenant is the call's.
 */
export function withActivity(metrics: Metrics, activity: ActivityParts): Metrics {
  const { recorder, feed, replica } = activity;
  return {
    ...metrics,
    delivery(channel, outcome, tenantId) {
      metrics.delivery(channel, outcome);
      recorder.delivery(tenantOr(tenantId), channel, outcome);
    },
    rateLimited(limit, tenantId) {
      metrics.rateLimited(limit);
      const tenant = tenantOr(tenantId);
      recorder.rateLimited(tenant, limit);
      if (feed.live()) feed.publish(baseEvent("rate_limited", Date.now(), tenant, limit, replica));
    },
  };
}
