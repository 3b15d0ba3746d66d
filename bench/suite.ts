import { startRedis } from "../test/support/redis-harness.js";
import {
  createApiKeyHeaders,
  generateCall,
  healthCall,
  type RpcName,
  verifyCall,
} from "./calls.js";
import type { BenchConfig } from "./configs.js";
import type { LoadCall, LoadDriver, LoadResult } from "./load.js";
import { cpuMsBetween, sampleTree, type TreeSample } from "./proc.js";
import {
  countTopLevelDuring,
  openRedisProbe,
  perCall,
  type RedisProbe,
  type SingleCallSummary,
  traceSingleCalls,
} from "./redis-counts.js";
import { startTurnCountingProxy } from "./redis-proxy.js";
import { gcDuring, growth, scrapeMetrics, shareWithin } from "./server-metrics.js";
import { bareServerArgs, startService } from "./service.js";

/** How long each phase runs, in seconds. */
export interface Timing {
  /** Health load per protocol on a fresh process, thrown away. */
  startupWarmup: number;
  /**
   * Load before each measurement, thrown away, per process serving calls:
   * the RPC's code gets optimised (its compiling CPU is paid once per
   * process, not per call), and each worker sees its share of the calls.
   */
  jitWarmup: number;
  /** Load before each measurement, thrown away (MONITOR counts commands here). */
  warmup: number;
  /** The measured window at full speed. */
  measure: number;
  /** The window at half the measured rate, for latency. */
  paced: number;
  /** Connections of every load run. */
  connections: number;
  /** Single calls traced per RPC for round trips. */
  singleCalls: number;
  /**
   * Quiet seconds after the last load before RSS is read again: V8 gives
   * memory back only once its memory reducer has run, 30 to 90 s after the
   * load on a loaded 2-core machine.
   */
  settle: number;
}

/** One measured RPC on one protocol and configuration. */
export interface ResultRow {
  config: string;
  protocol: string;
  rpc: RpcName;
  procedure: string;
  callsPerSecond: number;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed calls in the measured window; null when they could not be counted. */
  errors: number | null;
  /** Service CPU (utime+stime of every process of the service) over the window, per call. */
  cpuMsPerCall: number | null;
  /** calls/s and CPU per call as multiples of the bare server's on the same protocol. */
  rateVsBare: number | null;
  cpuVsBare: number | null;
  /** The bare server measured on the same protocol right before and right after this window, which the ratios divide by. */
  floor?: { callsPerSecond: number; cpuMsPerCall: number | null };
  /** Redis, under load: top-level commands per call (MONITOR over the warm-up). */
  topLevelPerCall?: number;
  topLevelByCommand?: Record<string, number>;
  /** Redis, under load: socket reads per call and all commands per call (script-internal included), from INFO over the measured window. */
  readsPerCall?: number;
  commandsPerCall?: number;
  commandsByName?: Record<string, number>;
  /** The paced run: the rate asked, the rate reached, its latencies. */
  paced?: {
    targetRate: number;
    callsPerSecond: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
    /**
     * The share of the paced calls the service answered within 10 ms by its
     * own clock (/metrics, single process only): what of the p99 is the
     * service's, and what the load tool's and the shared cores'.
     */
    inServiceWithin10Ms?: number;
    /**
     * The service's garbage collection over the paced window, from
     * `v8js_gc_duration` on /metrics (single process only): full (major)
     * collections, and milliseconds of GC of every kind per 1,000 calls.
     * A full collection holds up every call in flight, so these drive the
     * tail; unlike the p99 they barely depend on what else the cores run.
     */
    majorGcs?: number;
    gcMsPerThousand?: number;
    /** The bare floor's p99 at the same rate, paced right after: what a server doing nothing shows on this machine at this load. */
    floorP99Ms?: number;
    /** The service's CPU per call over the paced window (/proc, every process). */
    cpuMsPerCall?: number;
    /** The bare floor's CPU per call paced at the same rate, right after. */
    floorCpuMsPerCall?: number;
  };
  /** Calls by Connect code from the service's /metrics (single process only). */
  serverCodes?: Record<string, number>;
}

/** A bare server kept running for the whole bench, to measure around each window. */
export interface FloorProbe {
  /**
   * Loads its Health over `protocol` for `seconds` (at `rate` calls a second
   * when given, else at full speed) and reads its calls, CPU milliseconds and p99.
   */
  slice(
    protocol: string,
    seconds: number,
    connections: number,
    rate?: number,
  ): Promise<{ calls: number; cpuMs: number; p99Ms: number }>;
}

