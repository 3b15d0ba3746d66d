import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  ActivityKind,
  ActivityMetric,
  ActivityResolution,
  ActivityWindow,
  type WatchActivityRequest,
} from "../../gen/otp/v1/activity_pb.js";
import type { AdminService } from "../../gen/otp/v1/admin_pb.js";
import type { ActivityEvent, ActivityFeed, ActivityKindName } from "../activity/activity-feed.js";
import {
  type ActivityService,
  defaultResolution,
  type SeriesMetric,
  type WindowName,
} from "../activity/activity-service.js";
import type { Resolution } from "../activity/activity-store.js";
import type { StoreNodes } from "../activity/system-health.js";
import { createWatchQueue } from "../activity/watch-queue.js";
import { OtpError } from "../core/otp-error.js";
import type { Dispatcher } from "../delivery/dispatcher.js";
import { callerKey } from "./caller.js";
import { listChannelInfo } from "./delivery-service.js";

/** What the console's data RPCs read. */
export interface ActivityHandlerOptions {
  service: ActivityService;
  feed: ActivityFeed;
  nodes: StoreNodes;
  dispatcher: Dispatcher;
  system: { version: string; startedAtMs: number; workers: number; replica: string };
  now: () => number;
  /** Ends open WatchActivity streams when the server shuts down. */
  shutdown?: AbortSignal;
  /** How long a quiet WatchActivity stream waits before a heartbeat; 15 s by default. */
  heartbeatMs?: number;
  /** Events one WatchActivity stream may have waiting; beyond it they are dropped and counted. */
  watchBuffer?: number;
  /** WatchActivity streams this process serves at once; 100 by default. */
  maxWatchers?: number;
}

/** The AdminService methods these handlers implement. */
export type ActivityMethods = "getOverview" | "getTimeSeries" | "watchActivity" | "getSystemHealth";

type Handlers = Pick<ServiceImpl<typeof AdminService>, ActivityMethods>;

const invalid = (field: string, why: string) =>
  new OtpError("ACTIVITY_QUERY_INVALID", why, { field });

const windows: Record<number, WindowName> = {
  [ActivityWindow.UNSPECIFIED]: "hour",
  [ActivityWindow.HOUR]: "hour",
  [ActivityWindow.DAY]: "day",
  [ActivityWindow.MONTH]: "month",
};
const metrics: Record<number, SeriesMetric> = {
  [ActivityMetric.GENERATED]: "generated",
  [ActivityMetric.VERIFIED]: "verified",
  [ActivityMetric.VERIFICATIONS]: "verifications",
  [ActivityMetric.CONVERSION]: "conversion",
  [ActivityMetric.RATE_LIMITED]: "rate_limited",
  [ActivityMetric.ERRORS]: "errors",
  [ActivityMetric.CALLS]: "calls",
  [ActivityMetric.LATENCY_P50_MS]: "latency_p50_ms",
  [ActivityMetric.LATENCY_P95_MS]: "latency_p95_ms",
  [ActivityMetric.DELIVERIES]: "deliveries",
};
const kindsToProto: Record<ActivityKindName, ActivityKind> = {
  generate: ActivityKind.GENERATE,
  verify: ActivityKind.VERIFY,
  delivery: ActivityKind.DELIVERY,
  rate_limited: ActivityKind.RATE_LIMITED,
  admin: ActivityKind.ADMIN,
};
const kindsFromProto = new Map<number, ActivityKindName>(
  Object.entries(kindsToProto).map(([name, value]) => [value, name as ActivityKindName]),
);

/**
 * The tenant a call may read: the operator (ADMIN_TOKEN) any tenant it
 * names, or all when it names none (undefined); a tenant's key with the
 * admin-read scope only its own, and another tenant named reads as unknown.
 */
export function readableTenant(requested: string, ctx: HandlerContext): string | undefined {
  const caller = ctx.values.get(callerKey);
  if (caller?.kind === "admin") return requested === "" ? undefined : requested;
  const own = caller?.tenantId ?? "";
  if (requested !== "" && requested !== own) {
    throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
  }
  return own;
}

function windowOf(value: ActivityWindow): WindowName {
  const window = windows[value];
  if (window === undefined) throw invalid("window", "window must be HOUR, DAY or MONTH");
  return window;
}

function resolutionOf(value: ActivityResolution, window: WindowName): Resolution {
  if (value === ActivityResolution.UNSPECIFIED) return defaultResolution(window);
  if (value === ActivityResolution.HOUR) return "hour";
  if (value !== ActivityResolution.MINUTE) throw invalid("resolution", "unknown resolution");
  if (window === "month") {
    throw invalid("resolution", "minute counters are kept for a day: use HOUR for 30 days");
  }
  return "minute";
}

