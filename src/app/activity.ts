import {
  type ActivityFeed,
  createActivityFeed,
  createLocalActivityBus,
} from "../activity/activity-feed.js";
import { type ActivityRecorder, createActivityRecorder } from "../activity/activity-recorder.js";
import { type ActivityService, createActivityService } from "../activity/activity-service.js";
import { countryOf } from "../activity/country.js";
import { memoryStoreNodes, type StoreNodes } from "../activity/system-health.js";
import { currentTenant } from "../core/tenant-scope.js";
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
  delivered(channel: string, outcome: string, target: TargetRecord, deliveryId: string): void;
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

const tenantNow = () => currentTenant() ?? "-";

/**
 * Builds the activity counters and feed beside the opened store: Redis when
 * the store is Redis (every replica adds to the same buckets and hears the
 * same feed), process memory otherwise.
 */
export function openActivity(opened: OpenedStore, options: ActivityOptions): ActivityParts {
  const { logger, now } = options;
  const redis = opened.redis;
  const store =
    redis === undefined
      ? createMemoryActivityStore({ now })
      : createRedisActivityStore({ topology: redis.topology, keyPrefix: redis.keyPrefix });
  const bus =
    redis === undefined
      ? createLocalActivityBus()
      : createRedisActivityBus(redis.topology, redis.keyPrefix);
  const nodes =
    redis === undefined
      ? memoryStoreNodes()
      : createRedisStoreNodes(redis.topology, redis.keyPrefix);
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
  const fill = (record: ChallengeRecord) => {
    const target = record.targets[0];
    segment.tenantId = record.tenantId ?? tenantNow();
    segment.channel = target?.channel ?? "none";
    segment.country = countryOf(target?.recipient);
    segment.expiresAtMs = record.expiresAtMs;
    return target;
  };
  const event = (
    kind: "generate" | "verify",
    outcome: string,
    target: TargetRecord | undefined,
    id: string,
  ) =>
    feed.publish({
      kind,
      atMs: now(),
      tenantId: segment.tenantId,
      outcome,
      channel: segment.channel,
      recipientMasked: target === undefined ? "" : maskRecipient(target.recipient),
      challengeId: id,
      replica,
      action: "",
      target: "",
      actor: "",
    });

  return {
    recorder,
    feed,
    service: createActivityService(store, now),
    nodes,
    replica,
    generated(record) {
      const target = fill(record);
      recorder.generated(segment);
      event("generate", "created", target, record.id);
    },
    verified(outcome, record) {
      const target = fill(record);
      recorder.verified(segment, outcome);
      event("verify", outcome, target, record.id);
    },
    delivered(channel, outcome, target, deliveryId) {
      feed.publish({
        kind: "delivery",
        atMs: now(),
        tenantId: tenantNow(),
        outcome,
        channel,
        recipientMasked: maskRecipient(target.recipient),
        challengeId: "",
        replica,
        action: "",
        target: deliveryId,
        actor: "",
      });
    },
    rpc: (procedure, status, seconds, tenantId) =>
      recorder.rpc(
        tenantId === undefined || tenantId === "" ? "-" : tenantId,
        procedure,
        status,
        seconds,
      ),
    refused: (reason, tenantId) =>
      recorder.refused(tenantId === undefined || tenantId === "" ? "-" : tenantId, reason),
    publishAdmin(e) {
      feed.publish({
        kind: "admin",
        atMs: now(),
        tenantId: e.tenantId,
        outcome: e.outcome,
        channel: "",
        recipientMasked: "",
        challengeId: "",
        replica,
        action: e.action,
        target: e.target,
        actor: e.actor,
      });
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
    delivery(channel, outcome) {
      metrics.delivery(channel, outcome);
      recorder.delivery(tenantNow(), channel, outcome);
    },
    rateLimited(limit) {
      metrics.rateLimited(limit);
      const tenantId = tenantNow();
      recorder.rateLimited(tenantId, limit);
      feed.publish({
        kind: "rate_limited",
        atMs: Date.now(),
        tenantId,
        outcome: limit,
        channel: "",
        recipientMasked: "",
        challengeId: "",
        replica,
        action: "",
        target: "",
        actor: "",
      });
    },
  };
}