/** What one configuration measured beyond its rows. */
export interface ConfigResult {
  name: string;
  label: string;
  /** The processes of the service's tree (command names), e.g. a primary and its workers. */
  processes: string[];
  /** RSS after start-up, before any load: the sum over processes, and the largest one. */
  rssIdleBytes: { total: number; largest: number };
  /** The highest RSS seen under load (sampled each second of the measured windows). */
  rssLoadBytes: { total: number; largest: number };
  /** RSS after `timing.settle` seconds without calls, after the last load. */
  rssSettledBytes?: { total: number; largest: number };
  /** Round trips of single calls, by RPC label (Redis configurations only). */
  singleCalls?: Record<string, SingleCallSummary>;
}

/** Inputs of one configuration's run. */
export interface SuiteInput {
  config: BenchConfig;
  drivers: LoadDriver[];
  timing: Timing;
  /** Clock ticks per second of /proc's utime and stime. */
  ticksPerSecond: number;
  /** The bare server's rows of this run, to divide by when there is no `floorProbe`; empty when it is being measured. */
  floor: ResultRow[];
  /** A bare server kept running beside the service, measured right before and after each window. */
  floorProbe?: FloorProbe;
  progress: (text: string) => void;
  /** Registers a step that must also run if the bench is interrupted. */
  onInterrupt: (step: () => Promise<void>) => void;
}

const rssOf = (s: TreeSample) => ({
  total: s.rssBytes.reduce((a, b) => a + b, 0),
  largest: Math.max(0, ...s.rssBytes),
});

/**
 * Starts the configuration's process (and a private Redis when it needs
 * one), then for each protocol and RPC: a warm-up (with MONITOR on Redis),
 * the measured window with the process tree's CPU time and the store's INFO
 * counters read before and after, and a paced window at half the measured
 * rate. Finally single calls traced one at a time for their round trips.
 */