/** The handlers of GetOverview, GetTimeSeries, WatchActivity and GetSystemHealth. */
export function createActivityHandlers(options: ActivityHandlerOptions): Handlers {
  const { service } = options;
  const watchers = { open: 0, max: options.maxWatchers ?? 100 };
  return {
    async getOverview(req, ctx) {
      const window = windowOf(req.window);
      const o = await service.overview(window, readableTenant(req.tenantId, ctx));
      return {
        ...o,
        window: req.window === ActivityWindow.UNSPECIFIED ? ActivityWindow.HOUR : req.window,
        from: timestampFromMs(o.fromMs),
        to: timestampFromMs(o.toMs),
        activeChallenges: BigInt(o.activeChallenges),
        generated: BigInt(o.generated),
        verified: BigInt(o.verified),
        byChannel: o.byChannel.map(segmentToProto),
        byCountry: o.byCountry.map(segmentToProto),
        byTenant: o.byTenant.map(segmentToProto),
        verificationsByResult: bigints(o.verificationsByResult),
        latencyByMethod: o.latencyByMethod.map((m) => ({ ...m, calls: BigInt(m.calls) })),
        rateLimitedByLimit: bigints(o.rateLimitedByLimit),
        refusedByReason: bigints(o.refusedByReason),
        deliveries: o.deliveries.map((d) => ({ ...d, count: BigInt(d.count) })),
        calls: BigInt(o.calls),
        errors: BigInt(o.errors),
        errorsByCode: bigints(o.errorsByCode),
      };
    },

    async getTimeSeries(req, ctx) {
      const metric = metrics[req.metric];
      if (metric === undefined) throw invalid("metric", "metric must name a known figure");
      const window = windowOf(req.window);
      const resolution = resolutionOf(req.resolution, window);
      const points = await service.series(
        metric,
        window,
        resolution,
        readableTenant(req.tenantId, ctx),
      );
      return {
        metric: req.metric,
        resolution: resolution === "minute" ? ActivityResolution.MINUTE : ActivityResolution.HOUR,
        points: points.map((p) => ({ start: timestampFromMs(p.startMs), value: p.value })),
      };
    },

    watchActivity: (req, ctx) => watch(options, watchers, req, ctx),

    async getSystemHealth() {
      const [nodes, channels] = await Promise.all([
        options.nodes.probe(),
        listChannelInfo(options.dispatcher),
      ]);
      const { system } = options;
      return {
        version: system.version,
        startedAt: timestampFromMs(system.startedAtMs),
        uptimeSeconds: BigInt(Math.max(0, Math.floor((options.now() - system.startedAtMs) / 1000))),
        workers: system.workers,
        storeLayout: options.nodes.layout,
        storeNodes: nodes,
        channels,
        replica: system.replica,
      };
    },
  };
}

function segmentToProto(s: {
  key: string;
  generated: number;
  verified: number;
  conversion: number;
}) {
  return { ...s, generated: BigInt(s.generated), verified: BigInt(s.verified) };
}

function bigints(record: Record<string, number>): Record<string, bigint> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, BigInt(v)]));
}

const maxFilters = 20;
const maxOutcomeLength = 64;

/** WatchActivity: a "listening" message, then each matching event; quiet streams get heartbeats. */
async function* watch(
  options: ActivityHandlerOptions,
  watchers: { open: number; max: number },
  req: WatchActivityRequest,
  ctx: HandlerContext,
) {
  const tenantId = readableTenant(req.tenantId, ctx);
  if (watchers.open >= watchers.max) {
    throw new OtpError("ACTIVITY_WATCHERS_EXHAUSTED", "too many activity streams are open", {
      retryAfterMs: 5_000,
      metadata: { max: String(watchers.max) },
    });
  }
  if (req.kinds.length > maxFilters || req.outcomes.length > maxFilters) {
    throw invalid(
      req.kinds.length > maxFilters ? "kinds" : "outcomes",
      `at most ${maxFilters} filters`,
    );
  }
  const kinds = new Set<ActivityKindName>();
  for (const k of req.kinds) {
    const name = kindsFromProto.get(k);
    if (name === undefined) throw invalid("kinds", "kinds must name known activity kinds");
    kinds.add(name);
  }
  if (req.outcomes.some((o) => o.length > maxOutcomeLength)) {
    throw invalid("outcomes", `outcomes are at most ${maxOutcomeLength} characters`);
  }
  const outcomes = new Set(req.outcomes);
  const matches = (e: ActivityEvent) =>
    (tenantId === undefined || e.tenantId === tenantId) &&
    (kinds.size === 0 || kinds.has(e.kind)) &&
    (outcomes.size === 0 || outcomes.has(e.outcome));
  const queue = createWatchQueue(options.watchBuffer ?? 1_000);
  const signal =
    options.shutdown === undefined ? ctx.signal : AbortSignal.any([ctx.signal, options.shutdown]);
  watchers.open += 1;
  let stop = () => {};
  try {
    stop = await options.feed.watch({
      event: (e) => {
        if (matches(e)) queue.push(e);
      },
      dropped: (n) => queue.drop(n),
    });
    yield { dropped: 0n };
    while (!signal.aborted) {
      const item = await queue.next(options.heartbeatMs ?? 15_000, signal);
      if (signal.aborted) break;
      yield {
        event: item.event === undefined ? undefined : eventToProto(item.event),
        dropped: BigInt(item.dropped),
      };
    }
  } finally {
    watchers.open -= 1;
    stop();
  }
}

function eventToProto(e: ActivityEvent) {
  return {
    kind: kindsToProto[e.kind],
    at: timestampFromMs(e.atMs),
    tenantId: e.tenantId,
    outcome: e.outcome,
    channel: e.channel,
    recipientMasked: e.recipientMasked,
    challengeId: e.challengeId,
    replica: e.replica,
    action: e.action,
    target: e.target,
    actor: e.actor,
  };
}