export async function runConfig(
  input: SuiteInput,
): Promise<{ rows: ResultRow[]; result: ConfigResult | undefined; notes: string[] }> {
  const { config, timing, progress } = input;
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const track = (stop: () => Promise<void>) => {
    stops.unshift(stop);
    input.onInterrupt(stop);
  };
  try {
    let probe: RedisProbe | undefined;
    const env = { ...config.env };
    if (config.store === "redis") {
      const redis = await startRedis();
      track(() => redis.stop());
      env.REDIS_URL = redis.url;
      probe = await openRedisProbe(redis.port);
      track(() => probe?.close() ?? Promise.resolve());
    }
    const proc =
      config.kind === "bare" ? await startService(env, bareServerArgs) : await startService(env);
    track(() => proc.stop());
    const headers = config.production ? await createApiKeyHeaders(proc.url) : {};
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await sampleTree(proc.pid);
    const result: ConfigResult = {
      name: config.name,
      label: config.label,
      processes: idle.names,
      rssIdleBytes: rssOf(idle),
      rssLoadBytes: { total: 0, largest: 0 },
    };
    progress(`${config.label}: ${proc.url}, ${idle.pids.length} process(es)`);

    const calls: [RpcName, () => Promise<LoadCall>][] = [
      ["Health", async () => healthCall(headers)],
      ...(config.kind === "bare"
        ? []
        : ([
            ["Generate", async () => generateCall(headers)],
            ["Verify", () => verifyCall(proc.url, headers, true)],
          ] as [RpcName, () => Promise<LoadCall>][])),
    ];
    // One process in the tree, whatever it is called (Node 24 names itself "MainThread").
    const singleProcess = idle.pids.length === 1 && config.kind === "service";

    for (const driver of input.drivers) {
      try {
        const warm = await driver.prepare(proc.url, healthCall(headers));
        await warm.run({ seconds: timing.startupWarmup, connections: timing.connections });
        await warm.close();
      } catch (err) {
        notes.push(`${config.label} · ${driver.protocol}: start-up warm-up failed: ${String(err)}`);
        continue;
      }
      for (const [rpc, makeCall] of calls) {
        if (proc.exitReport() !== undefined) break;
        const where = `${config.label} · ${driver.protocol} · ${rpc}`;
        try {
          const call = await makeCall();
          const target = await driver.prepare(proc.url, call);
          try {
            const row = await measure(
              input,
              driver,
              rpc,
              call,
              target,
              probe,
              proc.pid,
              proc.url,
              singleProcess,
              // With workers, the primary serves no calls.
              Math.max(1, idle.pids.length - 1),
              result,
            );
            rows.push(row);
            progress(
              `${where}: ${Math.round(row.callsPerSecond)}/s, ${row.cpuMsPerCall?.toFixed(3)} ms CPU/call, p99 ${row.paced?.p99Ms.toFixed(2)} ms at ${Math.round(row.paced?.callsPerSecond ?? 0)}/s`,
            );
          } finally {
            await target.close();
          }
        } catch (err) {
          notes.push(`${where}: failed: ${String(err instanceof Error ? err.message : err)}`);
          progress(`${where}: failed: ${String(err)}`);
        }
      }
    }

    const exited = proc.exitReport();
    if (exited !== undefined) notes.push(`${config.label}: ${exited}`);
    else if (timing.settle > 0) {
      progress(`${config.label}: ${timing.settle} s without calls`);
      await new Promise((r) => setTimeout(r, timing.settle * 1000));
      result.rssSettledBytes = rssOf(await sampleTree(proc.pid));
    }
    if (probe !== undefined && env.REDIS_URL !== undefined) {
      // Single calls go to a fresh one-process instance with the same
      // settings whose Redis connections pass the turn-counting proxy; the
      // loaded one stops first, so its background work adds no noise.
      await proc.stop();
      const proxy = await startTurnCountingProxy(probe.port);
      track(() => proxy.close());
      const traced = await startService({
        ...env,
        WORKERS: "1",
        REDIS_URL: env.REDIS_URL.replace(`:${probe.port}`, `:${proxy.port}`),
      });
      track(() => traced.stop());
      const single: Record<string, SingleCallSummary> = {};
      const traceCalls: [string, () => Promise<LoadCall>][] = [
        ["Health", async () => healthCall(headers)],
        ["Generate", async () => generateCall(headers)],
        ["Verify (wrong code, attempts left)", () => verifyCall(traced.url, headers, false)],
        ["Verify (wrong code, exhausted)", () => verifyCall(traced.url, headers, true)],
      ];
      for (const [label, makeCall] of traceCalls) {
        single[label] = await traceSingleCalls(
          traced.url,
          probe,
          proxy,
          makeCall,
          timing.singleCalls,
        );
      }
      result.singleCalls = single;
    }
    return { rows, result, notes };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

async function measure(
  input: SuiteInput,
  driver: LoadDriver,
  rpc: RpcName,
  call: LoadCall,
  target: {
    run: (shape: { seconds: number; connections: number; rate?: number }) => Promise<LoadResult>;
  },
  probe: RedisProbe | undefined,
  pid: number,
  baseUrl: string,
  singleProcess: boolean,
  servingProcesses: number,
  result: ConfigResult,
): Promise<ResultRow> {
  const { timing, config } = input;
  const shape = { connections: timing.connections };
  await target.run({ ...shape, seconds: timing.jitWarmup * servingProcesses });
  let topLevel: { calls: number; topLevel: number; byCommand: Record<string, number> } | undefined;
  if (probe === undefined) await target.run({ ...shape, seconds: timing.warmup });
  else {
    topLevel = await countTopLevelDuring(
      probe,
      async () => (await target.run({ ...shape, seconds: timing.warmup })).calls,
    );
  }

  const metricsBefore = singleProcess ? await scrapeMetrics(baseUrl) : undefined;
  const redisBefore = await probe?.counters();
  const cpuBefore = await sampleTree(pid);
  // RSS under load: one sample a second while the window runs.
  const sampler = setInterval(() => {
    void sampleTree(pid).then((s) => {
      const r = rssOf(s);
      if (r.total > result.rssLoadBytes.total) result.rssLoadBytes.total = r.total;
      if (r.largest > result.rssLoadBytes.largest) result.rssLoadBytes.largest = r.largest;
    });
  }, 1000);
  let load: LoadResult;
  let cpuAfter: TreeSample;
  // The floor is loaded for half a window right before and half right after
  // this one: the machine's drift over those seconds touches both alike.
  const floorHalf = Math.max(1, Math.round(timing.measure / 2));
  const floorBefore = await input.floorProbe?.slice(driver.protocol, floorHalf, shape.connections);
  try {
    load = await target.run({ ...shape, seconds: timing.measure });
    cpuAfter = await sampleTree(pid);
  } finally {
    clearInterval(sampler);
  }
  const floorAfter = await input.floorProbe?.slice(driver.protocol, floorHalf, shape.connections);
  const redisAfter = await probe?.counters();
  const metricsAfter = singleProcess ? await scrapeMetrics(baseUrl) : undefined;

  const serverCodes =
    metricsBefore !== undefined && metricsAfter !== undefined
      ? growth(
          metricsBefore,
          metricsAfter,
          "otp_rpc_duration_seconds_count",
          { method: call.procedure },
          "code",
        )
      : undefined;
  const serverErrors =
    serverCodes === undefined
      ? undefined
      : // h2load resets the streams still open when its duration ends: the
        // service counts those as canceled, and they are not failures.
        Object.entries(serverCodes).reduce(
          (sum, [code, n]) => sum + (code === "ok" || code === "canceled" ? 0 : n),
          0,
        );
  let errors: number | null = load.clientErrors;
  // A gRPC error is an HTTP 200 with grpc-status in the trailers, which h2load cannot read.
  if (!driver.seesRpcErrors && config.kind === "service") {
    errors = serverErrors === undefined ? null : errors + serverErrors;
  }

  const cpuMsPerCall =
    load.calls > 0 ? cpuMsBetween(cpuBefore, cpuAfter, input.ticksPerSecond) / load.calls : null;
  const floor = floorOf(input, driver.protocol, floorBefore, floorAfter, floorHalf * 2);
  const row: ResultRow = {
    config: config.name,
    protocol: driver.protocol,
    rpc,
    procedure: call.procedure,
    callsPerSecond: load.callsPerSecond,
    calls: load.calls,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    errors,
    cpuMsPerCall,
    rateVsBare: floor === undefined ? null : load.callsPerSecond / floor.callsPerSecond,
    cpuVsBare:
      floor?.cpuMsPerCall == null || cpuMsPerCall === null
        ? null
        : cpuMsPerCall / floor.cpuMsPerCall,
    ...(floorBefore === undefined || floor === undefined ? {} : { floor }),
    ...(serverCodes === undefined ? {} : { serverCodes }),
  };
  if (topLevel !== undefined && topLevel.calls > 0) {
    row.topLevelPerCall = topLevel.topLevel / topLevel.calls;
    row.topLevelByCommand = Object.fromEntries(
      Object.entries(topLevel.byCommand).map(([k, v]) => [k, v / topLevel.calls]),
    );
  }
  if (redisBefore !== undefined && redisAfter !== undefined && load.calls > 0) {
    // The bench's own reads in between: the INFO after.
    const counts = perCall(redisBefore, redisAfter, load.calls, 1);
    row.readsPerCall = counts.readsPerCall;
    row.commandsPerCall = counts.commandsPerCall;
    row.commandsByName = counts.byCommand;
  }

  const targetRate = Math.max(1, load.callsPerSecond / 2);
  const pacedBefore = singleProcess ? await scrapeMetrics(baseUrl) : undefined;
  const pacedCpuBefore = await sampleTree(pid);
  const paced = await target.run({ ...shape, seconds: timing.paced, rate: targetRate });
  const pacedCpuAfter = await sampleTree(pid);
  const pacedAfter = singleProcess ? await scrapeMetrics(baseUrl) : undefined;
  const cpuPerCall = (cpuMs: number, calls: number) => (calls > 0 ? cpuMs / calls : undefined);
  const pacedCpu = cpuPerCall(
    cpuMsBetween(pacedCpuBefore, pacedCpuAfter, input.ticksPerSecond),
    paced.calls,
  );
  const floorPaced = await input.floorProbe?.slice(
    driver.protocol,
    timing.paced,
    shape.connections,
    targetRate,
  );
  const floorPacedCpu =
    floorPaced === undefined ? undefined : cpuPerCall(floorPaced.cpuMs, floorPaced.calls);
  const within10Ms =
    pacedBefore === undefined || pacedAfter === undefined
      ? undefined
      : shareWithin(pacedBefore, pacedAfter, call.procedure, 0.01);
  const gc =
    pacedBefore === undefined || pacedAfter === undefined
      ? undefined
      : gcDuring(pacedBefore, pacedAfter, paced.calls);
  row.paced = {
    targetRate,
    callsPerSecond: paced.callsPerSecond,
    p50Ms: paced.p50Ms,
    p99Ms: paced.p99Ms,
    errors: paced.clientErrors,
    ...(within10Ms === undefined ? {} : { inServiceWithin10Ms: within10Ms }),
    ...(gc ?? {}),
    ...(floorPaced === undefined ? {} : { floorP99Ms: floorPaced.p99Ms }),
    ...(pacedCpu === undefined ? {} : { cpuMsPerCall: pacedCpu }),
    ...(floorPacedCpu === undefined ? {} : { floorCpuMsPerCall: floorPacedCpu }),
  };
  return row;
}

/** The floor a row divides by: the slices measured around it, or else the floor's own rows. */
function floorOf(
  input: SuiteInput,
  protocol: string,
  before: { calls: number; cpuMs: number } | undefined,
  after: { calls: number; cpuMs: number } | undefined,
  seconds: number,
): { callsPerSecond: number; cpuMsPerCall: number | null } | undefined {
  if (before !== undefined && after !== undefined) {
    const calls = before.calls + after.calls;
    return {
      callsPerSecond: calls / seconds,
      cpuMsPerCall: calls > 0 ? (before.cpuMs + after.cpuMs) / calls : null,
    };
  }
  return input.floor.find((r) => r.protocol === protocol);
}
